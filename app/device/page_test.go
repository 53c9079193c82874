package device_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestActivatePage_Headers: every answer of the page carries a strict CSP without
// 'unsafe-inline', refuses framing and caching, and labels every field; the stylesheet is its
// own.
func TestActivatePage_Headers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	for _, path := range []string{"/activate", "/activate?user_code=" + url.QueryEscape(g.UserCode), "/activate?user_code=nonsense"} {
		a := e.srv.get(t, path, nil)
		csp := a.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'self'") ||
			!strings.Contains(csp, "form-action 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		if a.header.Get("X-Frame-Options") != "DENY" || a.header.Get("Cache-Control") != "no-store" ||
			a.header.Get("Referrer-Policy") != "no-referrer" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: headers %v", path, a.header)
		}
		body := string(a.body)
		if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "<style") {
			t.Errorf("GET %s: inline script or style", path)
		}
		for _, id := range []string{"user_code", "username", "password"} {
			if strings.Contains(body, `id="`+id+`"`) && !strings.Contains(body, `<label for="`+id+`">`) {
				t.Errorf("GET %s: field %s has no label", path, id)
			}
		}
	}
	page := string(e.srv.get(t, "/activate?user_code="+url.QueryEscape(strings.ToLower(g.UserCode)), nil).body)
	if !strings.Contains(page, `<label for="password">`) || !strings.Contains(page, g.UserCode) {
		t.Errorf("a lower-case code did not reach the sign-in form:\n%s", page)
	}
	css := e.srv.get(t, "/activate/activate.css", nil)
	if css.status != http.StatusOK || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") || len(css.body) < 100 {
		t.Errorf("stylesheet = %d %q", css.status, css.header.Get("Content-Type"))
	}
}

// TestActivatePage_Refusals: what the page refuses, each with its status and words.
func TestActivatePage_Refusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	expired, expiredPass := testdb.NewLine(t, e.st, func(in *store.LineInput) {
		past := time.Now().Add(-time.Hour)
		in.ExpDate = &past
	})
	cred := e.activate(t, e.srv, "phone-1")
	g := e.srv.requestCode(t, "tv-1", nil)
	b := e.srv.browser(t, "198.51.100.7")
	_, csrf := b.open(t, g.UserCode)
	for _, tt := range []struct {
		name, csrf, code, action, user, pass string
		status                               int
		says                                 string
	}{
		{"no CSRF token", "", g.UserCode, "approve", e.line.Username, e.pass, http.StatusForbidden, "This form expired"},
		{"another CSRF token", strings.Repeat("A", 43), g.UserCode, "approve", e.line.Username, e.pass, http.StatusForbidden, "This form expired"},
		{"a malformed code", csrf, "ABC", "approve", e.line.Username, e.pass, http.StatusBadRequest, "8 letters"},
		{"an unknown code", csrf, "BBBB-BBBB", "approve", e.line.Username, e.pass, http.StatusNotFound, "not valid"},
		{"no password", csrf, g.UserCode, "approve", e.line.Username, "", http.StatusBadRequest, "Enter your username"},
		{"a wrong password", csrf, g.UserCode, "approve", e.line.Username, "nope", http.StatusForbidden, "Wrong username or password"},
		{"an expired line", csrf, g.UserCode, "approve", expired.Username, expiredPass, http.StatusForbidden, "expired"},
		{"a device credential", csrf, g.UserCode, "approve", cred.Username, cred.Password, http.StatusForbidden, "own username and password"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.submit(t, tt.csrf, tt.code, tt.action, tt.user, tt.pass)
			if a.status != tt.status || !strings.Contains(string(a.body), tt.says) {
				t.Fatalf("status %d, want %d saying %q:\n%s", a.status, tt.status, tt.says, a.body)
			}
			if tt.pass != "" && strings.Contains(string(a.body), tt.pass) {
				t.Fatal("the page echoes the password")
			}
		})
	}
	// None of that approved anything: the right sign-in still can.
	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
}

// TestActivatePage_FloodLimit: wrong codes and wrong passwords count as failed logins of the
// address, which is blocked at the limit like every login.
func TestActivatePage_FloodLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{settings: map[string]string{"flood_auth_failures": "3", "flood_window_seconds": "600"}})
	g := e.srv.requestCode(t, "tv-1", nil)
	b := e.srv.browser(t, "198.51.100.66")
	_, csrf := b.open(t, g.UserCode)
	if a, _ := b.open(t, "ZZZZ-ZZZZ"); a.status != http.StatusNotFound { // 1: a guessed code
		t.Fatalf("unknown code = %d", a.status)
	}
	for range 2 { // 2, 3: wrong passwords
		if a := b.submit(t, csrf, g.UserCode, "approve", e.line.Username, "wrong"); a.status != http.StatusForbidden {
			t.Fatalf("wrong password = %d", a.status)
		}
	}
	testdb.Eventually(t, waitLimit, "the address blocked", func() bool {
		a := b.submit(t, csrf, g.UserCode, "approve", e.line.Username, e.pass)
		return a.status == http.StatusTooManyRequests && strings.Contains(string(a.body), "Too many attempts")
	})
	// The code is still pending: another address approves it.
	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
}

// TestLogs_NoSecrets: no log line holds a password, a device code, a user code or a full MAC.
func TestLogs_NoSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	cred := e.activate(t, e.srv, "tv-2")
	e.srv.login(t, cred.Username, "wrong-"+cred.Password)
	e.srv.browser(t, "198.51.100.9").submit(t, "x", g.UserCode, "approve", e.line.Username, e.pass)
	m := e.srv.requestCode(t, "x", url.Values{"mac": {"00:1A:79:12:34:56"}})
	e.srv.get(t, "/activate?user_code="+url.QueryEscape(m.UserCode), nil)
	logs := e.srv.logs.String()
	for _, secret := range []string{e.pass, cred.Password, g.DeviceCode, g.UserCode, strings.ReplaceAll(g.UserCode, "-", ""),
		m.UserCode, m.DeviceCode, "12:34:56"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs hold %q", secret)
		}
	}
}
