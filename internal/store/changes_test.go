package store_test

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

var lease = [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0xff}

func TestParseChange(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]store.Change{
		"line:42":                               store.LineChanged(42),
		"device:7":                              store.DeviceChanged(7),
		"catalog:3":                             store.CatalogChanged(3),
		"epg:9223372036854775807":               store.EPGChanged(9223372036854775807),
		"security:2":                            store.SecurityChanged(2),
		"settings:1":                            store.SettingsChanged(1),
		"kill:deadbeef0102030405060708090a0bff": store.KillLease(lease),
		"kill:DEADBEEF0102030405060708090A0BFF": store.KillLease(lease),
		"line:007":                              store.LineChanged(7),
		"admin_session:5":                       store.AdminSessionRevoked(5),
		"partner:3":                             store.PartnerChanged(3),
		"partner_key:2":                         {Kind: store.ChangePartnerKey, ID: 2},
		"partner_token:deadbeef0102030405060708090a0bff": store.PartnerTokenRevoked(lease),
		"media_session:DEADBEEF0102030405060708090A0BFF": store.MediaSessionRevoked(lease),
	} {
		if got, err := store.ParseChange(payload); err != nil || got != want {
			t.Errorf("ParseChange(%q) = %+v, %v, want %+v", payload, got, err, want)
		}
	}
	for _, payload := range []string{"", ":", "line", "line:", "line:0", "line:-1", "line:+1", "line: 1", "line:1x",
		"line:9223372036854775808", "catalog:garbage", "LINE:1",
		"admin:1", // a kind of a newer version: ignored here
		"kill:deadbeef", "kill:deadbeef0102030405060708090a0bff00", "kill:zzadbeef0102030405060708090a0bff",
		"partner:0", "partner_token:1", "media_session:deadbeef0102030405060708090a0bf", "media_session:",
	} {
		if got, err := store.ParseChange(payload); err == nil || got != (store.Change{}) {
			t.Errorf("ParseChange(%q) = %+v, %v, want an error", payload, got, err)
		}
	}
}

func TestChange_Payload(t *testing.T) {
	t.Parallel()
	for c, want := range map[store.Change]string{
		store.LineChanged(42):            "line:42",
		store.DeviceChanged(7):           "device:7",
		store.CatalogChanged(3):          "catalog:3",
		store.EPGChanged(4):              "epg:4",
		store.SecurityChanged(5):         "security:5",
		store.SettingsChanged(6):         "settings:6",
		store.KillLease(lease):           "kill:deadbeef0102030405060708090a0bff",
		store.AdminSessionRevoked(9):     "admin_session:9",
		store.PartnerChanged(3):          "partner:3",
		store.PartnerTokenRevoked(lease): "partner_token:deadbeef0102030405060708090a0bff",
		store.MediaSessionRevoked(lease): "media_session:deadbeef0102030405060708090a0bff",
		{Kind: store.ChangeKind(0)}:      "ChangeKind(0)",
	} {
		if got := c.Payload(); got != want {
			t.Errorf("%+v.Payload() = %q, want %q", c, got, want)
		}
	}
}

func FuzzParseChange(f *testing.F) {
	for _, s := range []string{"line:42", "device:1", "catalog:9", "epg:1", "security:12", "settings:3",
		"kill:deadbeef0102030405060708090a0bff", "kill:DEADBEEF0102030405060708090A0BFF", "line:007", "line:-1",
		"line:+1", "line:9223372036854775808", "catalog:garbage", "kill:deadbeef", ":", "", "line", "x:1:2",
		"kill:deadbeef0102030405060708090a0bff00", // too long: the parser before typed changes indexed past its buffer
		"partner:5", "partner_key:1", "partner_token:deadbeef0102030405060708090a0bff", "media_session:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := store.ParseChange(payload)
		if err != nil {
			if c != (store.Change{}) {
				t.Fatalf("ParseChange(%q) = %+v with error %v, want the zero Change", payload, c, err)
			}
			return
		}
		back, err := store.ParseChange(c.Payload())
		if err != nil || back != c {
			t.Fatalf("ParseChange(%q) = %+v does not round-trip through %q: %+v, %v", payload, c, c.Payload(), back, err)
		}
	})
}

func TestNotify_RefusesUnknownKind(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	if err := st.Notify(t.Context(), store.Change{Kind: 200}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Notify(unknown kind) = %v, want ErrInvalid", err)
	}
}

// recorder collects the changes and reconnects one subscriber sees.
type recorder struct {
	mu         sync.Mutex
	changes    []store.Change
	reconnects int
}

func (r *recorder) onChange(c store.Change) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}
func (r *recorder) onReconnect() { r.mu.Lock(); r.reconnects++; r.mu.Unlock() }

// of subscribes r to kinds, reconnects included.
func (r *recorder) of(kinds ...store.ChangeKind) store.Subscriber {
	return store.Subscriber{Kinds: kinds, OnChange: r.onChange, OnReconnect: r.onReconnect}
}

func (r *recorder) seen() ([]store.Change, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]store.Change(nil), r.changes...), r.reconnects
}

// waitFor waits until r has seen want (the last change sent: dispatch runs in order, so every
// change sent before it has been handed out too).
func (r *recorder) waitFor(t *testing.T, want store.Change) {
	t.Helper()
	testdb.Eventually(t, 5*time.Second, "change "+want.Payload(), func() bool {
		got, _ := r.seen()
		return len(got) > 0 && got[len(got)-1] == want
	})
}

// listen runs a listener with subs on pool's database until the test ends.
func listen(t *testing.T, pool *pgxpool.Pool, subs ...store.Subscriber) {
	t.Helper()
	l := store.NewListener(pool, slog.New(slog.DiscardHandler))
	for _, sub := range subs {
		l.Subscribe(sub)
	}
	testdb.Listen(t, l)
}

// newDB returns a fresh database's pool and a store on it.
func newDB(t *testing.T) (*pgxpool.Pool, *store.Store) {
	t.Helper()
	pool := testdb.New(t)
	return pool, store.New(pool)
}

func allKinds() []store.ChangeKind {
	return []store.ChangeKind{store.ChangeLine, store.ChangeDevice, store.ChangeCatalog, store.ChangeEPG,
		store.ChangeSecurity, store.ChangeSettings, store.ChangeKill, store.ChangeAdminSession,
		store.ChangePartner, store.ChangePartnerKey, store.ChangePartnerToken, store.ChangeMediaSession}
}

func version(t *testing.T, pool *pgxpool.Pool, scope string) int64 {
	t.Helper()
	var v int64
	const q = `SELECT version FROM change_versions WHERE scope = $1`
	if err := pool.QueryRow(t.Context(), q, scope).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestListener_TriggersSendTypedChanges writes to one table of every trigger family and checks
// that each payload arrives parsed, with the id or version the database holds.
func TestListener_TriggersSendTypedChanges(t *testing.T) {
	t.Parallel()
	pool, st := newDB(t)
	ctx := t.Context()
	var rec recorder
	listen(t, pool, rec.of(allKinds()...))

	var want []store.Change
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var lineID int64
	const qLine = `INSERT INTO lines (username, password_hash) VALUES ('u', $1) RETURNING id`
	if err := pool.QueryRow(ctx, qLine, fakeHash).Scan(&lineID); err != nil {
		t.Fatal(err)
	}
	want = append(want, store.LineChanged(lineID))
	exec(`INSERT INTO bouquets (name) VALUES ('Main')`)
	want = append(want, store.CatalogChanged(version(t, pool, "catalog")))
	exec(`INSERT INTO line_bouquets (line_id, bouquet_id) SELECT $1, id FROM bouquets`, lineID)
	exec(`INSERT INTO mag_devices (line_id, mac) VALUES ($1, '00:1a:79:00:00:01')`, lineID)
	want = append(want, store.LineChanged(lineID), store.LineChanged(lineID))
	exec(`INSERT INTO epg_channels (id) VALUES ('a.tv')`)
	want = append(want, store.EPGChanged(version(t, pool, "epg")))
	exec(`INSERT INTO blocked_ips (network) VALUES ('192.0.2.0/24')`)
	want = append(want, store.SecurityChanged(version(t, pool, "security")))
	exec(`INSERT INTO settings (key, value) VALUES ('motd', '"hi"')`)
	want = append(want, store.SettingsChanged(version(t, pool, "settings")))
	exec(`INSERT INTO servers (name) VALUES ('main')`)
	want = append(want, store.SettingsChanged(version(t, pool, "settings")))
	var sessionID int64
	const qSession = `INSERT INTO admin_sessions (admin_id, expires_at)
		SELECT id, now() + interval '1 day' FROM admins LIMIT 1 RETURNING id`
	exec(`INSERT INTO admins (username, password_hash) VALUES ('root', $1)`, fakeHash)
	if err := pool.QueryRow(ctx, qSession).Scan(&sessionID); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE admin_sessions SET refreshed_at = now() WHERE id = $1`, sessionID) // no revocation: silent
	exec(`UPDATE admin_sessions SET revoked_at = now() WHERE id = $1`, sessionID)
	exec(`UPDATE admin_sessions SET revoked_at = now() WHERE id = $1`, sessionID) // already revoked: silent
	want = append(want, store.AdminSessionRevoked(sessionID))
	var partnerID, keyID int64
	const qPartner = `INSERT INTO partner_clients (client_id, name, secret_sha256, scopes, allowed_ips)
		VALUES ('xp0123456789abcdef', 'p', sha256('s'), '{decisions}', '{0.0.0.0/0}') RETURNING id`
	if err := pool.QueryRow(ctx, qPartner).Scan(&partnerID); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE partner_clients SET bouquet_ids = '{1}' WHERE id = $1`, partnerID)
	want = append(want, store.PartnerChanged(partnerID), store.PartnerChanged(partnerID))
	if err := pool.QueryRow(ctx, `SELECT id FROM partner_signing_keys`).Scan(&keyID); err != nil {
		t.Fatal(err)
	}
	exec(`UPDATE partner_signing_keys SET retired_at = now()`)
	want = append(want, store.Change{Kind: store.ChangePartnerKey, ID: keyID})
	for kind, c := range map[string]store.Change{"access_token": store.PartnerTokenRevoked(lease), "media_session": store.MediaSessionRevoked(lease)} {
		exec(`INSERT INTO partner_revocations (kind, token_id, partner_id, expires_at) VALUES ($1, $2, $3, now())`,
			kind, lease[:], partnerID)
		want = append(want, c)
	}
	if err := st.Notify(ctx, store.KillLease(lease)); err != nil {
		t.Fatal(err)
	}
	want = append(want, store.KillLease(lease))

	rec.waitFor(t, want[len(want)-1])
	got, _ := rec.seen()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("changes (-want +got):\n%s", diff)
	}
}

// TestListener_FansOutByKind checks that each subscriber gets the kinds it asked for, once
// each, and nothing of payloads that do not parse.
func TestListener_FansOutByKind(t *testing.T) {
	t.Parallel()
	pool, st := newDB(t)
	ctx := t.Context()
	var lines, others, none recorder
	listen(t, pool, lines.of(store.ChangeLine),
		others.of(store.ChangeCatalog, store.ChangeKill, store.ChangeCatalog), // a kind named twice counts once
		none.of())

	for _, p := range []string{"line:abc", "bogus:1", "kill:0000000000000000000000000000000000000000", "line"} {
		if _, err := pool.Exec(ctx, `SELECT pg_notify($1, $2)`, store.ChangesChannel, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []store.Change{store.SettingsChanged(1), store.LineChanged(5), store.CatalogChanged(7),
		store.EPGChanged(2), store.LineChanged(6), store.KillLease(lease)} {
		if err := st.Notify(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	others.waitFor(t, store.KillLease(lease))
	if got, _ := lines.seen(); !cmp.Equal(got, []store.Change{store.LineChanged(5), store.LineChanged(6)}) {
		t.Errorf("line subscriber got %+v, want line 5 and line 6", got)
	}
	if got, _ := others.seen(); !cmp.Equal(got, []store.Change{store.CatalogChanged(7), store.KillLease(lease)}) {
		t.Errorf("catalog+kill subscriber got %+v, want catalog 7 and the kill, once each", got)
	}
	if got, _ := none.seen(); len(got) != 0 {
		t.Errorf("subscriber of no kind got %+v", got)
	}
}

// TestListener_ReconnectTellsEverySubscriber: the first LISTEN counts as a reconnect (what
// subscribers loaded before it may have missed a change), then the listener's connection is
// dropped: every subscriber with an OnReconnect hears of it once more, and changes flow again.
func TestListener_ReconnectTellsEverySubscriber(t *testing.T) {
	t.Parallel()
	pool, st := newDB(t)
	var a, b, quiet recorder
	listen(t, pool, a.of(store.ChangeLine), b.of(store.ChangeCatalog),
		store.Subscriber{Kinds: []store.ChangeKind{store.ChangeLine}, OnChange: quiet.onChange}) // no OnReconnect
	if _, n := a.seen(); n != 1 {
		t.Fatalf("reconnects after the first LISTEN = %d, want 1 (state loaded before it may be stale)", n)
	}

	const kill = `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query = 'LISTEN ` + store.ChangesChannel + `'`
	var killed int
	if err := pool.QueryRow(t.Context(), kill).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminate listener backend = %d, %v, want 1", killed, err)
	}
	testdb.Eventually(t, 10*time.Second, "reconnect callbacks", func() bool {
		_, na := a.seen()
		_, nb := b.seen()
		return na == 2 && nb == 2
	})
	if err := st.Notify(t.Context(), store.LineChanged(3)); err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, store.LineChanged(3))
	quiet.waitFor(t, store.LineChanged(3))
	if _, n := a.seen(); n != 2 {
		t.Fatalf("reconnects = %d, want 2", n)
	}
}
