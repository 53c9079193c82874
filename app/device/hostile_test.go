package device_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// deviceHostile are what a hostile or broken device, browser or partner backend puts in a
// parameter: the admin sweep's values (a zoned address, NUL, invalid UTF-8, a number past
// int64, a date past year 9999, 2,000 characters, an injection …) and this surface's own — a
// lone CR and LF, a user code in lower case and without its dash, a MAC with a zone's percent,
// a broadcast MAC, a forged JWT, 129 two-byte characters.
var deviceHostile = append(slices.Clip(testkit.HostileText),
	"a\r\nX-Injected: 1", "bcdf-ghjk", "BCDFGHJKL", "00:1A:79:00:00:01%eth0", "FF:FF:FF:FF:FF:FF",
	"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", strings.Repeat("é", 129))

// deviceBodies stand in for a whole form body.
var deviceBodies = []string{"", "\xff", "%zz", "a=%zz", "=", "&&&", `{"client_id":"tv-app"}`, "grant_type[]=x",
	strings.Repeat("a=1&", 20000)}

// deviceOAuthErrors are the error codes of the device OAuth endpoints (RFC 6749 §5.2, RFC 8628 §3.5).
var deviceOAuthErrors = []string{"invalid_request", "invalid_grant", "unsupported_grant_type", "authorization_pending",
	"slow_down", "access_denied", "expired_token", "temporarily_unavailable"}

// pollOutcomes are the answers of a poll that was one (RFC 8628 §3.5): they record it (its
// time; slow_down its longer interval), as they should. Every other refusal writes nothing.
var pollOutcomes = []string{"authorization_pending", "slow_down", "expired_token", "access_denied"}

// deviceState are the tables a call of this surface may write.
var deviceState = []string{"device_codes", "device_credentials", "mag_devices", "lines", "audit_log", "partner_clients",
	"partner_revocations", "blocked_ips", "connection_leases"}

// The formats the surface answers in.
type answerFormat int

const (
	formatOAuth   answerFormat = iota // RFC 6749 §5.2 error JSON
	formatProblem                     // RFC 9457 application/problem+json
	formatHTML                        // the activation page
)

// checkAnswer fails the test on a 5xx, or an answer not in the route's format: OAuth error
// JSON with one of its codes, a problem whose status is the answer's, the page (HTML under its
// CSP) whatever its status. It returns the OAuth error code ("" for none).
func checkAnswer(t *testing.T, route string, f answerFormat, v testkit.Variant, a testkit.Raw) string {
	t.Helper()
	where := fmt.Sprintf("%s %s = %s", route, v.Where, v.Value)
	ct := a.Header.Get("Content-Type")
	switch {
	case a.Reset && !v.Unparsable:
		t.Errorf("%s: the connection was reset", where)
		return ""
	case a.Reset: // the parser's refusal of a body past the limit, reset before it could be read
		return ""
	case a.Status >= 500:
		t.Errorf("%s: %d %.300s", where, a.Status, a.Body)
		return ""
	case a.Status < 200 || a.Status >= 300 && a.Status < 400:
		t.Errorf("%s: %d, want 2xx or 4xx", where, a.Status)
		return ""
	case testkit.ParserAnswer(v, a):
		return ""
	case f == formatHTML:
		if !strings.HasPrefix(ct, "text/html") || a.Header.Get("Content-Security-Policy") == "" ||
			!strings.Contains(string(a.Body), "</html>") {
			t.Errorf("%s: %d %s %.200s, want the page", where, a.Status, ct, a.Body)
		}
		return ""
	}
	var out map[string]any
	if err := json.Unmarshal(a.Body, &out); err != nil {
		t.Errorf("%s: %d %s %.200s: not JSON: %v", where, a.Status, ct, a.Body, err)
		return ""
	}
	if a.Status < 400 {
		return ""
	}
	code, _ := out["error"].(string)
	switch f {
	case formatOAuth:
		if !strings.HasPrefix(ct, "application/json") || !slices.Contains(deviceOAuthErrors, code) {
			t.Errorf("%s: %d %s %.200s, want an OAuth error", where, a.Status, ct, a.Body)
		}
	case formatProblem:
		typ, _ := out["type"].(string)
		if st, _ := out["status"].(float64); ct != "application/problem+json" || int(st) != a.Status ||
			!strings.HasPrefix(typ, "urn:xtreamd:problem:") {
			t.Errorf("%s: %d %s %.200s, want a problem", where, a.Status, ct, a.Body)
		}
	}
	return code
}

// deviceRoute is a route of the sweep: build is its valid request from the sweep's current
// state; after, when set, renews that state once a call used it up (an approved or denied
// code, a logged-out credential) and reports whether it did.
type deviceRoute struct {
	name  string
	f     answerFormat
	build func() testkit.HostileRequest
	after func(a testkit.Raw) bool
}

// TestDeviceFlow_HostileValues sends every route of the device authorization flow
// (/oauth/device/code, /oauth/token, /oauth/device/logout, GET and POST /activate) and of the
// partner profiles (/api/v2/{partner}/profiles, its DELETE, …/profiles/code/{code}) with valid
// credentials and a valid code, each path parameter, query parameter, header (Authorization,
// X-Forwarded-For, AP-Device-Identifier, Cookie, User-Agent, Content-Type) and form field in
// turn set to each hostile value, absent and repeated, and the whole body replaced (up to 1 MiB).
// No answer is a 5xx; each is the route's format (OAuth JSON, a problem, the page); a refused
// call leaves the flow's tables as they were, updates included (a poll refused as another
// client's does not record the poll); the valid requests still work after the sweep.
func TestDeviceFlow_HostileValues(t *testing.T) {
	t.Parallel()
	start := time.Now()
	e := newEnv(t, envOpts{settings: map[string]string{"flood_auth_failures": "0"}})
	in := e.srv
	tv := e.newPartner(t, in, "TV shop", partner.Grant{Scopes: partner.Scopes, BouquetIDs: []int64{e.bouquet}})
	in.client = tv.id
	csrf := base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("c", 32)))
	const viewer = "198.51.100.7"

	// The sweep's state: a pending code of the device the polls and the page are about, a
	// device credential the logout signs out, a device of the partner's with a profile.
	pending := in.requestCode(t, "tv-hostile", nil)
	cred := e.activate(t, in, "tv-logout")
	e.activate(t, in, "tv-profile")
	// What the activation page is sent; the code is renewed once a call decided it.
	renewCode := func(a testkit.Raw) bool {
		if a.Status != http.StatusOK || !strings.Contains(string(a.Body), `id="done"`) && !strings.Contains(string(a.Body), `id="denied"`) {
			return false
		}
		pending = in.requestCode(t, "tv-hostile", nil)
		return true
	}
	form := func(kv ...string) [][2]string {
		var out [][2]string
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, [2]string{kv[i], kv[i+1]})
		}
		return out
	}
	oauthHeader := [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", viewer},
		{"User-Agent", "TVApp/1.0"}}
	pageHeader := [][2]string{{"Cookie", "xtreamd_activate=" + csrf}, {"X-Forwarded-For", viewer}, {"User-Agent", "Phone/1.0"}}
	partnerHeader := [][2]string{{"Authorization", "Bearer " + tv.tok}, {"AP-Device-Identifier", "tv-profile"},
		{"X-Forwarded-For", "127.0.0.2"}, {"User-Agent", "partner-backend/1.0"}}
	routes := []deviceRoute{
		{"device code", formatOAuth, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/oauth/device/code", Header: oauthHeader,
				Form: form("client_id", tv.id, "device_id", "tv-code", "device_name", "Living room TV", "scope", "")}
		}, nil},
		{"device code (AP-Device-Identifier)", formatOAuth, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/oauth/device/code",
				Header: append(slices.Clone(oauthHeader), [2]string{device.HeaderDeviceIdentifier, "tv-header"}),
				Form:   form("client_id", tv.id)}
		}, nil},
		{"device code (MAG)", formatOAuth, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/oauth/device/code", Header: oauthHeader,
				Form: form("client_id", tv.id, "mac", "00:1A:79:12:34:56", "device_name", "Box")}
		}, nil},
		{"token", formatOAuth, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/oauth/token", Header: oauthHeader,
				Form: form("grant_type", device.GrantTypeDeviceCode, "device_code", pending.DeviceCode, "client_id", tv.id)}
		}, nil},
		{"device logout", formatOAuth, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/oauth/device/logout", Header: oauthHeader,
				Form: form("username", cred.Username, "password", cred.Password)}
		}, func(a testkit.Raw) bool {
			if a.Status != http.StatusOK {
				return false
			}
			cred = e.activate(t, in, "tv-logout")
			return true
		}},
		{"activate page", formatHTML, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodGet, Path: "/activate", Header: pageHeader,
				Query: [][2]string{{"user_code", pending.UserCode}}}
		}, nil},
		{"activate deny", formatHTML, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/activate",
				Header: append([][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, pageHeader...),
				Form:   form("csrf", csrf, "user_code", pending.UserCode, "action", "deny")}
		}, renewCode},
		{"activate approve", formatHTML, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodPost, Path: "/activate",
				Header: append([][2]string{{"Content-Type", "application/x-www-form-urlencoded"}}, pageHeader...),
				Form:   form("csrf", csrf, "user_code", pending.UserCode, "action", "approve", "username", e.line.Username, "password", e.pass)}
		}, renewCode},
		{"profiles", formatProblem, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodGet, Path: "/api/v2/{partner}/profiles",
				Params: map[string]string{"partner": tv.id}, Header: partnerHeader}
		}, nil},
		{"profiles by code", formatProblem, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodGet, Path: "/api/v2/{partner}/profiles/code/{code}",
				Params: map[string]string{"partner": tv.id, "code": pending.UserCode}, Header: partnerHeader}
		}, nil},
		{"profiles logout", formatProblem, func() testkit.HostileRequest {
			return testkit.HostileRequest{Method: http.MethodDelete, Path: "/api/v2/{partner}/profiles",
				Params: map[string]string{"partner": tv.id}, Header: partnerHeader}
		}, func(a testkit.Raw) bool {
			var out struct {
				Revoked struct {
					DeviceCredentials int `json:"device_credentials"`
				} `json:"revoked"`
			}
			if a.Status != http.StatusOK || json.Unmarshal(a.Body, &out) != nil || out.Revoked.DeviceCredentials == 0 {
				return false
			}
			e.activate(t, in, "tv-profile")
			return true
		}},
	}
	values := testkit.HostileValues{Strings: deviceHostile, Bodies: deviceBodies, MaxBody: 1 << 20,
		Headers: map[string]func(string) []string{
			"Authorization":   func(v string) []string { return []string{v, "Bearer " + v} },
			"X-Forwarded-For": func(v string) []string { return []string{v, v + ", " + viewer, viewer + ", " + v} },
			"Cookie":          func(v string) []string { return []string{v, "xtreamd_activate=" + v} },
		}}
	calls, renewals := 0, 0
	status := map[string]map[int]int{}
	for _, r := range routes {
		base := r.build().Base()
		a := testkit.RawRequest(t, in.base, base.Method, base.Target, base.Header, base.Body)
		if checkAnswer(t, r.name, r.f, base, a); a.Status >= 300 && r.name != "token" { // a pending code's poll is a 400
			t.Fatalf("%s, valid: %d %.300s", r.name, a.Status, a.Body)
		}
		if r.after != nil {
			r.after(a)
		}
		status[r.name] = map[int]int{}
		variants := r.build().Variants(values)
		for i := 0; i < len(variants); i++ {
			v := variants[i]
			state := testdb.Digest(t, e.st, deviceState...)
			a := testkit.RawRequest(t, in.base, v.Method, v.Target, v.Header, v.Body)
			calls++
			status[r.name][a.Status]++
			code := checkAnswer(t, r.name, r.f, v, a)
			if a.Status >= 400 && !slices.Contains(pollOutcomes, code) && testdb.Digest(t, e.st, deviceState...) != state {
				t.Errorf("%s %s = %s: refused %d %.200s, and the flow's tables changed", r.name, v.Where, v.Value, a.Status, a.Body)
			}
			if r.after != nil && r.after(a) {
				renewals++
				variants = r.build().Variants(values) // the same variants, of the renewed state
			}
		}
	}

	// The valid requests still work: the pending code is approved on the page and polled once
	// (its interval passed), the device's credential logs in and out, the partner sees profiles.
	e.approve(t, in, pending.UserCode, e.line.Username, e.pass)
	e.age(t, "tv-hostile", time.Hour)
	if a := in.poll(t, pending.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("poll after the sweep = %d %s", a.status, a.body)
	}
	if u := in.login(t, cred.Username, cred.Password); u.UserInfo.Auth != 1 {
		t.Fatalf("the device credential after the sweep: %+v", u)
	}
	if n := in.post(t, "/oauth/device/logout", url.Values{"username": {cred.Username}, "password": {cred.Password}}, nil).loggedOut(t); n != 1 {
		t.Fatalf("device logout after the sweep revoked %d", n)
	}
	if a := in.get(t, "/api/v2/"+tv.id+"/profiles", tv.bearer("AP-Device-Identifier", "tv-profile")); a.status != http.StatusOK ||
		!strings.Contains(string(a.body), `"tv-profile"`) {
		t.Fatalf("profiles after the sweep = %d %s", a.status, a.body)
	}

	if calls < 1500 {
		t.Fatalf("only %d hostile calls: the routes' parameters were not swept", calls)
	}
	for _, r := range routes {
		t.Logf("%s: %v", r.name, status[r.name])
	}
	t.Logf("%d hostile calls over %d routes (%d renewals of the state) in %s", calls, len(routes), renewals,
		time.Since(start).Round(time.Millisecond))
}

// TestToken_AnotherClientsPollRecordsNothing: a poll with the device code and another
// client's client_id is refused (invalid_grant) and is no poll of the code: it neither records
// a poll time nor grows the interval, so the device's own poll that follows is on time. (It
// did both: the store recorded the poll before the client was compared, and a caller holding
// a device code slowed its device down by 5 s a poll, to 30 minutes.)
func TestToken_AnotherClientsPollRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	g := e.srv.requestCode(t, "tv-1", nil)
	e.age(t, "tv-1", time.Hour) // the interval has passed: the device's next poll is on time
	state := testdb.Digest(t, e.st, "device_codes")
	for range 3 {
		a := e.srv.post(t, "/oauth/token", url.Values{"grant_type": {device.GrantTypeDeviceCode}, "device_code": {g.DeviceCode},
			"client_id": {"another-app"}}, nil)
		if e := a.oauth(t); a.status != http.StatusBadRequest || e.Error != "invalid_grant" {
			t.Fatalf("another client's poll = %d %s, want 400 invalid_grant", a.status, a.body)
		}
	}
	if testdb.Digest(t, e.st, "device_codes") != state {
		t.Fatal("another client's poll changed the code (its poll time or interval)")
	}
	if a := e.srv.poll(t, g.DeviceCode); a.oauth(t).Error != "authorization_pending" {
		t.Fatalf("the device's own poll = %d %s, want authorization_pending", a.status, a.body)
	}
}
