package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

// runImport runs "xtreamd import …" against the database at dsn and returns its stdout.
func runImport(t *testing.T, dsn string, args ...string) (string, error) {
	t.Helper()
	return runImportEnv(t, map[string]string{"DATABASE_URL": dsn, "XTREAMD_DATA_DIR": t.TempDir(),
		"XTREAMD_MEDIA_DIRS": "/srv/media"}, args...)
}

// runImportEnv runs "xtreamd import …" with the environment env and returns its stdout.
func runImportEnv(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := envFrom(env)
	err := run(context.Background(), append([]string{"import"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), err
}

func TestImportM3U_Command(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	out, err := runImport(t, dsn, "m3u", "../../testdata/m3u/playlist.m3u", "--bouquet", "Provider")
	if err != nil {
		t.Fatalf("import m3u: %v\n%s", err, out)
	}
	for _, want := range []string{
		"m3u import: 8 entries: 6 added, 0 updated, 0 unchanged, 5 skipped",
		`categories added: 4; bouquet "Provider" (created): 6 streams appended`,
		`  line 9: URL refused: unsupported scheme "rtmp" (want http, https, file or an absolute path)`,
		"  line 11: no URL after #EXTINF",
		"  line 14: duplicate of line 2 (same URL)",
		"reading m3u: ", // plain progress lines: stdout is not a terminal
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Flags before the file work too, and the second run changes nothing.
	out, err = runImport(t, dsn, "m3u", "--bouquet=Provider", "--kind", "live", "../../testdata/m3u/playlist.m3u")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "6 unchanged") || !strings.Contains(out, " 0 added") || !strings.Contains(out, `"Provider": 0 streams appended`) {
		t.Fatalf("second run:\n%s", out)
	}
}

// TestImportM3U_CommandRefusesTokenSecret is the reported hole at the command line: an entry
// whose catchup-source names <data-dir>/token-secret, or whose URL is a local file outside
// --media-dir, is skipped with the reason in the summary.
func TestImportM3U_CommandRefusesTokenSecret(t *testing.T) {
	t.Parallel()
	data, media := t.TempDir(), t.TempDir()
	pl := filepath.Join(t.TempDir(), "evil.m3u")
	if err := os.WriteFile(pl, []byte("#EXTM3U\n"+
		`#EXTINF:-1 catchup-days="1" catchup-source="file://`+data+`/token-secret",Evil`+"\n"+
		"http://provider.example/live/u/p/1.ts\n"+
		"#EXTINF:-1,Local\nfile://"+data+"/token-secret\n"+
		"#EXTINF:-1,Film\nfile://"+media+"/film.ts\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runImportEnv(t, map[string]string{"DATABASE_URL": testdb.NewDSN(t), "XTREAMD_DATA_DIR": data,
		"XTREAMD_MEDIA_DIRS": media + "," + data}, "m3u", pl, "--bouquet", "P")
	if err != nil {
		t.Fatalf("import m3u: %v\n%s", err, out)
	}
	for _, want := range []string{
		"3 entries: 1 added, 0 updated, 0 unchanged, 2 skipped",
		"  line 2: catchup-source refused: file outside the media directories",
		"  line 4: URL refused: file outside the media directories",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestImportXMLTV_Command(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	guide, err := os.ReadFile("../../testdata/xmltv/guide.xml.gz")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(guide) }))
	t.Cleanup(srv.Close)
	out, err := runImport(t, dsn, "xmltv", srv.URL+"/guide.xml.gz", "--source-name", "Provider EPG")
	if err != nil {
		t.Fatalf("import xmltv: %v\n%s", err, out)
	}
	for _, want := range []string{
		"xmltv import: 2 channels: 2 added, 0 updated, 0 unchanged, 0 implied by programmes",
		"programmes: 5 read: 5 added, 0 updated, 0 unchanged, 0 removed (rescheduled), 0 duplicate, 5 skipped",
		"  1× unparseable start time",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, err = runImport(t, dsn, "xmltv", "../../testdata/xmltv/guide.xml")
	if err != nil || !strings.Contains(out, "5 read: 0 added, 0 updated, 5 unchanged") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
}

func TestImport_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no kind", nil, `want "import m3u" or "import xmltv"`},
		{"unknown kind", []string{"csv"}, `want "import m3u" or "import xmltv"`},
		{"no file", []string{"m3u", "--bouquet", "X"}, "want exactly one FILE or URL"},
		{"no bouquet", []string{"m3u", "x.m3u"}, "--bouquet is required"},
		{"missing file", []string{"xmltv", "/nonexistent/guide.xml"}, "open: "},
		{"bad scheme", []string{"xmltv", "ftp://host/guide.xml"}, "unsupported scheme ftp://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runImport(t, "postgres://nowhere.invalid/db", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("import %v = %v, want %q", tt.args, err, tt.want)
			}
		})
	}
}

func TestSplitArgs(t *testing.T) {
	t.Parallel()
	var b, k string
	bind := func(fs *flag.FlagSet) {
		fs.StringVar(&b, "bouquet", "", "")
		fs.StringVar(&k, "kind", "", "")
	}
	flags, pos := splitArgs([]string{"a.m3u", "--bouquet", "X", "-kind=live", "--log-level", "debug", "--", "-odd"}, bind)
	if diff := cmp.Diff([]string{"--bouquet", "X", "-kind=live", "--log-level", "debug"}, flags); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a.m3u", "-odd"}, pos); diff != "" {
		t.Errorf("positional (-want +got):\n%s", diff)
	}
}

// TestImport_WhileServeRuns: with the private database, `xtreamd import` (and `admin create`)
// connect to the cluster the running `serve` owns instead of refusing, leave it running, and
// serve answers with what they wrote; a second serve on the same data dir is still refused.
func TestImport_WhileServeRuns(t *testing.T) {
	t.Parallel()
	base, err := os.MkdirTemp("", "xtreamd-import-test-") // enterable by the postgres user when root
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	getenv := envFrom(map[string]string{"XTREAMD_DATA_DIR": filepath.Join(base, "data"), "XTREAMD_ADMIN_PASSWORD": "correct-horse"})
	addr, stop, logs := startServe(t, getenv)

	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"import", "m3u", "../../testdata/m3u/playlist.m3u", "--bouquet", "Provider"},
		getenv, strings.NewReader(""), &out, &errOut)
	if err != nil {
		t.Fatalf("import while serving: %v\n%s", err, errOut.String())
	}
	// Six entries would play; the local file is outside any media directory (none is configured
	// here), so it is skipped with its reason.
	if !strings.Contains(out.String(), "5 added") || !strings.Contains(out.String(), "file outside the media directories") ||
		!strings.Contains(errOut.String(), "another xtreamd runs") {
		t.Fatalf("import output:\n%s\nlog:\n%s", out.String(), errOut.String())
	}
	if err := run(context.Background(), []string{"admin", "create", "--username", "root"}, getenv, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("admin create while serving: %v", err)
	}
	// The running server answers with what the import wrote.
	tok := apiLogin(t, addr, "root", "correct-horse")
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	apiGet(t, addr, tok, "/api/v1/live-streams?limit=100", &page)
	if len(page.Items) != 5 {
		t.Fatalf("serve lists %d live streams after the import, want 5", len(page.Items))
	}
	_, errSecond := runServeOnce(t, getenv)
	if errSecond == nil || !strings.Contains(errSecond.Error(), "already run by postgres pid") {
		t.Fatalf("a second serve on the data dir = %v, want the clear refusal", errSecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve after the import: %v\n%s", err, logs.String())
	}
}

// runServeOnce runs serve on a free port and returns its error, for starts that must fail.
func runServeOnce(t *testing.T, getenv func(string) string) (string, error) {
	t.Helper()
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"serve", "--listen", freePort(t)}, getenv, strings.NewReader(""), io.Discard, &stderr)
	return stderr.String(), err
}

// apiLogin logs in on the admin API at addr and returns the access token.
func apiLogin(t *testing.T, addr, user, pass string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pass})
	resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("login = %d, %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

// apiGet GETs path on the admin API at addr into v.
func apiGet(t *testing.T, addr, tok, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
