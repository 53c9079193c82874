package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/demo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// secretTree is a data directory as `serve` keeps it (a token secret, a private cluster with a
// file that is valid MPEG-TS, so a refusal is not merely "not a TS file"), a media directory
// with a movie and links planted in it, and a file outside both.
type secretTree struct {
	data, media, secretPath, pgClip, outside string
	secret                                   []byte
}

func newSecretTree(t *testing.T) secretTree {
	t.Helper()
	root := t.TempDir()
	tr := secretTree{data: filepath.Join(root, "data"), media: filepath.Join(root, "media"),
		outside: filepath.Join(root, "elsewhere", "other.ts"),
		secret:  []byte("0123456789abcdef-the-token-signing-secret-0123456789abcdef\n")}
	tr.secretPath = filepath.Join(tr.data, "token-secret")
	tr.pgClip = filepath.Join(tr.data, "postgres", "base.ts")
	for _, d := range []string{tr.media, filepath.Dir(tr.pgClip), filepath.Dir(tr.outside)} {
		must(t, os.MkdirAll(d, 0o755))
	}
	ts := testmedia.Clip(t)
	must(t, os.WriteFile(tr.secretPath, tr.secret, 0o600))
	must(t, os.WriteFile(tr.pgClip, ts, 0o600))
	must(t, os.WriteFile(tr.outside, ts, 0o644))
	must(t, os.WriteFile(filepath.Join(tr.media, "movie.ts"), ts, 0o644))
	must(t, os.Symlink(tr.secretPath, filepath.Join(tr.media, "secret.ts")))
	must(t, os.Symlink(tr.outside, filepath.Join(tr.media, "outside.ts")))
	must(t, os.Symlink(tr.pgClip, filepath.Join(tr.media, "pg.ts")))
	return tr
}

// cfg narrows the server's media dirs to the tree's and names its data dir.
func (tr secretTree) cfg(c *config.Config) { c.DataDir, c.MediaDirs = tr.data, []string{tr.media} }

// TestImportedCatchupSource_TokenSecret is the reported hole: an M3U entry whose
// catchup-source names the token secret. `xtreamd import m3u` (the importer with the media
// rule of server.MediaFiles) skips it, saying why; and imported without that rule, as an
// older import did, /timeshift still refuses to open it.
func TestImportedCatchupSource_TokenSecret(t *testing.T) {
	t.Parallel()
	tr := newSecretTree(t)
	pl := "#EXTM3U\n" +
		`#EXTINF:-1 tvg-id="x" catchup-days="1" catchup-source="file://` + tr.secretPath + `",Evil` + "\n" +
		"http://provider.example/live/u/p/evil.ts\n"
	var checked, unchecked catalog.M3USummary
	e := setup(t, envOpts{cfg: tr.cfg, extra: func(t *testing.T, e *env) {
		c := config.Config{DataDir: tr.data, MediaDirs: []string{tr.media}}
		files, err := server.MediaFiles(c)
		must(t, err)
		checked, err = catalog.ImportM3U(context.Background(), e.st, strings.NewReader(pl),
			catalog.M3UOptions{Bouquet: "Main", Files: files})
		must(t, err)
		unchecked, err = catalog.ImportM3U(context.Background(), e.st, strings.NewReader(pl),
			catalog.M3UOptions{Bouquet: "Main"})
		must(t, err)
	}})
	if checked.Added != 0 || len(checked.Skipped) != 1 ||
		checked.Skipped[0].String() != "line 2: catchup-source refused: file outside the media directories" {
		t.Errorf("import with the media rule = %+v, want the entry skipped for its catchup-source", checked)
	}
	if unchecked.Added != 1 {
		t.Fatalf("import without the media rule = %+v, want the entry added (serving must refuse it)", unchecked)
	}
	var id int64
	d, err := e.st.LoadCatalog(context.Background())
	must(t, err)
	for _, st := range d.Streams {
		if st.Name == "Evil" {
			id = st.ID
		}
	}
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour).Format("2006-01-02:15-04")
	code, _, body := do(t, http.MethodGet, e.url("/timeshift/%s/%s/60/%s/%d.ts", e.line.Username, e.pass, start, id), nil)
	if code != http.StatusBadGateway || bytes.Contains(body, tr.secret[:32]) {
		t.Fatalf("timeshift of the imported entry = %d with %d bytes (secret in body: %v), want 502 empty",
			code, len(body), bytes.Contains(body, tr.secret[:32]))
	}
	if !strings.Contains(e.logs.String(), "vod file refused") {
		t.Errorf("no log line says the file was refused:\n%s", e.logs.String())
	}
	eventually(t, "no lease left", func() bool { return e.leases() == 0 })
}

// TestLocalSources_Escape: rows written without the importer's check (by SQL, by an older
// version) still cannot make a movie, a catch-up recording or a live channel read a file
// outside the media dir or inside the data dir: not by path, "..", a planted link, or a link
// into the cluster; the media dir's own movie plays (the control).
func TestLocalSources_Escape(t *testing.T) {
	t.Parallel()
	tr := newSecretTree(t)
	srcs := []struct {
		name, url string
		ok        bool
	}{
		{"movie in the media dir", "file://" + filepath.Join(tr.media, "movie.ts"), true},
		{"token secret", "file://" + tr.secretPath, false},
		{"cluster file", "file://" + tr.pgClip, false},
		{"file outside", "file://" + tr.outside, false},
		{"dot-dot", "file://" + tr.media + "/../data/token-secret", false},
		{"link to the token secret", "file://" + filepath.Join(tr.media, "secret.ts"), false},
		{"link outside", "file://" + filepath.Join(tr.media, "outside.ts"), false},
		{"link into the cluster", "file://" + filepath.Join(tr.media, "pg.ts"), false},
	}
	movies, shifts, lives := make([]int64, len(srcs)), make([]int64, len(srcs)), make([]int64, len(srcs))
	e := setup(t, envOpts{cfg: tr.cfg, extra: func(t *testing.T, e *env) {
		ctx := context.Background()
		ts := "ts"
		for i, s := range srcs {
			var err error
			movies[i], err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "M " + s.name,
				ContainerExtension: &ts, Sources: []store.Source{{URL: s.url}}})
			must(t, err)
			tpl := s.url
			shifts[i], err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "S " + s.name,
				TVArchiveDays: 1, CatchupSource: &tpl, Sources: []store.Source{{URL: e.origin.URL + "/s.ts"}}})
			must(t, err)
			lives[i], err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "L " + s.name,
				Sources: []store.Source{{URL: s.url, Kind: store.SourceFile}}})
			must(t, err)
			_, err = e.st.AppendBouquetStreams(ctx, e.bouquet, []int64{movies[i], shifts[i], lives[i]})
			must(t, err)
		}
	}})
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour).Format("2006-01-02:15-04")
	cred := e.line.Username + "/" + e.pass
	for i, s := range srcs {
		for _, route := range []struct{ kind, path string }{
			{"movie", "/movie/" + cred + "/" + itoa(movies[i]) + ".ts"},
			{"catch-up", "/timeshift/" + cred + "/60/" + start + "/" + itoa(shifts[i]) + ".ts"},
			{"live", "/live/" + cred + "/" + itoa(lives[i]) + ".ts"},
		} {
			t.Run(s.name+" "+route.kind, func(t *testing.T) {
				t.Parallel()
				code, body := getSome(t, e.base+route.path, 64<<10)
				switch {
				case bytes.Contains(body, tr.secret[:32]):
					t.Fatalf("GET %s answered the token secret", route.kind)
				case s.ok && (code != http.StatusOK || len(body) == 0):
					t.Fatalf("GET %s = %d with %d bytes, want 200 and the file", route.kind, code, len(body))
				case !s.ok && (code == http.StatusOK || len(body) != 0):
					t.Fatalf("GET %s = %d with %d bytes, want a refusal with no body", route.kind, code, len(body))
				}
			})
		}
		// HEAD never reports the size of a file it would not serve.
		req, err := http.NewRequest(http.MethodHead, e.base+"/movie/"+cred+"/"+itoa(movies[i])+".ts", nil)
		must(t, err)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if got := resp.Header.Get("Accept-Ranges") != ""; got != s.ok {
			t.Errorf("HEAD movie %s: Accept-Ranges set = %v, want %v (Content-Length %d)", s.name, got, s.ok, resp.ContentLength)
		}
	}
}

// getSome GETs url and reads at most n bytes of the body (a live channel never ends).
func getSome(t *testing.T, url string, n int64) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	must(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, n))
	return resp.StatusCode, b
}

// stalled is an upstream that sends the headers of a 64 MiB movie and 64 KiB of it, then
// nothing until its request ends; ended is closed when it does.
type stalled struct {
	*httptest.Server
	ended chan struct{}
}

func newStalled(t *testing.T) *stalled {
	s := &stalled{ended: make(chan struct{})}
	var once atomic.Bool
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(64<<20))
		_, _ = w.Write(make([]byte, 64<<10))
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		if once.CompareAndSwap(false, true) {
			close(s.ended)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// stalledMovie sets up a server whose movie's upstream stalls after 64 KiB.
func stalledMovie(t *testing.T, cfg func(*config.Config)) (*env, *stalled, int64) {
	up := newStalled(t)
	var id int64
	e := setup(t, envOpts{cfg: cfg, extra: func(t *testing.T, e *env) {
		mkv := "mkv"
		var err error
		id, err = e.st.CreateStream(context.Background(), store.StreamInput{Kind: store.KindMovie, Name: "Stalled",
			ContainerExtension: &mkv, Sources: []store.Source{{URL: up.URL + "/movie.mkv"}}})
		must(t, err)
		_, err = e.st.AppendBouquetStreams(context.Background(), e.bouquet, []int64{id})
		must(t, err)
	}})
	return e, up, id
}

// bodyEnds reads the rest of resp's body in the background and reports when it ended.
func bodyEnds(resp *http.Response) <-chan time.Time {
	ended := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		ended <- time.Now()
	}()
	return ended
}

// TestVOD_UpstreamIdle: an upstream that stops sending ends the response after the idle
// timeout, with a log line saying so, and the slot is freed.
func TestVOD_UpstreamIdle(t *testing.T) {
	t.Parallel()
	e, up, id := stalledMovie(t, func(c *config.Config) { c.UpstreamIdleTimeout = 300 * time.Millisecond })
	resp := openStream(t, e.url("/movie/%s/%s/%d.mkv", e.line.Username, e.pass, id))
	readN(t, resp.Body, 64<<10)
	select {
	case <-bodyEnds(resp):
	case <-time.After(waitLimit):
		t.Fatal("the response outlived its silent upstream")
	}
	select {
	case <-up.ended:
	case <-time.After(waitLimit):
		t.Fatal("the upstream request was not ended")
	}
	eventually(t, "the vod lease released", func() bool { return e.leases() == 0 })
	eventually(t, "the idle end logged", func() bool {
		l := e.logs.String()
		return strings.Contains(l, "vod upstream idle") && strings.Contains(l, "reason=upstream_idle")
	})
}

// TestVOD_KillUnblocksStalledUpstream: a kill ends a movie whose upstream went silent, ending
// the upstream request too (before, the handler stopped watching the lease once the upstream's
// headers came, and the read stayed blocked until the upstream spoke again).
func TestVOD_KillUnblocksStalledUpstream(t *testing.T) {
	t.Parallel()
	e, up, id := stalledMovie(t, nil) // default idle timeout: 30 s
	resp := openStream(t, e.url("/movie/%s/%s/%d.mkv", e.line.Username, e.pass, id))
	readN(t, resp.Body, 64<<10)
	rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
	must(t, err)
	if len(rows) != 1 {
		t.Fatalf("leases = %+v, want one", rows)
	}
	ended := bodyEnds(resp)
	start := time.Now()
	must(t, conns.New(e.st, conns.Options{InstanceID: "other"}, nil).Kill(context.Background(), rows[0].ID))
	// The kill reaches this instance by NOTIFY (or, if the listener was not connected yet, at
	// the next heartbeat, 10 s): either way well before the 30 s idle timeout would end it.
	select {
	case at := <-ended:
		t.Logf("the movie ended %v after the kill", at.Sub(start).Round(time.Millisecond))
	case <-time.After(waitLimit):
		t.Fatal("the movie kept its stalled upstream after the kill")
	}
	select {
	case <-up.ended:
	case <-time.After(waitLimit):
		t.Fatal("the upstream request was not ended by the kill")
	}
	eventually(t, "the vod lease released", func() bool { return e.leases() == 0 })
}

// TestUpstreamRedirect_Loopback: a provider URL that redirects to 127.0.0.1 is refused for a
// movie, a catch-up recording and a live channel (the target is never asked), unless
// --upstream-private-redirects allows it. The sources themselves are loopback URLs, which an
// operator may configure.
func TestUpstreamRedirect_Loopback(t *testing.T) {
	t.Parallel()
	for _, allow := range []bool{false, true} {
		t.Run("private redirects "+strconv.FormatBool(allow), func(t *testing.T) {
			t.Parallel()
			var targetHits atomic.Int64
			data := testmedia.Clip(t)
			target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				targetHits.Add(1)
				w.Header().Set("Content-Type", "video/mp2t")
				if r.URL.Path == "/live.ts" {
					newLoop(data).serve(r.Context(), w, 4)
					return
				}
				_, _ = w.Write(data)
			}))
			t.Cleanup(target.Close)
			redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
			}))
			t.Cleanup(redir.Close)
			var movie, shift, live int64
			e := setup(t, envOpts{cfg: func(c *config.Config) { c.UpstreamPrivateRedirects = allow },
				extra: func(t *testing.T, e *env) {
					ctx := context.Background()
					ts := "ts"
					var err error
					movie, err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "R movie",
						ContainerExtension: &ts, Sources: []store.Source{{URL: redir.URL + "/movie.ts"}}})
					must(t, err)
					tpl := redir.URL + "/rec/{start_unix}.ts"
					shift, err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "R shift",
						TVArchiveDays: 1, CatchupSource: &tpl, Sources: []store.Source{{URL: e.origin.URL + "/x.ts"}}})
					must(t, err)
					live, err = e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "R live",
						Sources: []store.Source{{URL: redir.URL + "/live.ts", Kind: store.SourceTS}}})
					must(t, err)
					_, err = e.st.AppendBouquetStreams(ctx, e.bouquet, []int64{movie, shift, live})
					must(t, err)
				}})
			start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour).Format("2006-01-02:15-04")
			cred := e.line.Username + "/" + e.pass
			for _, path := range []string{
				"/movie/" + cred + "/" + itoa(movie) + ".ts",
				"/timeshift/" + cred + "/60/" + start + "/" + itoa(shift) + ".ts",
				"/live/" + cred + "/" + itoa(live) + ".ts",
			} {
				code, body := getSome(t, e.base+path, 188*100)
				if allow && (code != http.StatusOK || len(body) == 0) {
					t.Errorf("GET %s with private redirects allowed = %d, %d bytes; want 200", path, code, len(body))
				}
				if !allow && (code != http.StatusBadGateway || len(body) != 0) {
					t.Errorf("GET %s through a redirect to 127.0.0.1 = %d, %d bytes; want 502 empty", path, code, len(body))
				}
			}
			if n := targetHits.Load(); !allow && n != 0 {
				t.Errorf("the loopback target was asked %d times", n)
			}
			eventually(t, "no lease left", func() bool { return e.leases() == 0 })
		})
	}
}

// TestDemoClip: the demo clip lies inside the data dir; `serve --demo` serves it (its
// directory is allowed automatically), a server without --demo does not.
func TestDemoClip(t *testing.T) {
	t.Parallel()
	for _, on := range []bool{true, false} {
		t.Run("demo "+strconv.FormatBool(on), func(t *testing.T) {
			t.Parallel()
			data := t.TempDir()
			var bouquet int64
			e := setup(t, envOpts{
				cfg: func(c *config.Config) { c.DataDir, c.Demo, c.MediaDirs = data, on, nil },
				extra: func(t *testing.T, e *env) {
					var err error
					bouquet, err = demo.LoadCatalog(context.Background(), e.st, demo.Options{DataDir: data})
					must(t, err)
				},
			})
			line, pass := e.newLine(func(in *store.LineInput) { in.BouquetIDs = []int64{bouquet} })
			d, err := e.st.LoadCatalog(context.Background())
			must(t, err)
			var movie, live int64
			snap := catalog.Build(d, catalog.BuildOptions{})
			ent := snap.Entitlement([]int64{bouquet})
			movie, live = ent.VOD(0)[0].ID, ent.Live(0)[0].ID
			for _, path := range []string{
				fmt.Sprintf("/movie/%s/%s/%d.ts", line.Username, pass, movie),
				fmt.Sprintf("/live/%s/%s/%d.ts", line.Username, pass, live),
			} {
				code, body := getSome(t, e.base+path, 188*100)
				if on && (code != http.StatusOK || len(body) == 0) {
					t.Errorf("GET %s with --demo = %d, %d bytes; want the clip", path, code, len(body))
				}
				if !on && (code == http.StatusOK || len(body) != 0) {
					t.Errorf("GET %s without --demo or media dirs = %d, %d bytes; want a refusal", path, code, len(body))
				}
			}
		})
	}
}
