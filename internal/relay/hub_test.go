package relay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestFanoutOneUpstreamConnection(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	const viewers = 50
	src := []Source{{URL: origin.URL + "/live.ts"}}
	caps := make([]*capture, viewers)
	errs := make([]chan error, viewers)
	vs := make([]*Viewer, viewers)
	for i := range viewers {
		v, err := m.Subscribe(ctx, 7, src)
		if err != nil {
			t.Fatalf("Subscribe #%d: %v", i, err)
		}
		vs[i] = v
		caps[i], errs[i] = watch(ctx, v, 64<<10)
	}
	for i := range viewers {
		waitFull(t, caps[i])
	}
	if got := origin.conns.Load(); got != 1 {
		t.Errorf("upstream connections = %d, want 1 for %d viewers", got, viewers)
	}
	if s := m.Stats(); s.ViewersTS != viewers || s.Hubs != 1 || s.UpstreamOpen != 1 {
		t.Errorf("Stats() = %+v, want %d TS viewers, 1 hub, 1 upstream open", s, viewers)
	}
	checkStart(t, caps[0].bytes())
	checkStart(t, caps[viewers-1].bytes())
	cancel()
	for i := range viewers {
		if err := <-errs[i]; !errors.Is(err, context.Canceled) {
			t.Errorf("WriteTo #%d = %v, want context.Canceled", i, err)
		}
		if vs[i].Bytes() < 64<<10 {
			t.Errorf("viewer #%d Bytes() = %d, want >= 64 KiB", i, vs[i].Bytes())
		}
		vs[i].Close()
	}
	ev.wait(t, EventHubStop)
	if s := m.Stats(); s.ViewersTS != 0 || s.Hubs != 0 || s.UpstreamOpen != 0 {
		t.Errorf("Stats() after close = %+v, want no viewers, hubs or upstreams", s)
	}
}

func TestNewViewerStartsWithProgramAndKeyframe(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"clip.ts", "clip_hevc.ts"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			origin := newTSOrigin(t, clip(t, name), 4)
			m := newTestManager(t, Options{})
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			src := []Source{{URL: origin.URL + "/a.ts", Kind: KindTS}}
			first, err := m.Subscribe(ctx, 1, src)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Close()
			if err := first.WaitReady(ctx); err != nil {
				t.Fatalf("WaitReady = %v", err)
			}
			c1, _ := watch(ctx, first, 200<<10)
			waitFull(t, c1) // the hub has been running a while: the next viewer joins mid-stream
			late, err := m.Subscribe(ctx, 1, src)
			if err != nil {
				t.Fatal(err)
			}
			defer late.Close()
			c2, _ := watch(ctx, late, 100<<10)
			waitFull(t, c2)
			b := c2.bytes()
			if name == "clip.ts" {
				checkStart(t, b)
			} else if pktPID(b) != pidPAT {
				t.Fatalf("first packet PID = %#x, want PAT", pktPID(b))
			}
			ffprobeKeyframeFirst(t, b)
		})
	}
}

// ffprobeKeyframeFirst checks with ffprobe that the first decoded video frame of b is a keyframe and that
// there is no decoding error.
func ffprobeKeyframeFirst(t *testing.T, b []byte) {
	t.Helper()
	probe := needTool(t, "ffprobe")
	path := filepath.Join(t.TempDir(), "got.ts")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(probe, "-v", "error", "-select_streams", "v:0", "-show_entries",
		"frame=key_frame,pict_type", "-read_intervals", "%+#3", "-of", "csv=p=0", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	lines := strings.Fields(string(out))
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "1,I") {
		t.Fatalf("ffprobe first frames = %q, want the first one key_frame=1,I", out)
	}
}

func TestSlowViewerDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 8)
	ev := newEvents()
	// A tiny ring (4 blocks of 64 packets, 48 KiB) so the slow viewer is overrun quickly.
	m := newTestManager(t, Options{OnEvent: ev.hook, BlockPackets: 64, RingBlocks: 4, MaxSkips: 1})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := []Source{{URL: origin.URL}}

	slow, err := m.Subscribe(ctx, 3, src)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, err := m.Subscribe(ctx, 3, src)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if err := slow.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}

	bw := &blockingWriter{entered: make(chan struct{}, 1)}
	bw.arm()
	slowErr := make(chan error, 1)
	go func() {
		_, err := slow.WriteTo(ctx, bw, nil)
		slowErr <- err
	}()
	<-bw.entered // the slow viewer is now stuck in a Write, holding a ring block

	const ringBytes = 4 * 64 * packetSize
	fc, _ := watch(ctx, fast, 3*ringBytes)
	waitFull(t, fc) // the fast viewer got three rings' worth of data while the slow one was stuck
	bw.disarm()     // the next read finds the slow viewer's position overwritten
	if e := ev.wait(t, EventViewerSkip); e.StreamID != 3 {
		t.Fatalf("skip event for stream %d, want 3", e.StreamID)
	}
	bw.arm()
	<-bw.entered // stuck again, after the skip
	// The fast viewer runs further than a ring again; freeing the slow one then is its second lag: dropped.
	waitBytes(t, fast, fast.Bytes()+2*ringBytes)
	bw.disarm()
	ev.wait(t, EventViewerDrop)
	select {
	case err := <-slowErr:
		if !errors.Is(err, ErrViewerDropped) {
			t.Fatalf("slow WriteTo = %v, want ErrViewerDropped", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("slow viewer not dropped")
	}
	// On a loaded machine the fast viewer may itself be overrun once (the ring holds ~90 ms of this
	// origin); the counters are checked against each viewer's own count, so that is not a failure.
	if n := slow.Skips(); n != 1 {
		t.Errorf("slow viewer skipped %d times, want 1 (then dropped)", n)
	}
	if s, want := m.Stats(), uint64(slow.Skips()+fast.Skips()); s.ViewerSkips != want || s.ViewerDrops != 1 {
		t.Errorf("Stats() skips=%d drops=%d, want %d (the viewers' own counts) and 1", s.ViewerSkips, s.ViewerDrops, want)
	}
}

// waitBytes waits until v has delivered at least n bytes.
func waitBytes(t *testing.T, v *Viewer, n int64) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for v.Bytes() < n {
		if time.Now().After(deadline) {
			t.Fatalf("viewer delivered %d bytes, want %d", v.Bytes(), n)
		}
		<-tick.C
	}
}

// blockingWriter blocks every Write while armed, signalling entered when one starts blocking.
type blockingWriter struct {
	mu      sync.Mutex
	armed   bool
	gate    chan struct{}
	entered chan struct{}
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	armed, gate := w.armed, w.gate
	w.mu.Unlock()
	if armed {
		select {
		case w.entered <- struct{}{}:
		default:
		}
		<-gate
	}
	return len(p), nil
}

func (w *blockingWriter) arm() {
	w.mu.Lock()
	select {
	case <-w.entered:
	default:
	}
	w.armed, w.gate = true, make(chan struct{})
	w.mu.Unlock()
}

func (w *blockingWriter) disarm() {
	w.mu.Lock()
	w.armed = false
	close(w.gate)
	w.mu.Unlock()
}

func TestUpstreamStopsAfterGrace(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook, Grace: 300 * time.Millisecond})
	ctx := t.Context()
	src := []Source{{URL: origin.URL}}

	v1, err := m.Subscribe(ctx, 9, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := v1.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	v1.Close()
	// Zapping back within the grace period reuses the running hub and its upstream connection.
	v2, err := m.Subscribe(ctx, 9, src)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := watch(ctx, v2, 16<<10)
	waitFull(t, c)
	if got := origin.conns.Load(); got != 1 {
		t.Fatalf("upstream connections = %d after re-subscribing within grace, want 1", got)
	}
	v2.Close()
	ev.wait(t, EventHubStop)
	select {
	case <-origin.closed:
	case <-time.After(waitLimit):
		t.Fatal("upstream request still open after the hub stopped")
	}
	if got := origin.open.Load(); got != 0 {
		t.Fatalf("upstream requests open = %d after the grace period, want 0", got)
	}
	if ids := m.Streams(); len(ids) != 0 {
		t.Fatalf("Streams() = %v after the grace period, want none", ids)
	}
}

func TestFailover(t *testing.T) {
	t.Parallel()
	data := clip(t, "clip.ts")
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"status 500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }},
		{"stalls after headers", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
		{"not mpeg-ts", func(w http.ResponseWriter, r *http.Request) {
			page := []byte(strings.Repeat("<html>not a stream</html>\n", 4000))
			w.Write(page)
			<-r.Context().Done()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad := httptest.NewServer(tt.handler)
			defer bad.Close()
			good := newTSOrigin(t, data, 4)
			ev := newEvents()
			m := newTestManager(t, Options{OnEvent: ev.hook, StallTimeout: 300 * time.Millisecond})
			ctx := t.Context()
			v, err := m.Subscribe(ctx, 5, []Source{{URL: bad.URL + "/0.ts"}, {URL: good.URL + "/1.ts"}})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if e := ev.wait(t, EventUpstreamFail); e.Source != 0 || e.Err == nil {
				t.Fatalf("first failure = %+v, want source 0 with an error", e)
			}
			if e := ev.wait(t, EventUpstreamOpen); e.Source != 1 {
				t.Fatalf("opened source %d, want 1", e.Source)
			}
			c, _ := watch(ctx, v, 32<<10)
			waitFull(t, c)
			checkStart(t, c.bytes())
			if s := m.Stats(); s.Failovers < 1 || s.UpstreamFailures < 1 {
				t.Errorf("Stats() = %+v, want a failover and a failure", s)
			}
		})
	}
}

func TestAllSourcesDownThenRecover(t *testing.T) {
	t.Parallel()
	ready := make(chan struct{})
	f, err := newLoopFile(clip(t, "clip.ts"), 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-ready:
			serveLoop(r.Context(), w, f, 4)
		default:
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook})
	v, err := m.Subscribe(t.Context(), 11, []Source{{URL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.WaitReady(t.Context()); !errors.Is(err, ErrUpstreamDown) {
		t.Fatalf("WaitReady with a failing source = %v, want ErrUpstreamDown", err)
	}
	close(ready)
	ev.wait(t, EventUpstreamOpen) // after backoff the round starts again and the source now works
	if err := v.WaitReady(t.Context()); err != nil {
		t.Fatalf("WaitReady after recovery = %v", err)
	}
}

// watching is a manager with one viewer of a paced origin whose WriteTo already delivered a
// full read; errc gets WriteTo's error.
func watching(t *testing.T) (m *Manager, origin string, v *Viewer, errc <-chan error) {
	t.Helper()
	origin = newTSOrigin(t, clip(t, "clip.ts"), 4).URL
	m = newTestManager(t, Options{})
	v, err := m.Subscribe(t.Context(), 1, []Source{{URL: origin}})
	if err != nil {
		t.Fatal(err)
	}
	c, errc := watch(t.Context(), v, 8<<10)
	waitFull(t, c)
	return m, origin, v, errc
}

func TestManagerCloseEndsViewers(t *testing.T) {
	t.Parallel()
	m, origin, v, errc := watching(t)
	defer v.Close()
	m.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteTo after Manager.Close = %v, want ErrClosed", err)
	}
	if _, err := m.Subscribe(t.Context(), 1, []Source{{URL: origin}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Subscribe after Close = %v, want ErrClosed", err)
	}
}

func TestViewerCloseEndsWriteTo(t *testing.T) {
	t.Parallel()
	_, _, v, errc := watching(t)
	v.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("WriteTo after Close = %v, want ErrClosed", err)
	}
}

// TestHubLeavesNoGoroutines is deliberately not parallel: goleak.VerifyNone needs a quiet process, and Go
// runs the top-level sequential tests before it resumes the parallel ones.
func TestHubLeavesNoGoroutines(t *testing.T) {
	defer goleak.VerifyNone(t)
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	short := shortClip(t, 300*time.Millisecond)
	path := filepath.Join(t.TempDir(), "slate.ts")
	if err := os.WriteFile(path, short, 0o600); err != nil {
		t.Fatal(err)
	}
	ev := newEvents()
	m, err := NewManager(Options{OnEvent: ev.hook, Grace: 50 * time.Millisecond, OpenFile: os.Open})
	if err != nil {
		t.Fatal(err)
	}
	for id, src := range map[int64]Source{1: {URL: origin.URL}, 2: {URL: path}} {
		v, err := m.Subscribe(t.Context(), id, []Source{src})
		if err != nil {
			t.Fatal(err)
		}
		c, errc := watch(t.Context(), v, 8<<10)
		waitFull(t, c)
		v.Close()
		<-errc
		ev.wait(t, EventHubStop)
	}
	m.Close()
	origin.Close()
}

func TestUpstreamErrorsHideURL(t *testing.T) {
	t.Parallel()
	ev := newEvents()
	m := newTestManager(t, Options{OnEvent: ev.hook, ConnectTimeout: time.Second})
	// Nothing listens on port 1 of loopback: the dial fails at once.
	v, err := m.Subscribe(t.Context(), 1, []Source{{URL: "http://127.0.0.1:1/live/user/s3cret/1.ts?token=t0k"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	e := ev.wait(t, EventUpstreamFail)
	if msg := e.Err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "t0k") {
		t.Fatalf("upstream error %q leaks the source URL's credentials", msg)
	}
}

// TestDownDropEndsViewers: a source that delivers and then fails for good pauses its viewer at
// first; once every source has failed for DownDrop the viewer ends with ErrUpstreamDown (its
// player reconnects and its slot is freed), and a new viewer is refused at once by WaitReady even
// though the ring still holds the keyframe from before. A source back within DownDrop keeps the
// viewer.
func TestDownDropEndsViewers(t *testing.T) {
	t.Parallel()
	f, err := newLoopFile(clip(t, "clip.ts"), 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	for _, back := range []bool{false, true} {
		t.Run(map[bool]string{false: "gone", true: "back in time"}[back], func(t *testing.T) {
			t.Parallel()
			var up atomic.Bool
			up.Store(true)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !up.Load() {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				serveLoop(r.Context(), w, f, 4)
			}))
			defer srv.Close()
			ev := newEvents()
			const drop = 600 * time.Millisecond
			m := newTestManager(t, Options{OnEvent: ev.hook, DownDrop: drop, StallTimeout: 200 * time.Millisecond})
			v, err := m.Subscribe(t.Context(), 12, []Source{{URL: srv.URL}})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			c, errc := watch(t.Context(), v, 8<<10)
			waitFull(t, c)
			up.Store(false)
			srv.CloseClientConnections() // the pull fails now; every retry gets a 502
			// The first failure is reported before the hub, finding no source left, marks the
			// channel down; a retry is made only after that, so its failure means "down" is set.
			ev.wait(t, EventUpstreamFail)
			ev.wait(t, EventUpstreamFail)
			late, err := m.Subscribe(t.Context(), 12, []Source{{URL: srv.URL}})
			if err != nil {
				t.Fatal(err)
			}
			defer late.Close()
			ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
			defer cancel()
			if err := late.WaitReady(ctx); !errors.Is(err, ErrUpstreamDown) {
				t.Fatalf("WaitReady on a channel whose sources all fail = %v, want ErrUpstreamDown", err)
			}
			if back {
				time.Sleep(drop / 3)
				up.Store(true)
				ev.wait(t, EventUpstreamOpen)
				more := c.bytes()
				select {
				case err := <-errc:
					t.Fatalf("the viewer ended (%v) although its source came back within DownDrop", err)
				case <-time.After(2 * drop):
				}
				if len(c.bytes()) <= len(more) {
					t.Fatal("the viewer got nothing after its source came back")
				}
				return
			}
			start := time.Now()
			select {
			case err := <-errc:
				if !errors.Is(err, ErrUpstreamDown) {
					t.Fatalf("WriteTo ended with %v, want ErrUpstreamDown", err)
				}
				if d := time.Since(start); d > drop+5*time.Second { // generous: CI shares two cores
					t.Errorf("the viewer ended %v after the outage began, want about DownDrop (%v) plus a backoff", d, drop)
				}
				// The hub lives on (late still holds it): its HLS playlist is refused too.
				ctx, cancel := context.WithTimeout(t.Context(), time.Second)
				defer cancel()
				if _, err := m.Playlist(ctx, 12, []Source{{URL: srv.URL}}, "s", func(uint64) string { return "x" }); !errors.Is(err, ErrUpstreamDown) {
					t.Errorf("Playlist of a lost channel = %v, want ErrUpstreamDown", err)
				}
			case <-time.After(waitLimit):
				t.Fatalf("the viewer still waits %v after its only source went away for good", waitLimit)
			}
		})
	}
}
