package admin_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// lineBody is the subset of a line answer the tests read.
type lineBody struct {
	ID                   int64      `json:"id"`
	Username             string     `json:"username"`
	Password             string     `json:"password"`
	Status               string     `json:"status"`
	ExpDate              *time.Time `json:"exp_date"`
	Banned               bool       `json:"banned"`
	Disabled             bool       `json:"disabled"`
	MaxConnections       int        `json:"max_connections"`
	IsTrial              bool       `json:"is_trial"`
	AllowedIPs           []string   `json:"allowed_ips"`
	ForcedCountry        *string    `json:"forced_country"`
	AllowedOutputFormats []string   `json:"allowed_output_formats"`
	OwnerID              *int64     `json:"owner_id"`
	BouquetIDs           []int64    `json:"bouquet_ids"`
	AdminNotes           string     `json:"admin_notes"`
	UpdatedAt            time.Time  `json:"updated_at"`
}

type linePage struct {
	Items      []lineBody `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

// bouquet makes a bouquet for the tests' lines.
func (e *env) bouquet(t testing.TB, name string) int64 {
	t.Helper()
	id, _, err := e.st.EnsureBouquet(t.Context(), name)
	must(t, err)
	return id
}

// createLine creates a line through the API as a and returns it with its password.
func (e *env) createLine(t testing.TB, a auth, body map[string]any) lineBody {
	t.Helper()
	r := e.call(t, http.MethodPost, "/lines", a, body)
	wantStatus(t, "create line", r, http.StatusCreated)
	var l lineBody
	r.json(t, &l)
	return l
}

// lineVersion is the transaction that wrote line id's current row version (xmin): any UPDATE
// makes a new one, even one that writes back the same values.
func lineVersion(t testing.TB, e *env, id int64) string {
	t.Helper()
	var xmin string
	must(t, e.st.Pool().QueryRow(t.Context(), `SELECT xmin::text FROM lines WHERE id = $1`, id).Scan(&xmin))
	return xmin
}

func TestLines_CreateGetPatchDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	bq := e.bouquet(t, "Main")

	gen := e.createLine(t, admin, map[string]any{})
	if len(gen.Username) != 10 || len(gen.Password) != 10 || gen.Status != "Active" || gen.ExpDate != nil || gen.MaxConnections != 0 {
		t.Fatalf("generated line = %+v, want 10-character credentials, active, unlimited", gen)
	}
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	l := e.createLine(t, admin, map[string]any{"username": "alice", "password": "alice-secret-pw", "exp_date": exp,
		"max_connections": 2, "bouquet_ids": []int64{bq}, "allowed_ips": []string{"192.0.2.7", "198.51.100.0/24"},
		"forced_country": "DE", "allowed_output_formats": []string{"ts"}, "admin_notes": "vip"})
	if l.Password != "alice-secret-pw" || !l.ExpDate.Equal(exp) || !slices.Equal(l.AllowedIPs, []string{"192.0.2.7", "198.51.100.0/24"}) ||
		*l.ForcedCountry != "DE" || !slices.Equal(l.BouquetIDs, []int64{bq}) || l.AdminNotes != "vip" {
		t.Fatalf("created line = %+v", l)
	}

	r := e.call(t, http.MethodGet, fmt.Sprintf("/lines/%d", l.ID), admin, nil)
	wantStatus(t, "get line", r, 200)
	if strings.Contains(string(r.body), "alice-secret-pw") || strings.Contains(string(r.body), `"password"`) {
		t.Fatalf("GET /lines/{id} shows the password: %s", r.body)
	}
	r = e.call(t, http.MethodPatch, fmt.Sprintf("/lines/%d", l.ID), admin, map[string]any{"exp_date": nil, "forced_country": nil,
		"banned": true, "max_connections": 5})
	wantStatus(t, "patch line", r, 200)
	var patched lineBody
	r.json(t, &patched)
	if patched.ExpDate != nil || patched.ForcedCountry != nil || !patched.Banned || patched.Status != "Banned" ||
		patched.MaxConnections != 5 || !slices.Equal(patched.BouquetIDs, []int64{bq}) {
		t.Fatalf("patched line = %+v", patched)
	}
	// The same PATCH again changes nothing: no row is written (updated_at stays), and the
	// edit is audited all the same.
	rows, version := testdb.Digest(t, e.st, "lines", "line_bouquets"), lineVersion(t, e, l.ID)
	r = e.call(t, http.MethodPatch, fmt.Sprintf("/lines/%d", l.ID), admin, map[string]any{"exp_date": nil, "banned": true,
		"max_connections": 5, "bouquet_ids": []int64{bq}})
	wantStatus(t, "repeated patch", r, 200)
	var again lineBody
	r.json(t, &again)
	if !again.UpdatedAt.Equal(patched.UpdatedAt) || again.MaxConnections != 5 || !again.Banned {
		t.Fatalf("repeated patch = %+v, want the line as it was (updated_at %v)", again, patched.UpdatedAt)
	}
	if testdb.Digest(t, e.st, "lines", "line_bouquets") != rows || lineVersion(t, e, l.ID) != version {
		t.Fatal("a PATCH repeating the line's values wrote its row")
	}
	wantStatus(t, "delete line", e.call(t, http.MethodDelete, fmt.Sprintf("/lines/%d", l.ID), admin, nil), 204)
	wantProblem(t, "get deleted line", e.call(t, http.MethodGet, fmt.Sprintf("/lines/%d", l.ID), admin, nil), 404, "id")

	audit, err := e.st.SearchAudit(t.Context(), store.AuditFilter{TargetType: "line", TargetID: fmt.Sprint(l.ID)})
	must(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
		if strings.Contains(fmt.Sprint(a.Detail), "argon2") {
			t.Fatalf("audit entry %s holds a hash: %v", a.Action, a.Detail)
		}
	}
	if !slices.Equal(actions, []string{"line.delete", "line.update", "line.update", "line.create"}) {
		t.Fatalf("audit of the line = %v", actions)
	}
}

func TestLines_Validation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	e.createLine(t, admin, map[string]any{"username": "taken"})
	bq := e.bouquet(t, "Main")
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown member", map[string]any{"usernme": "x"}, 400, "usernme"},
		{"wrong type", map[string]any{"max_connections": "2"}, 400, "max_connections"},
		{"fraction", map[string]any{"max_connections": 1.5}, 400, "max_connections"},
		{"out of range", map[string]any{"max_connections": 10001}, 400, "max_connections"},
		{"bad address", map[string]any{"allowed_ips": []string{"192.0.2.1", "nope"}}, 400, "allowed_ips[1]"},
		{"bad country", map[string]any{"forced_country": "de"}, 400, "forced_country"},
		{"bad format", map[string]any{"allowed_output_formats": []string{"mp4"}}, 400, "allowed_output_formats[0]"},
		{"duplicate bouquet", map[string]any{"bouquet_ids": []int64{bq, bq}}, 400, "bouquet_ids[1]"},
		{"unknown bouquet", map[string]any{"bouquet_ids": []int64{bq + 100}}, 400, "bouquet_ids"},
		{"bad date", map[string]any{"exp_date": "tomorrow"}, 400, "exp_date"},
		{"slash in username", map[string]any{"username": "a/b"}, 400, "username"},
		{"taken username", map[string]any{"username": "taken"}, 409, "username"},
		{"unknown package", map[string]any{"package_id": 999}, 404, "package_id"},
		{"unknown owner", map[string]any{"owner_id": 999}, 400, "owner_id"},
		{"array body", []int{1}, 400, ""},
		{"too large", `{"admin_notes":"` + strings.Repeat("x", 70<<10) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		wantProblem(t, tt.name, e.call(t, http.MethodPost, "/lines", admin, tt.body), tt.status, tt.field)
	}
	wantProblem(t, "bad id", e.call(t, http.MethodGet, "/lines/abc", admin, nil), 400, "id")
	wantProblem(t, "zero id", e.call(t, http.MethodGet, "/lines/0", admin, nil), 400, "id")
	wantProblem(t, "unknown query parameter", e.call(t, http.MethodGet, "/lines?colour=red", admin, nil), 400, "colour")
	wantProblem(t, "bad sort", e.call(t, http.MethodGet, "/lines?sort=password", admin, nil), 400, "sort")
	wantProblem(t, "bad cursor", e.call(t, http.MethodGet, "/lines?cursor=zzz", admin, nil), 400, "cursor")
	wantProblem(t, "body on a GET", e.call(t, http.MethodDelete, "/lines/1", admin, `{"x":1}`), 400, "")
}

// TestLines_ListFilterSortPage pages every order both ways and checks that each line comes
// once, in order, and that the filters pick the right lines.
func TestLines_ListFilterSortPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	past := time.Now().Add(-time.Hour)
	for i := range 23 {
		body := map[string]any{"username": fmt.Sprintf("u%02d", (i*7)%23)}
		switch {
		case i%5 == 0:
			body["exp_date"] = past
		case i%3 == 0:
			body["exp_date"] = time.Now().Add(time.Duration(i) * time.Hour)
		case i%4 == 0:
			body["banned"] = true
		}
		e.createLine(t, admin, body)
	}
	for _, sort := range []string{"id", "-id", "username", "-username", "created_at", "-created_at", "exp_date", "-exp_date"} {
		var got []lineBody
		cursor := ""
		for pages := 0; ; pages++ {
			r := e.call(t, http.MethodGet, "/lines?limit=4&sort="+sort+cursor, admin, nil)
			wantStatus(t, "list "+sort, r, 200)
			var p linePage
			r.json(t, &p)
			got = append(got, p.Items...)
			if p.NextCursor == nil || pages > 10 {
				break
			}
			cursor = "&cursor=" + *p.NextCursor
		}
		if len(got) != 23 {
			t.Fatalf("sort %s: %d lines over the pages, want 23", sort, len(got))
		}
		if sort == "username" && (got[0].Username != "u00" || got[22].Username != "u22") {
			t.Fatalf("sort username: first %s last %s", got[0].Username, got[22].Username)
		}
		if sort == "-exp_date" && got[0].ExpDate != nil {
			t.Fatalf("sort -exp_date: first line expires %v, want the lines that never expire first", got[0].ExpDate)
		}
	}
	count := func(q string) int {
		r := e.call(t, http.MethodGet, "/lines?limit=100&"+q, admin, nil)
		wantStatus(t, q, r, 200)
		var p linePage
		r.json(t, &p)
		return len(p.Items)
	}
	for q, want := range map[string]int{"status=expired": 5, "status=banned": 3, "username=u1": 10, "status=active": 15,
		"expires_before=" + time.Now().Format(time.RFC3339): 5} {
		if got := count(q); got != want {
			t.Errorf("GET /lines?%s: %d lines, want %d", q, got, want)
		}
	}
	r := e.call(t, http.MethodGet, "/lines?limit=2&sort=username", admin, nil)
	var p linePage
	r.json(t, &p)
	wantProblem(t, "cursor of another sort", e.call(t, http.MethodGet, "/lines?sort=id&cursor="+*p.NextCursor, admin, nil), 400, "cursor")
}

func TestLines_Actions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	l := e.createLine(t, admin, map[string]any{"exp_date": exp})
	act := func(action string, body any) lineBody {
		t.Helper()
		r := e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/%s", l.ID, action), admin, body)
		wantStatus(t, action, r, 200)
		var got lineBody
		r.json(t, &got)
		return got
	}
	if got := act("ban", nil); !got.Banned || got.Status != "Banned" {
		t.Fatalf("ban = %+v", got)
	}
	// Banning a banned line answers the same and writes nothing.
	version := lineVersion(t, e, l.ID)
	if got := act("ban", nil); !got.Banned || lineVersion(t, e, l.ID) != version {
		t.Fatalf("second ban = %+v; the row was written: %v", got, lineVersion(t, e, l.ID) != version)
	}
	if got := act("unban", nil); got.Banned {
		t.Fatalf("unban = %+v", got)
	}
	if got := act("disable", nil); !got.Disabled || got.Status != "Disabled" {
		t.Fatalf("disable = %+v", got)
	}
	if got := act("enable", nil); got.Disabled || got.Status != "Active" {
		t.Fatalf("enable = %+v", got)
	}
	if got := act("extend", map[string]any{"days": 30}); !got.ExpDate.Equal(exp.Add(30 * 24 * time.Hour)) {
		t.Fatalf("extend by 30 days from %v = %v", exp, got.ExpDate)
	}
	wantProblem(t, "extend without days", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/extend", l.ID), admin, map[string]any{}), 400, "days")
	wantProblem(t, "extend by 0", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/extend", l.ID), admin, map[string]any{"days": 0}), 400, "days")

	r := e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/reset-password", l.ID), admin, nil)
	wantProblem(t, "reset without a body", r, 400, "")
	r = e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/reset-password", l.ID), admin, map[string]any{})
	wantStatus(t, "reset password", r, 200)
	var np struct {
		Password string `json:"password"`
	}
	r.json(t, &np)
	if len(np.Password) != 10 || np.Password == l.Password {
		t.Fatalf("reset password = %q", np.Password)
	}
	r = e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", l.ID), admin, nil)
	wantStatus(t, "kill without connections", r, 200)
	if !strings.Contains(string(r.body), `"killed":0`) {
		t.Fatalf("kill = %s", r.body)
	}
	wantProblem(t, "action on a missing line", e.call(t, http.MethodPost, "/lines/99999/ban", admin, nil), 404, "id")
}

func TestLines_Bulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	r := e.call(t, http.MethodPost, "/lines/bulk", admin, map[string]any{"count": 5, "max_connections": 3})
	wantStatus(t, "bulk create", r, 201)
	var made struct {
		Items []lineBody `json:"items"`
	}
	r.json(t, &made)
	ids := []int64{}
	seen := map[string]bool{}
	for _, l := range made.Items {
		if l.MaxConnections != 3 || len(l.Password) != 10 || seen[l.Username] {
			t.Fatalf("bulk line = %+v", l)
		}
		seen[l.Username] = true
		ids = append(ids, l.ID)
	}
	if len(ids) != 5 {
		t.Fatalf("bulk made %d lines, want 5", len(ids))
	}
	r = e.call(t, http.MethodPost, "/lines/bulk-actions", admin, map[string]any{"action": "ban", "ids": ids})
	wantStatus(t, "bulk ban", r, 200)
	var banned struct {
		Items []lineBody `json:"items"`
	}
	r.json(t, &banned)
	for _, l := range banned.Items {
		if !l.Banned {
			t.Fatalf("bulk ban left %+v", l)
		}
	}
	// All or none: one unknown id and nothing changes.
	r = e.call(t, http.MethodPost, "/lines/bulk-actions", admin, map[string]any{"action": "unban", "ids": append(ids, 99999)})
	wantProblem(t, "bulk unban with an unknown id", r, 404, "lines[5].id")
	if l, _ := e.st.LineByID(t.Context(), ids[0]); !l.Banned {
		t.Fatal("a failed bulk action changed a line")
	}
	wantProblem(t, "bulk count 0", e.call(t, http.MethodPost, "/lines/bulk", admin, map[string]any{"count": 0}), 400, "count")
	wantProblem(t, "bulk count 101", e.call(t, http.MethodPost, "/lines/bulk", admin, map[string]any{"count": 101}), 400, "count")
	wantProblem(t, "bulk username", e.call(t, http.MethodPost, "/lines/bulk", admin, map[string]any{"count": 2, "username": "x"}), 400, "username")
	wantProblem(t, "bulk unknown action", e.call(t, http.MethodPost, "/lines/bulk-actions", admin,
		map[string]any{"action": "delete", "ids": ids}), 400, "action")
	wantProblem(t, "bulk duplicate ids", e.call(t, http.MethodPost, "/lines/bulk-actions", admin,
		map[string]any{"action": "ban", "ids": []int64{ids[0], ids[0]}}), 400, "ids[1]")
}

// TestLines_PasswordShownOnce: after the create answer, no answer and no log line holds the
// password.
func TestLines_PasswordShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	l := e.createLine(t, admin, map[string]any{"username": "once"})
	var answers []reply
	var mu sync.Mutex
	keep := func(r reply) { mu.Lock(); answers = append(answers, r); mu.Unlock() }
	keep(e.call(t, http.MethodGet, fmt.Sprintf("/lines/%d", l.ID), admin, nil))
	keep(e.call(t, http.MethodGet, "/lines", admin, nil))
	keep(e.call(t, http.MethodPatch, fmt.Sprintf("/lines/%d", l.ID), admin, map[string]any{"max_connections": 2}))
	keep(e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/ban", l.ID), admin, nil))
	keep(e.call(t, http.MethodPost, "/lines/bulk-actions", admin, map[string]any{"action": "unban", "ids": []int64{l.ID}}))
	for _, r := range answers {
		if strings.Contains(string(r.body), l.Password) {
			t.Fatalf("an answer after the creation holds the password: %s", r.body)
		}
	}
	if strings.Contains(e.logs(), l.Password) {
		t.Fatal("the log holds the line's password")
	}
}
