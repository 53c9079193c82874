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
