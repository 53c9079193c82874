package access_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// set stores settings and reloads them into the instance.
func (f *fixture) set(t testing.TB, kv map[string]any) {
	t.Helper()
	ctx := context.Background()
	for k, v := range kv {
		if err := f.st.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
}

// garbageToken is a cheap step-1 failure (no password hash), as a spray would send.
func garbageToken(ip netip.Addr) access.Request {
	return access.Request{Who: access.PlayToken{Token: "garbage"}, ClientIP: ip, UserAgent: testUA, Surface: "test"}
}

// sprayAddr is the i-th address of a spray of distinct clients: IPv4 addresses and IPv6 /64s
// in turn, none in the test's GeoIP networks.
func sprayAddr(i int) netip.Addr {
	if i%2 == 0 {
		m := i / 2
		return netip.AddrFrom4([4]byte{10, byte(m >> 16), byte(m >> 8), byte(m)})
	}
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	binary.BigEndian.PutUint32(b[4:], uint32(i)) // a /64 of its own
	b[15] = byte(i) | 1
	return netip.AddrFrom16(b)
}

// TestFlood_CountedPerBlockUnit: failed logins are counted per client in the unit a block
// covers, an IPv4 address or an IPv6 /64, so rotating addresses inside a /64 cannot dodge the
// block; the surfaces that authenticate outside Check (MAG handshakes) count the same way.
func TestFlood_CountedPerBlockUnit(t *testing.T) {
	t.Parallel()
	const limit = 3
	checkFails := func(f *fixture, t *testing.T, ip netip.Addr) {
		if d := f.check(t, garbageToken(ip)); d.Code != access.AuthFailed {
			t.Fatalf("failing login from %v = %v, want AUTH_FAILED", ip, d.Code)
		}
	}
	countFails := func(f *fixture, t *testing.T, ip netip.Addr) {
		if err := f.checker.CountFailure(context.Background(), ip); err != nil {
			t.Fatalf("CountFailure(%v) = %v", ip, err)
		}
	}
	tests := []struct {
		name         string
		fail         func(f *fixture, t *testing.T, ip netip.Addr)
		failing      []string
		wantCounters int // left in auth_failures (a block clears its client's)
		blocked      []string
		notBlocked   []string
	}{
		{"IPv6 addresses rotated inside a /64", checkFails,
			[]string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:fffe"}, 0,
			[]string{"2001:db8:1:2::1", "2001:db8:1:2:abcd::9"}, []string{"2001:db8:1:3::1", "2001:db8:1:1::1"}},
		{"IPv4 addresses are clients of their own", checkFails,
			[]string{"198.51.100.1", "198.51.100.2", "198.51.100.3"}, 3,
			nil, []string{"198.51.100.1", "198.51.100.4"}},
		{"IPv4-mapped IPv6 is the IPv4 client", checkFails,
			[]string{"::ffff:198.51.100.20", "198.51.100.20", "::ffff:198.51.100.20"}, 0,
			[]string{"198.51.100.20", "::ffff:198.51.100.20"}, []string{"198.51.100.21"}},
		{"CountFailure counts like a failed step 1", countFails,
			[]string{"2001:db8:9:9::1", "2001:db8:9:9::2", "2001:db8:9:9::3"}, 0,
			[]string{"2001:db8:9:9::ff"}, []string{"2001:db8:9:a::1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.set(t, map[string]any{"flood_auth_failures": limit, "flood_window_seconds": 60, "flood_block_seconds": 600})
			line, pw := testdb.NewLine(t, f.st, nil)
			for _, a := range tt.failing {
				tt.fail(f, t, netip.MustParseAddr(a))
			}
			if n, err := f.st.AuthFailureCounters(context.Background()); err != nil || n != tt.wantCounters {
				t.Errorf("failure counters = %d, %v; want %d", n, err, tt.wantCounters)
			}
			for _, a := range tt.blocked {
				ip := netip.MustParseAddr(a)
				if d := f.check(t, login(line, pw, ip)); d.Code != access.FloodBlocked || !f.checker.FloodBlocked(ip) {
					t.Errorf("right password from %s = %v (FloodBlocked %v), want FLOOD_BLOCKED", a, d.Code, f.checker.FloodBlocked(ip))
				}
			}
			for _, a := range tt.notBlocked {
				ip := netip.MustParseAddr(a)
				if d := f.check(t, login(line, pw, ip)); d.Code != access.OK || f.checker.FloodBlocked(ip) {
					t.Errorf("right password from %s = %v (FloodBlocked %v), want OK", a, d.Code, f.checker.FloodBlocked(ip))
				}
			}
		})
	}
}

// TestFlood_CountersBoundedUnderSpray: a spray of failed logins from 100k distinct clients
// (IPv4 addresses and IPv6 /64s) keeps auth_failures within its bound (plus a tenth and the
// requests in progress), and never pushes out the counter of a client close to a block.
func TestFlood_CountersBoundedUnderSpray(t *testing.T) {
	t.Parallel()
	spray, maxCounters, workers := 100_000, 2000, 4
	if testing.Short() {
		spray = 10_000
	}
	bound := maxCounters + maxCounters/10 + workers
	f := setup(t)
	f.set(t, map[string]any{"flood_auth_failures": 10, "flood_max_counters": maxCounters})
	line, pw := testdb.NewLine(t, f.st, nil)
	guesser := netip.MustParseAddr("2001:db8:bad:1::1")
	for i := range 8 { // close to the limit of 10, from rotating addresses
		if d := f.check(t, garbageToken(netip.MustParseAddr(fmt.Sprintf("2001:db8:bad:1::%x", i+1)))); d.Code != access.AuthFailed {
			t.Fatalf("guess %d = %v", i, d.Code)
		}
	}
	counters := func() int {
		n, err := f.st.AuthFailureCounters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var wg sync.WaitGroup
	peak := make([]int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < spray; i += workers {
				d, err := f.checker.Check(context.Background(), garbageToken(sprayAddr(i)))
				if err != nil || d.Code != access.AuthFailed {
					t.Errorf("spray %d = %v, %v; want AUTH_FAILED", i, d.Code, err)
					return
				}
				if w == 0 && i%(workers*500) == 0 {
					peak[w] = max(peak[w], counters())
				}
			}
		}()
	}
	wg.Wait()
	final := counters()
	if n := max(peak[0], final); n > bound {
		t.Errorf("%d failure counters after a spray of %d clients, want at most %d", n, spray, bound)
	}
	t.Logf("spray of %d clients: %d counters at the end, %d at the highest sample (bound %d)", spray, final, peak[0], bound)
	for i := range 2 {
		if d := f.check(t, garbageToken(guesser)); d.Code != access.AuthFailed {
			t.Fatalf("guess %d after the spray = %v", 9+i, d.Code)
		}
	}
	if d := f.check(t, login(line, pw, guesser)); d.Code != access.FloodBlocked {
		t.Errorf("the guesser after 10 failures, 8 of them before the spray = %v, want FLOOD_BLOCKED (its counter survived)", d.Code)
	}
}

// TestRateLimiter_Unit: a rate-limit bucket belongs to a client in the unit of a flood block.
func TestRateLimiter_Unit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		spend []string // spend the burst of 3 across these addresses
		probe string
		want  bool
	}{
		{"IPv6 rotation inside a /64 shares a bucket", []string{"2001:db8::1", "2001:db8::2", "2001:db8::ffff:3"}, "2001:db8::4", false},
		{"the next /64 has its own", []string{"2001:db8::1", "2001:db8::2", "2001:db8::3"}, "2001:db8:0:1::1", true},
		{"IPv4 neighbours have their own", []string{"192.0.2.1", "192.0.2.1", "192.0.2.1"}, "192.0.2.2", true},
		{"IPv4-mapped IPv6 is the IPv4 client", []string{"::ffff:192.0.2.1", "192.0.2.1", "::ffff:192.0.2.1"}, "192.0.2.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := access.NewRateLimiter(func() time.Time { return time.Unix(1_700_000_000, 0) }, 0)
			for _, a := range tt.spend {
				if !r.Allow(netip.MustParseAddr(a), 1, 3) {
					t.Fatalf("Allow(%s) within the burst = false", a)
				}
			}
			if got := r.Allow(netip.MustParseAddr(tt.probe), 1, 3); got != tt.want {
				t.Errorf("Allow(%s) = %v, want %v", tt.probe, got, tt.want)
			}
		})
	}
}

// TestRateLimiter_BoundedUnderSpray: 100k distinct clients, faster than any bucket refills,
// never make the limiter hold more than its bound, and never give a throttled client its burst
// back; once the sprayed buckets have refilled, Sweep forgets them.
func TestRateLimiter_BoundedUnderSpray(t *testing.T) {
	t.Parallel()
	const maxClients, perSecond, burst = 1000, 10, 20
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	r := access.NewRateLimiter(clock.Now, maxClients)
	throttled := netip.MustParseAddr("203.0.113.5")
	for range burst {
		r.Allow(throttled, perSecond, burst)
	}
	if r.Allow(throttled, perSecond, burst) {
		t.Fatal("a drained bucket allowed a request")
	}
	for i := range 100_000 { // the clock stands still: nothing refills
		if !r.Allow(sprayAddr(i), perSecond, burst) {
			t.Fatalf("first request of sprayed client %d refused", i)
		}
		if i%1000 == 0 && r.Tracked() > maxClients {
			t.Fatalf("%d clients tracked after %d sprayed, want at most %d", r.Tracked(), i+1, maxClients)
		}
	}
	if n := r.Tracked(); n > maxClients {
		t.Errorf("%d clients tracked after the spray, want at most %d", n, maxClients)
	}
	if r.Allow(throttled, perSecond, burst) {
		t.Error("the throttled client got a request through after the spray: its drained bucket was evicted")
	}
	clock.Advance(time.Second) // the sprayed buckets are full again; the throttled one is not
	r.Sweep()
	if n := r.Tracked(); n != 1 {
		t.Errorf("%d clients tracked after Sweep, want 1 (the throttled client)", n)
	}
}

// TestCheck_FailedLoginCostsAlike: concurrent failing logins that send one password to many
// usernames run one hash each, whether the usernames exist or not. Counted in hash runs, not
// time: distinct usernames can never share a run, so the counts are exact.
func TestCheck_FailedLoginCostsAlike(t *testing.T) {
	t.Parallel()
	const n = 16
	f := setup(t)
	f.set(t, map[string]any{"flood_auth_failures": 0})
	known := make([]store.Line, n)
	for i := range known {
		known[i], _ = testdb.NewLine(t, f.st, nil)
	}
	runs := func(username func(i int) string) uint64 {
		before := f.checker.HasherStats().Verifications
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := access.Request{Who: access.Password{Username: username(i), Password: "same guess"}, ClientIP: ipDE, UserAgent: testUA}
				if d, err := f.checker.Check(context.Background(), r); err != nil || d.Code != access.AuthFailed {
					t.Errorf("Check(%s) = %v, %v; want AUTH_FAILED", username(i), d.Code, err)
				}
			}()
		}
		wg.Wait()
		return f.checker.HasherStats().Verifications - before
	}
	gotKnown := runs(func(i int) string { return known[i].Username })
	gotUnknown := runs(func(i int) string { return fmt.Sprint("nobody-", i) })
	if gotKnown != n || gotUnknown != n {
		t.Errorf("%d concurrent failed logins with one password: %d hashes for known usernames, %d for unknown; want %d each",
			n, gotKnown, gotUnknown, n)
	}
}

// TestCheck_HashQueueDeadline: a check waiting for a hashing slot longer than the limiter's
// bound cannot decide: an error the surfaces recognise as ErrBusy, never an endless wait, even
// for a request without a deadline of its own.
func TestCheck_HashQueueDeadline(t *testing.T) {
	t.Parallel()
	// The slot holder's verification runs until the test lets go of it (TestRecords_
	// KnownViewersSkipAFullHashQueue): the second check finds the only slot taken.
	holding, letGo := "", make(chan struct{})
	release := sync.OnceFunc(func() { close(letGo) })
	t.Cleanup(release)
	hasher := credential.NewLimiter(credential.LimiterOptions{Slots: 1, MaxWait: 5 * time.Millisecond,
		Verify: func(encodedHash, password string) (bool, error) {
			if encodedHash == holding && password == "wrong" {
				<-letGo
			}
			return credential.Verify(encodedHash, password)
		}})
	f := newInstance(t, testdb.NewDSN(t), fixtureOpts{hasher: hasher})
	f.set(t, map[string]any{"flood_auth_failures": 0})
	line, _ := testdb.NewLine(t, f.st, nil)
	holding = line.PasswordHash
	done := make(chan access.Code, 1)
	go func() {
		d, err := f.checker.Check(context.Background(), login(line, "wrong", ipDE))
		if err != nil {
			t.Errorf("slot holder's Check = %v", err)
		}
		done <- d.Code
	}()
	testdb.Eventually(t, 10*time.Second, "the holder's verification in its slot", func() bool { return hasher.Stats().InFlight == 1 })
	start := time.Now()
	_, err := f.checker.Check(context.Background(), login(line, "another guess", ipDE)) // no deadline of its own
	if !errors.Is(err, access.ErrBusy) {
		t.Errorf("Check while the only slot is taken = %v, want ErrBusy", err)
	}
	if st := hasher.Stats(); st.Refused != 1 {
		t.Errorf("Stats().Refused = %d, want 1", st.Refused)
	}
	t.Logf("refused after %v (bound 5ms)", time.Since(start))
	release()
	if code := <-done; code != access.AuthFailed {
		t.Errorf("slot holder = %v, want AUTH_FAILED", code)
	}
}
