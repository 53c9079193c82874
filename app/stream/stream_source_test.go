package stream_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/store"
)

// secretTree is a data directory holding a token secret, as `serve` keeps it.
type secretTree struct {
	data, secretPath string
	secret           []byte
}

func newSecretTree(t *testing.T) secretTree {
	t.Helper()
	st := secretTree{data: t.TempDir(), secret: []byte("0123456789abcdef-the-token-signing-secret-0123456789abcdef\n")}
	st.secretPath = filepath.Join(st.data, "token-secret")
	must(t, os.WriteFile(st.secretPath, st.secret, 0o600))
	return st
}

// TestImportedCatchupSource_TokenSecret is the reported hole: an M3U entry whose
// catchup-source names the token secret, imported as `xtreamd import m3u` does, must not make
// /timeshift answer with the secret.
func TestImportedCatchupSource_TokenSecret(t *testing.T) {
	t.Parallel()
	sec := newSecretTree(t)
	var sum catalog.M3USummary
	e := setup(t, envOpts{
		cfg: func(c *config.Config) { c.DataDir = sec.data },
		extra: func(t *testing.T, e *env) {
			pl := "#EXTM3U\n" +
				`#EXTINF:-1 tvg-id="x" catchup-days="1" catchup-source="file://` + sec.secretPath + `",Evil` + "\n" +
				e.origin.URL + "/evil.ts\n"
			var err error
			sum, err = catalog.ImportM3U(context.Background(), e.st, strings.NewReader(pl),
				catalog.M3UOptions{Bouquet: "Main"})
			must(t, err)
		},
	})
	if sum.Added != 0 || len(sum.Skipped) != 1 || !strings.Contains(sum.Skipped[0].Reason, "catchup-source") {
		t.Errorf("import summary = %+v, want the entry skipped for its catchup-source", sum)
	}
	var id int64
	rows, err := e.st.Pool().Query(context.Background(), `SELECT id FROM streams WHERE name = 'Evil'`)
	must(t, err)
	for rows.Next() {
		must(t, rows.Scan(&id))
	}
	must(t, rows.Err())
	if id == 0 {
		return // refused at import: nothing to open
	}
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour).Format("2006-01-02:15-04")
	code, _, body := do(t, http.MethodGet, e.url("/timeshift/%s/%s/60/%s/%d.ts", e.line.Username, e.pass, start, id), nil)
	if code == http.StatusOK || bytes.Contains(body, sec.secret[:32]) {
		t.Fatalf("timeshift of the imported entry = %d with %d bytes (secret in body: %v), want a refusal",
			code, len(body), bytes.Contains(body, sec.secret[:32]))
	}
}

var _ = store.KindLive
