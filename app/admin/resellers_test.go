package admin_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// resellerEnv is an env with packages and a reseller with credits.
type resellerEnv struct {
	*env
	admin        auth
	paid, trial  int64 // packages: 3 credits for 30 days; a free one-day trial
	bouquet      int64 // the paid package's
	reseller     account
	resellerAuth auth
}

func newResellerEnv(t *testing.T, credits int64) *resellerEnv {
	t.Helper()
	e := &resellerEnv{env: newEnv(t)}
	_, e.admin = e.as(t, accounts.RoleAdmin)
	e.bouquet = e.env.bouquet(t, "Main")
	e.paid = e.pkg(t, map[string]any{"name": "Month", "duration_hours": 720, "max_connections": 2, "credits": 3,
		"bouquet_ids": []int64{e.bouquet}})
	e.trial = e.pkg(t, map[string]any{"name": "Trial", "duration_hours": 24, "max_connections": 1, "credits": 0, "is_trial": true})
	e.reseller, e.resellerAuth = e.newReseller(t, credits)
	return e
}

func (e *resellerEnv) pkg(t *testing.T, body map[string]any) int64 {
	t.Helper()
	r := e.call(t, http.MethodPost, "/packages", e.admin, body)
	wantStatus(t, "create package", r, 201)
	var p struct {
		ID int64 `json:"id"`
	}
	r.json(t, &p)
	return p.ID
}

// newReseller makes a reseller through the API, gives it credits and logs it in.
func (e *resellerEnv) newReseller(t *testing.T, credits int64) (account, auth) {
	t.Helper()
	name := fmt.Sprintf("reseller%d", e.n.Add(1))
	r := e.call(t, http.MethodPost, "/admins", e.admin, map[string]any{"username": name, "role": "reseller"})
	wantStatus(t, "create reseller", r, 201)
	var made struct {
		ID       int64  `json:"id"`
		Password string `json:"password"`
	}
	r.json(t, &made)
	if credits > 0 {
		wantStatus(t, "give credits", e.call(t, http.MethodPost, fmt.Sprintf("/admins/%d/credits", made.ID), e.admin,
			map[string]any{"amount": credits, "note": "start"}), 201)
	}
	a := account{id: made.ID, username: name, password: made.Password}
	return a, bearer(e.login(t, a).AccessToken)
}

func (e *resellerEnv) credits(t *testing.T, a auth) int64 {
	t.Helper()
	r := e.call(t, http.MethodGet, "/me", a, nil)
	wantStatus(t, "me", r, 200)
	var me struct {
		Credits int64 `json:"credits"`
	}
	r.json(t, &me)
	return me.Credits
}

// TestResellers_CreditRace: 50 parallel creations with credit for 10 create exactly 10 lines
// and leave the balance at zero, with one ledger entry per line.
func TestResellers_CreditRace(t *testing.T) {
	t.Parallel()
	e := newResellerEnv(t, 30)
	statuses := make([]int, 50)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			r := e.call(t, http.MethodPost, "/lines", e.resellerAuth, map[string]any{"package_id": e.paid})
			statuses[i] = r.status
			if r.status == 409 && r.problem(t).Type != "urn:xtreamd:problem:insufficient-credits" {
				t.Errorf("refusal %+v, want insufficient-credits", r.problem(t))
			}
		})
	}
	wg.Wait()
	made := 0
	for _, s := range statuses {
		switch s {
		case 201:
			made++
		case 409:
		default:
			t.Fatalf("a creation answered %d", s)
		}
	}
	var lines, ledger int
	must(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM lines WHERE owner_admin_id = $1`, e.reseller.id).Scan(&lines))
	must(t, e.pool.QueryRow(t.Context(), `SELECT count(*) FROM credit_ledger WHERE admin_id = $1 AND reason = 'line.create'`,
		e.reseller.id).Scan(&ledger))
	if made != 10 || lines != 10 || ledger != 10 || e.credits(t, e.resellerAuth) != 0 {
		t.Fatalf("made %d (answers), %d (rows), %d ledger entries, balance %d; want 10, 10, 10, 0",
			made, lines, ledger, e.credits(t, e.resellerAuth))
	}
}

// TestResellers_OwnLinesOnly: a reseller sees and changes only its own lines (and its
// sub-resellers'); another's are 403, and what is an admin's is 403 on the field.
func TestResellers_OwnLinesOnly(t *testing.T) {
	t.Parallel()
	e := newResellerEnv(t, 100)
	_, otherAuth := e.newReseller(t, 100)
	mine := e.createLine(t, e.resellerAuth, map[string]any{"package_id": e.paid})
	theirs := e.createLine(t, otherAuth, map[string]any{"package_id": e.paid})
	if mine.OwnerID == nil || *mine.OwnerID != e.reseller.id || mine.MaxConnections != 2 || mine.ExpDate == nil || len(mine.BouquetIDs) != 1 {
		t.Fatalf("reseller's line = %+v, want the package's values and the reseller as owner", mine)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/lines/%d"}, {http.MethodPatch, "/lines/%d"}, {http.MethodDelete, "/lines/%d"},
		{http.MethodPost, "/lines/%d/disable"}, {http.MethodPost, "/lines/%d/kill"}, {http.MethodPost, "/lines/%d/reset-password"},
	} {
		var body any
		if c.method == http.MethodPatch || c.path == "/lines/%d/reset-password" {
			body = map[string]any{}
		}
		wantProblem(t, c.method+" another reseller's line", e.call(t, c.method, fmt.Sprintf(c.path, theirs.ID), e.resellerAuth, body), 403, "")
	}
	r := e.call(t, http.MethodGet, "/lines", e.resellerAuth, nil)
	var p linePage
	r.json(t, &p)
	if len(p.Items) != 1 || p.Items[0].ID != mine.ID || p.Items[0].AdminNotes != "" {
		t.Fatalf("reseller's list = %+v, want only its line", p.Items)
	}
	e.wantProblems(t, e.resellerAuth, []problemCase{
		{"no package", http.MethodPost, "/lines", map[string]any{}, 400, "package_id"},
		{"connections of its own", http.MethodPost, "/lines", map[string]any{"package_id": e.paid, "max_connections": 9}, 403, "max_connections"},
		{"ban", http.MethodPost, fmt.Sprintf("/lines/%d/ban", mine.ID), nil, 403, ""},
		{"patch bouquets", http.MethodPatch, fmt.Sprintf("/lines/%d", mine.ID), map[string]any{"bouquet_ids": []int64{}}, 403, "bouquet_ids"},
		{"extend by days", http.MethodPost, fmt.Sprintf("/lines/%d/extend", mine.ID), map[string]any{"days": 3}, 403, "days"},
		{"create a package", http.MethodPost, "/packages", map[string]any{"name": "x", "duration_hours": 1, "max_connections": 1, "credits": 0}, 403, ""},
		{"credits to another", http.MethodPost, fmt.Sprintf("/admins/%d/credits", e.reseller.id+1), map[string]any{"amount": 1}, 403, ""},
		{"take credits", http.MethodPost, fmt.Sprintf("/admins/%d/credits", e.reseller.id), map[string]any{"amount": -1}, 403, "amount"},
		{"make an admin", http.MethodPost, "/admins", map[string]any{"username": "boss", "role": "admin"}, 403, "role"},
	})
	// What is its own to change, it changes.
	r = e.call(t, http.MethodPatch, fmt.Sprintf("/lines/%d", mine.ID), e.resellerAuth,
		map[string]any{"disabled": true, "reseller_notes": "paid cash", "allowed_ips": []string{"203.0.113.9"}})
	wantStatus(t, "patch own line", r, 200)
	before := e.credits(t, e.resellerAuth)
	r = e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/extend", mine.ID), e.resellerAuth, map[string]any{"package_id": e.paid})
	wantStatus(t, "extend own line by a package", r, 200)
	if after := e.credits(t, e.resellerAuth); after != before-3 {
		t.Fatalf("extension charged %d credits, want 3", before-after)
	}
}

func TestResellers_TrialLimit(t *testing.T) {
	t.Parallel()
	e := newResellerEnv(t, 0)
	wantStatus(t, "limit to 2", e.call(t, http.MethodPatch, fmt.Sprintf("/admins/%d", e.reseller.id), e.admin,
		map[string]any{"max_trials_per_day": 2}), 200)
	for i := range 2 {
		l := e.createLine(t, e.resellerAuth, map[string]any{"package_id": e.trial})
		if !l.IsTrial || l.MaxConnections != 1 {
			t.Fatalf("trial %d = %+v", i, l)
		}
	}
	r := e.call(t, http.MethodPost, "/lines", e.resellerAuth, map[string]any{"package_id": e.trial})
	if p := wantProblem(t, "third trial", r, 409, ""); p.Type != "urn:xtreamd:problem:trial-limit" {
		t.Fatalf("third trial = %+v, want trial-limit", p)
	}
	wantProblem(t, "paid line without credits", e.call(t, http.MethodPost, "/lines", e.resellerAuth,
		map[string]any{"package_id": e.paid}), 409, "")
}

// TestResellers_SubResellers: a reseller makes a reseller below it, gives it credits, and
// sees the lines it makes; the ledger records both sides.
func TestResellers_SubResellers(t *testing.T) {
	t.Parallel()
	e := newResellerEnv(t, 20)
	r := e.call(t, http.MethodPost, "/admins", e.resellerAuth, map[string]any{"username": "sub1", "role": "reseller"})
	wantStatus(t, "create sub-reseller", r, 201)
	var sub struct {
		ID       int64  `json:"id"`
		Password string `json:"password"`
		ParentID *int64 `json:"parent_id"`
	}
	r.json(t, &sub)
	if sub.ParentID == nil || *sub.ParentID != e.reseller.id {
		t.Fatalf("sub-reseller parent = %v, want %d", sub.ParentID, e.reseller.id)
	}
	wantStatus(t, "transfer", e.call(t, http.MethodPost, fmt.Sprintf("/admins/%d/credits", sub.ID), e.resellerAuth,
		map[string]any{"amount": 6}), 201)
	wantProblem(t, "transfer more than it has", e.call(t, http.MethodPost, fmt.Sprintf("/admins/%d/credits", sub.ID),
		e.resellerAuth, map[string]any{"amount": 100}), 409, "")
	subAuth := bearer(e.login(t, account{id: sub.ID, username: "sub1", password: sub.Password}).AccessToken)
	l := e.createLine(t, subAuth, map[string]any{"package_id": e.paid})
	if e.credits(t, e.resellerAuth) != 14 || e.credits(t, subAuth) != 3 {
		t.Fatalf("balances %d and %d, want 14 and 3", e.credits(t, e.resellerAuth), e.credits(t, subAuth))
	}
	wantStatus(t, "parent sees the sub-reseller's line", e.call(t, http.MethodGet, fmt.Sprintf("/lines/%d", l.ID), e.resellerAuth, nil), 200)
	wantProblem(t, "the sub-reseller does not see its parent", e.call(t, http.MethodGet, fmt.Sprintf("/admins/%d", e.reseller.id), subAuth, nil), 403, "")
	r = e.call(t, http.MethodGet, fmt.Sprintf("/admins/%d/credits", e.reseller.id), e.resellerAuth, nil)
	wantStatus(t, "ledger", r, 200)
	var ledger struct {
		Items []struct {
			Delta  int64  `json:"delta"`
			Reason string `json:"reason"`
		} `json:"items"`
	}
	r.json(t, &ledger)
	if len(ledger.Items) != 2 || ledger.Items[0].Reason != "transfer.out" || ledger.Items[0].Delta != -6 || ledger.Items[1].Reason != "adjust" {
		t.Fatalf("reseller's ledger = %+v", ledger.Items)
	}
}
