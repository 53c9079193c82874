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
	"log/slog"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/singleflight"
)

// Limiter runs argon2id verifications under a cap on concurrency, so a burst of logins (or of
// wrong passwords) queues instead of taking every core and all the memory (each verification
// allocates the hash's m KiB). A verification waits for a slot at most MaxWait: beyond it the
// queue is overloaded and Verify answers ErrBusy, so a flood of logins is shed instead of
// queueing without end. Waiting verifications get slots first come, first served (a newcomer
// never takes a freed slot ahead of one already waiting: a buffered channel's send queue is
// FIFO), so within MaxWait nobody starves. Identical concurrent verifications (same account and password, e.g. a
// player opening several streams at once) share one argon2 run; an unknown username is an
// account of its own there too, so both failing paths merge alike and cost alike.
type Limiter struct {
	sem     chan struct{}
	maxWait time.Duration
	log     *slog.Logger
	group   singleflight.Group
	key     []byte // random per process: singleflight keys never contain a password
	dummy   string // argon2id PHC string with DefaultParams that no password matches
	verify  func(encoded, password string) (bool, error)

	inFlight      atomic.Int64
	waiting       atomic.Int64
	waited        atomic.Uint64
	verifications atomic.Uint64
	shared        atomic.Uint64
	refused       atomic.Uint64
	unreported    atomic.Uint64 // refusals since the last overload warning
	warnedAt      atomic.Int64  // unix nanoseconds of the last overload warning
}

// LimiterStats are the limiter's counters, for metrics.
type LimiterStats struct {
	Slots         int
	InFlight      int64  // argon2 runs in progress now
	Waiting       int64  // verifications waiting for a slot now
	Waited        uint64 // verifications that had to wait for a slot (total)
	Verifications uint64 // argon2 runs (total)
	Shared        uint64 // verifications answered by a run shared with identical ones (total)
	Refused       uint64 // verifications refused with ErrBusy after MaxWait (total)
}

// LimiterOptions configure a Limiter. The zero value is usable.
type LimiterOptions struct {
	// Slots is how many argon2 runs may go at once; <= 0 means runtime.NumCPU().
	Slots int
	// MaxWait bounds a verification's wait for a slot; <= 0 means DefaultMaxWait.
	MaxWait time.Duration
	// Log receives one warning per minute while verifications are refused (nil: discarded).
	Log *slog.Logger
	// Verify replaces the package's Verify as what runs in a slot (nil: Verify). Tests of
	// callers use it to hold a slot until they let go, rather than for a hash's cost, which a
	// loaded machine stretches or a fast one shortens.
	Verify func(encodedHash, password string) (bool, error)
}

// DefaultMaxWait is how long a verification waits for a hashing slot by default: with about
// 24 ms a hash it lets a queue of 200 per core drain, well within a player's timeout and the
// routes' deadline (15 s).
const DefaultMaxWait = 5 * time.Second

// ErrBusy means a verification waited MaxWait for a hashing slot without getting one: the
// hashing queue is overloaded. The caller answers "unavailable, try later"; the Limiter has
// logged the overload already (once a minute, not once a request).
var ErrBusy = errors.New("credential: password hashing overloaded")

// overloadWarnEvery spaces the overload warnings.
const overloadWarnEvery = time.Minute

// NewLimiter builds a limiter.
func NewLimiter(o LimiterOptions) *Limiter {
	if o.Slots <= 0 {
		o.Slots = runtime.NumCPU()
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
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
	if o.Verify == nil {
		o.Verify = Verify
	}
	return &Limiter{sem: make(chan struct{}, o.Slots), maxWait: o.MaxWait, log: o.Log, key: key, dummy: dummy, verify: o.Verify}
}

// Verify reports whether password matches the PHC string encodedHash (see the package Verify),
// once a slot is free. It returns ErrBusy, wrapped, when no slot came within MaxWait, and ctx's
// error, wrapped, if ctx ends first; a verification that has started runs to its end (argon2
// cannot be interrupted) and its result serves the callers still waiting for it.
func (l *Limiter) Verify(ctx context.Context, encodedHash, password string) (bool, error) {
	return l.verifyAs(ctx, l.flightKey(encodedHash, password), encodedHash, password)
}

// DummyVerify costs what a verification of username's password against a DefaultParams hash
// costs (slot, queue and argon2 run included) and matches nothing. Call it for an unknown
// username, so a failed login takes the same time whether or not the user exists. Concurrent
// calls share a run only when username and password are both the same, exactly as Verify's
// calls for one account do: the same password sprayed over many unknown usernames costs one run
// per username, as it does over known ones. It returns only ctx's error or ErrBusy.
func (l *Limiter) DummyVerify(ctx context.Context, username, password string) error {
	_, err := l.verifyAs(ctx, l.flightKey(l.dummy, username, password), l.dummy, password)
	return err
}

// verifyAs runs (or joins) the verification named key.
func (l *Limiter) verifyAs(ctx context.Context, key, encodedHash, password string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("credential: verify: %w", err)
	}
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

// Stats returns the limiter's counters.
func (l *Limiter) Stats() LimiterStats {
	return LimiterStats{Slots: cap(l.sem), InFlight: l.inFlight.Load(), Waiting: l.waiting.Load(),
		Waited: l.waited.Load(), Verifications: l.verifications.Load(), Shared: l.shared.Load(),
		Refused: l.refused.Load()}
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
		wait := time.NewTimer(l.maxWait)
		defer wait.Stop()
		select {
		case l.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("credential: verify: wait for a slot: %w", ctx.Err())
		case <-wait.C:
			l.overloaded()
			return fmt.Errorf("credential: verify: no slot within %s: %w", l.maxWait, ErrBusy)
		}
	}
	l.inFlight.Add(1)
	return nil
}

// overloaded counts a refusal and warns about the overload at most once per overloadWarnEvery,
// with the refusals since the last warning: a flood is one clear line, not one per request.
func (l *Limiter) overloaded() {
	l.refused.Add(1)
	l.unreported.Add(1)
	now := time.Now().UnixNano()
	last := l.warnedAt.Load()
	if now-last < int64(overloadWarnEvery) || !l.warnedAt.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("password hashing overloaded: refusing logins that waited too long for a hashing slot",
		"max_wait", l.maxWait, "slots", cap(l.sem), "waiting", l.waiting.Load(), "refused", l.unreported.Swap(0))
}

func (l *Limiter) release() {
	l.inFlight.Add(-1)
	<-l.sem
}

// flightKey identifies a verification without holding the password: HMAC-SHA256 with the
// per-process key over the length-prefixed parts (hash and password; for a dummy, the dummy
// hash, the username and the password).
func (l *Limiter) flightKey(parts ...string) string {
	mac := hmac.New(sha256.New, l.key)
	var n [4]byte
	for _, p := range parts {
		binary.BigEndian.PutUint32(n[:], uint32(len(p)))
		mac.Write(n[:])
		mac.Write([]byte(p))
	}
	return string(mac.Sum(nil))
}
