package admin_test

import (
	"net/http"
	"net/url"
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
