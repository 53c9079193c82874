package player_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// The performance bar (STYLE C24): get_live_streams of a line entitled to 10,000 channels
// answers with a p50 under 20 ms through the whole production app over loopback, and the
// login answer keeps at least half the request rate of a bare Fiber handler that returns the
// same bytes. bench/player.sh measures the second with wrk; these benchmarks measure both with
// a Go client in the same process (which competes with the servers for the CPU).
//
//	go test ./app/player/ -run '^$' -bench . -benchtime 5s

const benchChannels = 10_000

// benchServers is the production server over a 10,000-channel line plus a bare Fiber app
// answering the same login bytes, both on loopback.
type benchServers struct {
	ours, bare string // base URLs
	// oursLog is the production server per access-log setting: "off" (warn level), "discard"
	// (info level to a discarding writer) and "file" (info level to a file through
	// logx.Writer, as xtreamd serve writes stderr redirected to a file or journald).
	oursLog   map[string]string
	handlers  map[string]fasthttp.RequestHandler // the apps' handlers by oursLog name, and "bare"
	loginPath string
	listPath  string
	loginBody []byte
	st        *store.Store // the servers' database
}

func newBenchServers(tb testing.TB) *benchServers {
	tb.Helper()
	ctx := context.Background()
	pool := testdb.New(tb)
	st := store.New(pool)
	cats, _, err := st.EnsureCategories(ctx, store.KindLive, catNames(50))
	if err != nil {
		tb.Fatal(err)
	}
	items := make([]store.StreamInput, benchChannels)
	for i := range items {
		cat, epg := cats[fmt.Sprintf("Category %02d", i%50)], fmt.Sprintf("ch%05d.bench", i)
		items[i] = store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Channel %05d HD", i), CategoryID: &cat,
			Icon: fmt.Sprintf("http://img.example/logos/%05d.png", i), EPGChannelID: &epg, TVArchiveDays: int32(i % 3),
			Sources: []store.Source{{URL: fmt.Sprintf("http://upstream.example/live/%05d.ts", i)}}}
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	bq, _, err := st.EnsureBouquet(ctx, "All")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.SetBouquetStreams(ctx, bq, ids); err != nil {
		tb.Fatal(err)
	}
	hash, err := credential.Hash("bench-pass", credential.DefaultParams) // production cost: argon2 on first use only
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.CreateLine(ctx, store.LineInput{Username: "bench", PasswordHash: hash, MaxConnections: 1, BouquetIDs: []int64{bq}}); err != nil {
		tb.Fatal(err)
	}
	if err := st.SetSetting(ctx, "rate_limit_per_second", 0); err != nil { // one client IP
		tb.Fatal(err)
	}
	bs := &benchServers{
		loginPath: api(playerAPI, "username", "bench", "password", "bench-pass"),
		listPath:  api(playerAPI, "username", "bench", "password", "bench-pass", "action", "get_live_streams"),
		oursLog:   map[string]string{},
		handlers:  map[string]fasthttp.RequestHandler{},
		st:        st,
	}
	logFile, err := os.Create(filepath.Join(tb.TempDir(), "access.log"))
	if err != nil {
		tb.Fatal(err)
	}
	sink := logx.NewWriter(logFile, logx.DefaultMaxPending) // as cmd/xtreamd serve writes stderr
	tb.Cleanup(func() { sink.Close(); logFile.Close() })
	slogFile, err := os.Create(filepath.Join(tb.TempDir(), "access-slog.log"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { slogFile.Close() })
	for _, l := range []struct {
		name  string
		w     io.Writer
		level slog.Level
		addr  string
	}{
		// The access log as it was: slog's text handler writing each line to the file itself
		// (a logger not from logx.New takes AccessLog's slog path).
		{"slog-file", slogFile, slog.LevelInfo, os.Getenv("XTREAMD_BENCH_SLOG_FILE_LISTEN")},
		// Production logging: every request formats its access-log line (to a discarding writer).
		{"discard", io.Discard, slog.LevelInfo, os.Getenv("XTREAMD_BENCH_LISTEN")},
		{"off", io.Discard, slog.LevelWarn, os.Getenv("XTREAMD_BENCH_LOG_OFF_LISTEN")},
		{"file", sink, slog.LevelInfo, os.Getenv("XTREAMD_BENCH_LOG_FILE_LISTEN")},
	} {
		log := logx.New(l.w, "text", l.level)
		if l.name == "slog-file" {
			log = slog.New(slog.NewTextHandler(l.w, &slog.HandlerOptions{Level: l.level}))
		}
		srv, err := server.New(ctx, server.Deps{Config: testConfig(), Log: log, Store: st})
		if err != nil {
			tb.Fatal(err)
		}
		bs.oursLog[l.name] = serve(tb, srv.App(), l.addr)
		bs.handlers[l.name] = srv.App().Handler()
	}
	bs.ours = bs.oursLog["discard"]
	resp, err := testClient(tb, 1).Get(bs.ours + bs.loginPath)
	if err != nil {
		tb.Fatal(err)
	}
	bs.loginBody, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	bare := fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
	bare.Get("/player_api.php", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(bs.loginBody)
	})
	bs.bare = serve(tb, bare, os.Getenv("XTREAMD_BENCH_BARE_LISTEN"))
	bs.handlers["bare"] = bare.Handler()
	return bs
}

func catNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("Category %02d", i)
	}
	return out
}

func serve(tb testing.TB, app *fiber.App, addr string) string {
	tb.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	tb.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

func fetchOK(c *http.Client, url string) (int64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return n, fmt.Errorf("status %d", resp.StatusCode)
	}
	return n, err
}

// BenchmarkGetLiveStreams10k: one client asks for the whole 10,000-channel list again and
// again, as it is (plain) and gzip-encoded (the compressed answer kept with the snapshot);
// p50/p99 are the request latencies as the client sees them, bytes/answer what went over the
// wire.
func BenchmarkGetLiveStreams10k(b *testing.B) {
	bs := newBenchServers(b)
	c := testClient(b, 1)
	c.Transport.(*http.Transport).DisableCompression = true // no Accept-Encoding but where set
	url := bs.ours + bs.listPath
	if _, err := fetchOK(c, url); err != nil { // warm: argon2 once, then the credential cache
		b.Fatal(err)
	}
	for _, acceptEncoding := range []string{"", "gzip"} {
		name := "plain"
		if acceptEncoding != "" {
			name = acceptEncoding
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			measureFetches(b, func() int { return len(benchGet(b, c, url, acceptEncoding)) })
		})
	}
}

// measureFetches runs fetch (which returns the bytes it received) b.N times and reports the
// latencies' p50 and p99 and the last answer's size.
func measureFetches(b *testing.B, fetch func() int) {
	var lat []time.Duration
	var size int
	for b.Loop() {
		start := time.Now()
		size = fetch()
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(size), "bytes/answer")
}

// BenchmarkPlaylist10k: get.php m3u_plus of the 10,000-channel line (the check, then the
// playlist streamed from the entries rendered per catalog snapshot) against a bare Fiber
// handler sending the same bytes, one client fetching it again and again; and the same
// playlist gzip-encoded (xtreamd-gzip). MB/s (of the playlist) and the latencies are the
// client's; compare xtreamd with bare.
func BenchmarkPlaylist10k(b *testing.B) {
	bs := newBenchServers(b)
	path := api("/get.php", "username", "bench", "password", "bench-pass", "type", "m3u_plus", "output", "ts")
	c := testClient(b, 1)
	c.Transport.(*http.Transport).DisableCompression = true // no Accept-Encoding: the playlist as it is
	resp, err := c.Get(bs.ours + path)                      // warm: argon2 once, then the credential cache
	if err != nil {
		b.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("#EXTM3U")) || bytes.Count(body, []byte("\n#EXTINF")) != benchChannels {
		b.Fatalf("get.php: status %d, %d bytes, %v", resp.StatusCode, len(body), err)
	}
	bare := fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
	bare.Get("/get.php", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, resp.Header.Get(fiber.HeaderContentType))
		c.Set(fiber.HeaderContentDisposition, resp.Header.Get(fiber.HeaderContentDisposition))
		return c.Send(body)
	})
	bareBase := serve(b, bare, "")
	for _, target := range []struct{ name, url string }{{"xtreamd", bs.ours + path}, {"bare", bareBase + path}, {"xtreamd-gzip", bs.ours + path}} {
		b.Run(target.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			measureFetches(b, func() int {
				if target.name == "xtreamd-gzip" {
					return len(benchGet(b, c, target.url, "gzip"))
				}
				n, err := fetchOK(c, target.url)
				if err != nil || n != int64(len(body)) {
					b.Fatalf("%d bytes of %d: %v", n, len(body), err)
				}
				return int(n)
			})
		})
	}
}

// BenchmarkXMLTV: xmltv.php of the 10,000-channel line, 200 of its channels with a guide (48
// programmes a day each, titles and descriptions drawn from 33 words), a day back
// and a day ahead: as the document, as a gzip file (gzip=1) and gzip-encoded (Accept-Encoding);
// one client fetching it again and again, from the production server ("kept": the document
// exported once and kept, epg.Documents) and from one keeping no guide ("exported": every
// download reads the programmes and compresses as it goes). MB/s is of the document;
// bytes/answer what went over the wire.
func BenchmarkXMLTV(b *testing.B) {
	gb := newGuideBench(b)
	c := testClient(b, 1)
	for _, server := range []struct{ name, base string }{{"kept", gb.kept}, {"exported", gb.exported}} {
		for _, target := range []struct{ name, query, acceptEncoding string }{
			{"xml", gb.query, "identity"}, {"gzip-file", gb.query + "&gzip=1", "identity"}, {"content-encoding", gb.query, "gzip"},
		} {
			b.Run(server.name+"/"+target.name, func(b *testing.B) {
				var n int
				b.SetBytes(int64(len(gb.doc)))
				for b.Loop() {
					n = len(benchGet(b, c, server.base+target.query, target.acceptEncoding))
				}
				b.ReportMetric(float64(n), "bytes/answer")
			})
		}
	}
}

// BenchmarkXMLTVStorm: 64 distinct lines of the same bouquets fetch the guide gzip-encoded, 8
// at a time, as boxes do after a provider's guide update: each op first bumps the EPG version
// (a statement on the programmes that changes no row), so the production server ("kept")
// exports once per op and the other 63 downloads wait for that export or copy it, while the
// server keeping no guide ("exported") exports 64 times. ms/download is the op's time over its
// 64 downloads.
func BenchmarkXMLTVStorm(b *testing.B) {
	const lines, parallel = 64, 8
	gb := newGuideBench(b)
	bq, _, err := gb.st.EnsureBouquet(context.Background(), "All")
	if err != nil {
		b.Fatal(err)
	}
	queries := make([]string, lines)
	for i := range queries {
		line, pass := testdb.NewLine(b, gb.st, func(in *store.LineInput) { in.BouquetIDs = []int64{bq} })
		queries[i] = api("/xmltv.php", "username", line.Username, "password", pass)
	}
	c := testClient(b, parallel)
	for _, server := range []struct{ name, base string }{{"kept", gb.kept}, {"exported", gb.exported}} {
		b.Run(server.name, func(b *testing.B) {
			for _, q := range queries { // each line's first check (its hash) outside the timing
				benchGet(b, c, server.base+q, "gzip")
			}
			b.ResetTimer()
			for b.Loop() {
				testdb.MustExec(b, gb.st, `UPDATE epg_programmes SET title = title WHERE false`)
				next := make(chan string, lines)
				for _, q := range queries {
					next <- q
				}
				close(next)
				var wg sync.WaitGroup
				for range parallel {
					wg.Go(func() {
						for q := range next {
							if err := fetchGzip(c, server.base+q); err != nil {
								b.Error(err)
							}
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*lines), "ms/download")
		})
	}
}

// fetchGzip GETs url gzip-encoded and reads the body, which must answer 200 (for any goroutine).
func fetchGzip(c *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: status %d", logx.RedactQuery(url), resp.StatusCode)
	}
	return nil
}

// guideBench is BenchmarkXMLTV's guide on the benchmark servers' database, served by the
// production server (kept) and by one keeping no guide (exported).
type guideBench struct {
	*benchServers
	kept, exported string // base URLs
	query          string // the bench line's xmltv.php
	doc            []byte // its guide
}

func newGuideBench(b *testing.B) *guideBench {
	bs := newBenchServers(b)
	testdb.MustExec(b, bs.st, `INSERT INTO epg_channels (id) SELECT 'ch'||lpad(c::text, 5, '0')||'.bench' FROM generate_series(0, 199) c`)
	testdb.MustExec(b, bs.st, `WITH words(w) AS (SELECT regexp_split_to_array('news sport weather film drama comedy
		live final match report studio guest story night morning classic season episode world city family kitchen
		travel science nature music history crime island summer winter ocean mountain', '\s+'))
		INSERT INTO epg_programmes (channel_id, start_at, stop_at, title, description, lang)
		SELECT 'ch'||lpad(c::text, 5, '0')||'.bench', date_trunc('hour', now()) - interval '1 day' + h*interval '30 minutes',
			date_trunc('hour', now()) - interval '1 day' + (h+1)*interval '30 minutes',
			initcap(w[1 + (c*7 + h) % 33]||' '||w[1 + (c + h*5) % 33]),
			(SELECT string_agg(w[1 + (c*31 + h*17 + k*k) % 33], ' ') FROM generate_series(1, 25 + (c + h) % 20) k)||'.', 'en'
		FROM generate_series(0, 199) c, generate_series(0, 95) h, words`)
	// Both with the per-address download limit lifted: every client is 127.0.0.1.
	guideServer := func(guideBytes int64) string {
		cfg := testConfig()
		cfg.GuideCacheBytes, cfg.DownloadsPerIP = guideBytes, 1000
		srv, err := server.New(context.Background(), server.Deps{Config: cfg, Log: logx.New(io.Discard, "text", slog.LevelWarn), Store: bs.st})
		if err != nil {
			b.Fatal(err)
		}
		return serve(b, srv.App(), "")
	}
	gb := &guideBench{benchServers: bs, kept: guideServer(0), exported: guideServer(-1),
		query: api("/xmltv.php", "username", "bench", "password", "bench-pass")}
	c := testClient(b, 1)
	gb.doc = benchGet(b, c, gb.exported+gb.query, "identity") // warm: argon2 once, then the credential cache
	if !bytes.Contains(gb.doc, []byte("<programme ")) {
		b.Fatalf("the guide has no programmes:\n%.500s", gb.doc)
	}
	if kept := benchGet(b, c, gb.kept+gb.query, "identity"); !bytes.Equal(kept, gb.doc) {
		b.Fatal("the kept document is not the exported one")
	}
	return gb
}

// benchGet fetches url with the Accept-Encoding given ("": none), which must answer 200, and
// returns the body as it came.
func benchGet(b *testing.B, c *http.Client, url, acceptEncoding string) []byte {
	resp, body := fetchEncoded(b, c, url, acceptEncoding)
	if resp.StatusCode != 200 {
		b.Fatalf("%s: status %d", url, resp.StatusCode)
	}
	return body
}

// fetchEncoded GETs url with the Accept-Encoding given ("": none), set on the request so that
// the client decodes nothing, and returns the response (its body read and closed) and the
// body as it came.
func fetchEncoded(tb testing.TB, c *http.Client, url, acceptEncoding string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s: reading the body: %v", url, err)
	}
	return resp, body
}

// BenchmarkLogin: the login answer from xtreamd (rate limit, access check with the cached
// credential, cached active_cons, JSON) and from a bare Fiber handler sending the same bytes,
// 32 concurrent keep-alive clients each. Compare the two ns/op (lower is faster).
func BenchmarkLogin(b *testing.B) {
	bs := newBenchServers(b)
	for _, target := range []struct{ name, url string }{
		{"xtreamd", bs.ours + bs.loginPath},
		{"xtreamd-log-off", bs.oursLog["off"] + bs.loginPath},
		{"xtreamd-log-file", bs.oursLog["file"] + bs.loginPath},
		{"bare", bs.bare + bs.loginPath},
	} {
		b.Run(target.name, func(b *testing.B) {
			c := testClient(b, 32)
			if _, err := fetchOK(c, target.url); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(16) // × GOMAXPROCS 2 = 32 clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := fetchOK(c, target.url); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestServeForBench serves the benchmark fixture for bench/player.sh: xtreamd on
// XTREAMD_BENCH_LISTEN, the bare handler on XTREAMD_BENCH_BARE_LISTEN, until the file
// XTREAMD_BENCH_STOP_FILE exists (at most 15 minutes). Skipped unless those are set.
func TestServeForBench(t *testing.T) {
	if os.Getenv("XTREAMD_BENCH_LISTEN") == "" || os.Getenv("XTREAMD_BENCH_BARE_LISTEN") == "" || os.Getenv("XTREAMD_BENCH_STOP_FILE") == "" {
		t.Skip("run by bench/player.sh")
	}
	bs := newBenchServers(t)
	// Warm the credential cache (the one argon2 hash) and the entitlement.
	for _, base := range bs.oursLog {
		for _, p := range []string{bs.loginPath, bs.listPath} {
			if _, err := fetchOK(testClient(t, 1), base+p); err != nil {
				t.Fatal(err)
			}
		}
	}
	fmt.Printf("ready login=%s list=%s\n", bs.loginPath, bs.listPath)
	stop := os.Getenv("XTREAMD_BENCH_STOP_FILE")
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(stop); err == nil {
			return
		}
		time.Sleep(200 * time.Millisecond) // polling a file an outside script creates; not a test wait
	}
}

// BenchmarkLoginInProcess drives the login request through each app's handler directly (no
// sockets, no client), so ns, CPU and allocations per request are the server's alone:
// xtreamd with the access log as it was (slog, each line written to a file), as it is (to a
// file through logx.Writer), to a discarding writer and off, and the bare handler. It is the profile target for the login path:
//
//	go test ./app/player/ -run '^$' -bench LoginInProcess -benchmem -cpuprofile cpu.prof
func BenchmarkLoginInProcess(b *testing.B) {
	bs := newBenchServers(b)
	for _, name := range []string{"slog-file", "file", "discard", "off", "bare"} {
		b.Run(name, func(b *testing.B) {
			run, err := loginRunner(bs, name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := testkit.ProcessCPU()
			for b.Loop() {
				run()
			}
			b.ReportMetric(float64(testkit.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkLoginInProcessParallel is the same on every processor at once (one request
// context per goroutine, as one per connection): what one request costs when the others run
// beside it on the other cores and write the same metrics, log buffer and caches. The gap to
// BenchmarkLoginInProcess (CPU per request) is what sharing costs.
func BenchmarkLoginInProcessParallel(b *testing.B) {
	bs := newBenchServers(b)
	for _, name := range []string{"file", "off", "bare"} {
		b.Run(name, func(b *testing.B) {
			if _, err := loginRunner(bs, name); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := testkit.ProcessCPU()
			b.RunParallel(func(pb *testing.PB) {
				run, err := loginRunner(bs, name)
				if err != nil {
					b.Error(err)
					return
				}
				for pb.Next() {
					run()
				}
			})
			b.ReportMetric(float64(testkit.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// loginRunner returns a function that serves the login request through bs.handlers[name]
// with a request context of its own, after checking one answer (the first also warms the
// caches: argon2 once, then the credential cache).
func loginRunner(bs *benchServers, name string) (func(), error) {
	h := bs.handlers[name]
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	run := func() {
		ctx.Request.Reset()
		ctx.ResetUserValues() // the server does this per request: fiber keeps the user context there
		ctx.Response.Reset()
		ctx.Request.SetRequestURI(bs.loginPath)
		ctx.Request.Header.SetMethod(fiber.MethodGet)
		h(&ctx)
	}
	run()
	if ctx.Response.StatusCode() != 200 || !bytes.Equal(ctx.Response.Body(), bs.loginBody) && name == "bare" {
		return nil, fmt.Errorf("%s: status %d", name, ctx.Response.StatusCode())
	}
	return run, nil
}
