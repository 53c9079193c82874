package partner

import (
	"sync"
	"time"
)

// Limiter bounds the denials each partner client's decisions draw (seed 001: a retry of a
// denied decision must not loop without end). A denial takes a token from the partner's
// bucket, refilled at Settings.DenialsPerSecond up to DenialsBurst; while the bucket is empty
// the partner's decision calls are refused (429) before any check runs, so retrying a denial
// is cheap and bounded. Permits take nothing. Partners are few: one bucket each.
type Limiter struct {
	now func() time.Time
	mu  sync.Mutex
	by  map[int64]*denialBucket
}

type denialBucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter on the clock now.
func NewLimiter(now func() time.Time) *Limiter {
	return &Limiter{now: now, by: map[int64]*denialBucket{}}
}

// bucketLocked returns partner's bucket, refilled to now.
func (l *Limiter) bucketLocked(partner int64, perSecond float64, burst int) *denialBucket {
	now := l.now()
	b := l.by[partner]
	if b == nil {
		b = &denialBucket{tokens: float64(burst), last: now}
		l.by[partner] = b
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*perSecond)
	b.last = now
	return b
}

// Allow reports whether partner may ask for a decision now (its bucket holds a token), and
// if not, how long until it will.
func (l *Limiter) Allow(partner int64, st Settings) (bool, time.Duration) {
	if st.DenialsPerSecond <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(partner, st.DenialsPerSecond, st.DenialsBurst)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / st.DenialsPerSecond * float64(time.Second))
}

// Denied takes one token from partner's bucket for a denial (it may go below zero: a burst of
// denials in flight all count).
func (l *Limiter) Denied(partner int64, st Settings) {
	if st.DenialsPerSecond <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucketLocked(partner, st.DenialsPerSecond, st.DenialsBurst).tokens--
}
