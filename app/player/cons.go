package player

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// consTTL is how long a line's active_cons is reused. Players call the login action on every
// start and often on every screen change; a database count per call would halve the login
// rate (see the package benchmarks), while the number is informational: clients show it,
// and the connection limit itself is enforced on stream opens, not here.
const consTTL = 2 * time.Second

// maxConsEntries bounds the cache; past it, expired entries are swept, then all of them.
const maxConsEntries = 50_000

// consCache remembers each line's open-connection count for a short time.
type consCache struct {
	count func(ctx context.Context, lineID int64) (int, error)
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group

	mu sync.Mutex
	m  map[int64]consEntry
}

type consEntry struct {
	n  int
	at time.Time
}

func newConsCache(count func(context.Context, int64) (int, error), ttl time.Duration, now func() time.Time) *consCache {
	return &consCache{count: count, ttl: ttl, now: now, m: make(map[int64]consEntry)}
}

// get returns the line's count, from the cache when fresh. Concurrent misses for one line
// share one query.
func (c *consCache) get(ctx context.Context, lineID int64) (int, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[lineID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl {
		return e.n, nil
	}
	v, err, _ := c.group.Do(strconv.FormatInt(lineID, 10), func() (any, error) {
		n, err := c.count(ctx, lineID)
		if err != nil {
			return 0, err
		}
		c.put(lineID, n, now)
		return n, nil
	})
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

func (c *consCache) put(lineID int64, n int, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxConsEntries {
		for id, e := range c.m {
			if at.Sub(e.at) >= c.ttl {
				delete(c.m, id)
			}
		}
		if len(c.m) >= maxConsEntries {
			clear(c.m)
		}
	}
	c.m[lineID] = consEntry{n: n, at: at}
}
