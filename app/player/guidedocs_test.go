package player_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// liveServer runs a production server over st on loopback, its catalog following the
// database's changes, with testConfig as tune adjusts it and the clock now (nil: the real one).
func liveServer(t *testing.T, st *store.Store, now func() time.Time, tune func(*config.Config)) string {
	t.Helper()
	cfg := testConfig()
	if tune != nil {
		tune(&cfg)
	}
	srv, err := server.New(context.Background(), server.Deps{Config: cfg, Log: logx.New(io.Discard, "text", slog.LevelInfo),
		Store: st, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, srv, ln, 20*time.Second)
	return "http://" + ln.Addr().String()
}

// guideServer is liveServer with the guide budget given (0: the default).
func guideServer(t *testing.T, st *store.Store, now func() time.Time, guideBytes int64) string {
	return liveServer(t, st, now, func(c *config.Config) { c.GuideCacheBytes = guideBytes })
}

// guideOf downloads the guide of user at base with the Accept-Encoding given and returns the
// document (decompressed when it came compressed) and the response.
func guideOf(t *testing.T, c *http.Client, base, user, pass, acceptEncoding string, extra ...string) ([]byte, *http.Response) {
	t.Helper()
	resp, body := fetchEncoded(t, c, base+api("/xmltv.php", append([]string{"username", user, "password", pass}, extra...)...), acceptEncoding)
	if resp.StatusCode != 200 {
		t.Fatalf("xmltv.php of %s: status %d", user, resp.StatusCode)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" || resp.Header.Get("Content-Type") == "application/octet-stream" {
		body = testkit.Gunzip(t, body)
	}
	return body, resp
}

// TestXMLTV_SharedDocument: lines of the same bouquets share one guide document, exported at
// the first download and kept until something that shapes it changes: the guide (any write to
// the programmes bumps the EPG version), the catalog (a stream's name), or the hour (the window
// moves). The proof that a download is served from the kept document: a programme edited with
// the tables' triggers off (no new EPG version) stays invisible to the lines of that bouquet
// set, while a line of other bouquets, exported afresh, sees it. Kept documents go out with
// their Content-Length, and HEAD requests give their download slot back.
func TestXMLTV_SharedDocument(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	retainOnly(t, f.st)
	var clock atomic.Int64
	clock.Store(fixedNow.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	base := guideServer(t, f.st, now, 0)
	c := testClient(t, 1)

	alice, resp := guideOf(t, c, base, "alice", alicePass, "identity")
	requireWellFormedXML(t, alice)
	if resp.ContentLength != int64(len(alice)) || resp.Header.Get("Transfer-Encoding") != "" {
		t.Errorf("kept document: Content-Length %d for %d bytes", resp.ContentLength, len(alice))
	}
	for _, ae := range []string{"gzip", ""} { // encoded, and the gzip file
		extra := []string{}
		if ae == "" {
			extra = []string{"gzip", "1"}
		}
		if doc, resp := guideOf(t, c, base, "alice", alicePass, ae, extra...); !bytes.Equal(doc, alice) {
			t.Errorf("Accept-Encoding %q %v: another document", ae, extra)
		} else if n, _ := strconv.Atoi(resp.Header.Get("Content-Length")); n == 0 {
			t.Errorf("Accept-Encoding %q %v: no Content-Length", ae, extra)
		}
	}

	// Edited behind the EPG version's back: frank (Main, like alice) gets alice's document as
	// it was, bob (Extra and Main) a fresh export that shows the edit.
	quietly(t, f.st, `UPDATE epg_programmes SET title = 'Edited Quietly' WHERE channel_id = 'news1.test' AND title = 'Café Übersicht'`)
	if frank, _ := guideOf(t, c, base, "frank", otherPass, "identity"); !bytes.Equal(frank, alice) {
		t.Fatalf("frank's guide is not alice's kept document:\n%s", clip(frank))
	}
	if bob, _ := guideOf(t, c, base, "bob", bobPass, "identity"); !bytes.Contains(bob, []byte("Edited Quietly")) {
		t.Fatalf("bob's guide, exported after the edit, does not show it:\n%s", bob)
	}

	// An ordinary write bumps the EPG version: the next download is the guide as it is now.
	testdb.MustExec(t, f.st, `UPDATE epg_programmes SET title = 'Edited Openly' WHERE channel_id = 'news1.test' AND title = 'Edited Quietly'`)
	if doc, _ := guideOf(t, c, base, "alice", alicePass, "identity"); !bytes.Contains(doc, []byte("Edited Openly")) {
		t.Fatal("the guide after an EPG change still is the kept document")
	}

	// A catalog change (the stream's name is the channel's display-name) is a new document
	// once the server serves the new catalog.
	testdb.MustExec(t, f.st, `UPDATE streams SET name = 'News Prime' WHERE name = 'News One'`)
	testdb.Eventually(t, 10*time.Second, "the renamed stream in the guide", func() bool {
		doc, _ := guideOf(t, c, base, "alice", alicePass, "identity")
		return bytes.Contains(doc, []byte("<display-name>News Prime</display-name>"))
	})

	// The window is whole hours: at 13:45 with no days either side, 13:00 to 14:00, so the
	// 13:00 programme and not the 14:00 one; at 14:10 the other way round.
	window := []string{"prev_days", "0", "next_days", "0"}
	doc, _ := guideOf(t, c, base, "alice", alicePass, "identity", window...)
	if !bytes.Contains(doc, []byte("Edited Openly")) || bytes.Contains(doc, []byte("Afternoon")) {
		t.Fatalf("guide of 13:00–14:00:\n%s", clip(doc))
	}
	clock.Store(fixedNow.Add(25 * time.Minute).UnixNano())
	doc, _ = guideOf(t, c, base, "alice", alicePass, "identity", window...)
	if bytes.Contains(doc, []byte("Edited Openly")) || !bytes.Contains(doc, []byte("Afternoon")) {
		t.Fatalf("guide of 14:00–15:00:\n%s", clip(doc))
	}

	// What /metrics says: every download so far served from a kept document, and the exports
	// that made them (alice's first, bob's, after the guide's change, after the rename, the
	// two windows of the last step; the Eventually loop may have asked before the new catalog).
	resp, metrics := fetchEncoded(t, c, base+"/metrics", "identity")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{`xtreamd_guide_downloads_total{from="export"} 0`, `xtreamd_guide_exports_total{result="failed"} 0`,
		`xtreamd_guide_exports_total{result="too_large"} 0`} {
		if !bytes.Contains(metrics, []byte(want+"\n")) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n := metricOf(t, metrics, `xtreamd_guide_exports_total{result="kept"}`); n < 6 {
		t.Errorf("%v exports kept, want at least 6", n)
	}
	if n := metricOf(t, metrics, `xtreamd_guide_downloads_total{from="kept"}`); n < 9 {
		t.Errorf("%v downloads from kept documents, want at least 9", n)
	}
	if n := metricOf(t, metrics, `xtreamd_guide_document_bytes`); n <= 0 {
		t.Errorf("xtreamd_guide_document_bytes %v", n)
	}

	// HEAD sends no body; the slot it took is given back (alice may run 2 downloads at once).
	for range config.DefaultDownloadsPerLine + 1 {
		req, _ := http.NewRequest(http.MethodHead, base+api("/xmltv.php", "username", "alice", "password", alicePass), nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("HEAD xmltv.php = %d", resp.StatusCode)
		}
	}
}

// metricOf is the value of the sample named series in a Prometheus text exposition.
func metricOf(t *testing.T, exposition []byte, series string) float64 {
	t.Helper()
	for line := range bytes.Lines(exposition) {
		if rest, ok := bytes.CutPrefix(line, []byte(series+" ")); ok {
			v, err := strconv.ParseFloat(string(bytes.TrimSpace(rest)), 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return v
		}
	}
	t.Fatalf("/metrics has no %s", series)
	return 0
}

// retainOnly deletes the fixture's programmes that a running server's retention sweep would
// (ended over 8 days before fixedNow), so that the sweep at its start deletes nothing: its
// delete would bump the EPG version at a moment of its own and make a new document.
func retainOnly(t *testing.T, st *store.Store) {
	t.Helper()
	testdb.MustExec(t, st, `DELETE FROM epg_programmes WHERE stop_at < $1`, fixedNow.Add(-8*24*time.Hour))
}

// quietly runs sql with the tables' triggers off, so that it bumps no change version.
func quietly(t *testing.T, st *store.Store, sql string) {
	t.Helper()
	ctx := t.Context()
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestXMLTV_KeptMatchesExported: a server keeping no guides exports every download itself; it
// answers every form with the same document as a server serving kept ones.
func TestXMLTV_KeptMatchesExported(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	retainOnly(t, f.st)
	now := func() time.Time { return fixedNow }
	kept, exported := guideServer(t, f.st, now, 0), guideServer(t, f.st, now, -1)
	c := testClient(t, 1)
	for _, user := range []struct{ name, pass string }{{"alice", alicePass}, {"bob", bobPass}} {
		for _, form := range []struct {
			acceptEncoding string
			extra          []string
		}{{"identity", nil}, {"gzip", nil}, {"", []string{"gzip", "1"}}, {"identity", []string{"next_days", "14"}}} {
			want, resp := guideOf(t, c, exported, user.name, user.pass, form.acceptEncoding, form.extra...)
			if resp.ContentLength >= 0 {
				t.Errorf("the exporting server sent a Content-Length: did it keep the guide?")
			}
			got, _ := guideOf(t, c, kept, user.name, user.pass, form.acceptEncoding, form.extra...)
			if !bytes.Equal(got, want) {
				t.Errorf("%s %q %v: the kept document differs from the export:\n%s\n---\n%s", user.name,
					form.acceptEncoding, form.extra, clip(got), clip(want))
			}
		}
	}
}
