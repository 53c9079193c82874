package admin_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// The panel-wide pages: security lists, settings, activity and audit logs.

var removeRE = regexp.MustCompile(`action="(/admin/security/[a-z-]+/\d+/delete)"`)

// wantEscaped fails if p has raw markup of the hostile names, or lacks their escaped text.
func wantEscaped(t *testing.T, what string, p webPage) {
	t.Helper()
	if strings.Contains(p.body, xssScript) || strings.Contains(p.body, "<img src=x") {
		t.Fatalf("%s: a hostile value is not escaped:\n%s", what, p.body)
	}
	if !strings.Contains(p.body, html.EscapeString(xssScript)) && !strings.Contains(p.body, "&lt;script&gt;") {
		t.Fatalf("%s: the hostile value is not shown as text:\n%s", what, p.body)
	}
}

func TestWebSecurity(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	wantPage(t, "security", b.get("/admin/security"), http.StatusOK, "No blocked addresses.", `name="network"`, `name="expires_at"`)

	// An address with a hostile reason and an expiry, in the panel's zone.
	ok := func(what, path string, form url.Values, then string) webPage {
		t.Helper()
		p := b.post(path, form)
		if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), then) {
			t.Fatalf("%s = %d (Location %q)\n%s", what, p.status, p.header.Get("Location"), p.body)
		}
		return b.get(p.header.Get("Location"))
	}
	p := ok("block", "/admin/security/ips", url.Values{"network": {"203.0.113.9/24"}, "reason": {xssScript},
		"expires_at": {"2099-01-02T03:04"}}, "/admin/security/ips")
	wantPage(t, "list", p, http.StatusOK, "203.0.113.0/24", "2099-01-02 03:04", "every instance applies it")
	wantEscaped(t, "blocked IPs", p)
	for _, tt := range []refusal{
		{"not an IP", url.Values{"network": {"nope"}}, http.StatusBadRequest, "network"},
		{"no IP", url.Values{"network": {""}}, http.StatusBadRequest, "network"},
		{"same network", url.Values{"network": {"203.0.113.0/24"}}, http.StatusConflict, "network"},
		{"bad expiry", url.Values{"network": {"198.51.100.1"}, "expires_at": {"tomorrow"}}, http.StatusBadRequest, "expires_at"},
	} {
		p := b.post("/admin/security/ips", tt.form)
		wantFieldError(t, tt.name, p, tt.status, tt.field)
	}
	wantPage(t, "filter holds", b.get("/admin/security/ips?contains=203.0.113.77"), http.StatusOK, "<td>203.0.113.0/24</td>")
	if p := b.get("/admin/security/ips?contains=198.51.100.1"); strings.Contains(p.body, "<td>203.0.113.0/24</td>") {
		t.Fatal("the filter lists a block that does not hold the address")
	}
	wantFieldError(t, "bad filter", b.get("/admin/security/ips?contains=nope"), http.StatusBadRequest, "contains")
	m := removeRE.FindStringSubmatch(b.get("/admin/security/ips").body)
	if m == nil {
		t.Fatal("no remove button")
	}
	wantPage(t, "removed", ok("remove", m[1], url.Values{}, "/admin/security/ips?done=removed"), http.StatusOK, "No blocked addresses.")
	wantPage(t, "remove again", b.post(m[1], url.Values{}), http.StatusNotFound)
	wantPage(t, "remove no id", b.post("/admin/security/ips/x/delete", url.Values{}), http.StatusNotFound)

	// User agents: a hostile pattern as text; the match is one of two.
	p = ok("block UA", "/admin/security/user-agents", url.Values{"pattern": {xssScript}, "match": {"exact"}}, "/admin/security/user-agents")
	wantPage(t, "UAs", p, http.StatusOK, ">exact<")
	wantEscaped(t, "blocked UAs", p)
	wantFieldError(t, "bad match", b.post("/admin/security/user-agents", url.Values{"pattern": {"x"}, "match": {"regex"}}),
		http.StatusBadRequest, "match")
	wantFieldError(t, "no pattern", b.post("/admin/security/user-agents", url.Values{"pattern": {""}}), http.StatusBadRequest, "pattern")
	wantFieldError(t, "same pattern", b.post("/admin/security/user-agents", url.Values{"pattern": {xssScript}, "match": {"exact"}}),
		http.StatusConflict, "pattern")

	// ISPs and ASNs.
	p = ok("block ISP", "/admin/security/isps", url.Values{"isp_name": {"Bad Hosting"}}, "/admin/security/isps")
	wantPage(t, "ISPs", p, http.StatusOK, "Bad Hosting")
	p = ok("block ASN", "/admin/security/isps", url.Values{"asn": {"64496"}}, "/admin/security/isps")
	wantPage(t, "ISPs", p, http.StatusOK, "Bad Hosting", "AS64496")
	wantFieldError(t, "ASN not a number", b.post("/admin/security/isps", url.Values{"asn": {"AS1"}}), http.StatusBadRequest, "asn")
	wantFieldError(t, "ASN out of range", b.post("/admin/security/isps", url.Values{"asn": {"-1"}}), http.StatusBadRequest, "asn")
	if p := b.post("/admin/security/isps", url.Values{}); p.status != http.StatusBadRequest {
		t.Fatalf("neither ISP nor ASN = %d\n%s", p.status, p.body)
	}

	// A form without its token changes nothing.
	wantPage(t, "no CSRF token", b.post("/admin/security/user-agents", url.Values{"_csrf": {""}, "pattern": {"NoToken"}}),
		http.StatusForbidden, "expired")
	if p := b.get("/admin/security/user-agents"); strings.Contains(p.body, "NoToken") {
		t.Fatal("a form without its CSRF token added a rule")
	}

	// Countries, typed in any form.
	p = ok("countries", "/admin/security/countries", url.Values{"countries": {"de, fr\nNL"}}, "/admin/security/countries")
	wantPage(t, "countries", p, http.StatusOK, "DE\nFR\nNL")
	wantFieldError(t, "bad country", b.post("/admin/security/countries", url.Values{"countries": {"DE X1"}}),
		http.StatusBadRequest, "countries")
	wantFieldError(t, "no country", b.post("/admin/security/countries", url.Values{"countries": {""}}),
		http.StatusBadRequest, "countries")

	// Every change went through the API's domain: each has its audit entry.
	var n int
	must(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE target_type LIKE 'blocked%' OR action LIKE 'security.%'`).Scan(&n))
	if n < 5 {
		t.Fatalf("security changes audited: %d, want at least 5", n)
	}
}

func TestWebSecurity_Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	e.created(t, root, "/security/blocked-user-agents", map[string]any{"pattern": "BadPlayer"})
	vb, _ := e.webAs(t, accounts.RoleViewer)
	p := vb.get("/admin/security/user-agents")
	wantPage(t, "viewer's list", p, http.StatusOK, "BadPlayer")
	if strings.Contains(p.body, `name="pattern" value=""`+` required`) || strings.Contains(p.body, "/delete") {
		t.Fatalf("a viewer is offered changes:\n%s", p.body)
	}
	wantPage(t, "viewer adds", vb.post("/admin/security/user-agents", url.Values{"pattern": {"x"}}), http.StatusForbidden)
	wantPage(t, "viewer sets countries", vb.post("/admin/security/countries", url.Values{"countries": {"DE"}}), http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	for _, path := range []string{"/admin/security", "/admin/security/user-agents", "/admin/security/isps", "/admin/security/countries"} {
		wantPage(t, "reseller "+path, rb.get(path), http.StatusForbidden)
	}
	wantPage(t, "reseller adds", rb.post("/admin/security/ips", url.Values{"network": {"192.0.2.1"}}), http.StatusForbidden)
	wantPage(t, "reseller removes", rb.post("/admin/security/user-agents/1/delete", url.Values{}), http.StatusForbidden)
	if p := rb.get("/admin/"); strings.Contains(p.body, `href="/admin/security"`) || strings.Contains(p.body, `href="/admin/settings"`) ||
		strings.Contains(p.body, `href="/admin/audit"`) || !strings.Contains(p.body, `href="/admin/activity"`) {
		t.Fatalf("a reseller's navigation:\n%s", p.body)
	}
	var n int
	must(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM blocked_user_agents`).Scan(&n))
	if n != 1 {
		t.Fatalf("blocked user agents = %d, want the one", n)
	}
}

func TestWebSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	p := b.get("/admin/settings")
	wantPage(t, "settings", p, http.StatusOK, `<label for="f-flood_auth_failures">Flood auth failures</label>`,
		"Failed logins from one address", "Default: 10.", `<option value="kick_oldest">kick oldest</option>`, "Save settings")
	stored := func() map[string]json.RawMessage {
		t.Helper()
		raw, err := e.st.Settings(t.Context())
		must(t, err)
		return raw
	}
	// Only what changed is saved: a page posted as shown stores nothing.
	form := url.Values{"flood_auth_failures": {"10"}, "flood_window_seconds": {"60"}, "connection_policy": {"replace_same_ip"},
		"rate_limit_per_second": {"20"}, "message": {""}}
	if p := b.post("/admin/settings", form); p.status != http.StatusSeeOther {
		t.Fatalf("save unchanged = %d\n%s", p.status, p.body)
	}
	if raw := stored(); len(raw) != 0 {
		t.Fatalf("an unchanged page stored %v", raw)
	}
	form.Set("flood_auth_failures", "5")
	form.Set("flood_window_seconds", "2.5")
	form.Set("message", xssImg)
	form.Set("flood_exempt_ips", "10.0.0.0/8\n192.0.2.1")
	form.Set("disallow_empty_user_agents", "true")
	if p := b.post("/admin/settings", form); p.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", p.status, p.body)
	}
	raw := stored()
	if string(raw["flood_auth_failures"]) != "5" || string(raw["flood_window_seconds"]) != "2.5" ||
		string(raw["disallow_empty_user_agents"]) != "true" || !strings.Contains(string(raw["flood_exempt_ips"]), "192.0.2.1/32") ||
		len(raw) != 5 {
		t.Fatalf("stored settings = %s", raw)
	}
	p = b.get("/admin/settings?done=saved")
	wantPage(t, "saved", p, http.StatusOK, "settings were saved", `value="2.5"`, "10.0.0.0/8\n192.0.2.1/32",
		`name="disallow_empty_user_agents" value="true" checked`)
	if strings.Contains(p.body, "<img src=x") {
		t.Fatal("the message is not escaped")
	}
	// Refusals next to the setting, nothing written.
	for _, tt := range []struct{ key, val string }{
		{"flood_auth_failures", "many"}, {"flood_auth_failures", "-1"}, {"flood_block_seconds", "0"},
		{"connection_policy", "random"}, {"flood_exempt_ips", "10.0.0.0/8\nnope"}, {"message", strings.Repeat("x", 4097)},
	} {
		f := cloneForm(form)
		f.Set(tt.key, tt.val)
		p := b.post("/admin/settings", f)
		wantFieldError(t, tt.key+"="+tt.val, p, http.StatusBadRequest, tt.key)
		if tt.key != "message" && tt.key != "connection_policy" && !strings.Contains(p.body, html.EscapeString(tt.val)) {
			t.Errorf("%s: the page lost the value typed", tt.key)
		}
	}
	if got := stored(); string(got["flood_auth_failures"]) != "5" {
		t.Fatalf("a refused save wrote %s", got)
	}
	// Back to the default: ticked, or emptied.
	f := cloneForm(form)
	f.Set("_reset", "flood_auth_failures")
	f.Set("flood_window_seconds", "")
	f.Del("disallow_empty_user_agents") // unticked
	if p := b.post("/admin/settings", f); p.status != http.StatusSeeOther {
		t.Fatalf("reset = %d\n%s", p.status, p.body)
	}
	raw = stored()
	if _, ok := raw["flood_auth_failures"]; ok || raw["flood_window_seconds"] != nil || string(raw["disallow_empty_user_agents"]) != "false" {
		t.Fatalf("after the reset: %s", raw)
	}
	var n int
	must(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE action = 'settings.update'`).Scan(&n))
	if n != 2 {
		t.Fatalf("settings audit entries = %d, want 2 (the unchanged save writes none)", n)
	}

	// A viewer reads them; neither it nor a reseller changes them.
	vb, _ := e.webAs(t, accounts.RoleViewer)
	if p := vb.get("/admin/settings"); p.status != http.StatusOK || strings.Contains(p.body, "Save settings") {
		t.Fatalf("viewer's settings = %d\n%s", p.status, p.body)
	}
	wantPage(t, "viewer saves", vb.post("/admin/settings", url.Values{"flood_auth_failures": {"1"}}), http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller's settings", rb.get("/admin/settings"), http.StatusForbidden)
	wantPage(t, "reseller saves", rb.post("/admin/settings", url.Values{"flood_auth_failures": {"1"}}), http.StatusForbidden)
	if _, ok := stored()["flood_auth_failures"]; ok {
		t.Fatal("a refused role changed a setting")
	}
}

func TestWebLogs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, adm := e.webAs(t, accounts.RoleAdmin)
	r1b, r1 := e.webAs(t, accounts.RoleReseller)
	_, r2 := e.webAs(t, accounts.RoleReseller)
	own, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r1.id })
	other, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r2.id })
	for i, l := range []store.Line{own, other, own} {
		testdb.MustExec(t, e.st, `INSERT INTO activity_log (lease_id, line_id, username, stream_id, container, client_ip, country,
			user_agent, started_at, ended_at, bytes_out, end_reason)
			VALUES (gen_random_uuid(), $1, $2, 7, 'ts', $3, 'DE', $4, now() - interval '1 hour', now(), 2048, $5)`,
			l.ID, l.Username, fmt.Sprintf("192.0.2.%d", i+1), xssScript, []string{"closed", "killed", "closed"}[i])
	}
	p := b.get("/admin/activity")
	wantPage(t, "activity", p, http.StatusOK, own.Username, other.Username, "192.0.2.3 · DE", "2.0 KiB")
	wantEscaped(t, "activity", p)
	p = b.get("/admin/activity?reason=killed")
	if !strings.Contains(p.body, other.Username) || strings.Contains(p.body, own.Username) {
		t.Fatalf("filtered by reason:\n%s", p.body)
	}
	wantFieldError(t, "bad reason", b.get("/admin/activity?reason=Killed!"), http.StatusBadRequest, "reason")
	wantFieldError(t, "bad ip", b.get("/admin/activity?ip=nope"), http.StatusBadRequest, "ip")
	wantFieldError(t, "bad since", b.get("/admin/activity?since=yesterday"), http.StatusBadRequest, "since")
	if p := b.get("/admin/activity?since=2099-01-01T00:00"); !strings.Contains(p.body, "No connections.") {
		t.Fatalf("since the future:\n%s", p.body)
	}
	// Keyset paging: one a page, newest first, by the Next link.
	p = b.get("/admin/activity?limit=1")
	next := regexp.MustCompile(`href="(/admin/activity\?[^"]*cursor=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil || !strings.Contains(p.body, "192.0.2.3") {
		t.Fatalf("first page:\n%s", p.body)
	}
	if p := b.get(html.UnescapeString(next[1])); !strings.Contains(p.body, "192.0.2.2") || strings.Contains(p.body, "192.0.2.3") {
		t.Fatalf("second page:\n%s", p.body)
	}
	// A reseller sees its own lines' activity, and no audit log.
	p = r1b.get("/admin/activity")
	if !strings.Contains(p.body, own.Username) || strings.Contains(p.body, other.Username) {
		t.Fatalf("a reseller's activity:\n%s", p.body)
	}
	wantPage(t, "reseller's audit", r1b.get("/admin/audit"), http.StatusForbidden)

	// Refused requests: a reseller sees its own lines'; a wrong username (no line) only staff.
	for _, d := range []struct {
		line *store.Line
		user string
		code string
	}{{&own, own.Username, "USER_BAN"}, {&other, other.Username, "USER_EXPIRED"}, {nil, xssImg, "AUTH_FAILED"}} {
		var id *int64
		if d.line != nil {
			id = &d.line.ID
		}
		must(t, e.st.LogClientDenial(t.Context(), id, d.user, d.code, "player_api", netip.MustParseAddr("198.51.100.7"), xssScript, nil))
	}
	p = b.get("/admin/activity/denials")
	wantPage(t, "denials", p, http.StatusOK, "<td>USER_BAN</td>", "<td>USER_EXPIRED</td>", "<td>AUTH_FAILED</td>", "198.51.100.7", `aria-current="page">Refused requests`)
	wantEscaped(t, "denials", p)
	if p := b.get("/admin/activity/denials?code=USER_BAN"); strings.Contains(p.body, "<td>AUTH_FAILED</td>") {
		t.Fatalf("filtered by code:\n%s", p.body)
	}
	wantFieldError(t, "bad code", b.get("/admin/activity/denials?code=nope"), http.StatusBadRequest, "code")
	wantFieldError(t, "bad surface", b.get("/admin/activity/denials?surface=A!"), http.StatusBadRequest, "surface")
	p = r1b.get("/admin/activity/denials")
	if !strings.Contains(p.body, "<td>USER_BAN</td>") || strings.Contains(p.body, "<td>USER_EXPIRED</td>") || strings.Contains(p.body, "<td>AUTH_FAILED</td>") {
		t.Fatalf("a reseller's refused requests:\n%s", p.body)
	}
	_, root := e.as(t, accounts.RoleAdmin)
	var page gotPage[struct {
		Code     string  `json:"code"`
		ClientIP *string `json:"client_ip"`
	}]
	e.get(t, root, "/denials?limit=2", &page)
	if len(page.Items) != 2 || page.Items[0].Code != "AUTH_FAILED" || page.NextCursor == nil {
		t.Fatalf("GET /denials = %+v", page)
	}

	// The audit log: the web's own changes, filtered by action, with the actor.
	b.get("/admin/settings")
	b.post("/admin/settings", url.Values{"message": {xssImg}})
	p = b.get("/admin/audit?action=settings.")
	wantPage(t, "audit", p, http.StatusOK, "settings.update", adm.username, "&#34;message&#34;")
	if strings.Contains(p.body, "<img src=x") {
		t.Fatal("audit detail is not escaped")
	}
	wantFieldError(t, "bad action", b.get("/admin/audit?action=Bad!"), http.StatusBadRequest, "action")
	wantFieldError(t, "bad account", b.get("/admin/audit?admin_id=x"), http.StatusBadRequest, "admin_id")
	vb, _ := e.webAs(t, accounts.RoleViewer)
	wantPage(t, "viewer's audit", vb.get("/admin/audit?action=settings."), http.StatusOK, "settings.update")
}
