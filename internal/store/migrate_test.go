package store_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/migrations"
)

// schemaFingerprint lists every table, column, constraint, index and function of the public
// schema, so two states of a schema can be compared.
func schemaFingerprint(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	const q = `
SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '')
  FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'con ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'fn ' || proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'trg ' || tgrelid::regclass || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1`
	rows, err := pool.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return strings.Join(lines, "\n")
}

func openEmpty(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), testdb.Empty(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestMigrate_TwiceIsNoOp(t *testing.T) {
	t.Parallel()
	pool := openEmpty(t)
	ctx := t.Context()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	before := schemaFingerprint(t, pool)
	st, err := store.Status(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != st.Latest || len(st.Pending) != 0 || st.Latest < 5 {
		t.Fatalf("Status after migrate = %+v, want current == latest >= 5, nothing pending", st)
	}
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if after := schemaFingerprint(t, pool); after != before {
		t.Fatalf("second Migrate changed the schema")
	}
	if ok, err := store.New(pool).SchemaCurrent(ctx); err != nil || !ok {
		t.Fatalf("SchemaCurrent = %v, %v; want true", ok, err)
	}
}

func TestMigrate_StatusOnEmptyDatabase(t *testing.T) {
	t.Parallel()
	pool := openEmpty(t)
	st, err := store.Status(t.Context(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != 0 || int32(len(st.Pending)) != st.Latest {
		t.Fatalf("Status on empty = %+v, want everything pending", st)
	}
	if ok, _ := store.New(pool).SchemaCurrent(t.Context()); ok {
		t.Fatal("SchemaCurrent on an empty database = true")
	}
}

func TestMigrate_FailingMigrationLeavesSchemaUnchanged(t *testing.T) {
	t.Parallel()
	pool := openEmpty(t)
	ctx := t.Context()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	before := schemaFingerprint(t, pool)
	st, _ := store.Status(ctx, pool)

	// The real migrations plus one that creates a table, alters another, then fails.
	fsys := fstest.MapFS{}
	entries, _ := fs.ReadDir(migrations.FS, ".")
	for _, e := range entries {
		b, _ := fs.ReadFile(migrations.FS, e.Name())
		fsys[e.Name()] = &fstest.MapFile{Data: b}
	}
	fsys[fmt.Sprintf("%03d_broken.sql", len(entries)+1)] = &fstest.MapFile{Data: []byte(`
CREATE TABLE half_done (id int);
ALTER TABLE lines ADD COLUMN half_done_col int;
INSERT INTO lines (username, password_hash) VALUES ('x', 'not-a-hash'); -- violates a CHECK
`)}
	err := store.MigrateFS(ctx, pool, fsys)
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Fatalf("MigrateFS(broken) = %v, want a check violation", err)
	}
	if after := schemaFingerprint(t, pool); after != before {
		t.Fatalf("a failed migration changed the schema:\n%s", diffLines(before, after))
	}
	st2, _ := store.Status(ctx, pool)
	if st2.Current != st.Current {
		t.Fatalf("version after failed migration = %d, want %d", st2.Current, st.Current)
	}
	// The advisory lock was released: a normal migrate still works.
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("Migrate after failure: %v", err)
	}
}

func TestMigrate_ConcurrentInstances(t *testing.T) {
	t.Parallel()
	pool := openEmpty(t)
	ctx := t.Context()
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- store.Migrate(ctx, pool) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	st, _ := store.Status(ctx, pool)
	if st.Current != st.Latest {
		t.Fatalf("after concurrent migrate: %+v", st)
	}
}

func diffLines(a, b string) string {
	as, bs := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		as[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		bs[l] = true
	}
	var out []string
	for l := range as {
		if !bs[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range bs {
		if !as[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}
