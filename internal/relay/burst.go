package relay

import (
	"sync"
	"time"
)

// budget is a Manager's shared allowance for backlog bytes: what viewers get beyond the channel's
// own rate, mostly the GOP cache that a joining viewer is sent from its keyframe on. A token bucket
// refilled at rate bytes per second, holding at most a quarter second of it: a join storm draws
// its catch-up from one bounded budget, so however many viewers join at once, the bytes they add
// per second stay bounded and the running viewers (who need no budget, see Viewer.credit) keep
// their share of the machine. Viewers draw from it at most once per wake-up, so no viewer needs a
// timer of its own to be paced.
type budget struct {
	mu     sync.Mutex
	rate   float64 // bytes per second; <= 0: unlimited
	depth  float64
	tokens float64
	at     time.Time
	now    func() time.Time
}

func newBudget(rate int64, now func() time.Time) *budget {
	r := float64(rate)
	return &budget{rate: r, depth: r / 4, tokens: r / 4, at: now(), now: now}
}

// take grants up to want bytes.
func (b *budget) take(want uint64) uint64 {
	if b.rate <= 0 {
		return want
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(b.depth, b.tokens+d.Seconds()*b.rate)
		b.at = now
	}
	got := min(uint64(max(b.tokens, 0)), want)
	b.tokens -= float64(got)
	return got
}
