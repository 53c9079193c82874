package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/testkit"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func testConfig() config.Config {
	return config.Config{Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicScheme: "http", ShutdownTimeout: 5 * time.Second}
}

func newServer(t *testing.T, pool *pgxpool.Pool, logs io.Writer) *server.Server {
	t.Helper()
	s, err := server.New(t.Context(), server.Deps{Config: testConfig(), Log: logx.New(logs, "text", slog.LevelDebug), Store: store.New(pool)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, s *server.Server, target string, hdr map[string]string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	s := newServer(t, testdb.New(t), io.Discard)
	if code, body := get(t, s, "/healthz", nil); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	if code, body := get(t, s, "/readyz", nil); code != 200 || body != "ok" {
		t.Errorf("/readyz = %d %q, want 200 ok", code, body)
	}
	code, body := get(t, s, "/metrics", nil)
	if code != 200 || !strings.Contains(body, "xtreamd_db_pool_total_conns") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d, missing pool or runtime metrics", code)
	}
}

func TestReady_PendingMigrationIs503(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := newServer(t, pool, io.Discard)
	// As if this binary were newer than the schema: its last migration is not applied.
	if _, err := pool.Exec(t.Context(), `UPDATE schema_version SET version = version - 1`); err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, s, "/readyz", nil); code != 503 || body != "migrations pending" {
		t.Errorf("/readyz on an unmigrated database = %d %q, want 503 migrations pending", code, body)
	}
}

func TestReady_DatabaseDownIs503(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	s := newServer(t, pool, io.Discard)
	pool.Close()
	if code, _ := get(t, s, "/readyz", nil); code != 503 {
		t.Errorf("/readyz with a closed pool = %d, want 503", code)
	}
}

// TestAccessLog_NeverWritesSecrets sends requests carrying a password, a token and a MAC the
// way Xtream clients do and greps every log line for them.
func TestAccessLog_NeverWritesSecrets(t *testing.T) {
	t.Parallel()
	const password, token, mac = "Pa55wordXYZ", "TokABCDEF123", "00:1A:79:AB:CD:EF"
	var logs testkit.Buffer
	s := newServer(t, testdb.New(t), &logs)
	for _, target := range []string{
		"/live/alice/" + password + "/1.ts",
		"/alice/" + password + "/1",
		"/movie/alice/" + password + "/7.mkv",
		"/player_api.php?username=alice&password=" + password + "&action=get_live_streams",
		"/live/alice/" + password + "/1.ts?play_token=" + token,
		"/portal.php?type=stb&action=handshake&mac=" + strings.ReplaceAll(mac, ":", "%3A"),
		"/get.php?username=alice&password=" + password + "&type=m3u_plus",
		"/play/" + token,
	} {
		get(t, s, target, map[string]string{"Cookie": "mac=" + mac, "Authorization": "Bearer " + token})
	}
	out := logs.String()
	if !strings.Contains(out, "/live/alice/***/1.ts") {
		t.Fatalf("access log lacks the redacted request line:\n%s", out)
	}
	for _, secret := range []string{password, token, mac, "AB:CD:EF"} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
}

// TestAccessLog_ClipsLongValues: a request line near fasthttp's limit logs at most 1 KB of
// its path and of its query (cut on a character, marked with "…"), still redacted.
func TestAccessLog_ClipsLongValues(t *testing.T) {
	t.Parallel()
	var logs testkit.Buffer
	s := newServer(t, testdb.New(t), &logs)
	long := strings.Repeat("é", 700) // 1,400 bytes each: both past 1 KB, the request line under 4 KB
	get(t, s, "/live/alice/Secret99/"+long+".ts?q="+long, nil)
	var line string
	for l := range strings.Lines(logs.String()) {
		if strings.Contains(l, "msg=request") && strings.Contains(l, "/live/alice/") {
			line = l
		}
	}
	if line == "" {
		t.Fatalf("no access line for the request:\n%s", logs.String())
	}
	if strings.Contains(line, "Secret99") {
		t.Fatalf("the clipped line shows the password:\n%s", line)
	}
	for _, key := range []string{"path=", "query="} {
		_, v, _ := strings.Cut(line, key)
		v, _, _ = strings.Cut(v, " ")
		v = strings.Trim(v, `"`) // the text format quotes a value with non-ASCII text
		if !strings.HasSuffix(v, "…") || len(v) > 1024+len("…") || !utf8.ValidString(v) {
			t.Errorf("%s%.60s… is %d bytes, want at most 1,024 and the cut marked on a character", key, v, len(v))
		}
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	s := newServer(t, testdb.New(t), io.Discard)
	req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	resp, err := s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("echoed request id = %q, want abc-123", got)
	}
	req = httptest.NewRequest(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Request-Id", "bad id with spaces \u00e9") // a NUL never gets this far: TestServe_RefusesAmbiguousFraming
	resp, err = s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("X-Request-Id"); len(got) != 24 {
		t.Errorf("request id for a garbled inbound one = %q, want a fresh 24-hex id", got)
	}
}

// serveOn runs s.Serve on a loopback listener: its base URL, the cancel that stops it and
// the channel Serve's result arrives on.
func serveOn(t *testing.T, s *server.Server) (string, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, done
}

// TestServe_GracefulShutdown serves on a real listener, keeps a slow request open, cancels,
// and checks Serve returns within the shutdown timeout.
func TestServe_GracefulShutdown(t *testing.T) {
	t.Parallel()
	s := newServer(t, testdb.New(t), io.Discard)
	url, cancel, done := serveOn(t, s)
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if s.StreamContext().Err() == nil {
		t.Fatal("stream context still open after shutdown")
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

func TestServe_IPv6Loopback(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback on this machine")
	}
	s := newServer(t, testdb.New(t), io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Serve(ctx, ln)
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("GET over IPv6: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz over IPv6 = %d", resp.StatusCode)
	}
}

// gatedSink holds every write until open is closed (a slow log pipe), then keeps them.
type gatedSink struct {
	open chan struct{}
	buf  testkit.Buffer
}

func (g *gatedSink) Write(p []byte) (int, error) {
	<-g.open
	return g.buf.Write(p)
}

// TestAccessLog_AsyncFlushedAtStop: through the asynchronous writer xtreamd serve uses, the
// access line of the last request before a clean shutdown reaches the log (Serve flushes it)
// even when the log's sink is slow, redacted like every other line.
func TestAccessLog_AsyncFlushedAtStop(t *testing.T) {
	t.Parallel()
	sink := &gatedSink{open: make(chan struct{})}
	w := logx.NewWriter(sink, 0)
	defer w.Close()
	s, err := server.New(t.Context(), server.Deps{Config: testConfig(), Log: logx.New(w, "text", slog.LevelInfo),
		Store: store.New(testdb.New(t)), LogSink: w})
	if err != nil {
		t.Fatal(err)
	}
	url, cancel, done := serveOn(t, s)
	const password = "Pa55wordXYZ"
	resp, err := http.Get(url + "/player_api.php?username=alice&password=" + password)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	close(sink.open) // the sink catches up only now, while Serve shuts down
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v", err)
	}
	out := sink.buf.String()
	if !strings.Contains(out, "msg=request method=GET path=/player_api.php") || !strings.Contains(out, "password=***") {
		t.Errorf("the last request's access line is missing after Serve returned:\n%s", out)
	}
	if strings.Contains(out, password) {
		t.Errorf("log contains the password:\n%s", out)
	}
}
