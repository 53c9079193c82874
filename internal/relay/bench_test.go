package relay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asticode/go-astits"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// tally is a shared io.Writer sink counting bytes over many viewers, signalling when a target is reached.
type tally struct {
	total  atomic.Int64
	target atomic.Int64
	sig    chan struct{}
}

type tallyWriter struct{ t *tally }

// copyWriter stands in for a client connection's write buffer (fasthttp's bufio.Writer): every byte is
// copied once into a per-viewer buffer before it counts as delivered.
type copyWriter struct {
	buf []byte
	t   *tally
}

func (w *copyWriter) Write(p []byte) (int, error) {
	for q := p; len(q) > 0; {
		q = q[copy(w.buf, q):]
	}
	return tallyWriter{w.t}.Write(p)
}

func (w tallyWriter) Write(p []byte) (int, error) {
	if w.t.total.Add(int64(len(p))) >= w.t.target.Load() {
		select {
		case w.t.sig <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// waitTotal blocks until the tally reaches n.
func (t *tally) waitTotal(n int64) {
	t.target.Store(n)
	for t.total.Load() < n {
		<-t.sig
	}
}

// BenchmarkHubFanout measures delivery from one hub to 500 viewers of a stream held in memory: each op
// publishes one chunk that every viewer then copies into its own 64 KiB write buffer, as it would into a
// connection's, and the op waits for all viewers. Each chunk is one wake-up (every publish wakes, and the
// ring blocks are a chunk long, so one chunk is one publish):
//
//	wake=8KiB    44 packets, the default publish batch at 8 Mbit/s, as the relay woke viewers before
//	             wake-ups were batched (every publish woke everyone)
//	wake=128KiB  697 packets, one default wake-up (WakeBytes)
//
// Reported: delivered MB/s (SetBytes), CPU nanoseconds per delivered MB, allocations per fed packet, and
// how many 8 Mbit/s viewers that rate would serve.
func BenchmarkHubFanout(b *testing.B) {
	for _, bc := range []struct {
		name    string
		packets int
	}{{"wake=8KiB", 44}, {"wake=128KiB", 697}} {
		b.Run(bc.name, func(b *testing.B) { benchFanout(b, bc.packets) })
	}
}

func benchFanout(b *testing.B, chunkPackets int) {
	const viewers = 500
	data := clip(b, "clip.ts")
	data = data[:len(data)/(chunkPackets*packetSize)*(chunkPackets*packetSize)]
	// The op waits for every viewer, so every publish must wake them (WakeBytes 1): a wake-up held
	// back for more bytes would never come.
	m, err := NewManager(Options{BlockPackets: chunkPackets, RingBlocks: 8 << 20 / (chunkPackets * packetSize),
		MaxSkips: -1, WakeBytes: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	h := newHub(m, 1, []Source{{URL: "bench"}})
	m.mu.Lock()
	m.hubs[1] = h // a hub without its goroutines: the benchmark is the writer
	m.mu.Unlock()
	h.ing.write(data[:chunkPackets*packetSize]) // PAT, PMT and the first keyframe
	h.ring.mu.Lock()
	start, _ := h.ring.newestRAP()
	psiLen := int64(len(h.ring.psi))
	h.ring.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	t := &tally{sig: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	for range viewers {
		v, err := m.Subscribe(ctx, 1, []Source{{URL: "bench"}})
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer v.Close()
			v.WriteTo(ctx, &copyWriter{buf: make([]byte, 64<<10), t: t}, func() error { return nil })
		}()
	}
	chunk := chunkPackets * packetSize
	perViewer := func() int64 { return psiLen + int64(h.ing.pub-start.pos) }
	t.waitTotal(viewers * perViewer())

	b.SetBytes(int64(chunk * viewers))
	b.ReportAllocs()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	cpu0, wall0, total0 := testkit.ProcessCPU(), time.Now(), t.total.Load()
	off, ops := chunk, 0
	for b.Loop() {
		if off+chunk > len(data) {
			off = 0
		}
		h.ing.write(data[off : off+chunk])
		off += chunk
		ops++
		t.waitTotal(viewers * perViewer())
	}
	t.waitTotal(viewers * perViewer())
	cpu, wall, delivered := testkit.ProcessCPU()-cpu0, time.Since(wall0), t.total.Load()-total0
	runtime.ReadMemStats(&ms1)
	b.StopTimer()
	cancel()
	wg.Wait()
	mb := float64(delivered) / 1e6
	b.ReportMetric(float64(cpu.Nanoseconds())/mb, "cpu-ns/MB")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(ops*chunkPackets), "allocs/pkt")
	b.ReportMetric(mb/wall.Seconds(), "viewers@8Mbps") // 8 Mbit/s = 1 MB/s per viewer
	if s := m.Stats(); s.ViewerSkips != 0 {
		b.Fatalf("viewers skipped %d times: the benchmark must not overrun them", s.ViewerSkips)
	}
}

// BenchmarkInspectPacket is the per-packet cost of the ingest's own header inspection (PID, keyframe flag,
// PSI tracking) over a real clip.
func BenchmarkInspectPacket(b *testing.B) { benchInspect(b, clip(b, "clip.ts")) }

// BenchmarkInspectPacketNAL is the same without random_access_indicator, so keyframes are found by
// scanning NAL units.
func BenchmarkInspectPacketNAL(b *testing.B) { benchInspect(b, stripRAI(clip(b, "clip.ts"))) }

// benchInspect runs the inspector over data's packets in a loop.
func benchInspect(b *testing.B, data []byte) {
	b.Helper()
	n := len(data) / packetSize
	var in inspector
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in.packet(data[i*packetSize:(i+1)*packetSize], uint64(i*packetSize))
		if i++; i == n {
			i = 0
		}
	}
}

// BenchmarkInspectPacketAstits is the baseline: go-astits parsing every packet (header and adaptation
// field), which is what a library-only approach would pay per packet.
func BenchmarkInspectPacketAstits(b *testing.B) {
	data := clip(b, "clip.ts")
	rd := bytes.NewReader(data)
	dmx := astits.NewDemuxer(context.Background(), rd, astits.DemuxerOptPacketSize(packetSize))
	b.ReportAllocs()
	for b.Loop() {
		p, err := dmx.NextPacket()
		if err != nil {
			rd.Reset(data)
			dmx = astits.NewDemuxer(context.Background(), rd, astits.DemuxerOptPacketSize(packetSize))
			continue
		}
		_ = p.Header.PID
	}
}

// BenchmarkIngestWrite is the writer path alone: copy into the ring, check sync, inspect, publish (no
// viewers), per 8 KiB chunk.
func BenchmarkIngestWrite(b *testing.B) {
	const chunk = 44 * packetSize
	data := clip(b, "clip.ts")
	data = data[:len(data)/chunk*chunk]
	r := newRing(348*packetSize, 128, time.Minute)
	ing := newIngest(r, newBlockPool(348*packetSize, 256), time.Now, 8192, 20*time.Millisecond)
	b.SetBytes(chunk)
	b.ReportAllocs()
	off := 0
	for b.Loop() {
		if off+chunk > len(data) {
			off = 0
		}
		ing.write(data[off : off+chunk])
		off += chunk
	}
}

// BenchmarkLoopbackEndToEnd pulls an unpaced TS upstream over loopback HTTP and serves it to 50 viewers,
// each over its own loopback HTTP connection (net/http handler: Subscribe, WriteTo with Flush). One op is
// 1 MB received by the clients in total. Upstream, relay and clients share the same 2 cores.
func BenchmarkLoopbackEndToEnd(b *testing.B) {
	const viewers = 50
	f, err := newLoopFile(clip(b, "clip.ts"), 2_000_000)
	if err != nil {
		b.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveLoop(r.Context(), w, f, 1_000_000) // effectively unpaced
	}))
	defer up.Close()
	m, err := NewManager(Options{MaxSkips: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	edge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := m.Subscribe(r.Context(), 1, []Source{{URL: up.URL}})
		if err != nil {
			http.Error(w, "", http.StatusServiceUnavailable)
			return
		}
		defer v.Close()
		w.Header().Set("Content-Type", "video/mp2t")
		rc := http.NewResponseController(w)
		v.WriteTo(r.Context(), w, rc.Flush)
	}))
	defer edge.Close()

	ctx, cancel := context.WithCancel(context.Background())
	t := &tally{sig: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	for range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, edge.URL, nil)
			resp, err := edge.Client().Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			io.CopyBuffer(tallyWriter{t}, resp.Body, make([]byte, 64<<10))
		}()
	}
	t.waitTotal(viewers * 64 << 10) // everyone is receiving
	const perOp = 1 << 20
	b.SetBytes(perOp)
	b.ReportAllocs()
	cpu0, total0 := testkit.ProcessCPU(), t.total.Load()
	next := total0
	for b.Loop() {
		next += perOp
		t.waitTotal(next)
	}
	cpu, delivered := testkit.ProcessCPU()-cpu0, t.total.Load()-total0
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(cpu.Nanoseconds())/(float64(delivered)/1e6), "cpu-ns/MB")
}
