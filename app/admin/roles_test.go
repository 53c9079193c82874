package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// TestRoles_Matrix: what each role and each kind of API key may do, operation by operation.
func TestRoles_Matrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminAcc, admin := e.as(t, accounts.RoleAdmin)
	_, viewer := e.as(t, accounts.RoleViewer)
	_, reseller := e.as(t, accounts.RoleReseller)
	readKey := apiKey(e.key(t, admin, adminAcc.id, "lines:read"))
	writeKey := apiKey(e.key(t, admin, adminAcc.id, "lines:write"))
	allKey := apiKey(e.key(t, admin, adminAcc.id, "*"))
	line := e.createLine(t, admin, map[string]any{})
	pkgBody := map[string]any{"name": "p", "duration_hours": 1, "max_connections": 1, "credits": 0}
	tests := []struct {
		name   string
		a      auth
		method string
		path   string
		body   any
		want   int
	}{
		{"viewer reads lines", viewer, http.MethodGet, "/lines", nil, 200},
		{"viewer reads a line", viewer, http.MethodGet, fmt.Sprintf("/lines/%d", line.ID), nil, 200},
		{"viewer creates a line", viewer, http.MethodPost, "/lines", map[string]any{}, 403},
		{"viewer bans", viewer, http.MethodPost, fmt.Sprintf("/lines/%d/ban", line.ID), nil, 403},
		{"viewer makes a package", viewer, http.MethodPost, "/packages", pkgBody, 403},
		{"viewer lists servers", viewer, http.MethodGet, "/servers", nil, 200},
		{"reseller lists servers", reseller, http.MethodGet, "/servers", nil, 403},
		{"reseller makes a package", reseller, http.MethodPost, "/packages", pkgBody, 403},
		{"reseller reads the panel's line", reseller, http.MethodGet, fmt.Sprintf("/lines/%d", line.ID), nil, 403},
		{"reseller deletes an admin", reseller, http.MethodDelete, fmt.Sprintf("/admins/%d", adminAcc.id), nil, 403},
		{"read key lists lines", readKey, http.MethodGet, "/lines", nil, 200},
		{"read key creates a line", readKey, http.MethodPost, "/lines", map[string]any{}, 403},
		{"read key lists packages", readKey, http.MethodGet, "/packages", nil, 403},
		{"write key reads lines", writeKey, http.MethodGet, "/lines", nil, 200},
		{"write key creates a line", writeKey, http.MethodPost, "/lines", map[string]any{}, 201},
		{"write key makes a key", writeKey, http.MethodPost, "/api-keys", map[string]any{"name": "x", "scopes": []string{"*"}}, 403},
		{"star key makes a package", allKey, http.MethodPost, "/packages", pkgBody, 201},
		{"a key has no session to end", allKey, http.MethodPost, "/auth/logout", nil, 400},
	}
	for _, tt := range tests {
		r := e.call(t, tt.method, tt.path, tt.a, tt.body)
		if tt.want >= 400 {
			wantProblem(t, tt.name, r, tt.want, "")
		} else {
			wantStatus(t, tt.name, r, tt.want)
		}
	}
	r := e.call(t, http.MethodGet, "/auth/whoami", readKey, nil)
	if !strings.Contains(string(r.body), `"scopes":["lines:read"]`) || !strings.Contains(string(r.body), `"username":"api_key:xk`) {
		t.Fatalf("whoami with a key = %s", r.body)
	}
}

// TestAccountChanges_EndLogins: a disabled account, a changed role and a revoked key stop
// working at once.
func TestAccountChanges_EndLogins(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminAcc, admin := e.as(t, accounts.RoleAdmin)
	victim, victimAuth := e.as(t, accounts.RoleAdmin)
	demoted, demotedAuth := e.as(t, accounts.RoleAdmin)
	keyAuth := apiKey(e.key(t, admin, victim.id, "*"))
	wantStatus(t, "key works", e.call(t, http.MethodGet, "/me", keyAuth, nil), 200)

	wantStatus(t, "disable", e.call(t, http.MethodPatch, fmt.Sprintf("/admins/%d", victim.id), admin, map[string]any{"disabled": true}), 200)
	wantProblem(t, "token of a disabled account", e.call(t, http.MethodGet, "/me", victimAuth, nil), 401, "")
	wantProblem(t, "key of a disabled account", e.call(t, http.MethodGet, "/me", keyAuth, nil), 401, "")
	wantProblem(t, "login of a disabled account", e.call(t, http.MethodPost, "/auth/login", anonymous,
		map[string]string{"username": victim.username, "password": victim.password}), 401, "")

	wantStatus(t, "demote", e.call(t, http.MethodPatch, fmt.Sprintf("/admins/%d", demoted.id), admin, map[string]any{"role": "viewer"}), 200)
	wantProblem(t, "token of the old role", e.call(t, http.MethodGet, "/me", demotedAuth, nil), 401, "")
	viewerAuth := bearer(e.login(t, demoted).AccessToken)
	wantProblem(t, "the new role", e.call(t, http.MethodPost, "/lines", viewerAuth, map[string]any{}), 403, "")

	k := e.call(t, http.MethodPost, "/api-keys", admin, map[string]any{"name": "temp", "scopes": []string{"lines:read"},
		"expires_at": time.Now().Add(time.Hour)})
	wantStatus(t, "create key", k, 201)
	var made struct {
		ID  int64  `json:"id"`
		Key string `json:"key"`
	}
	k.json(t, &made)
	wantStatus(t, "revoke key", e.call(t, http.MethodDelete, fmt.Sprintf("/api-keys/%d", made.ID), admin, nil), 204)
	wantProblem(t, "revoked key", e.call(t, http.MethodGet, "/lines", apiKey(made.Key), nil), 401, "")
	wantProblem(t, "demote yourself", e.call(t, http.MethodPatch, fmt.Sprintf("/admins/%d", adminAcc.id), admin,
		map[string]any{"role": "viewer"}), 403, "role")
	wantProblem(t, "delete yourself", e.call(t, http.MethodDelete, fmt.Sprintf("/admins/%d", adminAcc.id), admin, nil), 403, "id")
}

func TestAdmins_CreatePatchDeletePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	r := e.call(t, http.MethodPost, "/admins", admin, map[string]any{"username": "ops@example.com", "role": "viewer", "notes": "night shift"})
	wantStatus(t, "create admin", r, 201)
	var made struct {
		ID       int64  `json:"id"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	r.json(t, &made)
	if len(made.Password) != 16 || made.Role != "viewer" {
		t.Fatalf("created admin = %+v", made)
	}
	for name, c := range map[string]struct {
		body   any
		status int
		field  string
	}{
		"taken":          {map[string]any{"username": "ops@example.com", "role": "viewer"}, 409, "username"},
		"bad username":   {map[string]any{"username": "a b", "role": "viewer"}, 400, "username"},
		"bad role":       {map[string]any{"username": "x", "role": "root"}, 400, "role"},
		"short password": {map[string]any{"username": "x", "role": "admin", "password": "short"}, 400, "password"},
		"no role":        {map[string]any{"username": "x"}, 400, "role"},
		"viewer parent":  {map[string]any{"username": "x", "role": "viewer", "parent_id": made.ID}, 400, "parent_id"},
	} {
		wantProblem(t, name, e.call(t, http.MethodPost, "/admins", admin, c.body), c.status, c.field)
	}
	r = e.call(t, http.MethodPost, fmt.Sprintf("/admins/%d/reset-password", made.ID), admin, map[string]any{"password": "a-new-password"})
	wantStatus(t, "reset admin password", r, 200)
	e.login(t, account{id: made.ID, username: "ops@example.com", password: "a-new-password"})
	r = e.call(t, http.MethodGet, "/admins?role=viewer", admin, nil)
	wantStatus(t, "list viewers", r, 200)
	if strings.Count(string(r.body), `"role":"viewer"`) != 1 || strings.Contains(string(r.body), "a-new-password") {
		t.Fatalf("viewers = %s", r.body)
	}
	wantStatus(t, "delete admin", e.call(t, http.MethodDelete, fmt.Sprintf("/admins/%d", made.ID), admin, nil), 204)
	wantProblem(t, "get deleted admin", e.call(t, http.MethodGet, fmt.Sprintf("/admins/%d", made.ID), admin, nil), 404, "id")
}

func TestPackagesAndServers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	_, reseller := e.as(t, accounts.RoleReseller)
	bq := e.bouquet(t, "Main")
	r := e.call(t, http.MethodPost, "/packages", admin, map[string]any{"name": "Year", "duration_hours": 8760, "max_connections": 2,
		"credits": 10, "bouquet_ids": []int64{bq}, "enabled": false})
	wantStatus(t, "create package", r, 201)
	var pkg struct {
		ID int64 `json:"id"`
	}
	r.json(t, &pkg)
	wantProblem(t, "duplicate package", e.call(t, http.MethodPost, "/packages", admin, map[string]any{"name": "Year",
		"duration_hours": 1, "max_connections": 1, "credits": 0}), 409, "name")
	wantProblem(t, "package of 0 hours", e.call(t, http.MethodPost, "/packages", admin, map[string]any{"name": "Zero",
		"duration_hours": 0, "max_connections": 1, "credits": 0}), 400, "duration_hours")
	wantProblem(t, "reseller reads a disabled package", e.call(t, http.MethodGet, fmt.Sprintf("/packages/%d", pkg.ID), reseller, nil), 404, "id")
	wantStatus(t, "enable package", e.call(t, http.MethodPatch, fmt.Sprintf("/packages/%d", pkg.ID), admin, map[string]any{"enabled": true}), 200)
	wantStatus(t, "reseller reads an enabled package", e.call(t, http.MethodGet, fmt.Sprintf("/packages/%d", pkg.ID), reseller, nil), 200)
	wantStatus(t, "delete package", e.call(t, http.MethodDelete, fmt.Sprintf("/packages/%d", pkg.ID), admin, nil), 204)

	r = e.call(t, http.MethodPost, "/servers", admin, map[string]any{"name": "lb1", "api_ips": []string{"192.0.2.10", "198.51.100.0/24"}})
	wantStatus(t, "create server", r, 201)
	if !strings.Contains(string(r.body), `"api_ips":["192.0.2.10","198.51.100.0/24"]`) {
		t.Fatalf("server = %s", r.body)
	}
	var sv struct {
		ID int64 `json:"id"`
	}
	r.json(t, &sv)
	wantProblem(t, "bad api ip", e.call(t, http.MethodPost, "/servers", admin, map[string]any{"name": "lb2", "api_ips": []string{"x"}}), 400, "api_ips[0]")
	wantProblem(t, "duplicate server", e.call(t, http.MethodPost, "/servers", admin, map[string]any{"name": "lb1"}), 409, "name")
	wantStatus(t, "patch server", e.call(t, http.MethodPatch, fmt.Sprintf("/servers/%d", sv.ID), admin, map[string]any{"enabled": false}), 200)
	wantStatus(t, "delete server", e.call(t, http.MethodDelete, fmt.Sprintf("/servers/%d", sv.ID), admin, nil), 204)
}
