package credential

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// gate instruments Limiter.verify: every run counts itself, records the peak concurrency and
// blocks until the test lets one run finish.
type gate struct {
	release chan struct{}
	cur     atomic.Int64
	peak    atomic.Int64
	runs    atomic.Int64
	hashes  chan string // the hash each run was given, when non-nil
}

func newGate() *gate { return &gate{release: make(chan struct{})} }

func (g *gate) verify(encoded, password string) (bool, error) {
	g.runs.Add(1)
	n := g.cur.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if g.hashes != nil {
		g.hashes <- encoded
	}
	<-g.release
	g.cur.Add(-1)
	return password == "right", nil
}

type result struct {
	ok  bool
	err error
}

func TestLimiter_CapsConcurrency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const slots, callers = 2, 7
		l := NewLimiter(LimiterOptions{Slots: slots})
		g := newGate()
		l.verify = g.verify
		results := make(chan result, callers)
		for i := range callers {
			go func() {
				ok, err := l.Verify(t.Context(), hashA, fmt.Sprint("wrong", i)) // distinct: no sharing
				results <- result{ok, err}
			}()
		}
		synctest.Wait() // everyone is either inside verify or waiting for a slot
		if st := l.Stats(); st.InFlight != slots || st.Waiting != callers-slots {
			t.Fatalf("Stats() = %+v, want %d in flight and %d waiting", st, slots, callers-slots)
		}
		for range callers {
			g.release <- struct{}{}
			synctest.Wait()
			if n := g.cur.Load(); n > slots {
				t.Fatalf("%d verifications running, want <= %d", n, slots)
			}
		}
		for range callers {
			if r := <-results; r.ok || r.err != nil {
				t.Errorf("Verify(wrong) = %v, %v; want false, nil", r.ok, r.err)
			}
		}
		st := l.Stats()
		if g.peak.Load() != slots || st.Verifications != callers || st.Waited != callers-slots || st.InFlight != 0 || st.Waiting != 0 {
			t.Errorf("peak %d, Stats() = %+v; want peak %d, %d verifications, %d waited, none in flight",
				g.peak.Load(), st, slots, callers, callers-slots)
		}
	})
}

func TestLimiter_ContextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ctx  func(context.Context) (context.Context, context.CancelFunc)
		end  func(cancel context.CancelFunc) // what ends the wait
		want error
	}{
		{"cancelled", context.WithCancel, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"deadline", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, time.Second)
		}, func(context.CancelFunc) {}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := NewLimiter(LimiterOptions{Slots: 1})
				g := newGate()
				l.verify = g.verify
				go l.Verify(t.Context(), hashA, "holds the only slot")
				synctest.Wait()

				ctx, cancel := tt.ctx(t.Context())
				defer cancel()
				done := make(chan result)
				go func() {
					ok, err := l.Verify(ctx, hashA, "right")
					done <- result{ok, err}
				}()
				synctest.Wait()
				if st := l.Stats(); st.Waiting != 1 {
					t.Fatalf("Stats().Waiting = %d, want 1", st.Waiting)
				}
				tt.end(cancel)
				r := <-done // with a deadline, virtual time jumps to it once everyone is blocked
				if r.ok || !errors.Is(r.err, tt.want) {
					t.Errorf("Verify = %v, %v; want false, %v", r.ok, r.err, tt.want)
				}
				synctest.Wait()
				if st := l.Stats(); st.Waiting != 0 || g.runs.Load() != 1 {
					t.Errorf("Stats() = %+v, runs %d; want nobody waiting and only the first run", st, g.runs.Load())
				}
				g.release <- struct{}{}
			})
		})
	}
}

func TestLimiter_AlreadyCancelled(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterOptions{Slots: 1})
	g := newGate()
	l.verify = g.verify
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if ok, err := l.Verify(ctx, hashA, "right"); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify(cancelled ctx) = %v, %v; want false, context.Canceled", ok, err)
	}
	if g.runs.Load() != 0 {
		t.Error("a cancelled caller ran argon2")
	}
}

func TestLimiter_Singleflight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const callers = 5
		l := NewLimiter(LimiterOptions{Slots: 2})
		g := newGate()
		l.verify = g.verify
		results := make(chan result, callers+1)
		for range callers {
			go func() {
				ok, err := l.Verify(t.Context(), hashA, "right")
				results <- result{ok, err}
			}()
		}
		go func() { // another password is not folded in
			ok, err := l.Verify(t.Context(), hashA, "other")
			results <- result{!ok, err}
		}()
		synctest.Wait()
		if n := g.runs.Load(); n != 2 {
			t.Fatalf("%d argon2 runs for %d identical verifications and one other, want 2", n, callers)
		}
		g.release <- struct{}{}
		g.release <- struct{}{}
		for range callers + 1 {
			if r := <-results; !r.ok || r.err != nil {
				t.Errorf("Verify = %v, %v; want the expected answer", r.ok, r.err)
			}
		}
		if st := l.Stats(); st.Verifications != 2 || st.Shared != callers {
			t.Errorf("Stats() = %+v, want 2 verifications, %d shared", st, callers)
		}
	})
}

// When the caller that started a shared run gives up waiting for a slot, the callers that joined
// it still get an answer.
func TestLimiter_SingleflightLeaderGivesUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(LimiterOptions{Slots: 1})
		g := newGate()
		l.verify = g.verify
		go l.Verify(t.Context(), hashA, "holds the only slot")
		synctest.Wait()

		leaderCtx, cancelLeader := context.WithCancel(t.Context())
		leader := make(chan result, 1)
		go func() {
			ok, err := l.Verify(leaderCtx, hashA, "right")
			leader <- result{ok, err}
		}()
		synctest.Wait() // the leader's run waits for the slot
		follower := make(chan result, 1)
		go func() {
			ok, err := l.Verify(t.Context(), hashA, "right")
			follower <- result{ok, err}
		}()
		synctest.Wait() // the follower has joined the leader's run

		cancelLeader()
		if r := <-leader; !errors.Is(r.err, context.Canceled) {
			t.Fatalf("leader Verify err = %v, want context.Canceled", r.err)
		}
		synctest.Wait()         // the follower has started its own run, waiting for the slot
		g.release <- struct{}{} // the slot holder finishes
		g.release <- struct{}{} // the follower's run finishes
		if r := <-follower; !r.ok || r.err != nil {
			t.Errorf("follower Verify = %v, %v; want true, nil", r.ok, r.err)
		}
		if n := g.runs.Load(); n != 2 {
			t.Errorf("%d argon2 runs, want 2 (the slot holder and the follower)", n)
		}
	})
}

func TestLimiter_MalformedHash(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterOptions{Slots: 1})
	if ok, err := l.Verify(t.Context(), "plain-text-password", "x"); ok || !errors.Is(err, ErrMalformedHash) {
		t.Errorf("Verify(malformed) = %v, %v; want false, ErrMalformedHash", ok, err)
	}
}

func TestLimiter_RealArgon2(t *testing.T) {
	t.Parallel()
	h, err := Hash("s3cret", testParams)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLimiter(LimiterOptions{})
	if st := l.Stats(); st.Slots < 1 {
		t.Fatalf("Stats().Slots = %d, want NumCPU", st.Slots)
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"s3cret", true}, {"wrong", false}} {
		if ok, err := l.Verify(t.Context(), h, tt.pw); ok != tt.want || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want %v, nil", tt.pw, ok, err, tt.want)
		}
	}
}

func TestLimiter_DummyVerify(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterOptions{Slots: 1})
	// The dummy is a DefaultParams hash, so it costs what a real line's verification costs.
	if _, _, _, err := decode(l.dummy); err != nil || NeedsRehash(l.dummy, DefaultParams) {
		t.Fatalf("dummy hash %q: err %v, NeedsRehash %v; want a DefaultParams hash", l.dummy, err, NeedsRehash(l.dummy, DefaultParams))
	}
	if l2 := NewLimiter(LimiterOptions{Slots: 1}); l2.dummy == l.dummy {
		t.Error("two limiters share a dummy hash, want a random one per process")
	}
	g := newGate()
	g.hashes = make(chan string, 1)
	l.verify = g.verify
	close(g.release)
	if err := l.DummyVerify(t.Context(), "nobody", "right"); err != nil {
		t.Errorf("DummyVerify = %v, want nil", err)
	}
	if got := <-g.hashes; got != l.dummy {
		t.Errorf("DummyVerify verified against %q, want the dummy hash", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.DummyVerify(ctx, "nobody", "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("DummyVerify(cancelled) = %v, want context.Canceled", err)
	}
}

func TestLimiter_DummyVerifyRealCost(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs one DefaultParams argon2id")
	}
	l := NewLimiter(LimiterOptions{Slots: 1})
	if err := l.DummyVerify(t.Context(), "nobody", "anything"); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Verifications != 1 {
		t.Errorf("Stats().Verifications = %d, want 1", st.Verifications)
	}
}

func TestLimiter_FlightKey(t *testing.T) {
	t.Parallel()
	l := NewLimiter(LimiterOptions{Slots: 1})
	a := l.flightKey(hashA, "pw")
	if a != l.flightKey(hashA, "pw") || a == l.flightKey(hashA, "pw2") || a == l.flightKey(hashB, "pw") ||
		l.flightKey("ab", "c") == l.flightKey("a", "bc") {
		t.Error("flightKey does not identify (hash, password) pairs")
	}
	if len(a) != 32 {
		t.Errorf("flightKey length %d, want 32 (an HMAC, never the password)", len(a))
	}
	if NewLimiter(LimiterOptions{Slots: 1}).flightKey(hashA, "pw") == a {
		t.Error("two limiters derive the same flight key, want a random key per limiter")
	}
}

// BenchmarkLimiterVerifyWrongPassword is the cost of one failed login with DefaultParams: the
// reciprocal is the per-core throughput of wrong passwords (and of cache misses).
func BenchmarkLimiterVerifyWrongPassword(b *testing.B) {
	h, err := Hash("correct horse battery staple", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	l := NewLimiter(LimiterOptions{})
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := l.Verify(ctx, h, "wrong password"); ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkLimiterVerifyWrongPasswordParallel saturates every slot with distinct wrong passwords.
func BenchmarkLimiterVerifyWrongPasswordParallel(b *testing.B) {
	h, err := Hash("correct horse battery staple", DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	l := NewLimiter(LimiterOptions{})
	ctx := b.Context()
	var id atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		pw := fmt.Sprint("wrong", id.Add(1))
		for pb.Next() {
			if ok, err := l.Verify(ctx, h, pw); ok || err != nil {
				b.Error(ok, err)
				return
			}
		}
	})
}

// TestLimiter_FailingPathsCostAlike counts argon2 runs (not wall time, so it cannot be flaky)
// for concurrent failing logins: a known account with a wrong password and an unknown username
// must run exactly as many hashes, whether the guesses share a password across accounts (a
// credential-stuffing spray, which once merged every unknown username into one run) or repeat
// one account's (which both paths merge alike).
func TestLimiter_FailingPathsCostAlike(t *testing.T) {
	t.Parallel()
	const n = 16
	known := func(account func(i int) int) verifyCall {
		return func(ctx context.Context, l *Limiter, i int) error {
			_, err := l.Verify(ctx, fmt.Sprintf("%s-%d", hashA, account(i)), "same guess")
			return err
		}
	}
	unknown := func(account func(i int) int) verifyCall {
		return func(ctx context.Context, l *Limiter, i int) error {
			return l.DummyVerify(ctx, fmt.Sprint("nobody", account(i)), "same guess")
		}
	}
	distinct := func(i int) int { return i }
	same := func(int) int { return 0 }
	tests := []struct {
		name     string
		known    verifyCall
		unknown  verifyCall
		wantRuns int64
	}{
		{"one password over distinct accounts", known(distinct), unknown(distinct), n},
		{"one account and password, repeated", known(same), unknown(same), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gotKnown, gotUnknown := concurrentRuns(t, n, tt.known), concurrentRuns(t, n, tt.unknown)
			if gotKnown != tt.wantRuns || gotUnknown != tt.wantRuns {
				t.Errorf("%d concurrent failing logins: %d argon2 runs for known accounts, %d for unknown usernames; want %d each",
					n, gotKnown, gotUnknown, tt.wantRuns)
			}
		})
	}
}

// verifyCall is the i-th of a set of concurrent verifications.
type verifyCall func(ctx context.Context, l *Limiter, i int) error

// concurrentRuns starts n calls at once against a limiter with a slot for each, holds every
// argon2 run until all calls have started or joined one, and returns the number of runs.
func concurrentRuns(t *testing.T, n int, call verifyCall) int64 {
	t.Helper()
	var runs int64
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(LimiterOptions{Slots: n})
		g := newGate()
		l.verify = g.verify
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- call(t.Context(), l, i) }()
		}
		synctest.Wait() // every call is in a run of its own or waits for one it joined
		runs = g.runs.Load()
		close(g.release)
		for range n {
			if err := <-errs; err != nil {
				t.Errorf("verification: %v", err)
			}
		}
	})
	return runs
}

// TestLimiter_MaxWait: a verification never waits for a slot longer than MaxWait, even without
// a deadline of its own; the refusal is ErrBusy, and a flood of refusals is one warning a minute.
func TestLimiter_MaxWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		logs := &records{}
		l := NewLimiter(LimiterOptions{Slots: 1, MaxWait: 2 * time.Second, Log: slog.New(logs)})
		g := newGate()
		l.verify = g.verify
		go l.Verify(t.Context(), hashA, "holds the only slot")
		synctest.Wait()

		refuse := func(waiters int) {
			start := time.Now()
			errs := make(chan error, waiters)
			for i := range waiters {
				go func() {
					errs <- l.DummyVerify(context.Background(), fmt.Sprint("nobody", i), "x") // no deadline
				}()
			}
			for range waiters {
				if err := <-errs; !errors.Is(err, ErrBusy) {
					t.Errorf("DummyVerify while the slot is held = %v, want ErrBusy", err)
				}
			}
			if waited := time.Since(start); waited != 2*time.Second {
				t.Errorf("refused after %v, want MaxWait (2s)", waited)
			}
		}
		refuse(5)
		if all, warnings := logs.count(slog.LevelWarn, "password hashing overloaded"); all != 1 || warnings != 1 {
			t.Errorf("%d log records, %d overload warnings for 5 refusals; want 1 warning and nothing else", all, warnings)
		}
		<-time.After(overloadWarnEvery) // virtual time: the overload goes on a minute later
		refuse(3)
		if all, warnings := logs.count(slog.LevelWarn, "password hashing overloaded"); all != 2 || warnings != 2 {
			t.Errorf("%d log records, %d overload warnings after a minute more; want 2 warnings and nothing else", all, warnings)
		}
		if st := l.Stats(); st.Refused != 8 || st.Waiting != 0 || g.runs.Load() != 1 {
			t.Errorf("Stats() = %+v, runs %d; want 8 refused, nobody waiting, only the slot holder's run", st, g.runs.Load())
		}
		g.release <- struct{}{}
	})
}

// records is a slog.Handler that keeps every record, for assertions on levels and messages.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }

func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec.Clone())
	return nil
}

// count is the number of records, and of those at level with a message starting with msg.
func (r *records) count(level slog.Level, msg string) (all, matching int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.list {
		if rec.Level == level && strings.HasPrefix(rec.Message, msg) {
			matching++
		}
	}
	return len(r.list), matching
}

// TestLimiter_FirstComeFirstServed: logins beyond the hashing capacity are served in the order
// they arrived, and a newcomer never takes a freed slot ahead of one already waiting, so nobody
// starves (and MaxWait bounds each wait).
func TestLimiter_FirstComeFirstServed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const waiters = 6
		l := NewLimiter(LimiterOptions{Slots: 1})
		g := newGate()
		g.hashes = make(chan string, waiters+2)
		l.verify = g.verify
		go l.Verify(t.Context(), "holder", "x")
		synctest.Wait()
		<-g.hashes
		for i := range waiters {
			go l.Verify(t.Context(), fmt.Sprint("waiter", i), "x")
			synctest.Wait() // waiter i is queued before waiter i+1 arrives
		}
		if st := l.Stats(); st.Waiting != waiters {
			t.Fatalf("Stats().Waiting = %d, want %d", st.Waiting, waiters)
		}
		for i := range waiters {
			g.release <- struct{}{} // the running hash ends; its slot goes to the longest waiter
			synctest.Wait()
			if i == 0 {
				go l.Verify(t.Context(), "newcomer", "x") // arrives while five still wait
				synctest.Wait()
			}
			if got, want := <-g.hashes, fmt.Sprint("waiter", i); got != want {
				t.Fatalf("run %d verified %q, want %q (first come, first served)", i+1, got, want)
			}
		}
		g.release <- struct{}{}
		synctest.Wait()
		if got := <-g.hashes; got != "newcomer" {
			t.Errorf("last run verified %q, want the newcomer", got)
		}
		g.release <- struct{}{}
	})
}
