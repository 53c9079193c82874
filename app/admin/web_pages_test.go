package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestWebConnections_ListRefreshKill(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{cfg: clipMediaDir(t)})
	adm, root := e.as(t, accounts.RoleAdmin)
	id, line, pass := e.liveChannel(t, root, nil)
	v := watch(t, e.srv, line.Username, pass, id)
	b := e.browser(t)
	b.login(adm)
	p := b.get("/admin/connections")
	wantPage(t, "connections", p, http.StatusOK, line.Username, `data-refresh="/admin/connections/rows"`, "Clip")
	rows := b.get("/admin/connections/rows?line_id=" + strconv.FormatInt(line.ID, 10))
	wantPage(t, "rows", rows, http.StatusOK, line.Username)
	if strings.Contains(rows.body, "<html") {
		t.Fatal("the rows partial is a whole page")
	}
	wantPage(t, "bad filter", b.get("/admin/connections?ip=nope"), http.StatusBadRequest, `id="e-ip"`)
	m := regexp.MustCompile(`/admin/connections/([0-9a-f-]{36})/kill`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no kill form:\n%s", p.body)
	}
	if p := b.post("/admin/connections/"+m[1]+"/kill", url.Values{"_csrf": {""}}); p.status != http.StatusForbidden {
		t.Fatalf("kill without the CSRF token = %d, want 403", p.status)
	}
	if p := b.post("/admin/connections/"+m[1]+"/kill", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("kill = %d\n%s", p.status, p.body)
	}
	v.ended(t)
	wantPage(t, "kill again", b.post("/admin/connections/"+m[1]+"/kill", url.Values{}), http.StatusNotFound)
	// A script's refresh without a login gets a bare 401 (it reloads into the login page).
	anon := e.browser(t)
	req, _ := http.NewRequest(http.MethodGet, e.srv.base+"/admin/connections/rows", nil)
	req.Header.Set("X-Requested-With", "fetch")
	if p := anon.do(req); p.status != http.StatusUnauthorized {
		t.Fatalf("rows without a login = %d, want 401", p.status)
	}
}

func TestWebRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm, root := e.as(t, accounts.RoleAdmin)
	r1, r2 := e.admin(t, accounts.RoleReseller), e.admin(t, accounts.RoleReseller)
	viewer := e.admin(t, accounts.RoleViewer)
	l1, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r1.id })
	l2, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r2.id })
	_ = root

	b := e.browser(t)
	b.login(r1)
	p := b.get("/admin/lines")
	wantPage(t, "reseller's lines", p, http.StatusOK, l1.Username)
	if strings.Contains(p.body, l2.Username) {
		t.Fatal("a reseller sees another reseller's line")
	}
	wantPage(t, "another reseller's line", b.get(fmt.Sprintf("/admin/lines/%d", l2.ID)), http.StatusForbidden)
	wantPage(t, "ban by a reseller", b.post(fmt.Sprintf("/admin/lines/%d/ban", l1.ID), url.Values{}), http.StatusForbidden)
	if strings.Contains(b.get("/admin/").body, "Audit log") {
		t.Fatal("a reseller's navigation shows the audit log")
	}
	wantPage(t, "package page of a reseller", b.get("/admin/packages/1"), http.StatusForbidden)
	// A reseller's new line must come from a package.
	wantPage(t, "reseller line without package", b.post("/admin/lines", url.Values{"username": {"rline"}}),
		http.StatusBadRequest, `id="e-package_id"`)

	vb := e.browser(t)
	vb.login(viewer)
	wantPage(t, "viewer's lines", vb.get("/admin/lines"), http.StatusOK, l1.Username, l2.Username)
	wantPage(t, "viewer creates a line", vb.post("/admin/lines", url.Values{"username": {"vline"}}), http.StatusForbidden)

	ab := e.browser(t)
	ab.login(adm)
	p = ab.post("/admin/accounts", url.Values{"username": {"webres"}, "role": {"reseller"}})
	wantPage(t, "create reseller", p, http.StatusCreated, "Account webres created", `id="pw-0"`)
	ra, err := e.st.AdminByUsername(t.Context(), "webres")
	must(t, err)
	rid := strconv.FormatInt(ra.ID, 10)
	if p := ab.post("/admin/accounts/"+rid+"/credits", url.Values{"amount": {"25"}, "note": {"<b>bonus</b>"}}); p.status != http.StatusSeeOther {
		t.Fatalf("credits = %d\n%s", p.status, p.body)
	}
	wantPage(t, "reseller page", ab.get("/admin/accounts/"+rid), http.StatusOK, "<strong>25</strong> credits", "&lt;b&gt;bonus&lt;/b&gt;")
	wantPage(t, "too many credits taken", ab.post("/admin/accounts/"+rid+"/credits", url.Values{"amount": {"-100"}}), http.StatusConflict)
	p = ab.post("/admin/packages", url.Values{"name": {"Month"}, "duration_hours": {"720"}, "max_connections": {"1"}, "credits": {"10"}, "enabled": {"true"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("create package = %d\n%s", p.status, p.body)
	}
	wantPage(t, "bad package", ab.post("/admin/packages", url.Values{"name": {""}, "duration_hours": {"0"}, "max_connections": {"1"}, "credits": {"1"}}),
		http.StatusBadRequest, "invalid")
	wantPage(t, "packages", ab.get("/admin/packages"), http.StatusOK, "Month")
}

var secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
var recoveryRE = regexp.MustCompile(`<li>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</li>`)

func TestWebTOTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.admin(t, accounts.RoleAdmin)
	b := e.browser(t)
	b.login(adm)
	b.get("/admin/account")
	p := b.post("/admin/account/totp/start", url.Values{})
	wantPage(t, "enrol", p, http.StatusOK, `class="qr"`)
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret:\n%s", p.body)
	}
	wantPage(t, "wrong code", b.post("/admin/account/totp/confirm", url.Values{"code": {"000000"}}), http.StatusBadRequest,
		`id="e-code"`, m[1])
	code, err := accounts.TOTPCode(m[1], time.Now())
	must(t, err)
	p = b.post("/admin/account/totp/confirm", url.Values{"code": {code}})
	wantPage(t, "confirm", p, http.StatusOK, "Recovery codes")
	codes := recoveryRE.FindAllStringSubmatch(p.body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if strings.Contains(b.get("/admin/account").body, codes[0][1]) {
		t.Fatal("the recovery codes are shown again")
	}

	// The password alone no longer logs in: the web asks for the code, the API refuses.
	b2 := e.browser(t)
	b2.get("/admin/login")
	p = b2.post("/admin/login", url.Values{"username": {adm.username}, "password": {adm.password}})
	wantPage(t, "password step", p, http.StatusOK, `name="code"`)
	wantPage(t, "replayed code", b2.post("/admin/login/code", url.Values{"code": {code}}), http.StatusUnauthorized, "already used")
	b2.post("/admin/login", url.Values{"username": {adm.username}, "password": {adm.password}})
	p = b2.post("/admin/login/code", url.Values{"code": {strings.ToLower(codes[0][1])}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("login with a recovery code = %d\n%s", p.status, p.body)
	}
	r := e.call(t, http.MethodPost, "/auth/login", anonymous, map[string]string{"username": adm.username, "password": adm.password})
	wantProblem(t, "API login without the code", r, http.StatusUnauthorized, "")
	r = e.call(t, http.MethodPost, "/auth/login", anonymous, map[string]string{"username": adm.username, "password": adm.password,
		"totp_code": codes[0][1]})
	wantProblem(t, "API login with a used recovery code", r, http.StatusUnauthorized, "")
	r = e.call(t, http.MethodPost, "/auth/login", anonymous, map[string]string{"username": adm.username, "password": adm.password,
		"totp_code": codes[1][1]})
	wantStatus(t, "API login with a recovery code", r, http.StatusOK)

	// Turning it off asks for the password.
	b.get("/admin/account")
	wantPage(t, "disable, wrong password", b.post("/admin/account/totp/disable", url.Values{"password": {"nope"}}),
		http.StatusBadRequest, `id="e-password"`)
	if p := b.post("/admin/account/totp/disable", url.Values{"password": {adm.password}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable = %d\n%s", p.status, p.body)
	}
	e.login(t, adm)
}

var assetRE = regexp.MustCompile(`/admin/static/xtreamd\.[0-9a-f]{10}\.(css|js)`)

func TestWebStatic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)
	p := b.get("/admin/login")
	urls := assetRE.FindAllString(p.body, -1)
	if len(urls) != 2 {
		t.Fatalf("the login page links %q, want the hashed CSS and JS", urls)
	}
	for _, u := range urls {
		req, _ := http.NewRequest(http.MethodGet, e.srv.base+u, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("GET %s = %d %v", u, resp.StatusCode, resp.Header)
		}
	}
	if p := b.get("/admin/static/xtreamd.css"); p.status != 200 || p.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("the plain name = %d %q", p.status, p.header.Get("Cache-Control"))
	}
	if p := b.get("/admin/static/nope.0000000000.css"); p.status != http.StatusNotFound {
		t.Fatalf("an unknown file = %d", p.status)
	}
	// The page: no inline script or style anywhere (the CSP would block it).
	for _, bad := range []string{"<script>", " style=", "onclick=", "javascript:"} {
		if strings.Contains(p.body, bad) {
			t.Fatalf("the login page has %q", bad)
		}
	}
}

func TestWebAccountsAndPackages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adm := e.admin(t, accounts.RoleAdmin)
	res := e.admin(t, accounts.RoleReseller)
	viewer := e.admin(t, accounts.RoleViewer)
	b := e.browser(t)
	b.login(adm)
	rid := strconv.FormatInt(res.id, 10)
	p := b.post("/admin/accounts/"+rid, url.Values{"_fields": {"username notes max_trials_per_day disabled parent_id"},
		"username": {res.username}, "notes": {"vip"}, "max_trials_per_day": {"7"}, "role": {"reseller"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save account = %d\n%s", p.status, p.body)
	}
	ra, err := e.st.AdminByID(t.Context(), res.id)
	must(t, err)
	if ra.Notes != "vip" || ra.MaxTrialsPerDay != 7 {
		t.Fatalf("after the save: %+v", ra)
	}
	wantPage(t, "bad trials", b.post("/admin/accounts/"+rid, url.Values{"max_trials_per_day": {"-1"}}), http.StatusBadRequest,
		`id="e-max_trials_per_day"`)
	wantPage(t, "reset password", b.post("/admin/accounts/"+rid+"/reset-password", url.Values{}), http.StatusOK, `id="pw-new"`)
	wantPage(t, "unknown action", b.post("/admin/accounts/"+rid+"/nope", url.Values{}), http.StatusNotFound)
	wantPage(t, "unknown account", b.get("/admin/accounts/999999"), http.StatusNotFound)

	pkg := e.created(t, bearer(e.login(t, adm).AccessToken), "/packages", map[string]any{"name": "Week", "duration_hours": 168,
		"max_connections": 1, "credits": 2})
	pid := strconv.FormatInt(pkg, 10)
	wantPage(t, "package page", b.get("/admin/packages/"+pid), http.StatusOK, `value="168"`)
	p = b.post("/admin/packages/"+pid, url.Values{"_fields": {"name duration_hours max_connections credits is_trial enabled bouquet_ids"},
		"name": {"Week+"}, "duration_hours": {"170"}, "max_connections": {"2"}, "credits": {"3"}, "enabled": {"true"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save package = %d\n%s", p.status, p.body)
	}
	wantPage(t, "bad package edit", b.post("/admin/packages/"+pid, url.Values{"credits": {"-5"}}), http.StatusBadRequest, `id="e-credits"`)
	if p := b.post("/admin/packages/"+pid+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete package = %d", p.status)
	}
	if p := b.post("/admin/accounts/"+rid+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete account = %d\n%s", p.status, p.body)
	}

	vb := e.browser(t)
	vb.login(viewer)
	wantPage(t, "viewer's accounts", vb.get("/admin/accounts"), http.StatusOK, adm.username)
	if strings.Contains(vb.get("/admin/accounts").body, "New account") {
		t.Fatal("a viewer is offered the new-account form")
	}
	wantPage(t, "viewer creates an account", vb.post("/admin/accounts", url.Values{"username": {"x1"}, "role": {"viewer"}}), http.StatusForbidden)
	wantPage(t, "viewer opens a package", vb.get("/admin/packages/1"), http.StatusForbidden)
}
