package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Category is one row of categories.
type Category struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	Name     string `db:"name"`
	Position int32  `db:"position"`
	IsAdult  bool   `db:"is_adult"`
}

// Categories lists the categories of kind (all kinds when kind is ""), by position.
func (s *Store) Categories(ctx context.Context, kind string) ([]Category, error) {
	const q = `SELECT id, kind, name, position, is_adult FROM categories
		WHERE $1 = '' OR kind = $1 ORDER BY position, id`
	return many[Category](ctx, s, "categories", q, kind)
}

// EnsureCategories returns the ids of the categories of kind named names, creating the missing
// ones after the kind's last position, in the order given (so a playlist's group order is kept).
// Existing categories are not modified. added counts the created ones.
func (s *Store) EnsureCategories(ctx context.Context, kind string, names []string) (ids map[string]int64, added int, err error) {
	const qSelect = `SELECT id, name FROM categories WHERE kind = $1 AND name = ANY($2)`
	const qInsert = `INSERT INTO categories (kind, name, position)
		SELECT $1, n.name, (SELECT coalesce(max(position), -1) FROM categories WHERE kind = $1) + n.ord::integer
		FROM unnest($2::text[]) WITH ORDINALITY AS n(name, ord)
		ON CONFLICT (kind, name) DO NOTHING
		RETURNING id, name`
	type idName struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	ids = make(map[string]int64, len(names))
	// read runs q on (kind, some names) and records the ids it returns.
	read := func(q string, some []string) (int, error) {
		rows, _ := s.q.Query(ctx, q, kind, some)
		got, err := pgx.CollectRows(rows, pgx.RowToStructByName[idName])
		if err != nil {
			return 0, fmt.Errorf("ensure %s categories: %w", kind, interpret(err))
		}
		for _, r := range got {
			ids[r.Name] = r.ID
		}
		return len(got), nil
	}
	if _, err := read(qSelect, names); err != nil {
		return nil, 0, err
	}
	var missing []string
	for _, n := range names {
		if _, ok := ids[n]; !ok && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return ids, 0, nil
	}
	created, err := read(qInsert, missing)
	if err != nil {
		return nil, 0, err
	}
	if created < len(missing) { // created meanwhile by someone else
		if _, err := read(qSelect, missing); err != nil {
			return nil, 0, err
		}
	}
	return ids, created, nil
}

// UpdateCategory sets a category's name, position and adult flag.
func (s *Store) UpdateCategory(ctx context.Context, c Category) error {
	const q = `UPDATE categories SET name = $2, position = $3, is_adult = $4 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update category %d", c.ID), q, c.ID, c.Name, c.Position, c.IsAdult)
}

// DeleteCategory deletes a category; its streams and series become uncategorised.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	const q = `DELETE FROM categories WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete category %d", id), q, id)
}

const categoryColumns = `id, kind, name, position, is_adult`

// CategoryByID reads one category.
func (s *Store) CategoryByID(ctx context.Context, id int64) (Category, error) {
	return one[Category](ctx, s, fmt.Sprintf("category %d", id), `SELECT `+categoryColumns+` FROM categories WHERE id = $1`, id)
}

// CreateCategory inserts a category and returns its id; a taken (kind, name) is ErrConflict.
func (s *Store) CreateCategory(ctx context.Context, c Category) (int64, error) {
	const q = `INSERT INTO categories (kind, name, position, is_adult) VALUES ($1, $2, $3, $4) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, c.Kind, c.Name, c.Position, c.IsAdult).Scan(&id); err != nil {
		return 0, fmt.Errorf("create category %q: %w", c.Name, interpret(err))
	}
	return id, nil
}

// NextCategoryPosition is the position after the last category of kind.
func (s *Store) NextCategoryPosition(ctx context.Context, kind string) (int32, error) {
	const q = `SELECT coalesce(max(position), -1) + 1 FROM categories WHERE kind = $1`
	var pos int32
	if err := s.q.QueryRow(ctx, q, kind).Scan(&pos); err != nil {
		return 0, fmt.Errorf("next category position: %w", interpret(err))
	}
	return pos, nil
}

// CategoryFilter selects categories for an admin list; zero fields match everything.
type CategoryFilter struct {
	Kind string
	Name string // the name contains this, ignoring case
	Page Keyset // sorts: "position", "name"
}

var categorySorts = map[string]sortKey{
	"position": {expr: "position", cast: "integer"},
	"name":     {expr: "name", cast: "text"},
}

// ListCategories returns one page of the categories f selects.
func (s *Store) ListCategories(ctx context.Context, f CategoryFilter) ([]Category, error) {
	var lq listQuery
	if f.Kind != "" {
		lq.cond("kind = %s", f.Kind)
	}
	if f.Name != "" {
		lq.cond("strpos(lower(name), lower(%s)) > 0", f.Name)
	}
	return list(ctx, s, "categories", &lq, `SELECT `+categoryColumns+` FROM categories`, "id", categorySorts, f.Page,
		pgx.RowToStructByName[Category])
}
