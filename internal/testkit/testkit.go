// Package testkit holds the small test doubles many packages' tests need and none of them
// owns: a buffer that many goroutines may write (servers log from stream writers and
// background loops), a settable clock for TTL tests, a server run on loopback for the test's
// length and a paced origin whose downloads stay open, the p50 of a benchmark's calls, the process's CPU time, and what a gzip answer holds. Tests only; no database (that is
// internal/testdb).
package testkit

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Buffer is a bytes.Buffer safe for concurrent writers, for capturing log output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Clock is a settable clock; pass its Now where a constructor takes func() time.Time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// PacedOrigin is an HTTP origin whose every answer is size bytes of video/mp4 written in
// 32 kB chunks, one per pause, until the client goes away: a download from it stays open
// while a test acts on the stream. It is closed at cleanup.
func PacedOrigin(t testing.TB, size int, pause time.Duration) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Header().Set("Content-Type", "video/mp4")
		rc := http.NewResponseController(w)
		chunk := make([]byte, 32<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil || rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(pause):
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Latency runs call in b.Loop (prepare, when not nil, before each call and untimed) and reports
// the calls' median as the metric p50_ms beside ns/op: the figure the HTTP benchmarks quote.
func Latency(b *testing.B, prepare func(i int), call func(i int)) {
	b.Helper()
	var durs []time.Duration
	i := 0
	for b.Loop() {
		if prepare != nil {
			b.StopTimer()
			prepare(i)
			b.StartTimer()
		}
		start := time.Now()
		call(i)
		durs = append(durs, time.Since(start))
		i++
	}
	if len(durs) == 0 {
		return
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50_ms")
}

// Gunzip returns what the gzip stream z holds, failing tb when z is not gzip or is damaged.
func Gunzip(tb testing.TB, z []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		tb.Fatalf("not gzip (%d bytes): %v", len(z), err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("the gzip stream is damaged: %v", err)
	}
	return b
}
