package audit_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type lineFields struct {
	Username     string     `json:"username"`
	PasswordHash string     `json:"-" audit:"secret"`
	MaxConns     int        `json:"max_connections"`
	ExpDate      *time.Time `json:"exp_date"`
	Notes        string     `json:"admin_notes"`
	Internal     string     `audit:"-"`
}

func TestDiff(t *testing.T) {
	t.Parallel()
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	before := lineFields{Username: "a", PasswordHash: "$argon2id$old", MaxConns: 1, Notes: "n", Internal: "x"}
	after := lineFields{Username: "a", PasswordHash: "$argon2id$new", MaxConns: 2, ExpDate: &exp, Notes: "n", Internal: "y"}
	b, a := audit.Diff(before, &after)
	wantB := map[string]any{"PasswordHash": audit.Changed, "max_connections": 1, "exp_date": nil}
	wantA := map[string]any{"PasswordHash": audit.Changed, "max_connections": 2, "exp_date": exp}
	if diff := cmp.Diff(wantB, b); diff != "" {
		t.Errorf("Diff before (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantA, a); diff != "" {
		t.Errorf("Diff after (-want +got):\n%s", diff)
	}
	if b, a := audit.Diff(before, before); len(b)+len(a) != 0 {
		t.Errorf("Diff(x, x) = %v, %v, want nothing", b, a)
	}
}

func TestRecord_WritesOneEntryWithoutSecrets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := store.New(testdb.New(t))
	adminID, err := st.CreateAdmin(ctx, "root", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", "admin")
	if err != nil {
		t.Fatal(err)
	}
	before := lineFields{Username: "a", PasswordHash: "$argon2id$old", MaxConns: 1}
	after := lineFields{Username: "a", PasswordHash: "$argon2id$new", MaxConns: 3}
	b, a := audit.Diff(before, after)
	actor := audit.Actor{AdminID: adminID, Name: "root", IP: netip.MustParseAddr("::ffff:192.0.2.7")}
	err = st.InTx(ctx, func(tx *store.Store) error {
		return audit.Record(ctx, tx, actor, audit.Entry{Action: "line.update", TargetType: "line", TargetID: "42", Before: b, After: a})
	})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	got, err := st.SearchAudit(ctx, store.AuditFilter{Action: "line."})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("SearchAudit(line.) = %d entries, want 1", len(got))
	}
	e := got[0]
	if e.Actor != "root" || e.AdminID == nil || *e.AdminID != adminID || e.TargetID != "42" || e.ClientIP == nil || e.ClientIP.String() != "192.0.2.7" {
		t.Errorf("entry = %+v", e)
	}
	after0, _ := e.Detail["after"].(map[string]any)
	if after0["max_connections"] != float64(3) || after0["PasswordHash"] != audit.Changed {
		t.Errorf("detail.after = %v", after0)
	}
	raw, _ := json.Marshal(e)
	for _, s := range []string{"$argon2id$old", "$argon2id$new"} {
		if strings.Contains(string(raw), s) {
			t.Errorf("entry %s holds the secret %q", raw, s)
		}
	}
	if others, _ := st.SearchAudit(ctx, store.AuditFilter{Action: "bouquet."}); len(others) != 0 {
		t.Errorf("SearchAudit(bouquet.) = %d, want 0", len(others))
	}
}

func TestRecord_RefusesBadAction(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	if err := audit.Record(t.Context(), st, audit.CLI, audit.Entry{Action: "Line Create"}); err == nil {
		t.Fatal("Record(bad action) = nil, want an error")
	}
}

func TestChange(t *testing.T) {
	t.Parallel()
	type row struct {
		Name   string `json:"name"`
		Secret string `json:"secret" audit:"secret"`
		Same   int
	}
	e := audit.Change("thing.update", "thing", 42, row{Name: "a", Secret: "x", Same: 1}, row{Name: "b", Secret: "y", Same: 1})
	if e.Action != "thing.update" || e.TargetType != "thing" || e.TargetID != "42" ||
		e.Before["name"] != "a" || e.After["name"] != "b" || e.After["secret"] != audit.Changed || len(e.After) != 2 {
		t.Fatalf("Change = %+v", e)
	}
}
