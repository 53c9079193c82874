package admin_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// partnerTour is the partner side's part of TestEveryOperation_HappyPath: every operation on
// partner clients, initial access tokens and signing keys once, as meant to be called.
func partnerTour(t *testing.T, e *env, call func(method, path string, body any) reply, id func(reply) int64) {
	t.Helper()
	bq := e.bouquet(t, "Partner tour")
	p := id(call(http.MethodPost, "/partners", map[string]any{"name": "Shop", "scopes": []string{"decisions", "media_tokens"},
		"bouquet_ids": []int64{bq}, "allowed_ips": []string{"192.0.2.0/24"}}))
	call(http.MethodGet, "/partners", nil)
	call(http.MethodGet, fmt.Sprintf("/partners/%d", p), nil)
	call(http.MethodPatch, fmt.Sprintf("/partners/%d", p), map[string]any{"scopes": []string{"decisions"}, "allowed_ips": []string{"192.0.2.7"}})
	call(http.MethodPost, fmt.Sprintf("/partners/%d/rotate-secret", p), nil)
	call(http.MethodDelete, fmt.Sprintf("/partners/%d", p), nil)
	rt := id(call(http.MethodPost, "/partner-registration-tokens", map[string]any{"name": "Onboarding", "scopes": []string{"decisions"},
		"allowed_ips": []string{"0.0.0.0/0", "::/0"}, "max_uses": 3, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}))
	call(http.MethodGet, "/partner-registration-tokens", nil)
	call(http.MethodDelete, fmt.Sprintf("/partner-registration-tokens/%d", rt), nil)
	call(http.MethodGet, "/partner-keys", nil)
	call(http.MethodPost, "/partner-keys/rotate", nil)
}
