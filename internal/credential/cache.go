package credential

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dchest/siphash"
)

// maxKeyInput bounds what a Key is computed over; longer credentials are never cached.
const maxKeyInput = 4096

// Cache remembers credentials that verified, so a player sending its username and password on
// every request pays for argon2id once per TTL rather than once per request.
//
// An entry is keyed by its Key: HMAC-SHA256(pepper, len|username|len|password|len|storedHash).
// The pepper is a server-side secret every instance of a cluster shares and the database never
// holds (see Pepper); without one the cache draws a random key per process. Either way the cache
// holds neither passwords nor unkeyed digests of them. Because the stored hash is part of the
// key, a password change or a rehash misses by itself. With a shared pepper the key is also the
// verified-credential record other instances can check (access keeps it in the database), so
// a fresh instance admits a known viewer without argon2. Only successes are stored (Remember is
// called after a verification that passed), so spraying wrong passwords cannot fill it. An
// entry lives ttl from its verification (a hit does not extend it); when the cache is full the
// least recently used entry goes.
//
// A hit does not compute the Key: an entry is also found by its Fingerprint, a SipHash-2-4-128
// of the username and password under a random key of this process (a tenth of the HMAC's
// cost, on every request of every player), and answers only for the stored hash it verified
// against. A fingerprint never leaves the process and is not the record; an entry warmed from
// a record has none until its credentials are next presented.
//
// The cache answers "these credentials verified recently for line N", nothing more: the caller
// still checks the line itself (expiry, ban, status) on every request.
type Cache struct {
	ttl    time.Duration
	max    int
	now    func() time.Time
	keys   sync.Pool // *keyScratch
	fpKey  [2]uint64 // SipHash key of the fingerprints, random per process
	mu     sync.Mutex
	index  map[Key]*entry
	byFP   map[Fingerprint]*entry
	byLine map[int64]*entry // head of each line's entry list
	head   *entry           // most recently used
	tail   *entry           // least recently used: evicted first
	spare  *entry           // a removed entry kept for reuse, so a full cache does not allocate

	hits, misses, evictions atomic.Uint64
}

// Key identifies verified credentials: the HMAC-SHA256 under the cache's pepper of the
// length-prefixed username, password and stored hash. It is a MAC, not a hash: without the
// pepper nobody can compute one, or test a password guess against one.
type Key [sha256.Size]byte

// pepperLabel separates the pepper from every other use of the secret it is derived from.
const pepperLabel = "xtreamd verified-credential pepper v1"

// Pepper derives the key of Keys from secret, a server-side secret every instance of a cluster
// shares and the database does not hold (xtreamd passes its token secret): HMAC-SHA256(secret,
// label). The label keeps the two keys independent: a play token signature reveals nothing
// about the pepper, nor a Key about the token key. Empty secret: nil (a random per-process key).
func Pepper(secret []byte) []byte {
	if len(secret) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(pepperLabel))
	return m.Sum(nil)
}

// Fingerprint identifies a username and password within this process: SipHash-2-4-128 of the
// length-prefixed username and the password under the cache's random SipHash key. Like the Key
// it is keyed, so without that key (which exists only in this process's memory) nobody can
// compute one. The stored hash is not part of it: an entry found by fingerprint answers only
// when its stored hash (kept, not copied: the line's own string) is the one presented.
type Fingerprint [2]uint64

// Credentials are a username, password and stored hash prepared for the cache (Prepare): their
// fingerprint at once, their Key only when a miss needs it. They hold the password: keep them
// on the stack of one check.
type Credentials struct {
	fp                         Fingerprint
	key                        Key
	keyed                      bool
	username, password, stored string
}

type entry struct {
	key                Key
	fp                 Fingerprint
	hasFP              bool
	stored             string // the stored hash the fingerprint verified against
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

// CacheOptions configure a Cache.
type CacheOptions struct {
	// TTL is how long an entry lives after its verification (DESIGN: about 2 minutes).
	TTL time.Duration
	// MaxEntries bounds the entries (at least 1).
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Pepper keys every Key (see Pepper). Empty: a random key of this process alone, so keys
	// mean nothing to another instance.
	Pepper []byte
}

// NewCache returns a cache.
func NewCache(o CacheOptions) *Cache {
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Cache{ttl: o.TTL, max: max(1, o.MaxEntries), now: o.Now,
		index: make(map[Key]*entry), byFP: make(map[Fingerprint]*entry), byLine: make(map[int64]*entry)}
	var fpKey [16]byte
	rand.Read(fpKey[:])
	c.fpKey = [2]uint64{binary.LittleEndian.Uint64(fpKey[:8]), binary.LittleEndian.Uint64(fpKey[8:])}
	key := slices.Clone(o.Pepper)
	if len(key) == 0 {
		key = make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand crashes the program instead)
	}
	c.keys.New = func() any {
		return &keyScratch{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 256)}
	}
	return c
}

// Key derives the key of these credentials; ok is false for input too long to cache (a
// password longer than MaxPasswordLen never verifies anyway).
func (c *Cache) Key(username, password, storedHash string) (k Key, ok bool) {
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

// fpStack is the input a fingerprint is computed over without a heap buffer: a username and
// password of common lengths.
const fpStack = 256

// Prepare computes the fingerprint of these credentials; ok is false for input too long to
// cache (as for Key).
func (c *Cache) Prepare(username, password, storedHash string) (cr Credentials, ok bool) {
	if len(password) > MaxPasswordLen || len(username)+len(password)+len(storedHash) > maxKeyInput {
		return cr, false
	}
	var stack [fpStack]byte
	b := binary.BigEndian.AppendUint32(stack[:0], uint32(len(username)))
	b = append(b, username...)
	b = append(b, password...)
	cr.fp[0], cr.fp[1] = siphash.Hash128(c.fpKey[0], c.fpKey[1], b)
	clear(b) // the password does not linger on the stack
	cr.username, cr.password, cr.stored = username, password, storedHash
	return cr, true
}

// KeyOf is the credentials' Key, computed at the first call.
func (c *Cache) KeyOf(cr *Credentials) Key {
	if !cr.keyed {
		cr.key, _ = c.Key(cr.username, cr.password, cr.stored)
		cr.keyed = true
	}
	return cr.key
}

// Lookup returns the line id remembered for these credentials, if they verified less than ttl
// ago against this stored hash.
func (c *Cache) Lookup(username, password, storedHash string) (lineID int64, ok bool) {
	cr, ok := c.Prepare(username, password, storedHash)
	if !ok {
		c.misses.Add(1)
		return 0, false
	}
	return c.LookupCredentials(&cr)
}

// LookupCredentials is Lookup of prepared credentials: by fingerprint, else by Key (an entry
// warmed from a record), which then learns the fingerprint.
func (c *Cache) LookupCredentials(cr *Credentials) (lineID int64, ok bool) {
	now := c.now()
	c.mu.Lock()
	e := c.byFP[cr.fp]
	if e == nil || e.stored != cr.stored {
		c.mu.Unlock()
		k := c.KeyOf(cr) // outside the lock: the HMAC is the expensive part
		c.mu.Lock()
		if e = c.index[k]; e != nil {
			c.linkFP(e, cr)
		}
	}
	return c.hit(e, now)
}

// LookupKey is Lookup by a Key already derived.
func (c *Cache) LookupKey(k Key) (lineID int64, ok bool) {
	now := c.now()
	c.mu.Lock()
	return c.hit(c.index[k], now)
}

// hit answers a lookup that found e (or nil) with c.mu held, and unlocks.
func (c *Cache) hit(e *entry, now time.Time) (lineID int64, ok bool) {
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
	if cr, ok := c.Prepare(username, password, storedHash); ok {
		c.RememberCredentials(&cr, lineID)
	}
}

// RememberCredentials is Remember of prepared credentials.
func (c *Cache) RememberCredentials(cr *Credentials, lineID int64) {
	c.remember(c.KeyOf(cr), cr, lineID)
}

// RememberKey is Remember by a Key already derived: call it only after a successful
// verification of the credentials k was derived from, or after finding k in a record that
// such a verification wrote (the entry then lives ttl from now).
func (c *Cache) RememberKey(k Key, lineID int64) { c.remember(k, nil, lineID) }

// remember adds or refreshes the entry of k, found by cr's fingerprint too when cr is not nil.
func (c *Cache) remember(k Key, cr *Credentials, lineID int64) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.index[k]; e != nil {
		if cr != nil {
			c.linkFP(e, cr)
		}
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
	if cr != nil {
		c.linkFP(e, cr)
	}
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
	clear(c.byFP)
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

// linkFP makes e findable by cr's fingerprint. An entry the fingerprint found before was
// verified against another stored hash of the same credentials, one the line no longer has
// (a re-hash, or the same password set again): it goes.
func (c *Cache) linkFP(e *entry, cr *Credentials) {
	if e.hasFP {
		return
	}
	if old := c.byFP[cr.fp]; old != nil && old != e {
		c.remove(old)
	}
	e.fp, e.hasFP, e.stored = cr.fp, true, cr.stored
	c.byFP[cr.fp] = e
}

func (c *Cache) remove(e *entry) {
	delete(c.index, e.key)
	if e.hasFP {
		delete(c.byFP, e.fp)
	}
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
