package admin_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// TestHostileBodies_Regressions are the faults a sweep of every write body's members found,
// one request each.
func TestHostileBodies_Regressions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	movie := map[string]any{"name": "Movie", "container_extension": "mp4", "sources": []map[string]string{{"url": "http://192.0.2.1/m.mp4"}}}
	with := func(info string) map[string]any {
		m := maps.Clone(movie)
		m["info"] = json.RawMessage(info)
		return m
	}

	// A free-form info with NUL in a value or a key was a 500 (PostgreSQL's jsonb refuses it);
	// a number past float64 was a 400 naming no member, whose detail named Go's types; one
	// with more digits than float64 keeps was stored rounded (1e+23).
	e.wantProblems(t, admin, []problemCase{
		{"NUL in an info value", http.MethodPost, "/vod", with(`{"plot":"a\u0000b"}`), 400, "info.plot"},
		{"NUL in an info key", http.MethodPost, "/vod", with(`{"a\u0000":1}`), 400, "info.a\x00"},
		{"NUL deep in info", http.MethodPost, "/vod", with(`{"cast":[{"name":"\u0000"}]}`), 400, "info.cast[0].name"},
		{"a number past float64", http.MethodPost, "/vod", with(`{"rating":1e400}`), 400, "info.rating"},
		{"a number float64 rounds", http.MethodPost, "/vod", with(`{"tmdb":99999999999999999999999}`), 400, "info.tmdb"},
		{"int64's minimum, which reads back rounded", http.MethodPost, "/vod", with(`{"n":-9223372036854775808}`), 400, "info.n"},
		{"a lone surrogate in info", http.MethodPost, "/vod", with(`{"plot":"\ud800"}`), 400, "info.plot"},
		{"info nested past the limit", http.MethodPost, "/vod", with(`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), 400, ""},
	})
	// What info may hold is stored and read back as sent.
	r := e.call(t, http.MethodPost, "/vod", admin, with(`{"rating":7.5,"year":2024,"plot":"ok 😀","cast":["a"]}`))
	wantStatus(t, "POST /vod with a plain info", r, http.StatusCreated)
	var got struct {
		Info map[string]any `json:"info"`
	}
	r.json(t, &got)
	if want := map[string]any{"rating": 7.5, "year": 2024.0, "plot": "ok 😀", "cast": []any{"a"}}; !reflect.DeepEqual(got.Info, want) {
		t.Fatalf("info = %v, want %v", got.Info, want)
	}

	// A lone surrogate ("\ud800", valid JSON but no Unicode) was accepted in every string
	// member and stored as U+FFFD; a pair is a character, an escaped backslash before "ud800"
	// is text.
	cat := e.created(t, admin, "/categories", map[string]any{"kind": "live", "name": "News"})
	path := fmt.Sprintf("/categories/%d", cat)
	e.wantProblems(t, admin, []problemCase{
		{"a lone high surrogate", http.MethodPatch, path, `{"name":"a\ud800b"}`, 400, "name"},
		{"a lone low surrogate", http.MethodPatch, path, `{"name":"\udc00"}`, 400, "name"},
		{"two high surrogates", http.MethodPatch, path, `{"name":"\ud800\ud800"}`, 400, "name"},
	})
	for body, want := range map[string]string{`{"name":"\ud83d\ude00"}`: "😀", `{"name":"\\ud800"}`: `\ud800`} {
		r := e.call(t, http.MethodPatch, path, admin, body)
		wantStatus(t, "PATCH "+body, r, http.StatusOK)
		var c struct {
			Name string `json:"name"`
		}
		r.json(t, &c)
		if c.Name != want {
			t.Fatalf("PATCH %s: name %q, want %q", body, c.Name, want)
		}
	}
}

// TestNoBodyOperations_Document400And413: an operation without a body refuses one (400) and
// one past its limit (413); the document said neither for such operations (e.call checks each
// answer against it).
func TestNoBodyOperations_Document400And413(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	wantProblem(t, "a body for rotatePartnerKey", e.call(t, http.MethodPost, "/partner-keys/rotate", admin, `{"x":1}`), 400, "")
	wantProblem(t, "100 KB for rotatePartnerKey", e.call(t, http.MethodPost, "/partner-keys/rotate", admin,
		`{"x":"`+strings.Repeat("a", 100_000)+`"}`), 413, "")
	line := e.created(t, admin, "/lines", map[string]any{})
	wantProblem(t, "100 KB for killLineConnections", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", line), admin,
		`{"x":"`+strings.Repeat("a", 100_000)+`"}`), 413, "")
}
