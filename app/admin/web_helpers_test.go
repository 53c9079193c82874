package admin_test

// The web page's server-side test kit: a browser-like client (cookie jar, no redirects
// followed) that logs in through the login form and posts forms with the page's CSRF token.

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// browser is one user agent with its cookies.
type browser struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string // the last page's form token
}

// webPage is an answer of the web page.
type webPage struct {
	status int
	header http.Header
	body   string
}

func (e *env) browser(t testing.TB) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(hc.CloseIdleConnections)
	return &browser{t: t, base: e.srv.base, hc: hc}
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) webPage {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(b.t, err)
	p := webPage{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = html.UnescapeString(m[1])
	}
	return p
}

// get loads path (under the server).
func (b *browser) get(path string) webPage {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	must(b.t, err)
	return b.do(req)
}

// post submits form to path with the last page's CSRF token (unless form has its own _csrf).
func (b *browser) post(path string, form url.Values) webPage {
	b.t.Helper()
	if _, ok := form["_csrf"]; !ok {
		form = cloneForm(form)
		form.Set("_csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	must(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func cloneForm(f url.Values) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// login logs a in through the login form and fails the test unless it lands on the panel.
func (b *browser) login(a account) {
	b.t.Helper()
	b.get("/admin/login")
	p := b.post("/admin/login", url.Values{"username": {a.username}, "password": {a.password}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/admin/" {
		b.t.Fatalf("web login %s = %d (Location %q)\n%s", a.username, p.status, p.header.Get("Location"), p.body)
	}
	b.get("/admin/") // the panel's CSRF token
}

// wantPage fails unless p has status want and contains every one of texts.
func wantPage(t testing.TB, what string, p webPage, want int, texts ...string) {
	t.Helper()
	if p.status != want {
		t.Fatalf("%s = %d, want %d\n%s", what, p.status, want, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) {
			t.Fatalf("%s: page lacks %q\n%s", what, s, p.body)
		}
	}
}
