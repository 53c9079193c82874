package stripe

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

var testBuckets = []float64{.00001, .0001, .001, .01, .1, 1}

// exposition gathers reg and writes it in the text format.
func exposition(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var b bytes.Buffer
	for _, f := range families {
		if _, err := expfmt.MetricFamilyToText(&b, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

// TestVecs_ExposeWhatClientGolangExposes feeds the same counts and durations, from many
// goroutines at once, to the striped vectors and to client_golang's own, and compares the
// two expositions (pedantic registries check Describe against Collect) line by line; the
// histogram sums are compared apart, since client_golang adds float seconds and we add
// nanoseconds.
func TestVecs_ExposeWhatClientGolangExposes(t *testing.T) {
	t.Parallel()
	ours, theirs := prometheus.NewPedanticRegistry(), prometheus.NewPedanticRegistry()
	copts := prometheus.CounterOpts{Name: "test_requests_total", Help: "Requests.", ConstLabels: prometheus.Labels{"instance": "a"}}
	hopts := prometheus.HistogramOpts{Namespace: "test", Name: "latency_seconds", Help: "Latency.", Buckets: testBuckets}
	oc, tc := NewCounterVec(copts, []string{"route", "status"}), prometheus.NewCounterVec(copts, []string{"route", "status"})
	oh, th := NewHistogramVec(hopts, []string{"kind"}), prometheus.NewHistogramVec(hopts, []string{"kind"})
	ours.MustRegister(oc, oh)
	theirs.MustRegister(tc, th)

	durations := []time.Duration{0, 10 * time.Microsecond, 11 * time.Microsecond, 999 * time.Microsecond,
		time.Millisecond, 50 * time.Millisecond, time.Second, 3 * time.Second, time.Hour}
	routes := []string{"/player_api.php", "/live/:u/:p/:id"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				r := routes[(g+i)%2]
				oc.WithLabelValues(r, "200").Inc()
				tc.WithLabelValues(r, "200").Inc()
				if i%7 == 0 {
					oc.WithLabelValues(r, "403").Add(3)
					tc.WithLabelValues(r, "403").Add(3)
				}
				d := durations[(g*31+i)%len(durations)]
				kind := []string{"request", "stream_open"}[i%2]
				if i%3 == 0 {
					oh.WithLabelValues(kind).Observe(d.Seconds())
				} else {
					oh.WithLabelValues(kind).ObserveDuration(d)
				}
				th.WithLabelValues(kind).Observe(d.Seconds())
			}
		})
	}
	wg.Wait()

	got, want := exposition(t, ours), exposition(t, theirs)
	gotLines, wantLines := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(gotLines) != len(wantLines) {
		t.Fatalf("exposition has %d lines, client_golang's %d:\n%s\n---\n%s", len(gotLines), len(wantLines), got, want)
	}
	sums := 0
	for i := range wantLines {
		g, w := gotLines[i], wantLines[i]
		if strings.HasPrefix(w, "test_latency_seconds_sum") {
			sums++
			gn, gv, _ := strings.Cut(g, " ")
			wn, wv, _ := strings.Cut(w, " ")
			if gn != wn || !nearlyEqual(t, gv, wv) {
				t.Errorf("line %d: %q, client_golang %q", i, g, w)
			}
			continue
		}
		if g != w {
			t.Errorf("line %d: %q, client_golang %q", i, g, w)
		}
	}
	if sums != 2 || !strings.Contains(want, `test_requests_total{instance="a",route="/player_api.php",status="403"}`) {
		t.Fatalf("the exposition lacks series it should have:\n%s", want)
	}
}

func nearlyEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y float64
	if _, err := fmt.Sscan(a, &x); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(b, &y); err != nil {
		t.Fatal(err)
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
}

// TestCounter_ConcurrentAddsAllCount: no update is lost across stripes, and a series made
// twice is the same series.
func TestCounter_ConcurrentAddsAllCount(t *testing.T) {
	t.Parallel()
	v := NewCounterVec(prometheus.CounterOpts{Name: "c", Help: "c"}, []string{"l"})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			c := v.WithLabelValues("x")
			for range 10_000 {
				c.Inc()
			}
		})
	}
	wg.Wait()
	if n := v.WithLabelValues("x").Value(); n != 160_000 {
		t.Fatalf("Value = %d, want 160000", n)
	}
	if v.WithLabelValues("y").Value() != 0 {
		t.Fatal("a new series starts at 0")
	}
}

// TestHistogram_NegativeAndHuge: a negative duration (a clock step) lands in the first
// bucket and counts negatively in the sum, as client_golang does; one beyond the last bound
// lands in +Inf only.
func TestHistogram_NegativeAndHuge(t *testing.T) {
	t.Parallel()
	v := NewHistogramVec(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: testBuckets}, nil)
	h := v.WithLabelValues()
	h.ObserveDuration(-time.Second)
	h.ObserveDuration(2 * time.Hour)
	counts, count, sum := h.snapshot()
	if counts[0] != 1 || counts[len(testBuckets)] != 1 || count != 2 {
		t.Fatalf("counts %v, count %d", counts, count)
	}
	if want := (2*time.Hour - time.Second).Seconds(); sum != want {
		t.Fatalf("sum %v, want %v", sum, want)
	}
}

func TestWithLabelValues_WrongCountPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	NewCounterVec(prometheus.CounterOpts{Name: "c", Help: "c"}, []string{"a", "b"}).WithLabelValues("a")
}

// The benchmarks compare a series updated from every processor at once: striped against
// client_golang's.
func BenchmarkCounterInc(b *testing.B) {
	ours := NewCounterVec(prometheus.CounterOpts{Name: "c", Help: "c"}, nil).WithLabelValues()
	theirs := prometheus.NewCounter(prometheus.CounterOpts{Name: "c", Help: "c"})
	b.Run("stripe", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ours.Inc()
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				theirs.Inc()
			}
		})
	})
}

func BenchmarkHistogramObserve(b *testing.B) {
	opts := prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60, 600}}
	ours := NewHistogramVec(opts, nil).WithLabelValues()
	theirs := prometheus.NewHistogram(opts)
	d := 300 * time.Microsecond
	b.Run("stripe", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				ours.ObserveDuration(d)
			}
		})
	})
	b.Run("client_golang", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				theirs.Observe(d.Seconds())
			}
		})
	})
}
