// Package stripe has the Prometheus counters and duration histograms that every request
// updates (requests by route, check outcomes, their latencies). A client_golang counter or
// histogram is one set of words that every core writes with atomic adds, so on two cores
// busy with logins each update waits for the other core to give up the cache line: measured
// in process, the four updates of a login cost about a microsecond that way, more than its
// whole check. Here each series keeps one cell per stripe, a goroutine updates the cell of
// the processor it runs on (as sync.Pool's per-processor cache tells it), and a scrape sums
// the cells. What a scrape shows is the same: names, help, labels, buckets and values.
package stripe

import (
	"math/bits"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// lineWords is the stride between two cells in 8-byte words: 128 bytes, two cache lines,
// so that neither a cell's neighbour nor the adjacent-line prefetcher makes two cores share.
const lineWords = 16

// stripes is the number of cells per series: a power of two, twice the processors (two
// processors then rarely share a cell even as slots are dropped and made anew), at most 64.
var stripes = min(64, 1<<bits.Len(uint(2*runtime.GOMAXPROCS(0)-1)))

// slot is a cell index handed out per processor: sync.Pool keeps one per processor and
// hands it back to goroutines running there. A slot the pool drops (it may, at a garbage
// collection) is replaced by one with the next index.
type slot struct{ i uint32 }

var (
	slots    = sync.Pool{New: func() any { return &slot{i: nextSlot.Add(1)} }}
	nextSlot atomic.Uint32
)

// cell returns the index of the calling processor's cell in [0, stripes).
func cell() int {
	s := slots.Get().(*slot)
	i := int(s.i) & (stripes - 1)
	slots.Put(s)
	return i
}

// Counter is a striped counter, a child of a CounterVec.
type Counter struct {
	cells  []atomic.Uint64 // stripes cells lineWords apart
	labels []string
}

// Inc adds one.
func (c *Counter) Inc() { c.cells[cell()*lineWords].Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.cells[cell()*lineWords].Add(n) }

// Value is the sum of the cells.
func (c *Counter) Value() uint64 {
	var n uint64
	for i := 0; i < len(c.cells); i += lineWords {
		n += c.cells[i].Load()
	}
	return n
}

// Histogram is a striped histogram of durations, a child of a HistogramVec. It is also a
// prometheus.Observer (in seconds).
type Histogram struct {
	upper  []int64 // bucket upper bounds in nanoseconds, ascending
	stride int     // words per cell: a bucket count per bound, one for +Inf, the sum
	cells  []atomic.Uint64
	labels []string
}

// ObserveDuration records d.
func (h *Histogram) ObserveDuration(d time.Duration) {
	ns := int64(d)
	b := len(h.upper) // +Inf
	for i, u := range h.upper {
		if ns <= u {
			b = i
			break
		}
	}
	base := cell() * h.stride
	h.cells[base+b].Add(1)
	h.cells[base+len(h.upper)+1].Add(uint64(ns)) // the sum, in ns; a negative d wraps back out in the sum
}

// Observe records v seconds, for prometheus.Observer.
func (h *Histogram) Observe(v float64) { h.ObserveDuration(time.Duration(v * float64(time.Second))) }

// snapshot sums the cells: the per-bucket counts (the last one +Inf), their total and the
// sum in seconds. The count is the buckets' total, so the two always agree.
func (h *Histogram) snapshot() (counts []uint64, count uint64, sum float64) {
	counts = make([]uint64, len(h.upper)+1)
	var ns int64
	for base := 0; base < len(h.cells); base += h.stride {
		for b := range counts {
			counts[b] += h.cells[base+b].Load()
		}
		ns += int64(h.cells[base+len(counts)].Load())
	}
	for _, n := range counts {
		count += n
	}
	return counts, count, time.Duration(ns).Seconds()
}

// vec is what both vectors share: the description and the children by label values.
type vec[T any] struct {
	desc     *prometheus.Desc
	labels   int
	mu       sync.Mutex
	byKey    map[string]*T
	order    []*T // in creation order, for Collect
	newChild func(values []string) *T
}

func (v *vec[T]) with(values []string) *T {
	if len(values) != v.labels {
		panic("stripe: wrong number of label values")
	}
	key := strings.Join(values, "\xff")
	v.mu.Lock()
	defer v.mu.Unlock()
	if c, ok := v.byKey[key]; ok {
		return c
	}
	c := v.newChild(slices.Clone(values))
	v.byKey[key] = c
	v.order = append(v.order, c)
	return c
}

func (v *vec[T]) children() []*T {
	v.mu.Lock()
	defer v.mu.Unlock()
	return slices.Clone(v.order)
}

// Describe implements prometheus.Collector.
func (v *vec[T]) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// CounterVec is a family of striped counters, a prometheus.Collector.
type CounterVec struct{ vec[Counter] }

// NewCounterVec describes a counter family; register it like a prometheus.CounterVec.
func NewCounterVec(opts prometheus.CounterOpts, labels []string) *CounterVec {
	v := &CounterVec{}
	v.vec = vec[Counter]{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		labels: len(labels), byKey: map[string]*Counter{},
		newChild: func(values []string) *Counter {
			return &Counter{cells: make([]atomic.Uint64, stripes*lineWords), labels: values}
		},
	}
	return v
}

// WithLabelValues returns the counter of these label values, made the first time. Resolve
// it once and keep it: this takes a lock.
func (v *CounterVec) WithLabelValues(values ...string) *Counter { return v.with(values) }

// Collect implements prometheus.Collector.
func (v *CounterVec) Collect(ch chan<- prometheus.Metric) {
	for _, c := range v.children() {
		ch <- prometheus.MustNewConstMetric(v.desc, prometheus.CounterValue, float64(c.Value()), c.labels...)
	}
}

// HistogramVec is a family of striped duration histograms (in seconds on the wire), a
// prometheus.Collector.
type HistogramVec struct {
	vec[Histogram]
	buckets []float64
}

// NewHistogramVec describes a histogram family; opts.Buckets (seconds, ascending; the
// client's defaults when empty) bound its buckets.
func NewHistogramVec(opts prometheus.HistogramOpts, labels []string) *HistogramVec {
	buckets := opts.Buckets
	if len(buckets) == 0 {
		buckets = prometheus.DefBuckets
	}
	upper := make([]int64, len(buckets))
	for i, b := range buckets {
		upper[i] = int64(b * float64(time.Second))
	}
	stride := (len(upper) + 2 + lineWords - 1) / lineWords * lineWords
	v := &HistogramVec{buckets: slices.Clone(buckets)}
	v.vec = vec[Histogram]{
		desc:   prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, opts.Subsystem, opts.Name), opts.Help, labels, opts.ConstLabels),
		labels: len(labels), byKey: map[string]*Histogram{},
		newChild: func(values []string) *Histogram {
			return &Histogram{upper: upper, stride: stride, cells: make([]atomic.Uint64, stripes*stride), labels: values}
		},
	}
	return v
}

// WithLabelValues returns the histogram of these label values, made the first time. Resolve
// it once and keep it: this takes a lock.
func (v *HistogramVec) WithLabelValues(values ...string) *Histogram { return v.with(values) }

// Collect implements prometheus.Collector.
func (v *HistogramVec) Collect(ch chan<- prometheus.Metric) {
	for _, h := range v.children() {
		counts, count, sum := h.snapshot()
		cumulative := make(map[float64]uint64, len(v.buckets))
		var acc uint64
		for i, b := range v.buckets {
			acc += counts[i]
			cumulative[b] = acc
		}
		ch <- prometheus.MustNewConstHistogram(v.desc, count, sum, cumulative, h.labels...)
	}
}
