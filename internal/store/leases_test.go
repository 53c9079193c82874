package store_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestLeaseOpensCommitAsynchronously: the statements that open a lease (InsertLeaseIfRoom's
// pipeline, and a transaction under LockLineForOpen) run with synchronous_commit off, and only
// they: a plain insert, a transaction under LockLine and the session afterwards keep the
// session's setting (on here, as on a durable cluster; the test clusters run with it off). A
// trigger records the setting each lease insert ran with, inside the insert's transaction.
func TestLeaseOpensCommitAsynchronously(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg, err := pgxpool.ParseConfig(testdb.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1 // one session: a setting leaking out of a transaction would be seen by the next
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "on"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	testdb.MustExec(t, st, `CREATE TABLE lease_commit_modes (lease_id uuid, mode text)`)
	testdb.MustExec(t, st, `CREATE FUNCTION note_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN INSERT INTO lease_commit_modes VALUES (NEW.id, current_setting('synchronous_commit')); RETURN NEW; END $$`)
	testdb.MustExec(t, st, `CREATE TRIGGER note_commit_mode AFTER INSERT ON connection_leases
		FOR EACH ROW EXECUTE FUNCTION note_commit_mode()`)
	line, _ := testdb.NewLine(t, st, nil)
	lease := func() store.LeaseRow {
		return store.LeaseRow{ID: uuid.New(), LineID: line.ID, StreamID: 1, InstanceID: "test", Container: "ts",
			ClientIP: netip.MustParseAddr("192.0.2.7")}
	}
	mode := func(what string, id [16]byte, want string) {
		t.Helper()
		var got string
		if err := pool.QueryRow(ctx, `SELECT mode FROM lease_commit_modes WHERE lease_id = $1`, id).Scan(&got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got != want {
			t.Errorf("%s ran with synchronous_commit %s, want %s", what, got, want)
		}
		var session string
		if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&session); err != nil || session != "on" {
			t.Errorf("after %s the session's synchronous_commit is %q (%v), want on", what, session, err)
		}
	}

	plain := lease()
	if _, err := st.InsertLease(ctx, plain, time.Minute); err != nil {
		t.Fatal(err)
	}
	mode("InsertLease alone", plain.ID, "on")

	ifRoom := lease()
	if _, ok, err := st.InsertLeaseIfRoom(ctx, ifRoom, time.Minute, 0); err != nil || !ok {
		t.Fatalf("InsertLeaseIfRoom = %v, %v", ok, err)
	}
	mode("InsertLeaseIfRoom", ifRoom.ID, "off")

	for _, c := range []struct {
		name string
		lock func(tx *store.Store) error
		want string
	}{
		{"a transaction under LockLineForOpen", func(tx *store.Store) error { return tx.LockLineForOpen(ctx, line.ID) }, "off"},
		{"a transaction under LockLine", func(tx *store.Store) error { return tx.LockLine(ctx, line.ID) }, "on"},
	} {
		row := lease()
		err := st.InTx(ctx, func(tx *store.Store) error {
			if err := c.lock(tx); err != nil {
				return err
			}
			_, err := tx.InsertLease(ctx, row, time.Minute)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		mode(c.name, row.ID, c.want)
	}
}
