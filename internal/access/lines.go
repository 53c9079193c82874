package access

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Line is a subscriber account as the check and the surfaces see it.
type Line = store.Line

// lineCache keeps lines in memory so a player's every request does not read the database. An
// entry is dropped when its line changes (NOTIFY line:<id>, every instance) and refreshed
// after ttl anyway, which heals a missed notification. Unknown usernames are remembered
// briefly (negative entries), bounded, and forgotten on any line change.
//
// A username may also name a device credential (second-screen activation): its entry holds the
// credential instead of a line, and goes when the credential's line changes, which a
// credential's creation or revocation notifies.
type lineCache struct {
	store       *store.Store
	ttl, negTTL time.Duration
	maxNegative int
	now         func() time.Time
	group       singleflight.Group

	mu        sync.RWMutex
	byName    map[string]lineEntry
	byID      map[int64]string
	devices   map[int64][]string // a line's device credential usernames with entries
	negatives int
	// gen counts invalidations (under mu). A load started before one is neither shared with
	// the callers that come after it (its singleflight key names its generation) nor cached.
	gen uint64
}

type lineEntry struct {
	line    *Line              // nil: no line of this username
	device  *store.DeviceLogin // set when the username is a device credential's
	fetched time.Time
}

// negative reports an entry for a username that is neither a line's nor a device's.
func (e lineEntry) negative() bool { return e.line == nil && e.device == nil }

func newLineCache(st *store.Store, now func() time.Time) *lineCache {
	return &lineCache{
		store: st, ttl: time.Minute, negTTL: 5 * time.Second, maxNegative: 10000, now: now,
		byName: map[string]lineEntry{}, byID: map[int64]string{}, devices: map[int64][]string{},
	}
}

// byUsername returns the line, nil when there is none.
func (c *lineCache) byUsername(ctx context.Context, username string) (*Line, error) {
	e, err := c.login(ctx, username)
	return e.line, err
}

// login returns what username names: a line, a device credential, or neither.
func (c *lineCache) login(ctx context.Context, username string) (lineEntry, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.byName[username]
	c.mu.RUnlock()
	if ok {
		ttl := c.ttl
		if e.negative() {
			ttl = c.negTTL
		}
		if now.Sub(e.fetched) < ttl {
			return e, nil
		}
	}
	gen := c.generation()
	v, err, _ := c.group.Do("u:"+strconv.FormatUint(gen, 10)+":"+username, func() (any, error) {
		e, err := c.load(ctx, username)
		if err != nil {
			return nil, err
		}
		e.fetched = now
		c.put(username, e, gen)
		return e, nil
	})
	if err != nil {
		return lineEntry{}, err
	}
	return v.(lineEntry), nil
}

// load reads what username names: the line of that name, else the device credential.
func (c *lineCache) load(ctx context.Context, username string) (lineEntry, error) {
	line, err := c.store.LineByUsername(ctx, username)
	if err == nil {
		return lineEntry{line: &line}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return lineEntry{}, err
	}
	dev, err := c.store.DeviceLoginByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return lineEntry{}, nil
	}
	if err != nil {
		return lineEntry{}, err
	}
	return lineEntry{device: &dev}, nil
}

// byID returns the line with this id, nil when there is none.
func (c *lineCache) byIDLookup(ctx context.Context, id int64) (*Line, error) {
	c.mu.RLock()
	name, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return c.byUsername(ctx, name)
	}
	gen := c.generation()
	v, err, _ := c.group.Do("i:"+strconv.FormatUint(gen, 10)+":"+strconv.FormatInt(id, 10), func() (any, error) {
		line, err := c.store.LineByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return (*Line)(nil), nil
		}
		if err != nil {
			return nil, err
		}
		c.put(line.Username, lineEntry{line: &line, fetched: c.now()}, gen)
		return &line, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Line), nil
}

func (c *lineCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// peekID returns the cached line with this id, however old, without reading the database (nil:
// not cached).
func (c *lineCache) peekID(id int64) *Line {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if name, ok := c.byID[id]; ok {
		return c.byName[name].line
	}
	return nil
}

// put caches an entry loaded in generation gen, unless the cache was invalidated since.
func (c *lineCache) put(username string, e lineEntry, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	old, had := c.byName[username]
	if had && old.negative() {
		c.negatives--
	}
	switch {
	case e.line != nil:
		c.byID[e.line.ID] = username
	case e.device != nil:
		if !had || old.device == nil {
			c.devices[e.device.LineID] = append(c.devices[e.device.LineID], username)
		}
	default:
		if c.negatives >= c.maxNegative {
			c.dropNegativesLocked()
		}
		c.negatives++
	}
	c.byName[username] = e
}

// invalidate drops a changed line, its device credentials, and every negative entry (the
// change may be a new line or credential whose username was unknown a moment ago).
func (c *lineCache) invalidate(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if name, ok := c.byID[id]; ok {
		delete(c.byName, name)
		delete(c.byID, id)
	}
	for _, name := range c.devices[id] {
		if e := c.byName[name]; e.device != nil && e.device.LineID == id {
			delete(c.byName, name)
		}
	}
	delete(c.devices, id)
	c.dropNegativesLocked()
}

func (c *lineCache) dropNegativesLocked() {
	for name, e := range c.byName {
		if e.negative() {
			delete(c.byName, name)
		}
	}
	c.negatives = 0
}

// purge drops everything (after the LISTEN connection was lost).
func (c *lineCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byName = map[string]lineEntry{}
	c.byID = map[int64]string{}
	c.devices = map[int64][]string{}
	c.negatives = 0
}
