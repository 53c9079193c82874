package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Keyset asks for one page of an admin list in keyset order: the rows after (AfterKey,
// AfterID) when ordered by Sort and then id, at most Limit of them. Keyset pages stay correct
// while rows are added or removed between requests (an offset would skip or repeat rows),
// and each costs one index range scan however deep the page.
type Keyset struct {
	Sort     string // a sort key the list allows ("name", "position" …); "" orders by id alone
	Desc     bool
	AfterID  int64  // the last row of the previous page; 0 for the first page
	AfterKey string // that row's Sort value, as text (ignored when Sort is "")
	Limit    int    // default 50, at most 1000 (+1, see clampLimit)
}

// sortKey is a column a list may be ordered by: its SQL expression and the type its text
// cursor value is cast to.
type sortKey struct {
	expr, cast string
}

// listQuery assembles an admin list query from fixed SQL fragments and numbered arguments:
// callers add conditions with their values, never values inside SQL.
type listQuery struct {
	where []string
	args  []any
}

// arg adds a value and returns its placeholder.
func (q *listQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// cond adds a condition whose %s verbs are replaced by the placeholders of vals, in order.
func (q *listQuery) cond(format string, vals ...any) {
	ph := make([]any, len(vals))
	for i, v := range vals {
		ph[i] = q.arg(v)
	}
	q.where = append(q.where, fmt.Sprintf(format, ph...))
}

// filterCond is one condition of a search: cond (one %s, for val) applies when set.
type filterCond struct {
	set  bool
	cond string
	val  any
}

// filter adds the conditions that are set and returns the WHERE clause of every condition
// added so far ("" for none).
func (q *listQuery) filter(cs []filterCond) string {
	for _, c := range cs {
		if c.set {
			q.cond(c.cond, c.val)
		}
	}
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// sql returns base (a SELECT … FROM … without WHERE) with the conditions, the keyset
// condition of page, its ORDER BY and LIMIT. idExpr is the id column; keys the allowed sorts.
func (q *listQuery) sql(base, idExpr string, keys map[string]sortKey, page Keyset) (string, error) {
	dir, cmp := "ASC", ">"
	if page.Desc {
		dir, cmp = "DESC", "<"
	}
	order := idExpr + " " + dir
	if page.Sort != "" {
		k, ok := keys[page.Sort]
		if !ok {
			return "", fmt.Errorf("sort %q: %w", page.Sort, ErrInvalid)
		}
		order = k.expr + " " + dir + ", " + order
		if page.AfterID > 0 {
			q.cond("("+k.expr+", "+idExpr+") "+cmp+" (%s::"+k.cast+", %s)", page.AfterKey, page.AfterID)
		}
	} else if page.AfterID > 0 {
		q.cond(idExpr+" "+cmp+" %s", page.AfterID)
	}
	var b strings.Builder
	b.WriteString(base)
	if len(q.where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(q.where, " AND "))
	}
	b.WriteString(" ORDER BY " + order + " LIMIT " + q.arg(clampLimit(page.Limit)))
	return b.String(), nil
}

// list runs lq as one page of the list what (for errors) and collects its rows with scan.
func list[T any](ctx context.Context, s *Store, what string, lq *listQuery, base, idExpr string,
	keys map[string]sortKey, page Keyset, scan pgx.RowToFunc[T]) ([]T, error) {
	q, err := lq.sql(base, idExpr, keys, page)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	rows, _ := s.q.Query(ctx, q, lq.args...)
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, interpret(err))
	}
	return out, nil
}

// Table names a table whose rows admin edits lock (LockRow).
type Table string

// The tables LockRow takes; no other name reaches SQL.
const (
	TableCategories Table = "categories"
	TableStreams    Table = "streams"
	TableSeries     Table = "series"
	TableBouquets   Table = "bouquets"
	TableEPGSources Table = "epg_sources"
)

// LockRow locks row id of t until the transaction ends (ErrNotFound when there is none), so
// that an admin's read-modify-write of it cannot interleave with another. Call it inside InTx
// before reading the row.
func (s *Store) LockRow(ctx context.Context, t Table, id int64) error {
	switch t {
	case TableCategories, TableStreams, TableSeries, TableBouquets, TableEPGSources:
	default:
		return fmt.Errorf("lock %s %d: %w", t, id, ErrInvalid)
	}
	var one int
	if err := s.q.QueryRow(ctx, `SELECT 1 FROM `+string(t)+` WHERE id = $1 FOR UPDATE`, id).Scan(&one); err != nil {
		return fmt.Errorf("lock %s %d: %w", t, id, interpret(err))
	}
	return nil
}

// many reads every row q returns into Ts, by column name; what names the rows in errors
// ("categories").
func many[T any](ctx context.Context, s *Store, what, q string, args ...any) ([]T, error) {
	return collect(ctx, s, what, pgx.RowToStructByName[T], q, args...)
}

// collect reads every row q returns with scan; what names the rows in errors ("list
// servers"). A Query error resurfaces from CollectRows.
func collect[T any](ctx context.Context, s *Store, what string, scan pgx.RowToFunc[T], q string, args ...any) ([]T, error) {
	rows, _ := s.q.Query(ctx, q, args...)
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, interpret(err))
	}
	return out, nil
}

// one reads the single row q returns into a T, by column name; what names the row in errors
// ("category 7"), and no row is ErrNotFound.
func one[T any](ctx context.Context, s *Store, what, q string, args ...any) (T, error) {
	rows, _ := s.q.Query(ctx, q, args...)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, interpret(err))
	}
	return v, nil
}
