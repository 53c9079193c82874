package store

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Bouquet is one row of bouquets.
type Bouquet struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Position int32  `db:"position"`
}

// BouquetItem is one entry of a bouquet: a stream (bouquet_streams) or a series (bouquet_series).
type BouquetItem struct {
	BouquetID int64 `db:"bouquet_id"`
	ItemID    int64 `db:"item_id"`
	Position  int32 `db:"position"`
}

// BouquetByName reads a bouquet by its unique name.
func (s *Store) BouquetByName(ctx context.Context, name string) (Bouquet, error) {
	const q = `SELECT id, name, position FROM bouquets WHERE name = $1`
	rows, _ := s.q.Query(ctx, q, name)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Bouquet])
	if err != nil {
		return Bouquet{}, fmt.Errorf("bouquet %q: %w", name, interpret(err))
	}
	return b, nil
}

// BouquetStreamIDs lists a bouquet's streams in position order.
func (s *Store) BouquetStreamIDs(ctx context.Context, bouquetID int64) ([]int64, error) {
	return s.entryIDs(ctx, bouquetStreams, bouquetID)
}

// BouquetSeriesIDs lists a bouquet's series in position order.
func (s *Store) BouquetSeriesIDs(ctx context.Context, bouquetID int64) ([]int64, error) {
	return s.entryIDs(ctx, bouquetSeries, bouquetID)
}

// EnsureBouquet returns the id of the bouquet named name, creating it (last in position) when
// missing.
func (s *Store) EnsureBouquet(ctx context.Context, name string) (id int64, created bool, err error) {
	const qInsert = `INSERT INTO bouquets (name, position)
		SELECT $1, coalesce(max(position), -1) + 1 FROM bouquets
		ON CONFLICT (name) DO NOTHING RETURNING id`
	b, err := s.BouquetByName(ctx, name)
	if err == nil {
		return b.ID, false, nil
	}
	if !isNotFound(err) {
		return 0, false, err
	}
	err = s.q.QueryRow(ctx, qInsert, name).Scan(&id)
	if interpret(err) == ErrNotFound { // created meanwhile
		b, err := s.BouquetByName(ctx, name)
		return b.ID, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("create bouquet %q: %w", name, interpret(err))
	}
	return id, true, nil
}

// DeleteBouquet deletes a bouquet and its entries (lines lose it).
func (s *Store) DeleteBouquet(ctx context.Context, id int64) error {
	const q = `DELETE FROM bouquets WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete bouquet %d", id), q, id)
}

// SetBouquetStreams replaces a bouquet's streams (live, radio, movies) with ids, in that order.
// An episode or unknown id is ErrInvalid / ErrNotFound. Nothing is written when the bouquet
// already holds exactly ids.
func (s *Store) SetBouquetStreams(ctx context.Context, bouquetID int64, ids []int64) (changed bool, err error) {
	return s.setEntries(ctx, bouquetStreams, bouquetID, ids)
}

// SetBouquetSeries replaces a bouquet's series with ids, in that order.
func (s *Store) SetBouquetSeries(ctx context.Context, bouquetID int64, ids []int64) (changed bool, err error) {
	return s.setEntries(ctx, bouquetSeries, bouquetID, ids)
}

// AppendBouquetStreams adds the streams of ids that the bouquet lacks after its last entry, in
// the order given, and returns how many it added. Entries already present keep their place.
func (s *Store) AppendBouquetStreams(ctx context.Context, bouquetID int64, ids []int64) (int, error) {
	return s.appendEntries(ctx, bouquetStreams, bouquetID, ids)
}

// bouquetEntries is one of a bouquet's ordered entry tables, with its queries ($1 is always
// the bouquet id).
type bouquetEntries struct {
	what    string // "streams" or "series", for errors
	qIDs    string // the entry ids in position order
	qDelete string
	qNext   string // the position after the last entry (appendEntries; streams only so far)
	// qInsert adds the ids of $2 in their order from position $3 on. It joins the item table,
	// so an unknown id adds no row (insertEntries turns that into ErrNotFound).
	qInsert string
}

var (
	bouquetStreams = bouquetEntries{
		what:    "streams",
		qIDs:    `SELECT stream_id FROM bouquet_streams WHERE bouquet_id = $1 ORDER BY position, stream_id`,
		qDelete: `DELETE FROM bouquet_streams WHERE bouquet_id = $1`,
		qNext:   `SELECT coalesce(max(position), -1) + 1 FROM bouquet_streams WHERE bouquet_id = $1`,
		qInsert: `INSERT INTO bouquet_streams (bouquet_id, stream_id, stream_kind, position)
			SELECT $1, s.id, s.kind, (u.ord - 1 + $3)::integer
			FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN streams s ON s.id = u.id`,
	}
	bouquetSeries = bouquetEntries{
		what:    "series",
		qIDs:    `SELECT series_id FROM bouquet_series WHERE bouquet_id = $1 ORDER BY position, series_id`,
		qDelete: `DELETE FROM bouquet_series WHERE bouquet_id = $1`,
		qInsert: `INSERT INTO bouquet_series (bouquet_id, series_id, position)
			SELECT $1, s.id, (u.ord - 1 + $3)::integer
			FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN series s ON s.id = u.id`,
	}
)

func (s *Store) entryIDs(ctx context.Context, e bouquetEntries, bouquetID int64) ([]int64, error) {
	rows, _ := s.q.Query(ctx, e.qIDs, bouquetID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("%s of bouquet %d: %w", e.what, bouquetID, interpret(err))
	}
	return ids, nil
}

// insertEntries adds ids to the bouquet from position first on; an unknown id is ErrNotFound.
func (s *Store) insertEntries(ctx context.Context, e bouquetEntries, bouquetID int64, ids []int64, first int32) error {
	tag, err := s.q.Exec(ctx, e.qInsert, bouquetID, ids, first)
	if err != nil {
		return err
	}
	if int(tag.RowsAffected()) != len(ids) {
		return ErrNotFound
	}
	return nil
}

func (s *Store) setEntries(ctx context.Context, e bouquetEntries, bouquetID int64, ids []int64) (bool, error) {
	ids = dedupe(ids)
	cur, err := s.entryIDs(ctx, e, bouquetID)
	if err != nil {
		return false, err
	}
	if slices.Equal(cur, ids) {
		return false, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if len(cur) > 0 {
			if _, err := tx.q.Exec(ctx, e.qDelete, bouquetID); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.insertEntries(ctx, e, bouquetID, ids, 0)
	})
	if err != nil {
		return false, fmt.Errorf("set %s of bouquet %d: %w", e.what, bouquetID, interpret(err))
	}
	return true, nil
}

func (s *Store) appendEntries(ctx context.Context, e bouquetEntries, bouquetID int64, ids []int64) (int, error) {
	cur, err := s.entryIDs(ctx, e, bouquetID)
	if err != nil {
		return 0, err
	}
	have := make(map[int64]bool, len(cur))
	for _, id := range cur {
		have[id] = true
	}
	missing := slices.DeleteFunc(dedupe(ids), func(id int64) bool { return have[id] })
	if len(missing) == 0 {
		return 0, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		var next int32
		if err := tx.q.QueryRow(ctx, e.qNext, bouquetID).Scan(&next); err != nil {
			return err
		}
		return tx.insertEntries(ctx, e, bouquetID, missing, next)
	})
	if err != nil {
		return 0, fmt.Errorf("append %s to bouquet %d: %w", e.what, bouquetID, interpret(err))
	}
	return len(missing), nil
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// BouquetByID reads one bouquet.
func (s *Store) BouquetByID(ctx context.Context, id int64) (Bouquet, error) {
	return one[Bouquet](ctx, s, fmt.Sprintf("bouquet %d", id), `SELECT id, name, position FROM bouquets WHERE id = $1`, id)
}

// CreateBouquet inserts a bouquet and returns its id; a taken name is ErrConflict. A negative
// position puts it after the last bouquet.
func (s *Store) CreateBouquet(ctx context.Context, name string, position int32) (int64, error) {
	const q = `INSERT INTO bouquets (name, position)
		SELECT $1, CASE WHEN $2 >= 0 THEN $2 ELSE coalesce(max(position), -1) + 1 END FROM bouquets RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, name, position).Scan(&id); err != nil {
		return 0, fmt.Errorf("create bouquet %q: %w", name, interpret(err))
	}
	return id, nil
}

// UpdateBouquet sets a bouquet's name and position; a taken name is ErrConflict.
func (s *Store) UpdateBouquet(ctx context.Context, b Bouquet) error {
	const q = `UPDATE bouquets SET name = $2, position = $3 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update bouquet %d", b.ID), q, b.ID, b.Name, b.Position)
}

// BouquetSummary is a bouquet with the sizes of its entry lists, for admin lists.
type BouquetSummary struct {
	Bouquet
	StreamCount int `db:"stream_count"`
	SeriesCount int `db:"series_count"`
}

// BouquetFilter selects bouquets for an admin list; zero fields match everything.
type BouquetFilter struct {
	Name string // the name contains this, ignoring case
	Page Keyset // sorts: "position", "name"
}

// ListBouquets returns one page of the bouquets f selects, with their sizes.
func (s *Store) ListBouquets(ctx context.Context, f BouquetFilter) ([]BouquetSummary, error) {
	const base = `SELECT b.id, b.name, b.position,
		(SELECT count(*) FROM bouquet_streams bs WHERE bs.bouquet_id = b.id) AS stream_count,
		(SELECT count(*) FROM bouquet_series bs WHERE bs.bouquet_id = b.id) AS series_count
		FROM bouquets b`
	var lq listQuery
	if f.Name != "" {
		lq.cond("strpos(lower(b.name), lower(%s)) > 0", f.Name)
	}
	sorts := map[string]sortKey{"position": {expr: "b.position", cast: "integer"}, "name": {expr: "b.name", cast: "text"}}
	return list(ctx, s, "bouquets", &lq, base, "b.id", sorts, f.Page, pgx.RowToStructByName[BouquetSummary])
}
