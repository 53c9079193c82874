package stream_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// TestOpens_OneOutcomePerExit drives a stream open out through each of its exits and checks
// that each records exactly one xtreamd_stream_opens_total outcome with the answered status,
// and that no exit leaves a slot taken.
func TestOpens_OneOutcomePerExit(t *testing.T) {
	t.Parallel()
	var direct, deadVOD int64
	e := setup(t, envOpts{extra: func(t *testing.T, e *env) {
		ctx := context.Background()
		var err error
		direct, err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Direct", DirectSource: true,
			Sources: []store.Source{{URL: "http://origin.example/direct.ts"}}})
		must(t, err)
		mkv := "mkv"
		deadVOD, err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "Dead", ContainerExtension: &mkv,
			Sources: []store.Source{{URL: deadURL(t)}}})
		must(t, err)
		_, err = e.st.SetBouquetStreams(ctx, e.bouquet, []int64{e.live, e.down, e.shift, e.movie, e.httpVOD, direct, deadVOD})
		must(t, err)
	}})
	u, p := e.line.Username, e.pass
	movie := "/movie/" + u + "/" + p + "/" + itoa(e.movie) + ".mp4"
	tests := []struct {
		name, path, rng string
		status          int
		series          string // the outcome series this exit counts in
	}{
		{"denied", "/live/" + u + "/nope/" + itoa(e.live) + ".ts", "", 401, `container="ts",status="401"`},
		{"not in bouquet", "/live/" + u + "/" + p + "/" + itoa(e.other) + ".ts", "", 406, `container="ts",status="406"`},
		{"upstream down", "/live/" + u + "/" + p + "/" + itoa(e.down) + ".ts", "", 502, `container="ts",status="502"`},
		{"direct source", "/live/" + u + "/" + p + "/" + itoa(direct) + ".ts", "", 302, `container="ts",status="302"`},
		{"direct source hls", "/live/" + u + "/" + p + "/" + itoa(direct) + ".m3u8", "", 302, `container="hls",status="302"`},
		{"range not satisfiable", movie, "bytes=99999999-", 416, `container="vod",status="416"`},
		{"every source failed", "/movie/" + u + "/" + p + "/" + itoa(deadVOD) + ".mkv", "", 502, `container="vod",status="502"`},
		{"served", movie, "bytes=0-9", 206, `container="vod",status="206"`},
	}
	for _, tt := range tests {
		hdr := map[string]string{}
		if tt.rng != "" {
			hdr["Range"] = tt.rng
		}
		req, err := http.NewRequest(http.MethodGet, e.base+tt.path, nil)
		must(t, err)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := noRedirect.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: GET = %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
	}
	for _, tt := range tests {
		name := "xtreamd_stream_opens_total{" + tt.series + "}"
		if got, want := e.metric(name), name+" 1"; got != want {
			t.Errorf("%s: %q, want %q", tt.name, got, want)
		}
	}
	// The direct-source HLS open leaves its session lease, as every HLS session does: it ends
	// when the (never coming) polls stop.
	eventually(t, "no lease left but the HLS session's", func() bool {
		rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
		must(t, err)
		return len(rows) == 1 && rows[0].Container == "hls" && rows[0].StreamID == direct
	})
}

// TestHEAD_ProbeTakesNoSlot: HEAD on a movie reports its size from a probe, which needs no free
// slot and reports nothing for a movie outside the line's bouquets.
func TestHEAD_ProbeTakesNoSlot(t *testing.T) {
	t.Parallel()
	var outside int64
	e := setup(t, envOpts{
		line: func(in *store.LineInput) { in.MaxConnections = 1 },
		extra: func(t *testing.T, e *env) {
			var err error
			mp4 := "mp4"
			outside, err = e.st.CreateStream(context.Background(), store.StreamInput{Kind: store.KindMovie, Name: "Outside",
				ContainerExtension: &mp4, Sources: []store.Source{{URL: "file:///nonexistent/outside.mp4"}}})
			must(t, err)
		},
	})
	u, p := e.line.Username, e.pass
	live := openStream(t, e.liveURL(e.live, "ts")) // the line's only slot
	readN(t, live.Body, 188)
	size := strconv.Itoa(len(e.vodData))
	for _, tt := range []struct {
		name, path, wantLength, wantType string
	}{
		{"in bouquet, slot taken", "/movie/" + u + "/" + p + "/" + itoa(e.movie) + ".mp4", size, "video/mp4"},
		{"outside the bouquets", "/movie/" + u + "/" + p + "/" + itoa(outside) + ".mp4", "", ""},
		{"wrong password", "/movie/" + u + "/nope/" + itoa(e.movie) + ".mp4", "", ""},
	} {
		code, h, body := do(t, http.MethodHead, e.base+tt.path, nil)
		if code != 200 || len(body) != 0 || h.Get("Content-Type") != tt.wantType || (tt.wantLength != "" && h.Get("Content-Length") != tt.wantLength) {
			t.Errorf("HEAD %s = %d, %d bytes, Content-Type %q, Content-Length %q; want 200, empty, %q, %q", tt.name, code,
				len(body), h.Get("Content-Type"), h.Get("Content-Length"), tt.wantType, tt.wantLength)
		}
	}
	if n := e.leases(); n != 1 {
		t.Errorf("leases after HEAD probes = %d, want 1 (the live viewer's)", n)
	}
}
