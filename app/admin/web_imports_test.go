package admin_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// upload posts form and a file field named file (name, data) as multipart/form-data, with the
// last page's CSRF token, as a browser posts the imports form.
func (b *browser) upload(path string, form url.Values, name string, data []byte) webPage {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	form = cloneForm(form)
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", b.csrf)
	}
	for k, vals := range form {
		for _, v := range vals {
			must(b.t, mw.WriteField(k, v))
		}
	}
	fw, err := mw.CreateFormFile("file", name)
	must(b.t, err)
	_, err = fw.Write(data)
	must(b.t, err)
	must(b.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.base+path, &body)
	must(b.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var importPathRE = regexp.MustCompile(`^/admin/imports/(\d+)$`)

// importStarted is the job page a started import redirected to (failing the test otherwise).
func importStarted(t *testing.T, what string, p webPage) string {
	t.Helper()
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || !importPathRE.MatchString(loc) {
		t.Fatalf("%s = %d (Location %q)\n%s", what, p.status, loc, p.body)
	}
	return loc
}

// importEnded waits for the job page at path to show the job ended and returns its progress
// block as the page's script fetches it.
func importEnded(t *testing.T, b *browser, path string) webPage {
	t.Helper()
	var p webPage
	testdb.Eventually(t, waitLimit, "the import to end", func() bool {
		p = b.get(path + "/progress")
		return p.status == http.StatusOK && strings.Contains(p.body, "data-final")
	})
	return p
}

func TestWebImports(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	wantPage(t, "imports page", b.get("/admin/imports"), http.StatusOK, `enctype="multipart/form-data"`, `for="f-file"`,
		`for="f-url"`, "No imports yet.")

	// Refusals, each next to its field: what the REST operations refuse, and the page's own.
	wantFieldError(t, "neither URL nor file", b.post("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"B"}}),
		http.StatusBadRequest, "url")
	wantFieldError(t, "no bouquet", b.post("/admin/imports", url.Values{"kind": {"m3u"}, "url": {"http://x.example.com/a.m3u"}}),
		http.StatusBadRequest, "bouquet")
	wantFieldError(t, "file URL", b.post("/admin/imports", url.Values{"kind": {"xmltv"}, "url": {"file:///etc/passwd"}}),
		http.StatusBadRequest, "url")
	wantFieldError(t, "both", b.upload("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"B"}, "url": {"http://x.example.com/a"}},
		"a.m3u", []byte("#EXTM3U\n")), http.StatusBadRequest, "file")
	big := bytes.Repeat([]byte("#EXTM3U\n"), (960<<10)/8+1)
	wantFieldError(t, "too large", b.upload("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"B"}}, "big.m3u", big),
		http.StatusRequestEntityTooLarge, "file")
	p := b.upload("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {xssImg}}, "p.m3u", []byte("#EXTM3U\n"))
	if p.status != http.StatusSeeOther {
		t.Fatalf("an upload with a hostile bouquet name = %d\n%s", p.status, p.body)
	}
	p = b.upload("/admin/imports", url.Values{"kind": {"sql"}}, "p.m3u", []byte("x"))
	wantFieldError(t, "bad kind", p, http.StatusBadRequest, "kind")
	if !strings.Contains(p.body, `<option value="m3u"`) {
		t.Fatal("a refused upload lost its form")
	}

	// An uploaded playlist with a hostile name, an entry the importer skips and why.
	m3u := "#EXTM3U\n#EXTINF:-1 group-title=\"News\"," + xssScript + "\nhttp://provider.example.com/live/1.ts\n" +
		"#EXTINF:-1,RTMP\nrtmp://provider.example.com/live/1\n"
	job := importStarted(t, "upload", b.upload("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"Provider"}},
		xssImg+".m3u", []byte(m3u)))
	wantPage(t, "job page", b.get(job), http.StatusOK, `id="import-progress"`, "M3U playlist", "Provider")
	p = importEnded(t, b, job)
	wantPage(t, "ended", p, http.StatusOK, "done", "Skipped, and why", "rtmp", `<span class="n">1</span><span class="k">added</span>`)
	p = b.get(job)
	wantPage(t, "ended job page", p, http.StatusOK, "upload: &#34;&gt;&lt;img src=x")
	if strings.Contains(p.body, "data-refresh") || strings.Contains(p.body, "<img src=x") {
		t.Fatalf("an ended job's page still refreshes, or the file name is not escaped:\n%s", p.body)
	}
	p = b.get("/admin/imports/rows")
	wantPage(t, "rows", p, http.StatusOK, "1 added, 0 updated, 1 skipped")
	if strings.Contains(p.body, "<html") {
		t.Fatal("the rows are not a partial")
	}
	wantPage(t, "unknown job", b.get("/admin/imports/99999"), http.StatusNotFound)

	// By URL.
	pl := newPlaylist(t, m3u)
	job = importStarted(t, "by URL", b.post("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"Provider"},
		"url": {pl.URL + "/get.php?username=u&password=secret"}}))
	p = importEnded(t, b, job)
	wantPage(t, "by URL, ended", p, http.StatusOK, `<span class="n">1</span><span class="k">unchanged</span>`)
	if strings.Contains(b.get(job).body, "secret") {
		t.Fatal("the job page shows the URL's credentials")
	}

	vb, _ := e.webAs(t, accounts.RoleViewer)
	p = vb.get("/admin/imports")
	wantPage(t, "viewer's list", p, http.StatusOK, "1 added")
	if strings.Contains(p.body, `action="/admin/imports"`) {
		t.Fatal("a viewer is offered the import form")
	}
	wantPage(t, "viewer's job page", vb.get(job), http.StatusOK, "done")
	wantPage(t, "viewer imports", vb.post("/admin/imports", url.Values{"kind": {"m3u"}, "bouquet": {"B"}, "url": {pl.URL}}),
		http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller", rb.get("/admin/imports"), http.StatusForbidden)
	wantPage(t, "reseller's job page", rb.get(job), http.StatusForbidden)
	wantPage(t, "no CSRF token", b.post("/admin/imports", url.Values{"_csrf": {""}, "kind": {"m3u"}}), http.StatusForbidden)
}

func TestWebEPGSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	guide, err := os.ReadFile(filepath.Join("..", "..", "testdata", "xmltv", "guide.xml.gz"))
	must(t, err)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(guide) }))
	defer up.Close()
	b, _ := e.webAs(t, accounts.RoleAdmin)
	wantPage(t, "empty", b.get("/admin/epg"), http.StatusOK, "No EPG sources yet.", `for="f-url"`)
	wantFieldError(t, "no name", b.post("/admin/epg", url.Values{"url": {up.URL}}), http.StatusBadRequest, "name")
	p := b.post("/admin/epg", url.Values{"name": {"F"}, "url": {"file:///etc/passwd"}})
	wantFieldError(t, "file URL", p, http.StatusBadRequest, "url")
	if !strings.Contains(p.body, `value="F"`) {
		t.Fatal("the refused source lost what was typed")
	}
	if p := b.post("/admin/epg", url.Values{"name": {xssScript}, "url": {up.URL + "/guide.xml.gz"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add = %d\n%s", p.status, p.body)
	}
	wantFieldError(t, "same URL", b.post("/admin/epg", url.Values{"name": {"Again"}, "url": {up.URL + "/guide.xml.gz"}}),
		http.StatusConflict, "url")
	p = b.get("/admin/epg")
	wantPage(t, "list", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "never", "Refresh now")
	if strings.Contains(p.body, xssScript) {
		t.Fatal("the source's name is not escaped")
	}
	m := regexp.MustCompile(`href="/admin/epg/(\d+)"`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no source link:\n%s", p.body)
	}
	src := "/admin/epg/" + m[1]
	wantPage(t, "source page", b.get(src), http.StatusOK, `name="enabled"`, "Remove the source")

	// Refresh now: the import job's page, watched to its end; the source says when it was fetched.
	job := importStarted(t, "refresh", b.post(src+"/refresh", url.Values{}))
	wantPage(t, "refreshed", importEnded(t, b, job), http.StatusOK, "done", "added", "programmes")
	wantPage(t, "job page", b.get(job), http.StatusOK, "XMLTV guide", fmt.Sprintf(`href="/admin/epg/%s"`, m[1]))
	if strings.Contains(b.get(src).body, "never") {
		t.Fatal("the refreshed source was never fetched")
	}

	wantFieldError(t, "bad URL", b.post(src, url.Values{"_fields": {"name url enabled"}, "name": {"G"}, "url": {"gopher://x"}}),
		http.StatusBadRequest, "url")
	if p := b.post(src, url.Values{"_fields": {"name url enabled"}, "name": {"Guide"}, "url": {up.URL + "/guide.xml.gz"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", p.status, p.body)
	}
	list, err := e.st.EPGSources(t.Context(), false)
	must(t, err)
	if len(list) != 1 || list[0].Name != "Guide" || list[0].Enabled {
		t.Fatalf("saved sources = %+v", list)
	}

	vb, _ := e.webAs(t, accounts.RoleViewer)
	p = vb.get("/admin/epg")
	wantPage(t, "viewer's list", p, http.StatusOK, "Guide")
	if strings.Contains(p.body, "/refresh\"") || strings.Contains(p.body, `action="/admin/epg"`) {
		t.Fatalf("a viewer is offered changes:\n%s", p.body)
	}
	wantPage(t, "viewer refreshes", vb.post(src+"/refresh", url.Values{}), http.StatusForbidden)
	wantPage(t, "viewer adds", vb.post("/admin/epg", url.Values{"name": {"X"}, "url": {up.URL + "/x"}}), http.StatusForbidden)
	wantPage(t, "viewer's source page", vb.get(src), http.StatusOK, "Guide")
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller", rb.get("/admin/epg"), http.StatusForbidden)
	wantPage(t, "unknown", b.get("/admin/epg/99999"), http.StatusNotFound)
	wantDeleted(t, b, src)
}
