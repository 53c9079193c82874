package admin_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

type gotJob struct {
	ID         int64  `json:"id"`
	Kind       string `json:"kind"`
	State      string `json:"state"`
	Origin     string `json:"origin"`
	BytesRead  int64  `json:"bytes_read"`
	BytesTotal *int64 `json:"bytes_total"`
	Error      string `json:"error"`
	Summary    *struct {
		Added, Updated, Unchanged, Skipped int64
		Skips                              []struct {
			Line   int    `json:"line"`
			Reason string `json:"reason"`
		} `json:"skips"`
		Details map[string]int64 `json:"details"`
	} `json:"summary"`
}

// finished waits for import job r (a 202 answer) to end and returns it.
func (e *env) finished(t *testing.T, a auth, r reply) gotJob {
	t.Helper()
	wantStatus(t, "start import", r, http.StatusAccepted)
	var j gotJob
	r.json(t, &j)
	testdb.Eventually(t, waitLimit, "the import to finish", func() bool {
		e.get(t, a, fmt.Sprintf("/imports/%d", j.ID), &j)
		return j.State == "done" || j.State == "failed"
	})
	return j
}

// playlist serves an M3U over HTTP; set replaces its text.
type playlist struct {
	*httptest.Server
	mu   sync.Mutex
	text string
}

func newPlaylist(t *testing.T, text string) *playlist {
	p := &playlist{text: text}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Write([]byte(p.text))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *playlist) set(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.text = text
}

// TestImports_WhileWatching: a provider playlist imported through the API while a channel of
// it is being watched, then imported again (upload) unchanged, then again with one more
// entry: unchanged entries are never written (same ids, same updated_at, no catalog change
// for the unchanged run), and the open stream plays on through all of it.
func TestImports_WhileWatching(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{cfg: clipMediaDir(t)})
	_, root := e.as(t, accounts.RoleAdmin)
	m3u := "#EXTM3U\n" +
		"#EXTINF:-1 tvg-id=\"clip.tv\" group-title=\"Test\",Clip\n" + clipURL(t) + "\n" +
		"#EXTINF:-1 group-title=\"News\",News One\nhttp://provider.example.com/live/u/p/101.ts\n" +
		"#EXTINF:-1 group-title=\"News\",RTMP\nrtmp://provider.example.com/live/1\n"
	pl := newPlaylist(t, m3u)
	j := e.finished(t, root, e.call(t, http.MethodPost, "/imports", root,
		map[string]any{"kind": "m3u", "url": pl.URL + "/get.php?username=u&password=secret", "bouquet": "Provider"}))
	if j.State != "done" || j.Summary.Added != 2 || j.Summary.Skipped != 1 || j.Summary.Skips[0].Line != 6 ||
		!strings.Contains(j.Summary.Skips[0].Reason, "rtmp") || strings.Contains(j.Origin, "secret") {
		t.Fatalf("first import = %+v %+v", j, j.Summary)
	}
	var lives gotPage[gotLive]
	e.get(t, root, "/live-streams?name=Clip", &lives)
	var bouquets gotPage[struct {
		ID int64 `json:"id"`
	}]
	e.get(t, root, "/bouquets?name=Provider", &bouquets)
	if len(lives.Items) != 1 || len(bouquets.Items) != 1 {
		t.Fatalf("imported streams %+v, bouquets %+v", lives, bouquets)
	}
	clip := lives.Items[0]
	line, pass := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.BouquetIDs = []int64{bouquets.Items[0].ID} })
	e.waitListed(t, e.srv, line.Username, pass, clip.ID)
	v := watch(t, e.srv, line.Username, pass, clip.ID)
	var conns gotPage[gotConnection]
	e.get(t, root, fmt.Sprintf("/connections?line_id=%d", line.ID), &conns)

	// The same playlist again, uploaded: nothing to write, and nothing is (the catalog version,
	// which every write bumps, stays).
	version, err := e.st.CatalogVersion(t.Context())
	must(t, err)
	j = e.finished(t, root, e.call(t, http.MethodPost, "/imports/upload?kind=m3u&bouquet=Provider&file_name=provider.m3u",
		root, []byte(m3u)))
	if j.State != "done" || j.Summary.Added != 0 || j.Summary.Updated != 0 || j.Summary.Unchanged != 2 ||
		j.Origin != "upload: provider.m3u" || j.BytesRead != int64(len(m3u)) {
		t.Fatalf("unchanged import = %+v %+v", j, j.Summary)
	}
	if v2, _ := e.st.CatalogVersion(t.Context()); v2 != version {
		t.Fatalf("an unchanged import wrote: catalog version %d → %d", version, v2)
	}

	// One more entry: it is added and reaches the line; the watched channel is untouched.
	pl.set(m3u + "#EXTINF:-1 group-title=\"News\",News Two\nhttp://provider.example.com/live/u/p/102.ts\n")
	j = e.finished(t, root, e.call(t, http.MethodPost, "/imports", root,
		map[string]any{"kind": "m3u", "url": pl.URL + "/get.php", "bouquet": "Provider"}))
	if j.Summary.Added != 1 || j.Summary.Unchanged != 2 || j.Summary.Details["bouquet_added"] != 1 {
		t.Fatalf("import with a new entry = %+v", j.Summary)
	}
	testdb.Eventually(t, waitLimit, "the new channel in the line's list", func() bool {
		return len(liveIDs(t, e.srv, line.Username, pass)) == 3
	})
	seen := v.bytes.Load()
	testdb.Eventually(t, waitLimit, "the watched stream to go on", func() bool { return v.bytes.Load() > seen+188*100 })
	select {
	case <-v.done:
		t.Fatal("the watched stream ended during the imports")
	default:
	}
	var after gotLive
	e.get(t, root, fmt.Sprintf("/live-streams/%d", clip.ID), &after)
	if after.UpdatedAt != clip.UpdatedAt || after.Sources[0].URL != clip.Sources[0].URL {
		t.Fatalf("the watched channel was written: %+v, was %+v", after, clip)
	}
	if strings.Contains(e.logs(), "secret") {
		t.Fatal("the playlist URL's password reached the log")
	}
	var now gotPage[gotConnection]
	e.get(t, root, fmt.Sprintf("/connections?line_id=%d", line.ID), &now)
	if len(now.Items) != 1 || now.Items[0].ID != conns.Items[0].ID {
		t.Fatalf("connections after the imports = %+v, before %+v", now, conns)
	}
}

func TestImports_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	guide, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xmltv", "guide.xml.gz"))
	must(t, err)
	j := e.finished(t, root, e.call(t, http.MethodPost, "/imports/upload?kind=xmltv", root, guide))
	if j.State != "done" || j.Summary.Added == 0 || j.Summary.Details["channels"] == 0 || *j.BytesTotal != int64(len(guide)) {
		t.Fatalf("xmltv upload = %+v %+v", j, j.Summary)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(guide) }))
	defer up.Close()
	src := e.created(t, root, "/epg-sources", map[string]any{"name": "Guide", "url": up.URL + "/guide.xml.gz"})
	j = e.finished(t, root, e.call(t, http.MethodPost, fmt.Sprintf("/epg-sources/%d/refresh", src), root, nil))
	if j.State != "done" || j.Summary.Unchanged == 0 {
		t.Fatalf("refresh = %+v %+v", j, j.Summary)
	}
	var s struct {
		LastFetchedAt *time.Time `json:"last_fetched_at"`
		LastError     string     `json:"last_error"`
	}
	e.get(t, root, fmt.Sprintf("/epg-sources/%d", src), &s)
	if s.LastFetchedAt == nil || s.LastError != "" {
		t.Fatalf("source after refresh = %+v", s)
	}
	var jobs gotPage[gotJob]
	e.get(t, root, "/imports?limit=1", &jobs)
	if len(jobs.Items) != 1 || jobs.Items[0].ID != j.ID || jobs.NextCursor == nil {
		t.Fatalf("imports page = %+v", jobs)
	}
	big := bytes.Repeat([]byte("#EXTM3U\n"), (960<<10)/8+1) // over the operation's limit, under the server's
	e.wantProblems(t, root, []problemCase{
		{"too large", "POST", "/imports/upload?kind=m3u&bouquet=B", big, 413, ""},
		{"no file", "POST", "/imports/upload?kind=m3u&bouquet=B", nil, 400, ""},
		{"no kind", "POST", "/imports/upload?bouquet=B", "x", 400, "kind"},
		{"m3u needs a bouquet", "POST", "/imports", map[string]any{"kind": "m3u", "url": up.URL}, 400, "bouquet"},
		{"file URL", "POST", "/imports", map[string]any{"kind": "xmltv", "url": "file:///etc/passwd"}, 400, "url"},
		{"unknown import", "GET", "/imports/999", nil, 404, "id"},
		{"refresh unknown", "POST", "/epg-sources/999/refresh", nil, 404, "id"},
		{"same source URL", "POST", "/epg-sources", map[string]any{"name": "Again", "url": up.URL + "/guide.xml.gz"}, 409, "url"},
		{"file source", "POST", "/epg-sources", map[string]any{"name": "F", "url": "file:///etc/passwd"}, 400, "url"},
	})
	wantStatus(t, "rename source", e.call(t, http.MethodPatch, fmt.Sprintf("/epg-sources/%d", src), root,
		map[string]any{"name": "Main guide", "enabled": false}), 200)
	wantStatus(t, "delete source", e.call(t, http.MethodDelete, fmt.Sprintf("/epg-sources/%d", src), root, nil), 204)
}
