package player_test

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

const authFailed = `{"user_info":{"auth":0}}`

// outcome is what one surface answers: status, body (exact when exact, else a prefix
// check is skipped) and Content-Type.
type outcome struct {
	status      int
	body        string
	contentType string
}

func surfaceURL(surface, user, pass string) string {
	switch surface {
	case "player_api":
		return api(playerAPI, "username", user, "password", pass, "action", "get_live_streams")
	case "panel_api":
		return api("/panel_api.php", "username", user, "password", pass)
	case "get":
		return api("/get.php", "username", user, "password", pass, "type", "m3u_plus", "output", "ts")
	case "xmltv":
		return api("/xmltv.php", "username", user, "password", pass)
	case "enigma2":
		return api("/enigma2.php", "username", user, "password", pass)
	}
	panic(surface)
}

// TestOutcomes_Denials answers every refusal of every surface as spec §1.2, §3.1–§3.4 say.
func TestOutcomes_Denials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	apiFail := outcome{200, authFailed, "application/json"}
	cases := []struct {
		name       string
		user, pass string
		want       map[string]outcome
	}{
		{"missing credentials", "", "", map[string]outcome{
			"player_api": {200, "", "application/json"}, "panel_api": {200, "", "application/json"},
			"get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {200, "Missing parameters.", "text/plain; charset=utf-8"},
		}},
		{"missing password", "alice", "", map[string]outcome{
			"player_api": {200, "", "application/json"}, "panel_api": {200, "", "application/json"},
			"get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {200, "Missing parameters.", "text/plain; charset=utf-8"},
		}},
		{"wrong password", "alice", "wrong", map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"unknown user", "nobody", "wrong", map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"overlong password", "alice", strings.Repeat("x", 2000), map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"IP not allowed", "gina", otherPass, map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"user agent not allowed", "hank", otherPass, map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"country not allowed", "ivan", otherPass, map[string]outcome{
			"player_api": apiFail, "panel_api": apiFail, "get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
		{"expired on get.php and guides", "carol", otherPass, map[string]outcome{
			"get": {404, "", ""}, "xmltv": {401, "", ""}, "enigma2": {401, "", ""},
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for surface, want := range tt.want {
				code, hdr, body := f.get(t, surfaceURL(surface, tt.user, tt.pass))
				if code != want.status || string(body) != want.body {
					t.Errorf("%s: %d %q, want %d %q", surface, code, clip(body), want.status, want.body)
				}
				if want.contentType != "" && hdr.Get("Content-Type") != want.contentType {
					t.Errorf("%s: Content-Type %q, want %q", surface, hdr.Get("Content-Type"), want.contentType)
				}
			}
		})
	}
}

// TestOutcomes_StatusLines: expired, banned and disabled lines still "log in" (auth 1) with
// their status, whatever the action (spec §1.2, §7 #14); panel_api shows them no catalog.
func TestOutcomes_StatusLines(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct{ user, status string }{
		{"carol", "Expired"}, {"dave", "Banned"}, {"erin", "Disabled"},
	} {
		for _, action := range []string{"", "get_live_streams", "get_vod_info", "201", "get_series_info"} {
			_, _, body := f.get(t, api(playerAPI, "username", tt.user, "password", otherPass, "action", action, "vod_id", "6", "series_id", "1"))
			login := decodeStrict[Login](t, body)
			if login.UserInfo.Auth.V != 1 || login.UserInfo.Status.V != tt.status {
				t.Errorf("%s action %q: auth %d status %q, want 1 %q", tt.user, action, login.UserInfo.Auth.V, login.UserInfo.Status.V, tt.status)
			}
			if action == "" {
				golden(t, "player_api_login_"+strings.ToLower(tt.status)+".golden.json", body)
			}
		}
		_, _, body := f.get(t, api("/panel_api.php", "username", tt.user, "password", otherPass))
		panel := decodeStrict[Panel](t, body)
		if panel.UserInfo.Status.V != tt.status || len(panel.AvailableChannels) != 0 || len(panel.Categories["live"]) != 0 {
			t.Errorf("panel_api for %s: status %q, %d channels", tt.user, panel.UserInfo.Status.V, len(panel.AvailableChannels))
		}
		code, _, body := f.get(t, api("/panel_api.php", "username", tt.user, "password", otherPass, "action", "get_epg", "stream_id", "1"))
		if code != 200 || string(body) != "[]" {
			t.Errorf("panel_api get_epg for %s = %d %s, want 200 []", tt.user, code, body)
		}
	}
}

// TestOutcomes_FloodBlocked: an IP blocked for failed-login floods gets an empty 403 on every
// surface, before its credentials are looked at.
func TestOutcomes_FloodBlocked(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(st *store.Store) {
		until := time.Now().Add(time.Hour)
		if err := st.BlockIP(context.Background(), netip.MustParsePrefix("0.0.0.0/32"), "flood", "test", &until); err != nil {
			t.Fatal(err)
		}
	})
	for _, surface := range []string{"player_api", "panel_api", "get", "xmltv", "enigma2"} {
		if code, _, body := f.get(t, surfaceURL(surface, "alice", alicePass)); code != 403 || len(body) != 0 {
			t.Errorf("%s from a flood-blocked IP = %d %q, want 403 and no body", surface, code, body)
		}
	}
}

// TestOutcomes_AdminBlockedIP: an IP an admin blocked is a refusal like any policy one.
func TestOutcomes_AdminBlockedIP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(st *store.Store) {
		if err := st.BlockIP(context.Background(), netip.MustParsePrefix("0.0.0.0/32"), "admin", "test", nil); err != nil {
			t.Fatal(err)
		}
	})
	if code, _, body := f.get(t, surfaceURL("player_api", "alice", alicePass)); code != 200 || string(body) != authFailed {
		t.Errorf("player_api from a blocked IP = %d %q, want 200 %s", code, body, authFailed)
	}
}

// TestOutcomes_RateLimited: past the per-IP rate every player surface answers an empty 429.
func TestOutcomes_RateLimited(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(st *store.Store) {
		for k, v := range map[string]any{"rate_limit_per_second": 0.001, "rate_limit_burst": 1} {
			if err := st.SetSetting(context.Background(), k, v); err != nil {
				t.Fatal(err)
			}
		}
	})
	if code, _, _ := f.get(t, surfaceURL("player_api", "alice", alicePass)); code != 200 {
		t.Fatalf("first request = %d, want 200", code)
	}
	for _, surface := range []string{"player_api", "panel_api", "get", "xmltv", "enigma2"} {
		code, hdr, body := f.get(t, surfaceURL(surface, "alice", alicePass))
		if code != http.StatusTooManyRequests || len(body) != 0 {
			t.Errorf("%s over the rate = %d %q, want 429 and no body", surface, code, body)
		}
		if (surface == "player_api" || surface == "panel_api") && hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s 429 Content-Type = %q", surface, hdr.Get("Content-Type"))
		}
	}
}

// TestOutcomes_DatabaseDown: when the check cannot decide, every surface answers an empty
// 503 — never a 500, never the data.
func TestOutcomes_DatabaseDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.pool.Close()
	for _, surface := range []string{"player_api", "panel_api", "get", "xmltv", "enigma2"} {
		code, hdr, body := f.get(t, surfaceURL(surface, "alice", alicePass))
		if code != http.StatusServiceUnavailable || len(body) != 0 {
			t.Errorf("%s with the database down = %d %q, want 503 and no body", surface, code, clip(body))
		}
		if (surface == "player_api" || surface == "panel_api") && hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%s 503 Content-Type = %q", surface, hdr.Get("Content-Type"))
		}
	}
	if !strings.Contains(f.logs.String(), "player request undecided") {
		t.Errorf("the failure is not logged:\n%s", f.logs.String())
	}
}

// TestOutcomes_ActiveCons counts the line's open connections into user_info.active_cons (a
// string, spec §1.3, §6.2): expired and killed leases do not count.
func TestOutcomes_ActiveCons(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(st *store.Store) {
		testdb.MustExec(t, st, `INSERT INTO connection_leases (id, line_id, stream_id, instance_id, container, client_ip, started_at, expires_at, kill_requested_at)
			SELECT gen_random_uuid(), l.id, 1, 'test', 'ts', '10.0.0.9', now() - interval '1 hour', now() + v.expires, v.killed
			FROM lines l, (VALUES (interval '1 minute', NULL::timestamptz), (interval '1 minute', NULL),
				(interval '-1 minute', NULL), (interval '1 minute', now())) AS v(expires, killed)
			WHERE l.username = 'alice'`)
	})
	_, _, body := f.get(t, api(playerAPI, "username", "alice", "password", alicePass))
	if got := decodeStrict[Login](t, body).UserInfo.ActiveCons.V; got != 2 {
		t.Errorf("active_cons = %d, want 2", got)
	}
	_, _, body = f.get(t, api("/panel_api.php", "username", "alice", "password", alicePass))
	if got := decodeStrict[Panel](t, body).UserInfo.ActiveCons.V; got != 2 {
		t.Errorf("panel_api active_cons = %d, want 2", got)
	}
}
