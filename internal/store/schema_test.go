package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

const fakeHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"

// TestSchema_RejectsBadStates checks that the constraints make bad rows impossible.
func TestSchema_RejectsBadStates(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	mustExec(`INSERT INTO lines (username, password_hash) VALUES ('alice', $1)`, fakeHash)
	mustExec(`INSERT INTO streams (kind, name) VALUES ('live', 'One')`)
	mustExec(`INSERT INTO streams (kind, name, container_extension) VALUES ('episode', 'E1', 'mkv')`)
	mustExec(`INSERT INTO series (name) VALUES ('Show')`)
	mustExec(`INSERT INTO bouquets (name) VALUES ('Main')`)

	tests := []struct {
		name string
		sql  string
		args []any
		code string // SQLSTATE
	}{
		{"duplicate username", `INSERT INTO lines (username, password_hash) VALUES ('alice', $1)`, []any{fakeHash}, "23505"},
		{"plaintext password", `INSERT INTO lines (username, password_hash) VALUES ('bob', 'secret')`, nil, "23514"},
		{"slash in username", `INSERT INTO lines (username, password_hash) VALUES ('a/b', $1)`, []any{fakeHash}, "23514"},
		{"negative max connections", `INSERT INTO lines (username, password_hash, max_connections) VALUES ('c', $1, -1)`, []any{fakeHash}, "23514"},
		{"unknown output format", `INSERT INTO lines (username, password_hash, allowed_output_formats) VALUES ('d', $1, '{flv}')`, []any{fakeHash}, "23514"},
		{"lower-case forced country", `INSERT INTO lines (username, password_hash, forced_country) VALUES ('e', $1, 'gb')`, []any{fakeHash}, "23514"},
		{"bad allowed ip", `INSERT INTO lines (username, password_hash, allowed_ips) VALUES ('f', $1, '{not-an-ip}')`, []any{fakeHash}, "22P02"},
		{"bad mac", `INSERT INTO mag_devices (line_id, mac) VALUES (1, 'zz:zz')`, nil, "22P02"},
		{"mag device of a missing line", `INSERT INTO mag_devices (line_id, mac) VALUES (999, '00:1a:79:00:00:01')`, nil, "23503"},
		{"episode row on a live stream", `INSERT INTO episodes (stream_id, series_id, season_number, episode_number) VALUES (1, 1, 1, 1)`, nil, "23503"},
		{"episode in a bouquet", `INSERT INTO bouquet_streams (bouquet_id, stream_id, stream_kind) VALUES (1, 2, 'episode')`, nil, "23514"},
		{"bouquet entry with wrong kind", `INSERT INTO bouquet_streams (bouquet_id, stream_id, stream_kind) VALUES (1, 1, 'movie')`, nil, "23503"},
		{"movie without container", `INSERT INTO streams (kind, name) VALUES ('movie', 'M')`, nil, "23514"},
		{"source with a bad scheme", `INSERT INTO stream_sources (stream_id, position, url) VALUES (1, 0, 'ftp://x')`, nil, "23514"},
		{"programme ending before it starts", `INSERT INTO epg_channels (id) VALUES ('c1'); INSERT INTO epg_programmes (channel_id, start_at, stop_at) VALUES ('c1', now(), now() - interval '1 hour')`, nil, "23514"},
		{"flood block without expiry", `INSERT INTO blocked_ips (network, source) VALUES ('10.0.0.1', 'flood')`, nil, "23514"},
		{"blocked isp with both name and asn", `INSERT INTO blocked_isps (isp_name, asn) VALUES ('X', 1)`, nil, "23514"},
		{"bad country code", `INSERT INTO allowed_countries (code) VALUES ('Germany')`, nil, "23514"},
		{"verified credential that is no 32-byte MAC", `INSERT INTO verified_credentials (line_id, mac, expires_at) VALUES (1, 'pw', now())`, nil, "23514"},
		{"verified credential of a missing line", `INSERT INTO verified_credentials (line_id, mac, expires_at) VALUES (999, decode(repeat('00', 32), 'hex'), now())`, nil, "23503"},
		{"info that is not an object", `INSERT INTO streams (kind, name, info) VALUES ('live', 'X', '[]')`, nil, "23514"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if len(tt.args) == 0 && strings.Count(tt.sql, ";") > 0 {
				_, err = pool.Exec(ctx, tt.sql) // simple protocol for several statements
			} else {
				_, err = pool.Exec(ctx, tt.sql, tt.args...)
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != tt.code {
				t.Fatalf("Exec(%s) = %v, want SQLSTATE %s", tt.sql, err, tt.code)
			}
		})
	}
}

func TestInTx_RollsBackOnError(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	st := store.New(pool)
	ctx := t.Context()
	boom := errors.New("boom")
	err := st.InTx(ctx, func(tx *store.Store) error {
		if err := tx.Notify(ctx, store.SettingsChanged(1)); err != nil {
			return err
		}
		if _, err := pool.Exec(ctx, "SELECT 1"); err != nil { // another connection, unaffected
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestListener_SeesCommittedChangesOnly checks the triggers and the listener together: a line
// change arrives as a line change with its id, a rolled-back one never does.
func TestListener_SeesCommittedChangesOnly(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	got := make(chan store.Change, 16)
	listen(t, pool, store.Subscriber{Kinds: []store.ChangeKind{store.ChangeLine, store.ChangeCatalog},
		OnChange: func(c store.Change) { got <- c }})

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO lines (username, password_hash) VALUES ('ghost', $1)`, fakeHash); err != nil {
		t.Fatal(err)
	}
	tx.Rollback(ctx)

	var id int64
	if err := pool.QueryRow(ctx, `INSERT INTO lines (username, password_hash) VALUES ('real', $1) RETURNING id`, fakeHash).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO categories (kind, name) VALUES ('live', 'News')`); err != nil {
		t.Fatal(err)
	}
	want := []store.Change{store.LineChanged(id), {Kind: store.ChangeCatalog}}
	for _, w := range want {
		select {
		case c := <-got:
			if c.Kind != w.Kind || c.ID != w.ID {
				t.Fatalf("change = %+v, want %+v", c, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no change %v within 5s", w.Kind)
		}
	}
}

// TestUpdatedAt_MovesOnlyOnChange: an update that writes back what a row holds leaves its
// updated_at; one that changes anything moves it (migration 013).
func TestUpdatedAt_MovesOnlyOnChange(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := t.Context()
	var line, bouquet int64
	if err := pool.QueryRow(ctx, `INSERT INTO lines (username, password_hash) VALUES ('touch', $1) RETURNING id`, fakeHash).Scan(&line); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO bouquets (name) VALUES ('Touch') RETURNING id`).Scan(&bouquet); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		table        string
		id           int64
		same, change string
	}{
		{"lines", line, `UPDATE lines SET username = username, max_connections = max_connections, banned = false WHERE id = $1`,
			`UPDATE lines SET admin_notes = admin_notes || 'x' WHERE id = $1`},
		{"bouquets", bouquet, `UPDATE bouquets SET name = 'Touch' WHERE id = $1`, `UPDATE bouquets SET name = 'Touch 2' WHERE id = $1`},
	} {
		updatedAt := func() time.Time {
			t.Helper()
			var at time.Time
			if err := pool.QueryRow(ctx, `SELECT updated_at FROM `+tt.table+` WHERE id = $1`, tt.id).Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at
		}
		exec := func(sql string) {
			t.Helper()
			if tag, err := pool.Exec(ctx, sql, tt.id); err != nil || tag.RowsAffected() != 1 {
				t.Fatalf("%s: %v, %d rows", sql, err, tag.RowsAffected())
			}
		}
		before := updatedAt()
		exec(tt.same) // its own transaction: the old trigger would set a later now()
		if got := updatedAt(); !got.Equal(before) {
			t.Errorf("%s: an update writing back the same values moved updated_at %v → %v", tt.table, before, got)
		}
		exec(tt.change)
		if got := updatedAt(); !got.After(before) {
			t.Errorf("%s: a change left updated_at at %v (was %v)", tt.table, got, before)
		}
	}
}
