package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// serveWithRecords runs a server with the records on until the returned function stops it; it returns
// the base URL.
func serveWithRecords(t *testing.T, st *store.Store, logs io.Writer) (string, func()) {
	t.Helper()
	cfg := testConfig()
	cfg.TokenSecret = "records-test-token-secret-0123456789ab"
	cfg.CredentialRecordTTL = time.Hour
	return serveConfig(t, st, cfg, logs)
}

// serveConfig runs a server with cfg on a loopback listener until the returned function stops
// it (also at the test's end); it returns the base URL.
func serveConfig(t *testing.T, st *store.Store, cfg config.Config, logs io.Writer) (string, func()) {
	t.Helper()
	s, err := server.New(t.Context(), server.Deps{Config: cfg, Log: logx.New(logs, "text", slog.LevelDebug), Store: st,
		Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve = %v", err)
			}
		}
	}
	t.Cleanup(stop)
	return "http://" + ln.Addr().String(), stop
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestServe_RestartWarmsVerifiedViewers: a viewer that logged in before a restart is admitted
// by the new process from its warmed caches, without a record lookup (and so without a hash).
func TestServe_RestartWarmsVerifiedViewers(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	line, pw := testdb.NewLine(t, st, nil)
	login := "/player_api.php?username=" + line.Username + "&password=" + pw

	base, stop := serveWithRecords(t, st, io.Discard)
	if body := fetch(t, base+login); !strings.Contains(body, `"auth":1`) {
		t.Fatalf("login before the restart = %.100s", body)
	}
	testdb.Eventually(t, 10*time.Second, "the record written", func() bool {
		_, err := st.VerifiedCredential(context.Background(), line.ID)
		return err == nil
	})
	stop()

	logs := &testkit.Buffer{}
	base, _ = serveWithRecords(t, st, logs)
	testdb.Eventually(t, 10*time.Second, "the caches warmed", func() bool {
		return strings.Contains(logs.String(), `msg="caches warmed from verified-credential records" lines=1`)
	})
	if body := fetch(t, base+login); !strings.Contains(body, `"auth":1`) {
		t.Fatalf("login after the restart = %.100s", body)
	}
	if m := fetch(t, base+"/metrics"); strings.Contains(m, "xtreamd_credential_record_lookups_total{") {
		t.Errorf("the login after the restart looked its record up; want it admitted from the warmed cache:\n%s", grepLines(m, "xtreamd_credential_"))
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
