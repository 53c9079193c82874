// Package clock reads the time cheaply for hot paths that only compare it with TTLs, expiry
// dates and windows of a second or more: the security check, the credential and line caches,
// the rate limits and the player answers' server_info. On the virtual machines xtreamd often
// runs on, time.Now costs about 100 ns (two vDSO clock reads); a login reads the clock a dozen
// times in those places, which cost more than the rest of its check. A Coarse clock reads
// time.Now once per tick in a goroutine of its own and hands out that reading.
//
// Durations that are measured (latency metrics, the access log's dur_ms) keep time.Now.
package clock

import (
	"sync/atomic"
	"time"
)

// Tick is how often a running Coarse clock reads time.Now.
const Tick = time.Millisecond

// idleTicks is how many ticks without a reader stop the clock's goroutine: an idle server
// does not wake up a thousand times a second for nothing.
const idleTicks = 1000

// Coarse is a clock whose Now is at most about one Tick (plus the scheduler's delay when the
// machine is saturated, a few milliseconds) behind time.Now, at the cost of an atomic load.
// Its goroutine starts at the first read and stops after a second without one; the next read
// starts it again. The zero value is ready to use; a Coarse must not be copied.
type Coarse struct {
	cur     atomic.Pointer[time.Time] // the last reading; nil while the goroutine is not running
	idle    atomic.Int32              // ticks since the last read
	running atomic.Bool
}

// New returns a Coarse clock.
func New() *Coarse { return &Coarse{} }

// Now returns the last reading, or time.Now when the clock is not running (and starts it).
// The reading keeps its monotonic clock, so differences of two readings are immune to wall
// clock steps, as time.Now's are.
func (c *Coarse) Now() time.Time {
	if t := c.cur.Load(); t != nil {
		if c.idle.Load() != 0 {
			c.idle.Store(0) // written only once per tick, not by every reader
		}
		return *t
	}
	now := time.Now()
	if c.running.CompareAndSwap(false, true) {
		c.idle.Store(0)
		c.cur.Store(&now)
		go c.run()
	}
	return now
}

// run reads the clock each Tick until idleTicks pass without a reader. A reader between
// the last reading's removal and running's reset reads time.Now itself: correct, only slower.
func (c *Coarse) run() {
	t := time.NewTicker(Tick)
	defer t.Stop()
	for range t.C {
		if c.idle.Add(1) > idleTicks {
			c.cur.Store(nil)
			c.running.Store(false)
			return
		}
		now := time.Now()
		c.cur.Store(&now)
	}
}
