package testdb

import (
	"context"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// RowCounts counts the rows of every table of the database: a test compares two counts to
// prove that refused requests left no row behind (what changed is RowsChanged's answer).
func RowCounts(t testing.TB, st *store.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool().Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)
	if err != nil {
		t.Fatalf("testdb: list tables: %v", err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatalf("testdb: list tables: %v", err)
		}
		tables = append(tables, name)
	}
	if rows.Close(); rows.Err() != nil {
		t.Fatalf("testdb: list tables: %v", rows.Err())
	}
	// One statement, so that the counts are of one snapshot.
	parts := make([]string, len(tables))
	for i, name := range tables {
		parts[i] = `(SELECT count(*) FROM "` + name + `")`
	}
	counts := make([]int64, len(tables))
	dst := make([]any, len(tables))
	for i := range counts {
		dst[i] = &counts[i]
	}
	if err := st.Pool().QueryRow(ctx, "SELECT "+strings.Join(parts, ", ")).Scan(dst...); err != nil {
		t.Fatalf("testdb: count rows: %v", err)
	}
	out := make(map[string]int64, len(tables))
	for i, name := range tables {
		out[name] = counts[i]
	}
	return out
}

// RowsChanged is how many rows each table gained (or lost) from before to after; a table
// whose count did not change is absent.
func RowsChanged(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for name, n := range after {
		if d := n - before[name]; d != 0 {
			out[name] = d
		}
	}
	for name, n := range before {
		if _, ok := after[name]; !ok {
			out[name] = -n
		}
	}
	return out
}

// Digest is a hash of the whole content of tables: it changes with any row inserted, updated
// or deleted there, so a test compares two to prove that a refused request wrote nothing (an
// update included, which RowCounts does not see).
func Digest(t testing.TB, st *store.Store, tables ...string) string {
	t.Helper()
	parts := make([]string, len(tables))
	for i, name := range tables {
		parts[i] = `(SELECT coalesce(md5(string_agg(r::text, ',' ORDER BY r::text)), '') FROM "` + name + `" r)`
	}
	var out string
	if err := st.Pool().QueryRow(context.Background(), "SELECT concat_ws(' ', "+strings.Join(parts, ", ")+")").Scan(&out); err != nil {
		t.Fatalf("testdb: digest %v: %v", tables, err)
	}
	return out
}
