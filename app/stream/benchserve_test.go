package stream_test

// The server side of the load benchmark (load_test.go drives it; bench/stream.sh runs both).
// This file uses only helpers that the base commit of the relay work (82532d2) already had, so
// bench/stream.sh copies it into a worktree of that commit and runs the old relay with exactly
// the same harness: a same-run baseline.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// TestBenchServe runs the production server (its own PostgreSQL, one line, one live channel
// on XTREAMD_BENCH_SERVE, XTREAMD_BENCH_COLD more channels on the same source that nobody
// watches yet) and prints one line:
//
//	READY live=<url> cold=<url>,<url>,…
//
// It serves until its standard input closes. XTREAMD_BENCH_PPROF=<addr> also serves
// net/http/pprof there.
func TestBenchServe(t *testing.T) {
	source := os.Getenv("XTREAMD_BENCH_SERVE")
	if source == "" {
		t.Skip("server process of the load benchmark (load_test.go)")
	}
	nCold, _ := strconv.Atoi(os.Getenv("XTREAMD_BENCH_COLD"))
	var cold []int64
	e := setup(t, envOpts{
		sources: func(*origin) []string { return []string{source} },
		extra: func(t *testing.T, e *env) {
			ids := []int64{e.live}
			for i := 0; i < nCold; i++ {
				cat := e.st
				id, err := cat.CreateStream(context.Background(), store.StreamInput{Kind: store.KindLive,
					Name: fmt.Sprintf("Cold %d", i), Sources: []store.Source{{URL: fmt.Sprintf("%s?cold=%d", source, i)}}})
				must(t, err)
				cold = append(cold, id)
				ids = append(ids, id)
			}
			_, err := e.st.SetBouquetStreams(context.Background(), e.bouquet, ids)
			must(t, err)
		},
	})
	if addr := os.Getenv("XTREAMD_BENCH_PPROF"); addr != "" {
		ln, err := net.Listen("tcp", addr)
		must(t, err)
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		ps := &http.Server{Handler: mux}
		go func() { _ = ps.Serve(ln) }()
		defer ps.Close()
	}
	urls := make([]string, len(cold))
	for i, id := range cold {
		urls[i] = e.liveURL(id, "ts")
	}
	fmt.Printf("READY live=%s cold=%s\n", e.liveURL(e.live, "ts"), strings.Join(urls, ","))
	// Serve until the driver closes our standard input.
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
	fmt.Fprint(os.Stderr, logSummary(e.logs.String()))
}

// logSummary counts the server's warnings and errors by message, and its refused opens (a
// status of 400 or more in the access log) by status: what the viewers' errors were.
func logSummary(logs string) string {
	counts := map[string]int{}
	for _, l := range strings.Split(logs, "\n") {
		for _, f := range strings.Fields(l) {
			if strings.HasPrefix(f, "status=") && f >= "status=400" {
				counts["refused "+f]++
			}
		}
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			if i := strings.Index(l, "msg="); i >= 0 {
				msg, _, _ := strings.Cut(l[i:], " err=")
				counts[msg]++
			}
		}
	}
	var out strings.Builder
	for k, n := range counts {
		fmt.Fprintf(&out, "SERVERLOG %6d %s\n", n, k)
	}
	return out.String()
}
