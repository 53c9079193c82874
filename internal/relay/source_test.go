package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// shortClip returns the first packets of clip.ts covering about dur of PCR time (it starts with PAT, PMT
// and a keyframe).
func shortClip(t *testing.T, dur time.Duration) []byte {
	t.Helper()
	data := clip(t, "clip.ts")
	f, err := newLoopFile(data, 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	limit := uint64(dur.Seconds() * 90000)
	for i := 0; i < len(data); i += packetSize {
		p := data[i : i+packetSize]
		if pcr, ok := pktPCR(p); ok && pktPID(p) == f.pcrPID && pcr-f.pcr0 >= limit {
			return data[:i]
		}
	}
	return data
}

func TestFileSourceLoopsContinuously(t *testing.T) {
	t.Parallel()
	short := shortClip(t, 600*time.Millisecond)
	path := filepath.Join(t.TempDir(), "slate.ts")
	if err := os.WriteFile(path, short, 0o600); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, Options{OpenFile: os.Open})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	v, err := m.Subscribe(ctx, 2, []Source{{URL: "file://" + path, Kind: KindAuto}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	c, _ := watch(ctx, v, 3*len(short)) // three loops
	waitFull(t, c)
	b := c.bytes()
	checkStart(t, b)

	// One continuous stream: video PTS strictly increase and continuity counters never jump.
	in := inspector{}
	lastPTS := int64(-1)
	cc := map[uint16]byte{}
	for i := 0; i+packetSize <= len(b); i += packetSize {
		p := b[i : i+packetSize]
		in.packet(p, uint64(i))
		pid := pktPID(p)
		if p[3]&0x10 != 0 && i >= 2*packetSize { // skip the PAT/PMT copies sent first
			if prev, ok := cc[pid]; ok && p[3]&0x0F != (prev+1)&0x0F {
				t.Fatalf("packet %d PID %#x: continuity counter %d after %d", i/packetSize, pid, p[3]&0x0F, prev)
			}
			cc[pid] = p[3] & 0x0F
		}
		if in.progOK && pid == in.prog.primaryPID && pktPUSI(p) {
			pts, ok := pesHeaderPTS(pktPayload(p))
			if !ok {
				continue
			}
			if lastPTS >= 0 && ptsDelta(lastPTS, pts) <= 0 {
				t.Fatalf("packet %d: video PTS %d after %d: not increasing across the loop", i/packetSize, pts, lastPTS)
			}
			lastPTS = pts
		}
	}
}

func TestFileSourceMissingFailsOver(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	path := filepath.Join(t.TempDir(), "slate.ts")
	if err := os.WriteFile(path, clip(t, "clip.ts"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuse := func(string) (*os.File, error) { return nil, os.ErrPermission }
	for _, tt := range []struct {
		name string
		open func(string) (*os.File, error)
		url  string
		want error
	}{
		{"missing file", os.Open, filepath.Join(t.TempDir(), "missing.ts"), os.ErrNotExist},
		{"refused by OpenFile", refuse, "file://" + path, os.ErrPermission},
		{"no OpenFile", nil, "file://" + path, ErrFileSourcesOff},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev := newEvents()
			m := newTestManager(t, Options{OnEvent: ev.hook, OpenFile: tt.open})
			v, err := m.Subscribe(t.Context(), 2, []Source{{URL: tt.url, Kind: KindFile}, {URL: origin.URL}})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if e := ev.wait(t, EventUpstreamFail); e.Source != 0 || !errors.Is(e.Err, tt.want) {
				t.Fatalf("failure event = %+v, want source 0 failing with %v", e, tt.want)
			}
			if e := ev.wait(t, EventUpstreamOpen); e.Source != 1 {
				t.Fatalf("opened source %d, want 1", e.Source)
			}
		})
	}
}

// hlsOrigin is a test HLS origin: a live sliding playlist over segments cut from clip.ts by ffmpeg,
// advancing one segment every step. It counts fetches per URI.
type hlsOrigin struct {
	*httptest.Server
	segs    [][]byte
	start   time.Time
	step    time.Duration
	mu      sync.Mutex
	fetches map[string]int
	lists   atomic.Int64
}

func newHLSOrigin(t *testing.T, step time.Duration) *hlsOrigin {
	t.Helper()
	ffmpeg := needTool(t, "ffmpeg")
	dir := t.TempDir()
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-i",
		filepath.Join("..", "..", "testdata", "ts", "clip.ts"), "-c", "copy", "-f", "hls", "-hls_time", "1",
		"-hls_list_size", "0", "-hls_segment_filename", filepath.Join(dir, "s%d.ts"), filepath.Join(dir, "i.m3u8"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg -f hls: %v\n%s", err, out)
	}
	o := &hlsOrigin{start: time.Now(), step: step, fetches: map[string]int{}}
	for i := 0; ; i++ {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("s%d.ts", i)))
		if err != nil {
			break
		}
		o.segs = append(o.segs, b)
	}
	if len(o.segs) < 2 {
		t.Fatalf("ffmpeg cut %d segments, want several", len(o.segs))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/master.m3u8", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=100000\nlow/live.m3u8\n"+
			"#EXT-X-STREAM-INF:BANDWIDTH=400000,RESOLUTION=320x180\nhi/live.m3u8\n")
	})
	mux.HandleFunc("/hi/live.m3u8", func(w http.ResponseWriter, r *http.Request) {
		o.lists.Add(1)
		now := int(time.Since(o.start) / o.step)
		first := max(0, now-3)
		var b strings.Builder
		fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:%d\n", first)
		for n := first; n <= now; n++ {
			if n > 0 && n%len(o.segs) == 0 {
				b.WriteString("#EXT-X-DISCONTINUITY\n") // the clip starts over: timestamps jump back
			}
			fmt.Fprintf(&b, "#EXTINF:%.3f,\nseg/%d.ts\n", o.step.Seconds(), n)
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		fmt.Fprint(w, b.String())
	})
	mux.HandleFunc("/hi/seg/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/hi/seg/"), ".ts"))
		if err != nil || n < 0 {
			http.NotFound(w, r)
			return
		}
		o.mu.Lock()
		o.fetches[r.URL.Path]++
		o.mu.Unlock()
		w.Write(o.segs[n%len(o.segs)])
	})
	mux.HandleFunc("/low/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the relay must pick the highest bandwidth", http.StatusTeapot)
	})
	o.Server = httptest.NewServer(mux)
	t.Cleanup(o.Close)
	return o
}

func (o *hlsOrigin) fetchCounts() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[string]int, len(o.fetches))
	for k, v := range o.fetches {
		out[k] = v
	}
	return out
}

func TestHLSSourceOneFetchPerSegment(t *testing.T) {
	t.Parallel()
	origin := newHLSOrigin(t, 400*time.Millisecond)
	m := newTestManager(t, Options{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	src := []Source{{URL: origin.URL + "/master.m3u8"}}

	const tsViewers, hlsClients = 8, 4
	caps := make([]*capture, tsViewers)
	for i := range tsViewers {
		v, err := m.Subscribe(ctx, 30, src)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		caps[i], _ = watch(ctx, v, 64<<10)
	}
	// HLS clients poll the playlist and fetch every segment listed, as players do.
	var wg sync.WaitGroup
	got := make([]map[uint64][]byte, hlsClients)
	for c := range hlsClients {
		got[c] = map[uint64][]byte{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for len(got[c]) < 6 {
				pctx, pcancel := context.WithTimeout(ctx, waitLimit)
				pl, err := m.Playlist(pctx, 30, src, fmt.Sprintf("client-%d", c), func(seq uint64) string {
					return fmt.Sprintf("/hls/30/%d.ts", seq)
				})
				pcancel()
				if err != nil {
					t.Errorf("Playlist: %v", err)
					return
				}
				_, media, err := parsePlaylist(pl)
				if err != nil {
					t.Errorf("our playlist does not parse: %v\n%s", err, pl)
					return
				}
				for i := range media.segs {
					seq := media.seq + uint64(i)
					if _, ok := got[c][seq]; ok {
						continue
					}
					data, err := m.Segment(30, seq, fmt.Sprintf("client-%d", c))
					if err != nil {
						t.Errorf("Segment(%d): %v", seq, err)
						return
					}
					got[c][seq] = data
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	for i := range tsViewers {
		waitFull(t, caps[i])
		checkStart(t, caps[i].bytes())
	}
	counts := origin.fetchCounts()
	if len(counts) < 6 {
		t.Fatalf("origin served %d segments, want >= 6", len(counts))
	}
	for uri, n := range counts {
		if n != 1 {
			t.Errorf("segment %s fetched %d times, want once for %d TS viewers and %d HLS clients", uri, n,
				tsViewers, hlsClients)
		}
	}
	// Pass-through: the bytes handed to HLS clients are the upstream segments, unchanged.
	for seq, data := range got[0] {
		found := false
		for _, s := range origin.segs {
			if bytes.Equal(s, data) {
				found = true
			}
		}
		if !found {
			t.Errorf("segment %d (%d bytes) is not one of the origin's segments", seq, len(data))
		}
	}
	if s := m.Stats(); s.ViewersHLS != hlsClients || s.SegmentFetches != uint64(len(counts)) {
		t.Errorf("Stats() HLS viewers = %d, segment fetches = %d; want %d and %d", s.ViewersHLS,
			s.SegmentFetches, hlsClients, len(counts))
	}
}

func TestHLSOutFromTSSource(t *testing.T) {
	t.Parallel()
	origin := newTSOrigin(t, clip(t, "clip.ts"), 4)
	m := newTestManager(t, Options{SegmentTarget: time.Second, WindowSegments: 4})
	src := []Source{{URL: origin.URL + "/live.ts"}}
	segURL := func(seq uint64) string { return fmt.Sprintf("/hls/tok-%d/%d.ts", seq*7, seq) } // a "signed" URL
	mux := http.NewServeMux()
	mux.HandleFunc("/live.m3u8", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		pl, err := m.Playlist(ctx, 40, src, r.RemoteAddr, segURL)
		if err != nil {
			w.WriteHeader(http.StatusOK) // spec §2.3: an empty 200 when the playlist is not ready
			return
		}
		w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
		w.Write(pl)
	})
	mux.HandleFunc("/hls/", func(w http.ResponseWriter, r *http.Request) {
		var tok, seq uint64
		if _, err := fmt.Sscanf(r.URL.Path, "/hls/tok-%d/%d.ts", &tok, &seq); err != nil || tok != seq*7 {
			http.Error(w, "", http.StatusForbidden)
			return
		}
		data, err := m.Segment(40, seq, r.RemoteAddr)
		if err != nil {
			http.Error(w, "", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "video/mp2t")
		w.Write(data)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Wait until the window lists three segments (the hub cuts at keyframes: 2 s of PTS each).
	var media *mediaPlaylist
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(waitLimit)
	for media == nil || len(media.segs) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("playlist never listed 3 segments")
		}
		pl, err := m.Playlist(t.Context(), 40, src, "probe", segURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, media, err = parsePlaylist(pl); err != nil {
			t.Fatalf("parse our playlist: %v\n%s", err, pl)
		}
		<-tick.C
	}
	for i, s := range media.segs {
		if want := segURL(media.seq + uint64(i)); s.uri != want {
			t.Errorf("segment %d URI = %q, want %q", i, s.uri, want)
		}
		if s.dur < 1900*time.Millisecond || s.dur > 2100*time.Millisecond {
			t.Errorf("segment %d duration = %v, want ~2s (one GOP)", i, s.dur)
		}
		if int(s.dur.Round(time.Second)/time.Second) > int(media.target/time.Second) {
			t.Errorf("segment %d duration %v exceeds target %v", i, s.dur, media.target)
		}
		data, err := m.Segment(40, media.seq+uint64(i), "probe")
		if err != nil {
			t.Fatalf("Segment: %v", err)
		}
		checkStart(t, data)
	}
	if _, err := m.Segment(40, media.seq+1000, "probe"); err == nil {
		t.Error("Segment(future) = nil error, want ErrSegmentNotFound")
	}

	probe := needTool(t, "ffprobe")
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, probe, "-v", "error", "-show_entries", "stream=codec_name",
		"-of", "csv=p=0", srv.URL+"/live.m3u8").CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s/live.m3u8: %v\n%s", srv.URL, err, out)
	}
	codecs := strings.Fields(string(out)) // listed once per program the HLS demuxer makes
	sort.Strings(codecs)
	if strings.Join(slices.Compact(codecs), ",") != "aac,h264" {
		t.Fatalf("ffprobe codecs = %q, want aac and h264", out)
	}
}

// TestHLSSourceSegmentsOnAnotherHost: segment URIs are the upstream's data. One on another host
// than the configured source's is a hop: refused when it names a loopback address (here by
// the name localhost), fetched when PrivateRedirects allows it. Segments on the source's own
// host are fetched as the source is.
func TestHLSSourceSegmentsOnAnotherHost(t *testing.T) {
	t.Parallel()
	seg := clip(t, "clip.ts")
	var segFetches atomic.Int64
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/other.m3u8", "/same.m3u8":
			host := srv.Listener.Addr().String()
			if r.URL.Path == "/other.m3u8" {
				host = strings.Replace(host, "127.0.0.1", "localhost", 1)
			}
			fmt.Fprintf(w, "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:10,\nhttp://%s/seg.ts\n", host)
		case "/seg.ts":
			segFetches.Add(1)
			w.Write(seg)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name    string
		private bool
		path    string
		refused bool
	}{
		{"other host refused", false, "/other.m3u8", true},
		{"other host allowed", true, "/other.m3u8", false},
		{"same host", false, "/same.m3u8", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := newEvents()
			m := newTestManager(t, Options{OnEvent: ev.hook, PrivateRedirects: tt.private})
			before := segFetches.Load()
			v, err := m.Subscribe(t.Context(), 7, []Source{{URL: srv.URL + tt.path, Kind: KindHLS}})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if !tt.refused {
				ev.wait(t, EventUpstreamOpen)
				return
			}
			if e := ev.wait(t, EventUpstreamFail); !errors.Is(e.Err, ErrForbiddenAddress) {
				t.Fatalf("failure = %v, want ErrForbiddenAddress", e.Err)
			}
			if n := segFetches.Load() - before; n != 0 {
				t.Fatalf("the refused segment was fetched %d times", n)
			}
		})
	}
}
