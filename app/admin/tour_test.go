package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// TestEveryOperation_HappyPath calls every operation of the document once the way it is meant
// to be called, each answer checked against the document, and fails naming any operation that
// never answered 2xx: an operation added without a happy path here is caught.
func TestEveryOperation_HappyPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	adminAcc := e.admin(t, accounts.RoleAdmin)
	tok := e.login(t, adminAcc)
	admin := bearer(tok.AccessToken)
	id := func(r reply) int64 {
		t.Helper()
		var v struct {
			ID int64 `json:"id"`
		}
		r.json(t, &v)
		return v.ID
	}
	call := func(method, path string, body any) reply {
		t.Helper()
		r := e.call(t, method, path, admin, body)
		if r.status >= 300 {
			t.Fatalf("%s %s = %d %s", method, path, r.status, r.body)
		}
		return r
	}
	call(http.MethodGet, "/auth/whoami", nil)
	call(http.MethodGet, "/me", nil)
	bq := e.bouquet(t, "Main")
	pkg := id(call(http.MethodPost, "/packages", map[string]any{"name": "M", "duration_hours": 720, "max_connections": 1, "credits": 1, "bouquet_ids": []int64{bq}}))
	call(http.MethodGet, "/packages", nil)
	call(http.MethodGet, fmt.Sprintf("/packages/%d", pkg), nil)
	call(http.MethodPatch, fmt.Sprintf("/packages/%d", pkg), map[string]any{"credits": 2})
	res := id(call(http.MethodPost, "/admins", map[string]any{"username": "r1", "role": "reseller"}))
	call(http.MethodGet, "/admins", nil)
	call(http.MethodGet, fmt.Sprintf("/admins/%d", res), nil)
	call(http.MethodPatch, fmt.Sprintf("/admins/%d", res), map[string]any{"notes": "north"})
	call(http.MethodPost, fmt.Sprintf("/admins/%d/reset-password", res), map[string]any{})
	call(http.MethodPost, fmt.Sprintf("/admins/%d/credits", res), map[string]any{"amount": 10})
	call(http.MethodGet, fmt.Sprintf("/admins/%d/credits", res), nil)
	key := id(call(http.MethodPost, "/api-keys", map[string]any{"name": "k", "scopes": []string{"lines:read"}}))
	call(http.MethodGet, "/api-keys", nil)
	call(http.MethodGet, fmt.Sprintf("/api-keys/%d", key), nil)
	call(http.MethodDelete, fmt.Sprintf("/api-keys/%d", key), nil)
	line := id(call(http.MethodPost, "/lines", map[string]any{"package_id": pkg}))
	call(http.MethodGet, "/lines", nil)
	call(http.MethodGet, fmt.Sprintf("/lines/%d", line), nil)
	call(http.MethodPatch, fmt.Sprintf("/lines/%d", line), map[string]any{"reseller_notes": "x"})
	for _, action := range []string{"ban", "unban", "disable", "enable", "kill"} {
		call(http.MethodPost, fmt.Sprintf("/lines/%d/%s", line, action), nil)
	}
	call(http.MethodPost, fmt.Sprintf("/lines/%d/extend", line), map[string]any{"package_id": pkg})
	call(http.MethodPost, fmt.Sprintf("/lines/%d/reset-password", line), map[string]any{"password": "new-pw"})
	call(http.MethodPost, "/lines/bulk", map[string]any{"count": 2})
	call(http.MethodPost, "/lines/bulk-actions", map[string]any{"action": "extend", "ids": []int64{line}, "days": 1})
	dev := id(call(http.MethodPost, "/devices", map[string]any{"mac": "00:1A:79:00:00:01", "line_id": line}))
	call(http.MethodGet, "/devices", nil)
	call(http.MethodGet, fmt.Sprintf("/devices/%d", dev), nil)
	call(http.MethodPatch, fmt.Sprintf("/devices/%d", dev), map[string]any{"lock_device": true})
	call(http.MethodDelete, fmt.Sprintf("/devices/%d", dev), nil)
	// A device credential as second-screen activation leaves one (app/device tests the flow).
	var cred int64
	must(t, e.pool.QueryRow(t.Context(), `INSERT INTO device_credentials (line_id, kind, username, password_hash, client_id, device_id)
		VALUES ($1, 'xtream', 'dev-tour', '$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA', 'tour-app', 'tv-1') RETURNING id`, line).Scan(&cred))
	call(http.MethodGet, fmt.Sprintf("/lines/%d/device-credentials", line), nil)
	call(http.MethodDelete, fmt.Sprintf("/lines/%d/device-credentials/%d", line, cred), nil)
	call(http.MethodDelete, fmt.Sprintf("/lines/%d", line), nil)
	sv := id(call(http.MethodPost, "/servers", map[string]any{"name": "lb"}))
	call(http.MethodGet, "/servers", nil)
	call(http.MethodGet, fmt.Sprintf("/servers/%d", sv), nil)
	call(http.MethodPatch, fmt.Sprintf("/servers/%d", sv), map[string]any{"public_host": "lb.example.com"})
	call(http.MethodDelete, fmt.Sprintf("/servers/%d", sv), nil)
	call(http.MethodDelete, fmt.Sprintf("/packages/%d", pkg), nil)
	call(http.MethodDelete, fmt.Sprintf("/admins/%d", res), nil)
	catalogTour(t, e, call, id)
	partnerTour(t, e, call, id)
	r := e.call(t, http.MethodPost, "/auth/refresh", anonymous, map[string]string{"refresh_token": tok.RefreshToken})
	wantStatus(t, "refresh", r, 200)
	var fresh tokens
	r.json(t, &fresh)
	wantStatus(t, "logout", e.call(t, http.MethodPost, "/auth/logout", bearer(fresh.AccessToken), nil), 204)

	var missed []string
	for _, item := range e.spec.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !e.spec.worked[op.OperationID] {
				missed = append(missed, op.OperationID)
			}
		}
	}
	slices.Sort(missed)
	if len(missed) > 0 {
		t.Fatalf("operations without a happy path in this test: %v", missed)
	}
}
