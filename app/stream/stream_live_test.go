package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// TestLive_FFProbe plays the live channel with ffprobe, a real client, through the whole server
// (line, bouquet, stream, check, relay): the /live URL, the short form and the HLS playlist.
func TestLive_FFProbe(t *testing.T) {
	t.Parallel()
	testmedia.NeedFFprobe(t)
	e := setup(t, envOpts{})
	for _, tt := range []struct{ name, url string }{
		{"live ts", e.liveURL(e.live, "ts")},
		{"live no extension", e.url("/live/%s/%s/%d", e.line.Username, e.pass, e.live)},
		{"short form", e.url("/%s/%s/%d", e.line.Username, e.pass, e.live)},
		{"short form ts", e.url("/%s/%s/%d.ts", e.line.Username, e.pass, e.live)},
		{"hls", e.liveURL(e.live, "m3u8")},
		{"legacy .ch", e.url("/%d.ch?%s", e.live, legacyQuery(e.line.Username, e.pass))},
		{"legacy ch….m3u8", e.url("/ch%d.m3u8?%s", e.live, legacyQuery(e.line.Username, e.pass))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ffprobe(t, tt.url); got != "h264,aac" {
				t.Errorf("ffprobe codecs = %q, want h264,aac", got)
			}
		})
	}
	if n := e.origin.conns.Load(); n != 1 {
		t.Errorf("origin connections = %d, want 1 for every client of the channel", n)
	}
}

// legacyQuery is the query of XC 2.9's legacy live URLs: u=USER:p=PASS.
func legacyQuery(user, pass string) string {
	return "u=" + url.QueryEscape(user) + ":p=" + url.QueryEscape(pass)
}

// TestLive_LegacyURLs: /{id}.ch and /ch{id}.m3u8 with ?u=USER:p=PASS open like the other live
// forms (a password with URL syntax in it included), refuse wrong credentials as the short
// form does, answer anything malformed with an empty 404, and keep the password out of the
// log.
func TestLive_LegacyURLs(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	odd := "p@ss w&rd+1/?"
	line, _ := e.newLine(func(in *store.LineInput) {
		h, err := credential.Hash(odd, testdb.FastHashParams)
		must(t, err)
		in.PasswordHash = h
	})
	resp := openStream(t, e.url("/%d.ch?%s", e.live, legacyQuery(line.Username, odd)))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("legacy .ch with an odd password = %d %q, want 200 video/mp2t", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if b := readN(t, resp.Body, 188); b[0] != 0x47 {
		t.Fatalf("first byte %#x, want the TS sync byte", b[0])
	}
	resp.Body.Close()
	wantWrong, _, _ := do(t, http.MethodGet, e.url("/%s/%s/%d.ts", e.line.Username, "wrong", e.live), nil)
	for _, path := range []string{
		fmt.Sprintf("/%d.ch?%s", e.live, legacyQuery(e.line.Username, "wrong")),
		fmt.Sprintf("/ch%d.m3u8?%s", e.live, legacyQuery(e.line.Username, "wrong")),
	} {
		if code, _, _ := do(t, http.MethodGet, e.base+path, nil); code != wantWrong {
			t.Errorf("%s = %d, want %d as the short form with a wrong password", path, code, wantWrong)
		}
	}
	for _, path := range []string{
		fmt.Sprintf("/%d.ch", e.live),
		fmt.Sprintf("/%d.ch?u=%s", e.live, e.line.Username),
		fmt.Sprintf("/%d.ch?user=%s:p=%s", e.live, e.line.Username, e.pass),
		fmt.Sprintf("/%d.ch?u=%s:p=", e.live, e.line.Username),
		fmt.Sprintf("/%d.ch?u=:p=%s", e.live, e.pass),
		fmt.Sprintf("/%d.ch?u=%s:p=%%zz", e.live, e.line.Username),
		fmt.Sprintf("/%d.ch?u=%s:p=%%00", e.live, e.line.Username),
		"/abc.ch?" + legacyQuery(e.line.Username, e.pass),
		"/chx1.m3u8?" + legacyQuery(e.line.Username, e.pass),
		"/channels.m3u8",
	} {
		if code, _, body := do(t, http.MethodGet, e.base+path, nil); code != http.StatusNotFound || len(body) != 0 {
			t.Errorf("%s = %d with %d bytes, want an empty 404", path, code, len(body))
		}
	}
	// No id at all: no route of ours, the server's plain 404.
	if code, _, _ := do(t, http.MethodGet, e.base+"/ch.m3u8?"+legacyQuery(e.line.Username, e.pass), nil); code != http.StatusNotFound {
		t.Errorf("/ch.m3u8 = %d, want 404", code)
	}
	eventually(t, "the requests logged", func() bool { return strings.Count(e.logs.String(), "msg=request") >= 15 })
	for _, secret := range []string{e.pass, url.QueryEscape(odd), odd} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the log holds the password %q:\n%s", secret, e.logs.String())
		}
	}
}

// TestLive_TSHeaders checks the response of a TS open: 200, video/mp2t, data from a packet
// boundary (sync bytes every 188).
func TestLive_TSHeaders(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("GET live = %d %q, want 200 video/mp2t", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b := readN(t, resp.Body, 188*50)
	for i := 0; i < len(b); i += 188 {
		if b[i] != 0x47 {
			t.Fatalf("byte %d = %#x, want the TS sync byte", i, b[i])
		}
	}
}

// TestLive_FanOut50 opens 50 viewers of one channel through the HTTP surface: exactly one
// upstream connection serves them all.
func TestLive_FanOut50(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{speed: 8})
	const viewers = 50
	var wg sync.WaitGroup
	errs := make(chan error, viewers)
	for i := 0; i < viewers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(e.liveURL(e.live, "ts"))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
				return
			}
			if _, err := io.ReadFull(resp.Body, make([]byte, 64<<10)); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := e.origin.conns.Load(); n != 1 {
		t.Errorf("origin connections for %d viewers = %d, want 1", viewers, n)
	}
	if m := e.metric("xtreamd_relay_upstream_connections"); !strings.Contains(m, "xtreamd_relay_upstream_connections 1") {
		t.Errorf("metrics: %q, want xtreamd_relay_upstream_connections 1", m)
	}
}

// TestLive_StalledViewerDoesNotStallOthers keeps one viewer that never reads open next to one
// that reads: the reader gets its data at the channel's pace regardless.
func TestLive_StalledViewerDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{speed: 32})
	stalled, err := net.Dial("tcp", strings.TrimPrefix(e.base, "http://"))
	must(t, err)
	defer stalled.Close()
	_, err = fmt.Fprintf(stalled, "GET /live/%s/%s/%d.ts HTTP/1.1\r\nHost: x\r\n\r\n", e.line.Username, e.pass, e.live)
	must(t, err)
	// Its status line arrives, then it reads nothing more.
	st, err := bufio.NewReader(stalled).ReadString('\n')
	if err != nil || !strings.Contains(st, "200") {
		t.Fatalf("stalled viewer status = %q, %v", st, err)
	}
	resp := openStream(t, e.liveURL(e.live, "ts"))
	// 8 MiB: far more than the socket buffers of the stalled viewer hold.
	readN(t, resp.Body, 8<<20)
	if n := e.origin.conns.Load(); n != 1 {
		t.Errorf("origin connections = %d, want 1", n)
	}
}

// TestLive_DisconnectFreesLease closes a viewer and waits for its lease to go.
func TestLive_DisconnectFreesLease(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	readN(t, resp.Body, 188*100)
	if n := e.leases(); n != 1 {
		t.Fatalf("leases while watching = %d, want 1", n)
	}
	start := time.Now()
	resp.Body.Close()
	eventually(t, "the lease to be released", func() bool { return e.leases() == 0 })
	t.Logf("lease released %v after the client left", time.Since(start).Round(time.Millisecond))
	eventually(t, "the viewer gauge to drop", func() bool {
		return strings.Contains(e.metric(`xtreamd_stream_viewers{container="ts"}`), " 0")
	})
}

// TestLive_KillEndsStream kills the viewer's lease from another instance (its own lease
// manager on the same database, as an admin action elsewhere would): the NOTIFY reaches this
// server and the stream ends within 2 s.
func TestLive_KillEndsStream(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	readN(t, resp.Body, 188*100)
	rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
	must(t, err)
	if len(rows) != 1 || rows[0].Container != conns.ContainerTS {
		t.Fatalf("live leases = %+v, want one ts lease", rows)
	}
	other := conns.New(e.st, conns.Options{InstanceID: "other"}, nil)
	ended := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		ended <- time.Now()
	}()
	start := time.Now()
	must(t, other.Kill(context.Background(), rows[0].ID))
	select {
	case at := <-ended:
		if d := at.Sub(start); d > 2*time.Second {
			t.Errorf("stream ended %v after the kill, want within 2 s", d)
		} else {
			t.Logf("stream ended %v after the kill", d.Round(time.Millisecond))
		}
	case <-time.After(waitLimit):
		t.Fatal("stream still running after the kill")
	}
	if !strings.Contains(e.logs.String(), "reason=killed") {
		t.Errorf("no close log with reason=killed:\n%s", e.logs.String())
	}
}

// TestLive_Failover: the first source is dead, the second plays.
func TestLive_Failover(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{sources: func(o *origin) []string { return []string{deadURL(t), o.URL + "/live.ts"} }})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	if resp.StatusCode != 200 {
		t.Fatalf("status = %d, want 200 from the second source", resp.StatusCode)
	}
	readN(t, resp.Body, 188*100)
	if m := e.metric("xtreamd_relay_failovers_total"); m == "" || strings.HasSuffix(m, " 0") {
		t.Errorf("failovers metric = %q, want > 0", m)
	}
}

// TestLive_UpstreamDown: every source fails → 502, and the slot is not kept.
func TestLive_UpstreamDown(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	code, _, body := do(t, http.MethodGet, e.liveURL(e.down, "ts"), nil)
	if code != http.StatusBadGateway || len(body) != 0 {
		t.Errorf("GET a dead channel = %d (%d bytes), want 502 empty", code, len(body))
	}
	eventually(t, "no lease left", func() bool { return e.leases() == 0 })
}

// TestServe_ShutdownEndsStream shuts the server down with a viewer attached: Serve returns
// promptly instead of waiting for the shutdown timeout, and the viewer's lease is gone.
func TestServe_ShutdownEndsStream(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	readN(t, resp.Body, 188*100)
	start := time.Now()
	if err := e.stop(); err != nil {
		t.Fatalf("Serve = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Serve returned %v after cancel with a viewer attached, want well within the 5 s shutdown timeout", d)
	} else {
		t.Logf("Serve returned %v after cancel", d.Round(time.Millisecond))
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil && !strings.Contains(err.Error(), "EOF") {
		t.Logf("viewer ended with %v", err)
	}
	var rows []store.LeaseRow
	rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
	must(t, err)
	if len(rows) != 0 {
		t.Errorf("leases after shutdown = %d, want 0", len(rows))
	}
	_ = uuid.Nil
}

// TestMetrics: the stream series exist on the server's registry and count what was delivered.
func TestMetrics(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	readN(t, resp.Body, 188*100)
	if m := e.metric(`xtreamd_stream_viewers{container="ts"}`); m != `xtreamd_stream_viewers{container="ts"} 1` {
		t.Errorf("ts viewers = %q, want 1", m)
	}
	resp.Body.Close()
	_, _, pl := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil)
	do(t, http.MethodGet, e.base+firstSegment(t, string(pl)), nil)
	do(t, http.MethodGet, e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie), nil)
	for _, name := range []string{
		`xtreamd_stream_bytes_out_total{container="ts"}`, `xtreamd_stream_bytes_out_total{container="hls"}`,
		`xtreamd_stream_bytes_out_total{container="vod"}`, `xtreamd_stream_viewers{container="hls"} 1`,
		`xtreamd_stream_opens_total{container="ts",status="200"} 1`, `xtreamd_relay_upstream_connections 1`,
		`xtreamd_relay_upstream_open 1`,
	} {
		m := e.metric(name)
		if m == "" || strings.HasSuffix(m, " 0") {
			t.Errorf("metric %s = %q, want present and non-zero", name, m)
		}
		if strings.Contains(name, "bytes_out") && m != "" {
			t.Logf("%s", m)
		}
	}
	for _, name := range []string{"xtreamd_relay_upstream_failures_total", "xtreamd_relay_failovers_total"} {
		if e.metric(name) == "" {
			t.Errorf("metric %s missing", name)
		}
	}
	eventually(t, "the vod and ts viewers to leave", func() bool {
		return strings.HasSuffix(e.metric(`xtreamd_stream_viewers{container="vod"}`), " 0") &&
			strings.HasSuffix(e.metric(`xtreamd_stream_viewers{container="ts"}`), " 0")
	})
}
