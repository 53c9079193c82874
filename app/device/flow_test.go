package device_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// TestDeviceCode_Grant: the device authorization answer (RFC 8628 §3.2) and its headers.
func TestDeviceCode_Grant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	a := e.srv.post(t, "/oauth/device/code", url.Values{"client_id": {clientID}, "device_id": {"tv-1"}}, nil)
	if a.status != http.StatusOK {
		t.Fatalf("POST /oauth/device/code = %d %s", a.status, a.body)
	}
	if cc, p := a.header.Get("Cache-Control"), a.header.Get("Pragma"); cc != "no-store" || p != "no-cache" {
		t.Errorf("Cache-Control %q, Pragma %q; want no-store, no-cache", cc, p)
	}
	var g grant
	a.json(t, &g)
	if !userCodeShape.MatchString(g.UserCode) {
		t.Errorf("user_code = %q, want XXXX-XXXX of the consonants", g.UserCode)
	}
	if len(g.DeviceCode) != 43 {
		t.Errorf("device_code = %d characters, want 43 (256 bits)", len(g.DeviceCode))
	}
	if g.VerificationURI != "http://tv.example.com:8080/activate" ||
		g.VerificationURIComplete != g.VerificationURI+"?user_code="+g.UserCode {
		t.Errorf("verification_uri %q, complete %q", g.VerificationURI, g.VerificationURIComplete)
	}
	if g.ExpiresIn <= 0 || g.ExpiresIn > 1800 || g.Interval != 5 {
		t.Errorf("expires_in %d, interval %d; want ≤ 1800 and 5", g.ExpiresIn, g.Interval)
	}
	// Stored hashed: neither code is in the table in any form we hand out.
	var n int
	must(t, e.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM device_codes
		WHERE position(convert_to($1, 'UTF8') IN device_code_hash) > 0 OR position(convert_to($2, 'UTF8') IN user_code_hash) > 0
		   OR device_id = $1 OR device_name = $2`, g.DeviceCode, strings.ReplaceAll(g.UserCode, "-", "")).Scan(&n))
	if n != 0 {
		t.Errorf("a code is stored in clear")
	}
}

// TestDeviceFlow_Sequence is RFC 8628's sequence over real HTTP: pending, slow_down when polled
// sooner than the interval (which grows by 5 s each time), success exactly once, then a dead
// code.
func TestDeviceFlow_Sequence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	wantErr := func(what string, a answer, code string, interval int) {
		t.Helper()
		if a.status != http.StatusBadRequest {
			t.Fatalf("%s = %d %s, want 400 %s", what, a.status, a.body, code)
		}
		if e := a.oauth(t); e.Error != code || e.Interval != interval {
			t.Fatalf("%s = %+v, want %s (interval %d)", what, e, code, interval)
		}
	}
	// The first poll comes at once: sooner than the interval after the code was issued.
	wantErr("poll at once", e.srv.poll(t, g.DeviceCode), "slow_down", 10)
	e.age(t, "tv-1", 11*time.Second)
	wantErr("poll after 11 s", e.srv.poll(t, g.DeviceCode), "authorization_pending", 0)
	wantErr("poll again at once", e.srv.poll(t, g.DeviceCode), "slow_down", 15)
	e.age(t, "tv-1", 11*time.Second) // the interval is 15 s now: still too soon
	wantErr("poll after 11 s at 15 s", e.srv.poll(t, g.DeviceCode), "slow_down", 20)
	e.age(t, "tv-1", 21*time.Second)
	wantErr("poll after 21 s", e.srv.poll(t, g.DeviceCode), "authorization_pending", 0)
	// Another client's poll of the code is no poll of it.
	a := e.srv.post(t, "/oauth/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {g.DeviceCode}, "client_id": {"other-app"}}, nil)
	wantErr("another client", a, "invalid_grant", 0)

	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
	a = e.srv.poll(t, g.DeviceCode) // an approved code answers at once, however soon
	if a.status != http.StatusOK {
		t.Fatalf("poll after approval = %d %s", a.status, a.body)
	}
	var cred issued
	a.json(t, &cred)
	if cred.TokenType != "xtream" || !strings.HasPrefix(cred.Username, "dev-") || len(cred.Password) < 20 ||
		cred.AccessToken != cred.Password || cred.ServerURL != "http://tv.example.com:8080" {
		t.Fatalf("credential = %+v", cred)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", a.header.Get("Cache-Control"))
	}
	// Exactly once.
	e.age(t, "tv-1", time.Minute)
	wantErr("poll after success", e.srv.poll(t, g.DeviceCode), "invalid_grant", 0)
	if u := e.srv.login(t, cred.Username, cred.Password); u.UserInfo.Auth != 1 {
		t.Fatalf("player_api with the device credential: auth %d", u.UserInfo.Auth)
	}
	var rows int
	must(t, e.st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM device_credentials WHERE line_id = $1`, e.line.ID).Scan(&rows))
	if rows != 1 {
		t.Errorf("device credentials of the line = %d, want 1", rows)
	}
}

// TestDeviceFlow_Denied: the viewer denies; the device learns it, and the code is done.
func TestDeviceFlow_Denied(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	b := e.srv.browser(t, "198.51.100.7")
	page, csrf := b.open(t, g.UserCode)
	if page.status != http.StatusOK || !strings.Contains(string(page.body), "Living room TV") {
		t.Fatalf("page = %d %s", page.status, page.body)
	}
	a := b.submit(t, csrf, g.UserCode, "deny", "", "") // denying needs no sign-in
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `id="denied"`) {
		t.Fatalf("deny = %d %s", a.status, a.body)
	}
	e.age(t, "tv-1", time.Minute)
	if e := e.srv.poll(t, g.DeviceCode).oauth(t); e.Error != "access_denied" {
		t.Fatalf("poll after denial = %+v, want access_denied", e)
	}
	if page, _ := b.open(t, g.UserCode); page.status != http.StatusNotFound {
		t.Fatalf("the denied code's page = %d, want 404", page.status)
	}
}

// TestDeviceFlow_Expired: a code past its expiry answers expired_token, and the page refuses it.
func TestDeviceFlow_Expired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	testdb.MustExec(t, e.st, `UPDATE device_codes SET expires_at = now() - interval '1 second', created_at = now() - interval '16 minutes'`)
	if e := e.srv.poll(t, g.DeviceCode).oauth(t); e.Error != "expired_token" {
		t.Fatalf("poll after expiry = %+v, want expired_token", e)
	}
	if page, _ := e.srv.browser(t, "198.51.100.7").open(t, g.UserCode); page.status != http.StatusNotFound ||
		!strings.Contains(string(page.body), "not valid") {
		t.Fatalf("expired code's page = %d %s", page.status, page.body)
	}
}

// TestDeviceFlow_NewCodeEndsOld: a new code for the same device supersedes the old one: polling
// it stops working and the page no longer takes it; the new one works.
func TestDeviceFlow_NewCodeEndsOld(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	old := e.srv.requestCode(t, "tv-1", nil)
	other := e.srv.requestCode(t, "tv-2", nil) // another device's code is not touched
	next := e.srv.requestCode(t, "tv-1", nil)
	e.age(t, "tv-1", time.Minute)
	e.age(t, "tv-2", time.Minute)
	if e := e.srv.poll(t, old.DeviceCode).oauth(t); e.Error != "invalid_grant" {
		t.Fatalf("poll with the old code = %+v, want invalid_grant", e)
	}
	if e := e.srv.poll(t, other.DeviceCode).oauth(t); e.Error != "authorization_pending" {
		t.Fatalf("poll of another device's code = %+v, want authorization_pending", e)
	}
	if page, _ := e.srv.browser(t, "198.51.100.7").open(t, old.UserCode); page.status != http.StatusNotFound {
		t.Fatalf("the old code's page = %d, want 404", page.status)
	}
	e.approve(t, e.srv, next.UserCode, e.line.Username, e.pass)
	if a := e.srv.poll(t, next.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("poll with the new code = %d %s", a.status, a.body)
	}
}

// TestOAuth_BadRequests: malformed requests get RFC 6749 §5.2 errors, never a 5xx.
func TestOAuth_BadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	const dc = "urn:ietf:params:oauth:grant-type:device_code"
	for _, tt := range []struct {
		name, path string
		form       url.Values
		json       bool // sent as JSON instead of a form
		want       string
	}{
		{"code without client_id", "/oauth/device/code", form("device_id", "tv"), false, "invalid_request"},
		{"code without device", "/oauth/device/code", form("client_id", clientID), false, "invalid_request"},
		{"code with a bad client_id", "/oauth/device/code", form("client_id", "a b", "device_id", "tv"), false, "invalid_request"},
		{"code with a bad mac", "/oauth/device/code", form("client_id", clientID, "mac", "00:1A:79"), false, "invalid_request"},
		{"code with a repeated parameter", "/oauth/device/code", form("client_id", clientID, "client_id", "x", "device_id", "tv"), false, "invalid_request"},
		{"code with NUL", "/oauth/device/code", form("client_id", clientID, "device_id", "tv\x00"), false, "invalid_request"},
		{"code as JSON", "/oauth/device/code", nil, true, "invalid_request"},
		{"token without grant_type", "/oauth/token", form("device_code", "x", "client_id", clientID), false, "invalid_request"},
		{"token of another grant", "/oauth/token", form("grant_type", "client_credentials"), false, "unsupported_grant_type"},
		{"token without device_code", "/oauth/token", form("grant_type", dc, "client_id", clientID), false, "invalid_request"},
		{"token with garbage", "/oauth/token", form("grant_type", dc, "client_id", clientID, "device_code", "garbage"), false, "invalid_grant"},
		{"token with an unknown code", "/oauth/token", form("grant_type", dc, "client_id", clientID,
			"device_code", strings.Repeat("A", 43)), false, "invalid_grant"},
		{"logout without password", "/oauth/device/logout", form("username", "dev-x"), false, "invalid_request"},
		{"logout of a stranger", "/oauth/device/logout", form("username", "dev-x", "password", "y"), false, "invalid_grant"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			if tt.json {
				req, _ := http.NewRequest(http.MethodPost, e.srv.base+tt.path, strings.NewReader(`{"client_id":"tv-app"}`))
				req.Header.Set("Content-Type", "application/json")
				a = do(t, nil, req)
			} else {
				a = e.srv.post(t, tt.path, tt.form, nil)
			}
			if a.status != http.StatusBadRequest {
				t.Fatalf("status = %d %s, want 400", a.status, a.body)
			}
			if got := a.oauth(t).Error; got != tt.want {
				t.Fatalf("error = %q, want %q", got, tt.want)
			}
		})
	}
}
