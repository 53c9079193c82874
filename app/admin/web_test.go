package admin_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

func TestWebLoginAndHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.admin(t, accounts.RoleAdmin)
	b := e.browser(t)

	p := b.get("/admin/")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/admin/login") {
		t.Fatalf("GET /admin/ without a login = %d %q, want 303 to the login page", p.status, p.header.Get("Location"))
	}
	p = b.get("/admin/login")
	wantPage(t, "login page", p, http.StatusOK, `name="username"`, `autocomplete="current-password"`)
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q allows unsafe-inline", csp)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	// Without the form's token the login is refused; a wrong password is a 401 page.
	wantPage(t, "login without CSRF token", b.post("/admin/login", url.Values{"_csrf": {""}, "username": {adm.username},
		"password": {adm.password}}), http.StatusForbidden, "expired")
	wantPage(t, "wrong password", b.post("/admin/login", url.Values{"username": {adm.username}, "password": {"nope"}}),
		http.StatusUnauthorized, "Wrong username or password.")

	b.login(adm)
	var session *http.Cookie
	for _, ck := range b.hc.Jar.Cookies(mustURL(t, b.base+"/admin/")) {
		if ck.Name == "xtreamd_admin" {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie after the login")
	}
	p = b.get("/admin/")
	wantPage(t, "dashboard", p, http.StatusOK, "<h1>Dashboard</h1>", "live connections", adm.username)
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("dashboard Cache-Control = %q, want no-store", cc)
	}

	// Log out: the cookie stops working, on the web page and (the same session) everywhere.
	wantPage(t, "logout without token", b.post("/admin/logout", url.Values{"_csrf": {"x"}}), http.StatusForbidden)
	p = b.post("/admin/logout", url.Values{})
	if p.status != http.StatusSeeOther {
		t.Fatalf("logout = %d", p.status)
	}
	b2 := e.browser(t)
	b2.hc.Jar.SetCookies(mustURL(t, b.base+"/admin/"), []*http.Cookie{session})
	if p := b2.get("/admin/"); p.status != http.StatusSeeOther {
		t.Fatalf("the logged-out cookie still opens the dashboard: %d", p.status)
	}
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	must(t, err)
	return u
}

var passwordRE = regexp.MustCompile(`class="secret" id="pw-0">([^<]+)<`)

func TestWebLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.admin(t, accounts.RoleAdmin)
	b := e.browser(t)
	b.login(adm)
	wantPage(t, "lines page", b.get("/admin/lines"), http.StatusOK, "No lines match.")
	wantPage(t, "new line page", b.get("/admin/lines/new"), http.StatusOK, `name="username"`, `name="exp_date"`)

	p := b.post("/admin/lines", url.Values{"username": {"webline1"}, "max_connections": {"2"},
		"admin_notes": {`<script>alert(1)</script>`}, "allowed_output_formats": {"ts", "m3u8"}})
	wantPage(t, "create line", p, http.StatusCreated, "webline1", "shown this once")
	m := passwordRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no password on the created page:\n%s", p.body)
	}
	line, err := e.st.LineByUsername(t.Context(), "webline1")
	must(t, err)
	id := strconv.FormatInt(line.ID, 10)

	// A refused field comes back next to its field, with the API's status.
	p = b.post("/admin/lines", url.Values{"username": {"webline2"}, "max_connections": {"-3"}})
	wantPage(t, "create with a bad limit", p, http.StatusBadRequest, `id="e-max_connections"`)
	p = b.post("/admin/lines", url.Values{"username": {"webline1"}})
	wantPage(t, "create a duplicate", p, http.StatusConflict, `id="e-username"`)

	p = b.get("/admin/lines/" + id)
	wantPage(t, "line page", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;")
	if strings.Contains(p.body, "<script>alert(1)") {
		t.Fatal("the note is not escaped")
	}
	if strings.Contains(p.body, html.EscapeString(m[1])) {
		t.Fatal("the line page shows the password again")
	}
	form := url.Values{"_fields": {"username exp_date max_connections admin_notes allowed_output_formats is_trial"},
		"username": {"webline1"}, "max_connections": {"5"}, "exp_date": {"2031-01-02T03:04"}, "admin_notes": {""},
		"allowed_output_formats": {"ts"}}
	p = b.post("/admin/lines/"+id, form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("save line = %d\n%s", p.status, p.body)
	}
	line, err = e.st.LineByID(t.Context(), line.ID)
	must(t, err)
	if line.MaxConnections != 5 || line.AdminNotes != "" || line.ExpDate == nil || line.ExpDate.UTC().Format("2006-01-02T15:04") != "2031-01-02T03:04" {
		t.Fatalf("after the edit: max %d notes %q exp %v", line.MaxConnections, line.AdminNotes, line.ExpDate)
	}
	b.get("/admin/lines/" + id)
	if p := b.post("/admin/lines/"+id+"/ban", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("ban = %d\n%s", p.status, p.body)
	}
	wantPage(t, "banned line", b.get("/admin/lines/"+id+"?done=ban"), http.StatusOK, "The line is banned.", "Unban")
	p = b.post("/admin/lines/bulk-actions", url.Values{"action": {"extend"}, "ids": {id}, "days": {"30"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("bulk extend = %d\n%s", p.status, p.body)
	}
	p = b.post("/admin/lines/"+id+"/reset-password", url.Values{})
	wantPage(t, "reset password", p, http.StatusOK, `id="pw-new"`)
	wantPage(t, "filtered list", b.get("/admin/lines?username=webl&status=banned"), http.StatusOK, "webline1")
	wantPage(t, "bad filter", b.get("/admin/lines?status=nope"), http.StatusBadRequest, `id="e-status"`)
}
