package access_test

import (
	"context"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// BenchmarkCheckCachedHit is the common path: a player's request with a verified, cached
// password, through steps 1–8 (GeoIP country and ISP included).
func BenchmarkCheckCachedHit(b *testing.B) {
	f := setup(b)
	line, pw := testdb.NewLine(b, f.st, func(in *store.LineInput) { in.ForcedCountry = ptr("DE") })
	r := login(line, pw, ipDE)
	ctx := context.Background()
	if d, _ := f.checker.Check(ctx, r); d.Code != access.OK {
		b.Fatalf("warm-up = %v", d.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		d, err := f.checker.Check(ctx, r)
		if err != nil || d.Code != access.OK {
			b.Fatalf("Check = %v, %v", d.Code, err)
		}
	}
}

// BenchmarkCheckStreamOpen is a whole stream open: the cached check plus steps 9 and 10 (the
// lease transaction on PostgreSQL), then the release. It reports the p50 and p99 of the open.
func BenchmarkCheckStreamOpen(b *testing.B) {
	f := setup(b)
	line, pw := testdb.NewLine(b, f.st, func(in *store.LineInput) { in.MaxConnections = 2 })
	r := open(line, pw, ipDE, streamInBouquet)
	ctx := context.Background()
	var durs []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		d, err := f.checker.Check(ctx, r)
		durs = append(durs, time.Since(start))
		if err != nil || d.Code != access.OK {
			b.Fatalf("Check = %v, %v", d.Code, err)
		}
		d.Lease.Release(ctx)
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkCheckWrongPassword floods wrong passwords (production argon2id cost) from many
// goroutines; the hashing limiter keeps at most NumCPU hashes running, so the rest wait
// instead of starving the CPU. It reports the peak of hashes in flight.
func BenchmarkCheckWrongPassword(b *testing.B) {
	f := setup(b)
	hash, err := credential.Hash("right", credential.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	line, _ := testdb.NewLine(b, f.st, func(in *store.LineInput) { in.PasswordHash = hash })
	if err := f.st.SetSetting(context.Background(), "flood_auth_failures", 0); err != nil {
		b.Fatal(err)
	}
	if err := f.checker.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	var peak, peakWaiting, n atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample the limiter: how many hash, how many wait
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			st := f.checker.HasherStats()
			peak.Store(max(peak.Load(), st.InFlight))
			peakWaiting.Store(max(peakWaiting.Load(), st.Waiting))
		}
	}()
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			// Distinct guesses: identical ones would share one hash (singleflight).
			d, err := f.checker.Check(ctx, login(line, "wrong-"+strconv.FormatInt(n.Add(1), 10), ipDE))
			if err != nil || d.Code != access.AuthFailed {
				b.Errorf("Check = %v, %v", d.Code, err)
				return
			}
		}
	})
	close(stop)
	<-sampled
	b.ReportMetric(float64(peak.Load()), "peak-hashing")
	b.ReportMetric(float64(peakWaiting.Load()), "peak-waiting")
}

// BenchmarkCheckFailedLogin compares the two failing paths of step 1 under concurrency, with
// production argon2id costs: a known username with a wrong password, and an unknown username
// (the dummy verification). Every request sends the same password for another username, as a
// credential-stuffing attacker would; the two must cost the same, or timing tells which
// usernames exist. It reports the argon2 runs per request (hashes/op) beside ns/op.
func BenchmarkCheckFailedLogin(b *testing.B) {
	f := setup(b)
	if err := f.st.SetSetting(context.Background(), "flood_auth_failures", 0); err != nil {
		b.Fatal(err)
	}
	if err := f.checker.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	const lines = 32 // distinct stored hashes, as real lines have
	known := make([]store.Line, lines)
	for i := range known {
		hash, err := credential.Hash("right", credential.DefaultParams)
		if err != nil {
			b.Fatal(err)
		}
		known[i], _ = testdb.NewLine(b, f.st, func(in *store.LineInput) { in.PasswordHash = hash })
	}
	for _, bb := range []struct {
		name     string
		username func(n int64) string
	}{
		{"known-wrong-password", func(n int64) string { return known[n%lines].Username }},
		{"unknown-username", func(n int64) string { return "nobody-" + strconv.FormatInt(n, 10) }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			var n atomic.Int64
			before := f.checker.HasherStats().Verifications
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					r := access.Request{Who: access.Password{Username: bb.username(n.Add(1)), Password: "same guess"},
						ClientIP: ipDE, UserAgent: testUA, Surface: "bench"}
					if d, err := f.checker.Check(ctx, r); err != nil || d.Code != access.AuthFailed {
						b.Errorf("Check = %v, %v", d.Code, err)
						return
					}
				}
			})
			b.ReportMetric(float64(f.checker.HasherStats().Verifications-before)/float64(b.N), "hashes/op")
		})
	}
}

// BenchmarkRateLimiterAllow is the per-request cost of a per-client rate limit: one client
// (a player's requests), and a spray of distinct clients that keeps the table full (every call
// a new bucket and an eviction), serial and from parallel goroutines.
func BenchmarkRateLimiterAllow(b *testing.B) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	b.Run("one-client", func(b *testing.B) {
		r := access.NewRateLimiter(clock, 0)
		b.ReportAllocs()
		for b.Loop() {
			r.Allow(ipDE, 1e9, 1<<30)
		}
	})
	b.Run("spray", func(b *testing.B) {
		r := access.NewRateLimiter(clock, 0)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			r.Allow(sprayAddr(i), 20, 40)
			i++
		}
		b.ReportMetric(float64(r.Tracked()), "clients")
	})
	b.Run("spray-parallel", func(b *testing.B) {
		r := access.NewRateLimiter(clock, 0)
		var next atomic.Int64
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Allow(sprayAddr(int(next.Add(1))), 20, 40)
			}
		})
	})
}

// BenchmarkCheckFirstLoginHere is a login this instance has nothing cached for (it has just
// started, or took over another instance's viewers), for a line whose password (production
// argon2id cost) verified before: with the shared record (one line read and one record
// lookup) and without (one line read and one argon2id verification, the behaviour before the
// records). Each iteration first drops the line from this instance's caches, as a line change
// does.
func BenchmarkCheckFirstLoginHere(b *testing.B) {
	dsn := testdb.NewDSN(b)
	hash, err := credential.Hash(benchPassword, credential.DefaultParams)
	if err != nil {
		b.Fatal(err)
	}
	_, line, pw := verifiedOn(b, dsn, func(in *store.LineInput) { in.PasswordHash = hash })
	r := login(line, pw, ipDE)
	for _, bb := range []struct {
		name string
		opts fixtureOpts
	}{
		{"record", fixtureOpts{}},
		{"no-record", fixtureOpts{noRecords: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			f := newInstance(b, dsn, bb.opts)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				f.checker.OnChange(store.Change{Kind: store.ChangeLine, ID: line.ID})
				if d, err := f.checker.Check(ctx, r); err != nil || d.Code != access.OK {
					b.Fatalf("Check = %v, %v", d.Code, err)
				}
			}
			b.ReportMetric(float64(f.hasher.Stats().Verifications)/float64(b.N), "hashes/op")
		})
	}
}
