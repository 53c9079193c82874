package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"sync"
	"sync/atomic"
	"time"
)

// maxKeyInput bounds what a cache key is computed over; longer credentials are never cached
// (a password longer than MaxPasswordLen never verifies anyway).
const maxKeyInput = 4096

// Cache remembers credentials that verified, so a player sending its username and password on
// every request pays for argon2id once per TTL rather than once per request.
//
// An entry is keyed by HMAC-SHA256(processKey, len|username|len|password|len|storedHash) with a
// key drawn at random when the cache is made: the cache holds neither passwords nor unkeyed
// digests of them. Because the stored hash is part of the key, a password change or a rehash
// misses by itself. Only successes are stored (Remember is called after a verification that
// passed), so spraying wrong passwords cannot fill it. An entry lives ttl from its verification
// (a hit does not extend it); when the cache is full the least recently used entry goes.
//
// The cache answers "these credentials verified recently for line N", nothing more: the caller
// still checks the line itself (expiry, ban, status) on every request.
type Cache struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	keys sync.Pool // *keyScratch

	mu     sync.Mutex
	index  map[cacheKey]*entry
	byLine map[int64]*entry // head of each line's entry list
	head   *entry           // most recently used
	tail   *entry           // least recently used: evicted first
	spare  *entry           // a removed entry kept for reuse, so a full cache does not allocate

	hits, misses, evictions atomic.Uint64
}

type cacheKey [sha256.Size]byte

type entry struct {
	key                cacheKey
	lineID             int64
	verifiedAt         time.Time
	prev, next         *entry // LRU list
	linePrev, lineNext *entry // this line's list, for InvalidateLine
}

type keyScratch struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// CacheStats are counters for metrics.
type CacheStats struct {
	Entries   int
	Hits      uint64
	Misses    uint64
	Evictions uint64 // entries dropped to make room (not expiry or invalidation)
}

// NewCache returns a cache whose entries live ttl (DESIGN: about 2 minutes) and which holds at
// most maxEntries (at least 1). now is the clock; nil means time.Now.
func NewCache(ttl time.Duration, maxEntries int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c := &Cache{ttl: ttl, max: max(1, maxEntries), now: now,
		index: make(map[cacheKey]*entry), byLine: make(map[int64]*entry)}
	processKey := make([]byte, 32)
	rand.Read(processKey) // never fails (crypto/rand crashes the program instead)
	c.keys.New = func() any {
		return &keyScratch{mac: hmac.New(sha256.New, processKey), buf: make([]byte, 0, 256)}
	}
	return c
}

// key derives the cache key; ok is false for input too long to cache.
func (c *Cache) key(username, password, storedHash string) (k cacheKey, ok bool) {
	if len(password) > MaxPasswordLen || len(username)+len(password)+len(storedHash) > maxKeyInput {
		return k, false
	}
	s := c.keys.Get().(*keyScratch)
	b := s.buf[:0]
	for _, f := range [...]string{username, password, storedHash} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	s.mac.Reset()
	s.mac.Write(b)
	copy(k[:], s.mac.Sum(s.sum[:0]))
	clear(b) // the password does not linger in the pool
	s.buf = b[:0]
	c.keys.Put(s)
	return k, true
}

// Lookup returns the line id remembered for these credentials, if they verified less than ttl
// ago against this stored hash.
func (c *Cache) Lookup(username, password, storedHash string) (lineID int64, ok bool) {
	k, ok := c.key(username, password, storedHash)
	if !ok {
		c.misses.Add(1)
		return 0, false
	}
	now := c.now()
	c.mu.Lock()
	e := c.index[k]
	if e == nil {
		c.mu.Unlock()
		c.misses.Add(1)
		return 0, false
	}
	if age := now.Sub(e.verifiedAt); age < 0 || age >= c.ttl {
		c.remove(e)
		c.mu.Unlock()
		c.misses.Add(1)
		return 0, false
	}
	c.touch(e)
	lineID = e.lineID
	c.mu.Unlock()
	c.hits.Add(1)
	return lineID, true
}

// Remember records that password verified against storedHash for username's line. Call it only
// after a successful verification.
func (c *Cache) Remember(username, password, storedHash string, lineID int64) {
	k, ok := c.key(username, password, storedHash)
	if !ok {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.index[k]; e != nil {
		e.verifiedAt = now
		if e.lineID != lineID {
			c.unlinkLine(e)
			e.lineID = lineID
			c.linkLine(e)
		}
		c.touch(e)
		return
	}
	if len(c.index) >= c.max {
		c.remove(c.tail)
		c.evictions.Add(1)
	}
	e := c.spare
	if e != nil {
		c.spare = nil
		*e = entry{}
	} else {
		e = &entry{}
	}
	e.key, e.lineID, e.verifiedAt = k, lineID, now
	c.index[k] = e
	c.pushFront(e)
	c.linkLine(e)
}

// InvalidateLine drops every entry of lineID: call it when the line changes (password, username,
// deletion), e.g. from the store's NOTIFY listener.
func (c *Cache) InvalidateLine(lineID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.byLine[lineID]; e != nil; {
		next := e.lineNext
		c.remove(e)
		e = next
	}
}

// Purge drops every entry: call it after the NOTIFY listener reconnects, since notifications sent
// while it was away are lost.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.index)
	clear(c.byLine)
	c.head, c.tail, c.spare = nil, nil, nil
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	n := len(c.index)
	c.mu.Unlock()
	return CacheStats{Entries: n, Hits: c.hits.Load(), Misses: c.misses.Load(), Evictions: c.evictions.Load()}
}

// The helpers below run with c.mu held.

func (c *Cache) remove(e *entry) {
	delete(c.index, e.key)
	c.unlinkLine(e)
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	*e = entry{}
	c.spare = e
}

func (c *Cache) pushFront(e *entry) {
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
	if c.tail == nil {
		c.tail = e
	}
}

func (c *Cache) touch(e *entry) {
	if c.head == e {
		return
	}
	// Unlink from the LRU list (e is not the head, so e.prev != nil), then push to the front.
	e.prev.next = e.next
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	c.pushFront(e)
}

func (c *Cache) linkLine(e *entry) {
	head := c.byLine[e.lineID]
	e.linePrev, e.lineNext = nil, head
	if head != nil {
		head.linePrev = e
	}
	c.byLine[e.lineID] = e
}

func (c *Cache) unlinkLine(e *entry) {
	if e.linePrev != nil {
		e.linePrev.lineNext = e.lineNext
	} else if e.lineNext != nil {
		c.byLine[e.lineID] = e.lineNext
	} else {
		delete(c.byLine, e.lineID)
	}
	if e.lineNext != nil {
		e.lineNext.linePrev = e.linePrev
	}
	e.linePrev, e.lineNext = nil, nil
}
