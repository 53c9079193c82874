package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/importer"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var admin = audit.Actor{Name: "root"}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// setup returns a store and a running Runner.
func setup(t *testing.T, opts importer.Options) (*store.Store, *importer.Runner) {
	t.Helper()
	st := store.New(testdb.New(t))
	if opts.SpoolDir == "" {
		opts.SpoolDir = t.TempDir()
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 20 * time.Millisecond
	}
	r := importer.New(st, slog.New(slog.DiscardHandler), opts)
	testdb.Go(t, r.Run)
	return st, r
}

// wait polls job id until it is done or failed.
func wait(t *testing.T, r *importer.Runner, id int64) importer.Job {
	t.Helper()
	var j importer.Job
	testdb.Eventually(t, 20*time.Second, "the import to finish", func() bool {
		var err error
		if j, err = r.Job(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return j.State == store.JobDone || j.State == store.JobFailed
	})
	return j
}

func TestStart_UploadM3UTwice(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	st, r := setup(t, importer.Options{SpoolDir: spool})
	ctx := context.Background()
	playlist := readFile(t, "../../testdata/m3u/playlist.m3u")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(playlist)
	zw.Close()
	for i, body := range [][]byte{playlist, gz.Bytes()} {
		j, err := r.Start(ctx, admin, importer.Request{Kind: importer.KindM3U, Upload: bytes.NewReader(body),
			UploadName: "provider.m3u", Options: importer.JobOptions{Bouquet: "Provider"}})
		if err != nil {
			t.Fatal(err)
		}
		if j.State != store.JobQueued || j.Origin != "upload: provider.m3u" || *j.BytesTotal != int64(len(body)) {
			t.Fatalf("started job = %+v", j)
		}
		done := wait(t, r, j.ID)
		if done.State != store.JobDone || done.Summary == nil || done.BytesRead != int64(len(body)) {
			t.Fatalf("job %d = %+v", i, done)
		}
		s := done.Summary
		wantAdded, wantUnchanged := int64(6), int64(0)
		if i == 1 { // the same playlist, compressed: nothing to do
			wantAdded, wantUnchanged = 0, 6
		}
		if s.Added != wantAdded || s.Unchanged != wantUnchanged || s.Skipped != 5 || len(s.Skips) != 5 ||
			s.Skips[0].Line == 0 || s.Details["entries"] != 8 {
			t.Fatalf("summary %d = %+v", i, s)
		}
	}
	if es, _ := st.SearchAudit(ctx, store.AuditFilter{Action: "import.start"}); len(es) != 2 {
		t.Fatalf("%d import.start audit entries, want 2", len(es))
	}
	if left, _ := os.ReadDir(spool); len(left) != 0 {
		t.Fatalf("spooled uploads left behind: %v", left)
	}
}

func TestStart_URLsAndRefresh(t *testing.T) {
	t.Parallel()
	guide := readFile(t, "../../testdata/xmltv/guide.xml.gz")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/missing.xml" {
			http.NotFound(w, req)
			return
		}
		w.Write(guide)
	}))
	defer up.Close()
	st, r := setup(t, importer.Options{})
	ctx := context.Background()
	j, err := r.Start(ctx, admin, importer.Request{Kind: importer.KindXMLTV, URL: up.URL + "/guide.xml.gz?user=u&pass=secret"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(j.Origin, "secret") {
		t.Fatalf("origin %q keeps the query", j.Origin)
	}
	done := wait(t, r, j.ID)
	if done.State != store.JobDone || done.Summary.Added == 0 || done.Summary.Details["channels"] == 0 {
		t.Fatalf("xmltv job = %+v %+v", done, done.Summary)
	}
	j, _ = r.Start(ctx, admin, importer.Request{Kind: importer.KindXMLTV, URL: up.URL + "/missing.xml"})
	if done = wait(t, r, j.ID); done.State != store.JobFailed || !strings.Contains(done.Error, "404") || done.Summary != nil {
		t.Fatalf("failed job = %+v", done)
	}

	id, err := st.CreateEPGSource(ctx, store.EPGSource{Name: "Guide", URL: up.URL + "/guide.xml.gz", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	j, err = r.RefreshSource(ctx, admin, id)
	if err != nil {
		t.Fatal(err)
	}
	if done = wait(t, r, j.ID); done.State != store.JobDone || done.Summary.Unchanged == 0 || done.Options.SourceID != id {
		t.Fatalf("refresh job = %+v %+v", done, done.Summary)
	}
	src, _ := st.EPGSourceByID(ctx, id)
	if src.LastFetchedAt == nil || src.LastError != "" {
		t.Fatalf("refresh not recorded on the source: %+v", src)
	}
	_, err = r.RefreshSource(ctx, admin, 999)
	wantRefusal(t, err, input.ErrNotFound, "id")
}

func TestStart_Refusals(t *testing.T) {
	t.Parallel()
	_, r := setup(t, importer.Options{MaxUpload: 100})
	ctx := context.Background()
	tests := []struct {
		name  string
		req   importer.Request
		kind  error
		field string
	}{
		{"no kind", importer.Request{URL: "http://x/y"}, input.ErrInvalid, "kind"},
		{"no input", importer.Request{Kind: "xmltv"}, input.ErrInvalid, "url"},
		{"both inputs", importer.Request{Kind: "xmltv", URL: "http://x/y", Upload: strings.NewReader("x")}, input.ErrInvalid, "url"},
		{"file URL", importer.Request{Kind: "xmltv", URL: "file:///etc/passwd"}, input.ErrInvalid, "url"},
		{"m3u without bouquet", importer.Request{Kind: "m3u", URL: "http://x/y"}, input.ErrInvalid, "bouquet"},
		{"m3u of episodes", importer.Request{Kind: "m3u", URL: "http://x/y",
			Options: importer.JobOptions{Bouquet: "B", StreamKind: "episode"}}, input.ErrInvalid, "stream_kind"},
		{"xmltv with bouquet", importer.Request{Kind: "xmltv", URL: "http://x/y", Options: importer.JobOptions{Bouquet: "B"}},
			input.ErrInvalid, "bouquet"},
		{"empty upload", importer.Request{Kind: "xmltv", Upload: strings.NewReader("")}, input.ErrInvalid, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Start(ctx, admin, tt.req)
			wantRefusal(t, err, tt.kind, tt.field)
		})
	}
	_, err := r.Start(ctx, admin, importer.Request{Kind: "xmltv", Upload: strings.NewReader(strings.Repeat("x", 101))})
	if !errors.Is(err, importer.ErrTooLarge) {
		t.Fatalf("101-byte upload with a 100-byte limit: %v, want ErrTooLarge", err)
	}
}

// A job whose instance stopped renewing it is failed by the next instance's sweep; the row
// (and what it says) outlives the process.
func TestRun_FailsStaleJobs(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := context.Background()
	row, err := st.CreateImportJob(ctx, store.ImportJob{Kind: "m3u", Origin: "upload: x.m3u", Actor: "root", InstanceID: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	testdb.MustExec(t, st, `UPDATE import_jobs SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`, row.ID)
	r := importer.New(st, slog.New(slog.DiscardHandler), importer.Options{StaleAfter: time.Minute})
	testdb.Go(t, r.Run)
	testdb.Eventually(t, 10*time.Second, "the stale job to fail", func() bool {
		j, _ := r.Job(ctx, row.ID)
		return j.State == store.JobFailed && strings.Contains(j.Error, "instance running it stopped")
	})
}

func wantRefusal(t *testing.T, err, kind error, field string) {
	t.Helper()
	var fe *input.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, kind) || fe.Field != field {
		t.Fatalf("err = %v, want a %v refusal on %q", err, kind, field)
	}
}
