package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// playerLogin logs a line in on player_api.php of instance in and returns user_info (auth 0
// when refused).
func playerLogin(t *testing.T, in *instance, user, pass string) map[string]any {
	t.Helper()
	resp, err := http.Get(in.base + "/player_api.php?username=" + url.QueryEscape(user) + "&password=" + url.QueryEscape(pass))
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	var out struct {
		UserInfo map[string]any `json:"user_info"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("player_api.php = %d %q", resp.StatusCode, raw)
	}
	return out.UserInfo
}

func TestSecurityLists_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	line, pass := testdb.NewLine(t, e.st, nil)
	if playerLogin(t, e.srv, line.Username, pass)["auth"] != float64(1) {
		t.Fatal("the line cannot log in before any block")
	}
	// Blocking the client's network refuses its logins on every instance within a second;
	// removing the block lets it back in.
	id := e.created(t, root, "/security/blocked-ips", map[string]any{"network": "127.0.0.0/8", "reason": "test"})
	testdb.Eventually(t, waitLimit, "the block to reach the check", func() bool {
		return playerLogin(t, e.srv, line.Username, pass)["auth"] == float64(0)
	})
	var page gotPage[struct {
		ID      int64  `json:"id"`
		Network string `json:"network"`
		Source  string `json:"source"`
	}]
	for _, addr := range []string{"127.0.0.9", "::ffff:127.0.0.9"} { // a mapped address is its IPv4 one, as in the check
		e.get(t, root, "/security/blocked-ips?source=admin&contains="+addr, &page)
		if len(page.Items) != 1 || page.Items[0].Network != "127.0.0.0/8" || page.Items[0].Source != "admin" {
			t.Fatalf("blocked ips containing %s = %+v", addr, page)
		}
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	e.wantProblems(t, root, []problemCase{
		{"duplicate", "POST", "/security/blocked-ips", map[string]any{"network": "127.0.0.1/8"}, 409, "network"},
		{"not a network", "POST", "/security/blocked-ips", map[string]any{"network": "300.1.2.3"}, 400, "network"},
		{"expiry in the past", "POST", "/security/blocked-ips", map[string]any{"network": "192.0.2.1", "expires_at": past}, 400, "expires_at"},
		{"bad contains", "GET", "/security/blocked-ips?contains=x", nil, 400, "contains"},
		{"contains with a zone", "GET", "/security/blocked-ips?contains=fe80::1%25eth0", nil, 400, "contains"},
		{"unknown id", "DELETE", "/security/blocked-ips/999", nil, 404, "id"},
	})
	wantStatus(t, "unblock", e.call(t, http.MethodDelete, fmt.Sprintf("/security/blocked-ips/%d", id), root, nil), 204)
	testdb.Eventually(t, waitLimit, "the unblock to reach the check", func() bool {
		return playerLogin(t, e.srv, line.Username, pass)["auth"] == float64(1)
	})

	ua := e.created(t, root, "/security/blocked-user-agents", map[string]any{"pattern": "BadBot"})
	isp := e.created(t, root, "/security/blocked-isps", map[string]any{"isp_name": "Evil ISP"})
	e.created(t, root, "/security/blocked-isps", map[string]any{"asn": 64500})
	e.wantProblems(t, root, []problemCase{
		{"same UA rule", "POST", "/security/blocked-user-agents", map[string]any{"pattern": "BadBot", "match": "substring"}, 409, "pattern"},
		{"bad match", "POST", "/security/blocked-user-agents", map[string]any{"pattern": "x", "match": "regex"}, 400, "match"},
		{"control character", "POST", "/security/blocked-user-agents", map[string]any{"pattern": "a\tb"}, 400, "pattern"},
		{"ISP and ASN", "POST", "/security/blocked-isps", map[string]any{"isp_name": "x", "asn": 1}, 400, "isp_name"},
		{"same ISP, other case", "POST", "/security/blocked-isps", map[string]any{"isp_name": "evil isp"}, 409, "isp_name"},
		{"same ASN", "POST", "/security/blocked-isps", map[string]any{"asn": 64500}, 409, "asn"},
		{"ASN range", "POST", "/security/blocked-isps", map[string]any{"asn": 4294967296}, 400, "asn"},
	})
	var uas, isps gotPage[struct {
		ID int64 `json:"id"`
	}]
	e.get(t, root, "/security/blocked-user-agents?pattern=bot", &uas)
	e.get(t, root, "/security/blocked-isps?limit=1", &isps)
	if len(uas.Items) != 1 || len(isps.Items) != 1 || isps.NextCursor == nil {
		t.Fatalf("user agents %+v, ISPs %+v", uas, isps)
	}
	wantStatus(t, "remove UA", e.call(t, http.MethodDelete, fmt.Sprintf("/security/blocked-user-agents/%d", ua), root, nil), 204)
	wantStatus(t, "remove ISP", e.call(t, http.MethodDelete, fmt.Sprintf("/security/blocked-isps/%d", isp), root, nil), 204)

	var countries struct {
		Countries []string `json:"countries"`
	}
	e.get(t, root, "/security/allowed-countries", &countries)
	if fmt.Sprint(countries.Countries) != "[ALL]" {
		t.Fatalf("allowed countries = %v, want [ALL]", countries.Countries)
	}
	r := e.call(t, http.MethodPut, "/security/allowed-countries", root, map[string]any{"countries": []string{"fr", "DE", "FR"}})
	wantStatus(t, "set countries", r, 200)
	r.json(t, &countries)
	if fmt.Sprint(countries.Countries) != "[DE FR]" {
		t.Fatalf("set countries = %v, want [DE FR]", countries.Countries)
	}
	e.wantProblems(t, root, []problemCase{
		{"ALL and more", "PUT", "/security/allowed-countries", map[string]any{"countries": []string{"ALL", "DE"}}, 400, "countries"},
		{"none", "PUT", "/security/allowed-countries", map[string]any{"countries": []string{}}, 400, "countries"},
		{"not a code", "PUT", "/security/allowed-countries", map[string]any{"countries": []string{"DEU"}}, 400, "countries[0]"},
	})
	var audits gotPage[struct {
		Action string `json:"action"`
	}]
	e.get(t, root, "/audit?action=blocked_ip.", &audits)
	if len(audits.Items) != 2 || audits.Items[0].Action != "blocked_ip.delete" {
		t.Fatalf("audit = %+v", audits)
	}
}

func TestSettings_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	var s map[string]any
	e.get(t, root, "/settings", &s)
	if s["connection_policy"] != "replace_same_ip" || s["flood_auth_failures"] != float64(10) || s["message"] != "" {
		t.Fatalf("default settings = %v", s)
	}
	r := e.call(t, http.MethodPatch, "/settings", root, map[string]any{"message": "Maintenance tonight",
		"rate_limit_burst": 80, "flood_exempt_ips": []string{"10.0.0.1", "10.0.0.1", "2001:db8::/32"}})
	wantStatus(t, "PATCH settings", r, 200)
	r.json(t, &s)
	if s["message"] != "Maintenance tonight" || s["rate_limit_burst"] != float64(80) ||
		fmt.Sprint(s["flood_exempt_ips"]) != "[10.0.0.1/32 2001:db8::/32]" {
		t.Fatalf("patched settings = %v", s)
	}
	// What the check reads: the message reaches players within a second.
	line, pass := testdb.NewLine(t, e.st, nil)
	testdb.Eventually(t, waitLimit, "the message to reach player_api.php", func() bool {
		return playerLogin(t, e.srv, line.Username, pass)["message"] == "Maintenance tonight"
	})
	e.wantProblems(t, root, []problemCase{
		{"unknown setting", "PATCH", "/settings", map[string]any{"colour": "red"}, 400, "colour"},
		{"enum", "PATCH", "/settings", map[string]any{"connection_policy": "newest"}, 400, "connection_policy"},
		{"not an integer", "PATCH", "/settings", map[string]any{"flood_auth_failures": 1.5}, 400, "flood_auth_failures"},
		{"out of range", "PATCH", "/settings", map[string]any{"flood_window_seconds": 0}, 400, "flood_window_seconds"},
		{"wrong type", "PATCH", "/settings", map[string]any{"disallow_empty_user_agents": "yes"}, 400, "disallow_empty_user_agents"},
		{"not a network", "PATCH", "/settings", map[string]any{"flood_exempt_ips": []string{"x"}}, 400, "flood_exempt_ips"},
		{"relative media dir", "PATCH", "/settings", map[string]any{"media_dirs": []string{"media"}}, 400, "media_dirs"},
	})
	// null puts a setting back to its default (its row goes).
	r = e.call(t, http.MethodPatch, "/settings", root, map[string]any{"message": nil})
	wantStatus(t, "reset message", r, 200)
	r.json(t, &s)
	if s["message"] != "" || s["rate_limit_burst"] != float64(80) {
		t.Fatalf("after reset = %v", s)
	}
	rows, err := e.st.Settings(t.Context())
	must(t, err)
	if _, ok := rows["message"]; ok {
		t.Fatal("the reset setting kept its row")
	}
	es, err := e.st.SearchAudit(t.Context(), store.AuditFilter{Action: "settings.update"})
	must(t, err)
	if len(es) != 2 || es[1].Detail["after"].(map[string]any)["message"] != "Maintenance tonight" {
		t.Fatalf("settings audit = %+v", es)
	}
	// The document types every setting from the table.
	sc := e.spec.doc.Components.Schemas["SettingsPatch"]
	if sc == nil || sc.Value.Properties["connection_policy"] == nil || len(sc.Value.Properties["connection_policy"].Value.Enum) != 3 {
		t.Fatalf("SettingsPatch schema = %+v", sc)
	}
}
