package accounts_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// bundle is one test's database and service (cheap hashes, a fixed clock).
type bundle struct {
	pool *pgxpool.Pool
	st   *store.Store
	acc  *accounts.Service
}

func setup(t *testing.T, policy accounts.Policy) bundle {
	t.Helper()
	pool := testdb.New(t)
	st := store.New(pool)
	return bundle{pool: pool, st: st, acc: accounts.New(st, accounts.Options{
		Policy: policy, Params: testdb.FastHashParams, Now: func() time.Time { return epoch }})}
}

// refused reports whether err is a *FieldError on field of kind.
func refused(err error, field string, kind error) bool {
	var fe *accounts.FieldError
	return errors.As(err, &fe) && fe.Field == field && errors.Is(err, kind)
}

// wantRefusal fails the test unless err is a refusal on field of kind, or nil when field is
// "", and reports whether it was a refusal (the case ends there).
func wantRefusal(t *testing.T, what string, err error, field string, kind error) bool {
	t.Helper()
	switch {
	case field == "" && err != nil:
		t.Fatalf("%s = %v, want success", what, err)
	case field != "" && !refused(err, field, kind):
		t.Fatalf("%s = %v, want %v on %s", what, err, kind, field)
	}
	return field != ""
}

// adminHash reads an admin's stored hash and role.
func (b bundle) adminHash(t *testing.T, username string) (hash, role string) {
	t.Helper()
	err := b.pool.QueryRow(t.Context(), `SELECT password_hash, role FROM admins WHERE username = $1`, username).Scan(&hash, &role)
	if err != nil {
		t.Fatalf("admin %q: %v", username, err)
	}
	return hash, role
}

func verifies(t *testing.T, hash, password string) bool {
	t.Helper()
	ok, err := credential.Verify(hash, password)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return ok
}

func TestCreateAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	if _, err := b.acc.CreateAdmin(t.Context(), accounts.NewAdmin{Username: "taken", Password: "long enough"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        accounts.NewAdmin
		wantField string // "" means created
		wantKind  error
		wantRole  string
	}{
		{"given password", accounts.NewAdmin{Username: "alice", Password: "correct-horse"}, "", nil, "admin"},
		{"generated password", accounts.NewAdmin{Username: "bob", Role: accounts.RoleViewer}, "", nil, "viewer"},
		{"reseller", accounts.NewAdmin{Username: "res@example.com", Password: "12345678", Role: accounts.RoleReseller}, "", nil, "reseller"},
		{"taken username", accounts.NewAdmin{Username: "taken", Password: "12345678"}, "username", accounts.ErrConflict, ""},
		{"short password", accounts.NewAdmin{Username: "carol", Password: "short"}, "password", accounts.ErrInvalid, ""},
		{"bad username", accounts.NewAdmin{Username: "no spaces", Password: "12345678"}, "username", accounts.ErrInvalid, ""},
		{"bad role", accounts.NewAdmin{Username: "dave", Password: "12345678", Role: "root"}, "role", accounts.ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred, err := b.acc.CreateAdmin(t.Context(), tt.in)
			if wantRefusal(t, "CreateAdmin("+tt.in.Username+")", err, tt.wantField, tt.wantKind) {
				return
			}
			pw := cred.Password.Reveal()
			if cred.Generated != (tt.in.Password == "") || (cred.Generated && len(pw) != 16) || (!cred.Generated && pw != tt.in.Password) {
				t.Fatalf("credentials = generated %v, %d characters; want generated %v", cred.Generated, len(pw), tt.in.Password == "")
			}
			hash, role := b.adminHash(t, tt.in.Username)
			if !verifies(t, hash, pw) || role != tt.wantRole || cred.ID == 0 || strings.Contains(hash, pw) {
				t.Fatalf("stored admin: role %q, id %d, password verifies %v; want role %q", role, cred.ID, verifies(t, hash, pw), tt.wantRole)
			}
		})
	}
}

func TestSetAdminPassword(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	ctx := t.Context()
	if _, err := b.acc.CreateAdmin(ctx, accounts.NewAdmin{Username: "root", Password: "first-password"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		username  string
		password  string
		wantField string
		wantKind  error
	}{
		{"given", "root", "second-password", "", nil},
		{"reset", "root", "", "", nil},
		{"short", "root", "short", "password", accounts.ErrInvalid},
		{"unknown admin", "nobody", "12345678", "username", accounts.ErrNotFound},
	}
	for _, tt := range tests { // in order: each step changes the one admin
		cred, err := b.acc.SetAdminPassword(ctx, tt.username, tt.password)
		if wantRefusal(t, tt.name+": SetAdminPassword", err, tt.wantField, tt.wantKind) {
			continue
		}
		hash, _ := b.adminHash(t, "root")
		if !verifies(t, hash, cred.Password.Reveal()) || cred.Generated != (tt.password == "") {
			t.Fatalf("%s: SetAdminPassword = %v (generated %v); the new password does not verify", tt.name, err, cred.Generated)
		}
	}
}

func TestEnsureAdmin_KeepsExisting(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.DemoPolicy())
	ctx := t.Context()
	for i, want := range []bool{true, false} {
		created, err := b.acc.EnsureAdmin(ctx, accounts.NewAdmin{Username: "admin", Password: "admin"})
		if err != nil || created != want {
			t.Fatalf("EnsureAdmin #%d = %v, %v; want %v", i+1, created, err, want)
		}
	}
	if _, err := b.acc.SetAdminPassword(ctx, "admin", "changed by the operator"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.acc.EnsureAdmin(ctx, accounts.NewAdmin{Username: "admin", Password: "admin"}); err != nil {
		t.Fatal(err)
	}
	if hash, _ := b.adminHash(t, "admin"); !verifies(t, hash, "changed by the operator") {
		t.Fatal("EnsureAdmin replaced the password an operator set")
	}
	if _, err := b.acc.EnsureAdmin(ctx, accounts.NewAdmin{Username: "bad name", Password: "admin"}); !refused(err, "username", accounts.ErrInvalid) {
		t.Fatalf("EnsureAdmin(bad name) = %v, want invalid username", err)
	}
}

func TestCreateLine(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	ctx := t.Context()
	bq, _, err := b.st.EnsureBouquet(ctx, "Main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.acc.CreateLine(ctx, accounts.NewLine{Username: "taken", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        accounts.NewLine
		wantField string
		wantKind  error
		wantExp   *time.Time
	}{
		{"given", accounts.NewLine{Username: "alice", Password: "secret", MaxConnections: 2, BouquetIDs: []int64{bq}}, "", nil, nil},
		{"generated", accounts.NewLine{}, "", nil, nil},
		{"valid for 30 days", accounts.NewLine{ValidFor: 30 * 24 * time.Hour}, "", nil, ptr(epoch.Add(30 * 24 * time.Hour))},
		{"taken", accounts.NewLine{Username: "taken", Password: "y"}, "username", accounts.ErrConflict, nil},
		{"path separator", accounts.NewLine{Username: "a/b"}, "username", accounts.ErrInvalid, nil},
		{"too many connections", accounts.NewLine{MaxConnections: 10_001}, "max_connections", accounts.ErrInvalid, nil},
		{"notes with NUL", accounts.NewLine{AdminNotes: "a\x00"}, "admin_notes", accounts.ErrInvalid, nil},
		{"unknown bouquet", accounts.NewLine{BouquetIDs: []int64{bq + 1000}}, "bouquet_ids", accounts.ErrInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred, err := b.acc.CreateLine(t.Context(), tt.in)
			if wantRefusal(t, "CreateLine", err, tt.wantField, tt.wantKind) {
				return
			}
			line, err := b.st.LineByID(t.Context(), cred.ID)
			if err != nil {
				t.Fatal(err)
			}
			pw := cred.Password.Reveal()
			if line.Username != cred.Username || !verifies(t, line.PasswordHash, pw) || cred.Generated != (tt.in.Password == "") {
				t.Fatalf("line %q (generated %v) does not match its credentials %q", line.Username, cred.Generated, cred.Username)
			}
			if tt.in.Username == "" && (len(cred.Username) != 10 || len(pw) != 10) {
				t.Fatalf("generated %q / %d characters, want 10 and 10", cred.Username, len(pw))
			}
			if (tt.wantExp == nil) != (line.ExpDate == nil) || (tt.wantExp != nil && !line.ExpDate.Equal(*tt.wantExp)) {
				t.Fatalf("exp_date = %v, want %v", line.ExpDate, tt.wantExp)
			}
			if line.MaxConnections != tt.in.MaxConnections || len(line.BouquetIDs) != len(tt.in.BouquetIDs) {
				t.Fatalf("line = %d connections, bouquets %v; want %d, %v", line.MaxConnections, line.BouquetIDs, tt.in.MaxConnections, tt.in.BouquetIDs)
			}
		})
	}
}

// TestEnsureLine: the demo's line is created once, then only a changed password or bouquet
// list is written; the fields an operator changed stay.
func TestEnsureLine(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.DemoPolicy())
	ctx := t.Context()
	bq1, _, _ := b.st.EnsureBouquet(ctx, "One")
	bq2, _, _ := b.st.EnsureBouquet(ctx, "Two")
	in := accounts.NewLine{Username: "demo", Password: "demo", MaxConnections: 2, BouquetIDs: []int64{bq1}}
	id, err := b.acc.EnsureLine(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.pool.Exec(ctx, `UPDATE lines SET disabled = true WHERE id = $1`, id); err != nil { // an operator disables it
		t.Fatal(err)
	}
	before, _ := b.st.LineByID(ctx, id)
	tests := []struct {
		name         string
		password     string
		bouquets     []int64
		wantHashSame bool
	}{
		{"unchanged", "demo", []int64{bq1}, true},
		{"new password", "changed", []int64{bq1}, false},
		{"new bouquets", "changed", []int64{bq2, bq1}, true},
	}
	for _, tt := range tests { // in order: each step starts where the last one left the line
		in.Password, in.BouquetIDs = tt.password, tt.bouquets
		got, err := b.acc.EnsureLine(ctx, in)
		if err != nil || got != id {
			t.Fatalf("%s: EnsureLine = %d, %v; want %d", tt.name, got, err, id)
		}
		line, _ := b.st.LineByID(ctx, id)
		if (line.PasswordHash == before.PasswordHash) != tt.wantHashSame || !verifies(t, line.PasswordHash, tt.password) {
			t.Fatalf("%s: hash unchanged %v, want %v (or the password does not verify)", tt.name, line.PasswordHash == before.PasswordHash, tt.wantHashSame)
		}
		if !slices.Equal(line.BouquetIDs, tt.bouquets) || !line.Disabled || line.MaxConnections != 2 {
			t.Fatalf("%s: line = bouquets %v, disabled %v; want %v, still disabled", tt.name, line.BouquetIDs, line.Disabled, tt.bouquets)
		}
		before = line
	}
	if _, err := b.acc.EnsureLine(ctx, accounts.NewLine{Username: "demo"}); !refused(err, "password", accounts.ErrInvalid) {
		t.Fatalf("EnsureLine without a password = %v, want invalid password", err)
	}
	if _, err := b.acc.EnsureLine(ctx, accounts.NewLine{Password: "x"}); !refused(err, "username", accounts.ErrInvalid) {
		t.Fatalf("EnsureLine without a username = %v, want invalid username", err)
	}
}

func TestSetLinePasswordAndBouquets(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	ctx := t.Context()
	cred, err := b.acc.CreateLine(ctx, accounts.NewLine{Username: "viewer", Password: "old"})
	if err != nil {
		t.Fatal(err)
	}
	reset, err := b.acc.SetLinePassword(ctx, cred.ID, "")
	line, _ := b.st.LineByID(ctx, cred.ID)
	if err != nil || !reset.Generated || reset.ID != cred.ID || !verifies(t, line.PasswordHash, reset.Password.Reveal()) || verifies(t, line.PasswordHash, "old") {
		t.Fatalf("reset = %v (generated %v); the generated password must replace the old one", err, reset.Generated)
	}
	if _, err := b.acc.SetLinePassword(ctx, cred.ID+1000, "x"); !refused(err, "id", accounts.ErrNotFound) {
		t.Fatalf("SetLinePassword(unknown) = %v, want not found on id", err)
	}
	bq, _, _ := b.st.EnsureBouquet(ctx, "Main")
	tests := []struct {
		name      string
		lineID    int64
		bouquets  []int64
		wantField string
		wantKind  error
	}{
		{"set", cred.ID, []int64{bq}, "", nil},
		{"clear", cred.ID, nil, "", nil},
		{"unknown line", cred.ID + 1000, []int64{bq}, "id", accounts.ErrNotFound},
		{"unknown bouquet", cred.ID, []int64{bq + 1000}, "bouquet_ids", accounts.ErrInvalid},
	}
	for _, tt := range tests {
		err := b.acc.SetLineBouquets(ctx, tt.lineID, tt.bouquets)
		if wantRefusal(t, tt.name+": SetLineBouquets", err, tt.wantField, tt.wantKind) {
			continue
		}
		line, _ := b.st.LineByID(ctx, tt.lineID)
		if !slices.Equal(line.BouquetIDs, tt.bouquets) {
			t.Fatalf("%s: SetLineBouquets = %v; bouquets %v, want %v", tt.name, err, line.BouquetIDs, tt.bouquets)
		}
	}
}

func TestEnsureDevice(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	ctx := t.Context()
	one, _ := b.acc.CreateLine(ctx, accounts.NewLine{Username: "one", Password: "x"})
	two, _ := b.acc.CreateLine(ctx, accounts.NewLine{Username: "two", Password: "x"})
	mac1, _ := mag.ParseMAC("00:1a:79:00:00:01")
	mac2, _ := mag.ParseMAC("00:1a:79:00:00:02")
	tests := []struct {
		name      string
		lineID    int64
		mac       mag.MAC
		wantField string
		wantKind  error
	}{
		{"bind", one.ID, mac1, "", nil},
		{"again", one.ID, mac1, "", nil},
		{"MAC of another line", two.ID, mac1, "mac", accounts.ErrConflict},
		{"line has another device", one.ID, mac2, "line_id", accounts.ErrConflict},
		{"unknown line", two.ID + 1000, mac2, "line_id", accounts.ErrNotFound},
	}
	for _, tt := range tests { // in order: the bindings accumulate
		err := b.acc.EnsureDevice(ctx, tt.lineID, tt.mac)
		if wantRefusal(t, tt.name+": EnsureDevice", err, tt.wantField, tt.wantKind) && strings.Contains(err.Error(), tt.mac.String()) {
			t.Fatalf("%s: the error %q shows the full MAC", tt.name, err)
		}
	}
	if dev, err := b.st.MAGDeviceByMAC(ctx, mac1.String()); err != nil || dev.LineID != one.ID {
		t.Fatalf("device = %+v, %v; want bound to line %d", dev, err, one.ID)
	}
}

// TestCredentials_Redacted: the clear password never prints by accident.
func TestCredentials_Redacted(t *testing.T) {
	t.Parallel()
	b := setup(t, accounts.Policy{})
	cred, err := b.acc.CreateLine(t.Context(), accounts.NewLine{Password: "hunter2-secret"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, v := range []any{cred, &cred, cred.Password} {
		buf.Reset()
		fmt.Fprintf(&buf, "%v %+v %#v %s", v, v, v, v)
		if strings.Contains(buf.String(), "hunter2-secret") {
			t.Fatalf("%T prints the password: %s", v, buf.String())
		}
	}
}

func ptr[T any](v T) *T { return &v }
