package stream_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// partnerHostile are what a hostile or broken partner backend puts in a parameter: the admin
// sweep's values (a zoned address, NUL, invalid UTF-8, a number past int64, a date past year
// 9999, 2,000 characters, an injection …) and the partner surface's own — a lone CR and LF
// (header splitting), an address mapped to IPv6, a forged JWT, a username of 129 characters.
var partnerHostile = append(slices.Clip(testkit.HostileText),
	"a\r\nX-Injected: 1", "::ffff:198.51.100.7", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", strings.Repeat("é", 129))

// partnerWrongJSON stand in for every JSON member: each type but the right one, a number past
// float64, deep nesting past encoding/json's limit (within the 64 kB body bound).
var partnerWrongJSON = []string{"1", "-1", "1.5", "99999999999999999999999", "1e400", "true", "null", "[]", "{}",
	`["x"]`, `{"a":1}`, `"1"`, strings.Repeat("[", 20000) + strings.Repeat("]", 20000)}

// partnerBodies stand in for a whole JSON body.
var partnerBodies = []string{"", "null", "[]", "1", `"x"`, "{", `{}x`, `{"a":`, "\xff", `{"line":1,"line":2}`,
	strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), "line=1&resource=1"}

// partnerState are the tables a partner call may write: a refused one must leave them as they
// were (no client, no use of an initial access token, no revocation, no lease, no audit entry).
var partnerState = []string{"partner_clients", "partner_registration_tokens", "partner_revocations", "partner_signing_keys",
	"audit_log", "connection_leases", "lines", "blocked_ips"}

// oauthErrors are the error codes of /o/client/*'s answers (RFC 6749 §5.2, RFC 6750, RFC 7591).
var oauthErrors = []string{"invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope", "invalid_token",
	"invalid_client_metadata", "access_denied", "temporarily_unavailable"}

// partnerHeaders derive, per header, the values a hostile string becomes there: alone, and in
// the place of each part a valid value has (the scheme's credentials, the viewer's hop before
// the partner's, the base64 JSON of X-Device-Info).
func partnerHeaders(clientID, secret string) map[string]func(string) []string {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return map[string]func(string) []string{
		"Authorization": func(v string) []string {
			out := []string{v, "Bearer " + v, "Basic " + v, "Basic " + b64(v+":"+secret), "Basic " + b64(clientID+":"+v)}
			return out
		},
		"X-Forwarded-For": func(v string) []string {
			return []string{v, v + ", " + partnerHop, viewerDE + ", " + v, v + ", " + v}
		},
		"X-Device-Info": func(v string) []string {
			return []string{v, b64(v), b64(`{"userAgent":` + testkit.JSONString(v) + `,"model":` + testkit.JSONString(v) + `}`)}
		},
	}
}

// answerFormat is the format a surface answers in.
type answerFormat int

const (
	formatOAuth   answerFormat = iota // RFC 6749 §5.2 error JSON
	formatProblem                     // RFC 9457 application/problem+json
)

// partnerSweep counts a sweep's answers by route and status.
type partnerSweep struct {
	calls  int
	status map[string]map[int]int
}

func (s *partnerSweep) count(route string, status int) {
	if s.status[route] == nil {
		s.status[route] = map[int]int{}
	}
	s.status[route][status]++
	s.calls++
}

// checkAnswer fails the test on an answer that is a 5xx, or a refusal not in the route's
// format: an OAuth error with one of its codes, or a problem whose status is the answer's. A
// request the HTTP parser refuses (a control byte in a header, a body past the limit) is
// answered before any route, in the parser's words. It returns the answer's JSON.
func checkAnswer(t *testing.T, route string, f answerFormat, v testkit.Variant, a testkit.Raw) map[string]any {
	t.Helper()
	where := fmt.Sprintf("%s %s = %s", route, v.Where, v.Value)
	var out map[string]any
	switch {
	case a.Reset && !v.Unparsable:
		t.Errorf("%s: the connection was reset", where)
		return nil
	case a.Reset: // the parser's refusal of a body past the limit, reset before it could be read
		return nil
	case a.Status >= 500:
		t.Errorf("%s: %d %.300s", where, a.Status, a.Body)
		return nil
	case a.Status < 200 || a.Status >= 300 && a.Status < 400:
		t.Errorf("%s: %d, want 2xx or 4xx", where, a.Status)
		return nil
	case testkit.ParserAnswer(v, a):
		return nil
	case len(a.Body) == 0 && a.Status < 300:
		return nil
	}
	ct := a.Header.Get("Content-Type")
	if err := json.Unmarshal(a.Body, &out); err != nil {
		t.Errorf("%s: %d %s %.200s: not JSON: %v", where, a.Status, ct, a.Body, err)
		return nil
	}
	if a.Status < 400 {
		return out
	}
	switch f {
	case formatOAuth:
		if code, _ := out["error"].(string); !strings.HasPrefix(ct, "application/json") || !slices.Contains(oauthErrors, code) {
			t.Errorf("%s: %d %s %.200s, want an OAuth error", where, a.Status, ct, a.Body)
		}
	case formatProblem:
		typ, _ := out["type"].(string)
		if st, _ := out["status"].(float64); ct != "application/problem+json" || int(st) != a.Status ||
			!strings.HasPrefix(typ, "urn:xtreamd:problem:") {
			t.Errorf("%s: %d %s %.200s, want a problem", where, a.Status, ct, a.Body)
		}
		if _, leaked := out["media_token"]; leaked {
			t.Errorf("%s: a refusal with a media token: %.200s", where, a.Body)
		}
	}
	return out
}

// TestPartnerAPI_HostileValues sends every route of the partner API (/o/client/register,
// token and revoke, /api/v2/{partner}/decisions/preauthorize and authorize, tokens, logout),
// with valid credentials, each path parameter, header, form field and JSON member in turn set
// to each hostile value and each wrong JSON type, and the whole body replaced (by non-objects,
// deep nesting, 1 MiB). No answer is a 5xx; each refusal is the route's format (OAuth JSON on
// /o/, a problem on /api/v2); a refused request leaves no row in any table (a refused register
// no client and spends no use of its initial access token, a refused logout revokes nothing, no
// decision takes a lease); the valid requests still work after the sweep.
func TestPartnerAPI_HostileValues(t *testing.T) {
	t.Parallel()
	start := time.Now()
	pe := setupPartner(t, map[string]string{"partner_registration": "true"})
	ctx := context.Background()
	id, secret := pe.creds.Partner.ClientID, pe.creds.Secret.Reveal()
	tok := pe.accessToken(t, pe.base)
	initial, err := pe.svc.CreateRegistrationToken(ctx, audit.CLI, partner.NewRegistrationToken{Name: "Hostile onboarding",
		Grant:   partner.Grant{Scopes: partner.Scopes, BouquetIDs: []int64{pe.bouquet}, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		MaxUses: 10000, ExpiresAt: time.Now().Add(time.Hour)})
	must(t, err)
	// Another client's access token: what revoke is sent, so that no call of the sweep
	// revokes anything (RFC 7009: another client's token is ignored).
	rivalCreds, err := pe.svc.Create(ctx, audit.CLI, "Rival", partner.Grant{Scopes: partner.Scopes, BouquetIDs: []int64{pe.bouquet},
		AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	must(t, err)
	rival := &partnerEnv{env: pe.env, svc: pe.svc, creds: rivalCreds}
	rivalTok := rival.accessToken(t, pe.base)

	// A media token of the line: what the logout sweep revokes (its session is the one
	// revocation the sweep may leave).
	code, minted := pe.call(t, pe.base, tok, "tokens", partnerHop, viewerDE, map[string]any{"line": pe.line.ID}, nil)
	mt, _ := minted["media_token"].(string)
	if code != http.StatusCreated || mt == "" {
		t.Fatalf("tokens = %d %v", code, minted)
	}

	info := base64.StdEncoding.EncodeToString([]byte(`{"userAgent":"VLC/3.0","model":"Test TV"}`))
	oauthHeader := func(auth string) [][2]string {
		h := [][2]string{{"Content-Type", "application/x-www-form-urlencoded"}, {"X-Forwarded-For", partnerHop},
			{"User-Agent", "partner-backend/1.0"}}
		if auth != "" {
			h = append([][2]string{{"Authorization", auth}}, h...)
		}
		return h
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	apiHeader := [][2]string{{"Authorization", "Bearer " + tok}, {"Content-Type", "application/json"},
		{"X-Forwarded-For", viewerDE + ", " + partnerHop}, {"User-Agent", "partner-backend/1.0"},
		{"AP-Device-Identifier", "tv-1"}, {"X-Device-Info", info}}
	device := testkit.JObj(testkit.JM{Name: "id", Value: testkit.JString("tv-1")},
		testkit.JM{Name: "user_agent", Value: testkit.JString("VLC/3.0")}, testkit.JM{Name: "model", Value: testkit.JString("Test TV")})
	line := testkit.JRaw(strconv.FormatInt(pe.line.ID, 10))
	live := testkit.JRaw(strconv.FormatInt(pe.live, 10))
	api := func(path string, body testkit.J) testkit.HostileRequest {
		return testkit.HostileRequest{Method: http.MethodPost, Path: "/api/v2/{partner}/" + path, Params: map[string]string{"partner": id},
			Header: apiHeader, JSON: &body}
	}
	register := testkit.JObj(testkit.JM{Name: "client_name", Value: testkit.JString("Hostile shop")},
		testkit.JM{Name: "scope", Value: testkit.JString("decisions media_tokens")},
		testkit.JM{Name: "grant_types", Value: testkit.JList(testkit.JString("client_credentials"))},
		testkit.JM{Name: "token_endpoint_auth_method", Value: testkit.JString("client_secret_basic")})
	routes := []struct {
		name string
		f    answerFormat
		req  testkit.HostileRequest
		// allowed are the tables a successful call may add rows to (the logs always may).
		allowed []string
	}{
		{"register", formatOAuth, testkit.HostileRequest{Method: http.MethodPost, Path: "/o/client/register",
			Header: [][2]string{{"Authorization", "Bearer " + initial.Token.Reveal()}, {"Content-Type", "application/json"},
				{"X-Forwarded-For", partnerHop}, {"User-Agent", "partner-backend/1.0"}},
			JSON: &register}, []string{"partner_clients", "audit_log"}},
		{"token (Basic)", formatOAuth, testkit.HostileRequest{Method: http.MethodPost, Path: "/o/client/token",
			Header: oauthHeader(basic), Form: [][2]string{{"grant_type", "client_credentials"}, {"scope", "decisions"}}}, nil},
		{"token (form)", formatOAuth, testkit.HostileRequest{Method: http.MethodPost, Path: "/o/client/token",
			Header: oauthHeader(""), Form: [][2]string{{"grant_type", "client_credentials"}, {"client_id", id}, {"client_secret", secret}}}, nil},
		{"revoke (Basic)", formatOAuth, testkit.HostileRequest{Method: http.MethodPost, Path: "/o/client/revoke",
			Header: oauthHeader(basic), Form: [][2]string{{"token", rivalTok}, {"token_type_hint", "access_token"}}}, nil},
		{"revoke (form)", formatOAuth, testkit.HostileRequest{Method: http.MethodPost, Path: "/o/client/revoke",
			Header: oauthHeader(""), Form: [][2]string{{"token", rivalTok}, {"client_id", id}, {"client_secret", secret}}}, nil},
		{"preauthorize", formatProblem, api("decisions/preauthorize", testkit.JObj(testkit.JM{Name: "line", Value: line},
			testkit.JM{Name: "resources", Value: testkit.JList(live)}, testkit.JM{Name: "device", Value: device})), nil},
		{"authorize", formatProblem, api("decisions/authorize", testkit.JObj(testkit.JM{Name: "line", Value: line},
			testkit.JM{Name: "resource", Value: live}, testkit.JM{Name: "device", Value: device},
			testkit.JM{Name: "format", Value: testkit.JString("ts")}, testkit.JM{Name: "ttl", Value: testkit.JRaw("300")})), nil},
		{"authorize (username)", formatProblem, api("decisions/authorize", testkit.JObj(
			testkit.JM{Name: "line", Value: testkit.JString(pe.line.Username)}, testkit.JM{Name: "resource", Value: live})), nil},
		{"tokens", formatProblem, api("tokens", testkit.JObj(testkit.JM{Name: "line", Value: line},
			testkit.JM{Name: "ip", Value: testkit.JString(viewerDE)}, testkit.JM{Name: "ttl", Value: testkit.JRaw("300")},
			testkit.JM{Name: "device", Value: device})), nil},
		{"logout", formatProblem, api("logout", testkit.JObj(testkit.JM{Name: "media_tokens", Value: testkit.JList(testkit.JString(mt))},
			testkit.JM{Name: "access_token", Value: testkit.JRaw("false")})), []string{"partner_revocations", "audit_log"}},
	}
	values := testkit.HostileValues{Strings: partnerHostile, JSON: partnerWrongJSON, Headers: partnerHeaders(id, secret),
		Bodies: partnerBodies, MaxBody: 1 << 20}
	// The logs record refusals by design; the rest must not change on one.
	logs := []string{"client_log", "activity_log", "connection_samples"}
	sweep := &partnerSweep{status: map[string]map[int]int{}}
	uses := func() int {
		var n int
		must(t, pe.st.Pool().QueryRow(ctx, `SELECT uses FROM partner_registration_tokens WHERE id = $1`, initial.ID).Scan(&n))
		return n
	}
	for _, r := range routes {
		// The valid request first: the sweep's changes are the only thing wrong with its others.
		base := r.req.Base()
		a := testkit.RawRequest(t, pe.base, base.Method, base.Target, base.Header, base.Body)
		if checkAnswer(t, r.name, r.f, base, a); a.Status >= 300 {
			t.Fatalf("%s, valid: %d %s", r.name, a.Status, a.Body)
		}
		before, usedBefore := testdb.RowCounts(t, pe.st), uses()
		ok := 0
		for _, v := range r.req.Variants(values) {
			if v.Where == "json access_token" && v.Value == `"true"` {
				continue // a valid value: it would revoke the token the sweep goes on with
			}
			state := testdb.Digest(t, pe.st, partnerState...)
			a := testkit.RawRequest(t, pe.base, v.Method, v.Target, v.Header, v.Body)
			sweep.count(r.name, a.Status)
			out := checkAnswer(t, r.name, r.f, v, a)
			if out["authorized"] == false && (out["token"] != nil || out["url"] != nil) {
				t.Errorf("%s %s = %s: a denial with a media token: %.200s", r.name, v.Where, v.Value, a.Body)
			}
			if a.Status < 300 {
				ok++
			} else if testdb.Digest(t, pe.st, partnerState...) != state {
				t.Errorf("%s %s = %s: refused %d %.200s, and the partner tables changed", r.name, v.Where, v.Value, a.Status, a.Body)
			}
		}
		changed := testdb.RowsChanged(before, testdb.RowCounts(t, pe.st))
		for _, table := range logs {
			delete(changed, table)
		}
		for table, n := range changed {
			if !slices.Contains(r.allowed, table) {
				t.Errorf("%s: the sweep changed %s by %d rows", r.name, table, n)
			}
		}
		switch r.name {
		case "register":
			// Each 201 is one client and one use of the initial access token; a refusal neither.
			if n := changed["partner_clients"]; n != int64(ok) || uses()-usedBefore != ok || changed["audit_log"] != int64(ok) {
				t.Errorf("register: %d answers 201, %d clients, %d uses, %d audit entries", ok, n, uses()-usedBefore, changed["audit_log"])
			}
		case "logout":
			// The one session the valid logout revoked already: no other revocation.
			if n := changed["partner_revocations"]; n != 0 {
				t.Errorf("logout: %d revocations added", n)
			}
		}
	}

	// The valid requests still work: the access token (never revoked by the logout sweep's
	// access_token members), a decision, a new token of the client.
	code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, map[string]any{"line": pe.line.ID, "resource": pe.live}, nil)
	if code != http.StatusOK || out["authorized"] != true {
		t.Fatalf("authorize after the sweep = %d %v", code, out)
	}
	if code, out := pe.tokenRequest(t, pe.base, partnerHop); code != http.StatusOK || out["access_token"] == nil {
		t.Fatalf("token after the sweep = %d %v", code, out)
	}
	if code, out := rival.call(t, pe.base, rivalTok, "tokens", partnerHop, viewerDE, map[string]any{"line": pe.line.ID}, nil); code != http.StatusCreated {
		t.Fatalf("the rival's token, revoked by another client's revoke sweep: %d %v", code, out)
	}
	var mediaRevoked int
	must(t, pe.st.Pool().QueryRow(ctx, `SELECT count(*) FROM partner_revocations WHERE kind = 'access_token'`).Scan(&mediaRevoked))
	if mediaRevoked != 0 {
		t.Fatalf("%d access tokens revoked by the sweep", mediaRevoked)
	}

	if sweep.calls < 2000 {
		t.Fatalf("only %d hostile calls: the routes' parameters were not swept", sweep.calls)
	}
	for _, r := range routes {
		t.Logf("%s: %v", r.name, sweep.status[r.name])
	}
	t.Logf("%d hostile calls over %d routes in %s", sweep.calls, len(routes), time.Since(start).Round(time.Millisecond))
}
