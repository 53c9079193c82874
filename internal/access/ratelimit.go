package access

import (
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"
)

// RateLimiter bounds each client's request rate with a token bucket (per process: it is a
// cheap first line; bans that every instance must see live in the database). A client is what
// a flood block covers: an IPv4 address or an IPv6 /64, so rotating addresses inside a /64
// draws on one bucket.
//
// Memory is bounded whatever the traffic: at most maxClients buckets are kept. A bucket that
// has refilled is the same as no bucket, so those are forgotten first (and by Sweep). Only
// when a spray of distinct clients fills the table faster than buckets refill is a live one
// dropped: the fullest of a few sampled, because a client being throttled has an empty bucket,
// and a spray would have to drain a table's worth of buckets of its own before such a client
// got its burst back. Forgetting a sprayed bucket grants its address one request at most.
type RateLimiter struct {
	now      func() time.Time
	start    time.Time
	seed     [2]uint64 // random: which shard a client lands in cannot be aimed at
	perShard int
	shards   [rateShards]rateShard
}

const (
	rateShards = 64
	// DefaultRateLimitClients is how many clients a RateLimiter tracks unless told otherwise:
	// about 60 bytes each, so about 6 MB.
	DefaultRateLimitClients = 100_000
	// rateScanEvery spaces the scans of a full shard for refilled buckets, so a spray does
	// not make every insertion walk the shard.
	rateScanEvery = 100 * time.Millisecond
	// rateEvictSample is how many buckets an eviction compares.
	rateEvictSample = 8
)

type rateShard struct {
	mu      sync.Mutex
	buckets map[[16]byte]*bucket // a pointer: a request updates its bucket with one map probe
	// The last rate and burst asked for, with which Sweep judges whether a bucket refilled.
	perSecond float64
	burst     int
	scannedAt time.Duration // since start: the last scan for refilled buckets
}

type bucket struct {
	tokens float64
	last   time.Duration // since the limiter's start (monotonic)
}

// NewRateLimiter returns a limiter tracking at most maxClients clients (<= 0 means
// DefaultRateLimitClients); now is the clock (time.Now in production).
func NewRateLimiter(now func() time.Time, maxClients int) *RateLimiter {
	if maxClients <= 0 {
		maxClients = DefaultRateLimitClients
	}
	var seed [16]byte
	rand.Read(seed[:]) // never fails (crypto/rand crashes the program instead)
	r := &RateLimiter{now: now, start: now(), perShard: max(1, maxClients/rateShards),
		seed: [2]uint64{binary.LittleEndian.Uint64(seed[:8]) | 1, binary.LittleEndian.Uint64(seed[8:]) | 1}}
	for i := range r.shards {
		r.shards[i].buckets = map[[16]byte]*bucket{}
	}
	return r
}

// Allow takes one token from the bucket of ip's client, refilled at perSecond up to burst.
// perSecond <= 0 allows everything.
func (r *RateLimiter) Allow(ip netip.Addr, perSecond float64, burst int) bool {
	if perSecond <= 0 {
		return true
	}
	burst = max(burst, 1)
	key := blockNetworkFor(ip).Addr().As16()
	sh := &r.shards[r.shardOf(key)]
	now := r.now().Sub(r.start)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.perSecond, sh.burst = perSecond, burst
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= r.perShard {
			sh.makeRoom(now)
		}
		b = &bucket{tokens: float64(burst), last: now}
		sh.buckets[key] = b
	}
	b.tokens, b.last = sh.refilled(b, now), now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Sweep forgets every bucket that has refilled (forgetting it changes nothing).
func (r *RateLimiter) Sweep() {
	now := r.now().Sub(r.start)
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		sh.dropRefilled(now)
		sh.mu.Unlock()
	}
}

// Tracked is the number of clients with a bucket.
func (r *RateLimiter) Tracked() int {
	n := 0
	for i := range r.shards {
		sh := &r.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}

// shardOf spreads clients over the shards with a keyed multiplicative hash of both halves.
func (r *RateLimiter) shardOf(key [16]byte) uint64 {
	h := binary.LittleEndian.Uint64(key[:8])*r.seed[0] ^ binary.LittleEndian.Uint64(key[8:])*r.seed[1]
	return (h ^ h>>29) * 0x9e3779b97f4a7c15 >> 58 // the top 6 bits: one of 64 shards
}

// refilled is b's tokens at now.
func (sh *rateShard) refilled(b *bucket, now time.Duration) float64 {
	elapsed := max(0, now-b.last)
	return min(float64(sh.burst), b.tokens+elapsed.Seconds()*sh.perSecond)
}

// makeRoom frees one place in a full shard: refilled buckets first (at most one scan per
// rateScanEvery), else the fullest of rateEvictSample buckets.
func (sh *rateShard) makeRoom(now time.Duration) {
	if now-sh.scannedAt >= rateScanEvery {
		sh.scannedAt = now
		if sh.dropRefilled(now) > 0 {
			return
		}
	}
	var victim [16]byte
	best, n := -1.0, 0
	for k, b := range sh.buckets { // a map range starts at a random place: a random sample
		if t := sh.refilled(b, now); t > best {
			victim, best = k, t
		}
		if n++; n == rateEvictSample {
			break
		}
	}
	delete(sh.buckets, victim)
}

// dropRefilled deletes the buckets that are full at now and reports how many.
func (sh *rateShard) dropRefilled(now time.Duration) int {
	n := 0
	for k, b := range sh.buckets {
		if sh.perSecond <= 0 || sh.refilled(b, now) >= float64(sh.burst) {
			delete(sh.buckets, k)
			n++
		}
	}
	return n
}
