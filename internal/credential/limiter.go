package credential

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/singleflight"
)

// Limiter runs argon2id verifications under a cap on concurrency, so a burst of logins (or of
// wrong passwords) queues instead of taking every core and all the memory (each verification
// allocates the hash's m KiB). Identical concurrent verifications (same stored hash and password,
// e.g. a player opening several streams at once) share one argon2 run.
type Limiter struct {
	sem    chan struct{}
	group  singleflight.Group
	key    []byte // random per process: singleflight keys never contain a password
	dummy  string // argon2id PHC string with DefaultParams that no password matches
	verify func(encoded, password string) (bool, error)

	inFlight      atomic.Int64
	waiting       atomic.Int64
	waited        atomic.Uint64
	verifications atomic.Uint64
	shared        atomic.Uint64
}

// LimiterStats are the limiter's counters, for metrics.
type LimiterStats struct {
	Slots         int
	InFlight      int64  // argon2 runs in progress now
	Waiting       int64  // verifications waiting for a slot now
	Waited        uint64 // verifications that had to wait for a slot (total)
	Verifications uint64 // argon2 runs (total)
	Shared        uint64 // verifications answered by a run shared with identical ones (total)
}

// NewLimiter allows slots concurrent argon2 runs; slots <= 0 means runtime.NumCPU().
func NewLimiter(slots int) *Limiter {
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand crashes the program instead)
	// A random salt and "hash": nobody knows a password that matches, not even this process.
	salt, sum := make([]byte, saltLen), make([]byte, keyLen)
	rand.Read(salt)
	rand.Read(sum)
	p := DefaultParams
	dummy := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum))
	return &Limiter{sem: make(chan struct{}, slots), key: key, dummy: dummy, verify: Verify}
}

// Verify reports whether password matches the PHC string encodedHash (see the package Verify),
// once a slot is free. It returns ctx's error, wrapped, if ctx ends first; a verification that has
// started runs to its end (argon2 cannot be interrupted) and its result serves the callers still
// waiting for it.
func (l *Limiter) Verify(ctx context.Context, encodedHash, password string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("credential: verify: %w", err)
	}
	key := l.flightKey(encodedHash, password)
	for {
		ch := l.group.DoChan(key, func() (any, error) { return l.run(ctx, encodedHash, password) })
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("credential: verify: %w", ctx.Err())
		case r := <-ch:
			if r.Err != nil {
				// The caller that started this run gave up waiting for a slot; this caller has
				// not, so it starts its own.
				if ctx.Err() == nil && (errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, context.DeadlineExceeded)) {
					continue
				}
				return false, r.Err
			}
			if r.Shared {
				l.shared.Add(1)
			}
			return r.Val.(bool), nil
		}
	}
}

// DummyVerify costs what a verification against a DefaultParams hash costs (slot, queue and
// argon2 run included) and matches nothing. Call it for an unknown username, so a failed login
// takes the same time whether or not the user exists. It returns only ctx's error.
func (l *Limiter) DummyVerify(ctx context.Context, password string) error {
	_, err := l.Verify(ctx, l.dummy, password)
	return err
}

// Stats returns the limiter's counters.
func (l *Limiter) Stats() LimiterStats {
	return LimiterStats{Slots: cap(l.sem), InFlight: l.inFlight.Load(), Waiting: l.waiting.Load(),
		Waited: l.waited.Load(), Verifications: l.verifications.Load(), Shared: l.shared.Load()}
}

func (l *Limiter) run(ctx context.Context, encodedHash, password string) (bool, error) {
	if err := l.acquire(ctx); err != nil {
		return false, err
	}
	defer l.release()
	l.verifications.Add(1)
	ok, err := l.verify(encodedHash, password)
	if err != nil {
		return false, fmt.Errorf("credential: verify: %w", err)
	}
	return ok, nil
}

func (l *Limiter) acquire(ctx context.Context) error {
	select {
	case l.sem <- struct{}{}:
	default:
		l.waited.Add(1)
		l.waiting.Add(1)
		defer l.waiting.Add(-1)
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("credential: verify: wait for a slot: %w", ctx.Err())
		}
	}
	l.inFlight.Add(1)
	return nil
}

func (l *Limiter) release() {
	l.inFlight.Add(-1)
	<-l.sem
}

// flightKey identifies a verification without holding the password: HMAC-SHA256 with the
// per-process key over the length-prefixed hash and password.
func (l *Limiter) flightKey(encodedHash, password string) string {
	mac := hmac.New(sha256.New, l.key)
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(encodedHash)))
	mac.Write(n[:])
	mac.Write([]byte(encodedHash))
	binary.BigEndian.PutUint32(n[:], uint32(len(password)))
	mac.Write(n[:])
	mac.Write([]byte(password))
	return string(mac.Sum(nil))
}
