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
type lineCache struct {
	store       *store.Store
	ttl, negTTL time.Duration
	maxNegative int
	now         func() time.Time
	group       singleflight.Group

	mu        sync.RWMutex
	byName    map[string]lineEntry
	byID      map[int64]string
	negatives int
	// gen counts invalidations (under mu). A load started before one is neither shared with
	// the callers that come after it (its singleflight key names its generation) nor cached.
	gen uint64
}

type lineEntry struct {
	line    *Line // nil: no such username
	fetched time.Time
}

func newLineCache(st *store.Store, now func() time.Time) *lineCache {
	return &lineCache{
		store: st, ttl: time.Minute, negTTL: 5 * time.Second, maxNegative: 10000, now: now,
		byName: map[string]lineEntry{}, byID: map[int64]string{},
	}
}

// byUsername returns the line, nil when there is none.
func (c *lineCache) byUsername(ctx context.Context, username string) (*Line, error) {
	now := c.now()
	c.mu.RLock()
	e, ok := c.byName[username]
	c.mu.RUnlock()
	if ok {
		ttl := c.ttl
		if e.line == nil {
			ttl = c.negTTL
		}
		if now.Sub(e.fetched) < ttl {
			return e.line, nil
		}
	}
	gen := c.generation()
	v, err, _ := c.group.Do("u:"+strconv.FormatUint(gen, 10)+":"+username, func() (any, error) {
		line, err := c.store.LineByUsername(ctx, username)
		if errors.Is(err, store.ErrNotFound) {
			c.put(username, nil, now, gen)
			return (*Line)(nil), nil
		}
		if err != nil {
			return nil, err
		}
		c.put(username, &line, now, gen)
		return &line, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*Line), nil
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
		c.put(line.Username, &line, c.now(), gen)
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

// put caches a line loaded in generation gen, unless the cache was invalidated since.
func (c *lineCache) put(username string, line *Line, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if old, ok := c.byName[username]; ok && old.line == nil {
		c.negatives--
	}
	if line == nil {
		if c.negatives >= c.maxNegative {
			c.dropNegativesLocked()
		}
		c.negatives++
	} else {
		c.byID[line.ID] = username
	}
	c.byName[username] = lineEntry{line: line, fetched: at}
}

// invalidate drops a changed line, and every negative entry (the change may be a new line
// whose username was unknown a moment ago).
func (c *lineCache) invalidate(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if name, ok := c.byID[id]; ok {
		delete(c.byName, name)
		delete(c.byID, id)
	}
	c.dropNegativesLocked()
}

func (c *lineCache) dropNegativesLocked() {
	for name, e := range c.byName {
		if e.line == nil {
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
	c.negatives = 0
}
