package access

import (
	"net/netip"
	"sync"
	"time"
)

// RateLimiter bounds each client IP's request rate with a token bucket (per process: it is a
// cheap first line; bans that every instance must see live in the database).
type RateLimiter struct {
	now    func() time.Time
	shards [64]rateShard
}

type rateShard struct {
	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter; now is the clock (time.Now in production).
func NewRateLimiter(now func() time.Time) *RateLimiter {
	r := &RateLimiter{now: now}
	for i := range r.shards {
		r.shards[i].buckets = map[netip.Addr]*bucket{}
	}
	return r
}

// Allow takes one token from ip's bucket refilled at perSecond up to burst. perSecond <= 0
// allows everything.
func (r *RateLimiter) Allow(ip netip.Addr, perSecond float64, burst int) bool {
	if perSecond <= 0 {
		return true
	}
	if burst < 1 {
		burst = 1
	}
	ip = ip.Unmap()
	sh := &r.shards[shardOf(ip)]
	now := r.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[ip]
	if b == nil {
		b = &bucket{tokens: float64(burst), last: now}
		sh.buckets[ip] = b
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*perSecond)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Sweep forgets buckets idle for longer than idle (they would be full again anyway).
func (r *RateLimiter) Sweep(idle time.Duration) {
	now := r.now()
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		for ip, b := range sh.buckets {
			if now.Sub(b.last) > idle {
				delete(sh.buckets, ip)
			}
		}
		sh.mu.Unlock()
	}
}

func shardOf(ip netip.Addr) int {
	b := ip.As16()
	return int(b[15]^b[14]^b[13]^b[11]) % 64
}
