package partner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/token"
)

// The partner surface's benchmarks run over real HTTP on loopback against a real database, as
// a partner backend calls the panel; each reports the p50 latency of one call (p50_ms) beside
// ns/op. The baseline is /healthz on the same server (BenchmarkHealthz). The end-to-end
// behaviour is tested in app/stream (stream_partner_test.go), beside the streams it opens.

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

const benchSecret = "partner-bench-secret-0123456789abcdef"

// benchEnv is a server with a partner client registered for a bouquet of 100 live channels
// and a line holding it. The loopback proxy is trusted: X-Forwarded-For "<viewer>, 127.0.0.2"
// names the partner (127.0.0.2) and its viewer.
type benchEnv struct {
	base    string
	creds   partner.Credentials
	line    store.Line
	streams []int64
	token   string
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	ctx := context.Background()
	st := store.New(testdb.New(b))
	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	must(b, err)
	news := cats["News"]
	e := &benchEnv{}
	for i := range 100 {
		id, err := st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Channel %d", i), CategoryID: &news,
			Sources: []store.Source{{URL: "http://127.0.0.1:9/live.ts"}}})
		must(b, err)
		e.streams = append(e.streams, id)
	}
	bq, _, err := st.EnsureBouquet(ctx, "Main")
	must(b, err)
	_, err = st.SetBouquetStreams(ctx, bq, e.streams)
	must(b, err)
	e.line, _ = testdb.NewLine(b, st, func(in *store.LineInput) { in.BouquetIDs = []int64{bq}; in.MaxConnections = 0 })
	cfg := config.Config{Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicScheme: "http", ShutdownTimeout: 5 * time.Second,
		TokenSecret: benchSecret, Timezone: time.UTC, TimezoneName: "UTC", InstanceID: "bench",
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	srv, err := server.New(b.Context(), server.Deps{Config: cfg, Log: slog.New(slog.DiscardHandler), Store: st})
	must(b, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	e.base = "http://" + ln.Addr().String()

	kr, err := token.NewKeyring([]byte(benchSecret), 1)
	must(b, err)
	svc, err := partner.New(partner.Options{Store: st, Secret: []byte(benchSecret), Media: kr})
	must(b, err)
	e.creds, err = svc.Create(ctx, audit.CLI, "Shop", partner.Grant{Scopes: partner.Scopes, BouquetIDs: []int64{bq},
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	must(b, err)
	testdb.Eventually(b, 20*time.Second, "the partner client known", func() bool {
		code, tok := e.issue()
		e.token = tok
		return code == http.StatusOK
	})
	return e
}

// issue asks the token endpoint for an access token.
func (e *benchEnv) issue() (int, string) {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/o/client/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.SetBasicAuth(e.creds.Partner.ClientID, e.creds.Secret.Reveal())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "127.0.0.2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.AccessToken
}

// decide POSTs body to the decisions endpoint path for viewer and fails unless it answers
// 200 with every decision a permit.
func (e *benchEnv) decide(b *testing.B, path, viewer string, body []byte) {
	req, _ := http.NewRequest(http.MethodPost, e.base+"/api/v2/"+e.creds.Partner.ClientID+"/decisions/"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", viewer+", 127.0.0.2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(out, []byte(`"authorized":false`)) {
		b.Fatalf("%s = %d %s", path, resp.StatusCode, out)
	}
}

// viewerAt is the i-th of 16 million viewer addresses: a new one misses the permit cache.
func viewerAt(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }

// BenchmarkHealthz is the baseline: the cheapest answer of the same server.
func BenchmarkHealthz(b *testing.B) {
	e := newBenchEnv(b)
	testkit.Latency(b, nil, func(int) {
		resp, err := http.Get(e.base + "/healthz")
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("healthz: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
}

// BenchmarkTokenIssue is the client-credentials grant: client authentication and a signed JWT.
func BenchmarkTokenIssue(b *testing.B) {
	e := newBenchEnv(b)
	testkit.Latency(b, nil, func(int) {
		if code, tok := e.issue(); code != http.StatusOK || tok == "" {
			b.Fatalf("token = %d", code)
		}
	})
}

func authorizeBody(e *benchEnv) []byte {
	body, _ := json.Marshal(map[string]any{"line": e.line.ID, "resource": e.streams[0]})
	return body
}

// BenchmarkAuthorizeCached is a repeated decisions/authorize: the permit cache answers, and a
// media token is signed.
func BenchmarkAuthorizeCached(b *testing.B) {
	e := newBenchEnv(b)
	body := authorizeBody(e)
	testkit.Latency(b, nil, func(int) { e.decide(b, "authorize", "198.51.100.7", body) })
}

// BenchmarkAuthorizeUncached is decisions/authorize for a new viewer address each time: the
// check runs (the line itself is in the checker's cache, as for any active line).
func BenchmarkAuthorizeUncached(b *testing.B) {
	e := newBenchEnv(b)
	body := authorizeBody(e)
	testkit.Latency(b, nil, func(i int) { e.decide(b, "authorize", viewerAt(i), body) })
}

func preauthorizeBody(e *benchEnv) []byte {
	body, _ := json.Marshal(map[string]any{"line": e.line.ID, "resources": e.streams})
	return body
}

// BenchmarkPreauthorize100Uncached is decisions/preauthorize of 100 resources for a new viewer
// address each time: one CheckEach (steps 1–9 once, step 10 per resource).
func BenchmarkPreauthorize100Uncached(b *testing.B) {
	e := newBenchEnv(b)
	body := preauthorizeBody(e)
	testkit.Latency(b, nil, func(i int) { e.decide(b, "preauthorize", viewerAt(i), body) })
}

// BenchmarkPreauthorize100Cached is the same preauthorization repeated: 100 permits from the cache.
func BenchmarkPreauthorize100Cached(b *testing.B) {
	e := newBenchEnv(b)
	body := preauthorizeBody(e)
	testkit.Latency(b, nil, func(int) { e.decide(b, "preauthorize", "198.51.100.7", body) })
}

func must(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}
