package editor

import (
	"context"
	"fmt"
	"slices"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Bouquet is a package of channels and series lines subscribe to, in the order their lists
// show them.
type Bouquet struct {
	ID       int64  `json:"id" audit:"-"`
	Name     string `json:"name"`
	Position int32  `json:"position"`
	// The entries, in order: live channels, radio and movies (episodes come with their series),
	// and series. The audit log records the ids added and removed, not the whole lists.
	StreamIDs []int64 `json:"stream_ids" audit:"-"`
	SeriesIDs []int64 `json:"series_ids" audit:"-"`
}

// BouquetSummary is a bouquet in a list: its sizes instead of its entries.
type BouquetSummary struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Position    int32  `json:"position"`
	StreamCount int    `json:"stream_count"`
	SeriesCount int    `json:"series_count"`
}

// Cursor is where a page ending at b continues, in the order of sort ("position", "name" or "").
func (b BouquetSummary) Cursor(sort string) Cursor {
	return Category{ID: b.ID, Name: b.Name, Position: b.Position}.Cursor(sort)
}

var bouquetRefusals = input.Refusals{
	Conflict: &input.FieldError{Field: "name", Reason: "a bouquet has this name", Kind: input.ErrConflict},
	NotFound: &input.FieldError{Field: "id", Reason: "no such bouquet", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "name", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

// entryRefusals read a refused entry list: an unknown id, or a stream that cannot be in a
// bouquet (an episode).
func entryRefusals(field string) input.Refusals {
	return input.Refusals{
		NotFound: &input.FieldError{Field: field, Reason: "holds an id that does not exist", Kind: input.ErrNotFound},
		Invalid:  &input.FieldError{Field: field, Reason: "episodes enter bouquets through their series", Kind: input.ErrInvalid},
	}
}

func checkBouquet(b *Bouquet) error {
	if err := checkText("name", b.Name, true, 256); err != nil {
		return err
	}
	for _, l := range []struct {
		field string
		ids   *[]int64
	}{{"stream_ids", &b.StreamIDs}, {"series_ids", &b.SeriesIDs}} {
		if len(*l.ids) > 100_000 {
			return input.Invalid(l.field, "at most 100000 entries")
		}
		seen := make(map[int64]bool, len(*l.ids))
		out := make([]int64, 0, len(*l.ids))
		for _, id := range *l.ids {
			if id <= 0 {
				return input.Invalid(l.field, "ids are positive")
			}
			if !seen[id] { // a repeated id keeps its first place
				seen[id] = true
				out = append(out, id)
			}
		}
		*l.ids = out
	}
	return nil
}

// Bouquets returns one page of the bouquets whose name holds name. Sorts: "position", "name".
func (e *Editor) Bouquets(ctx context.Context, name string, q Query) ([]BouquetSummary, error) {
	rows, err := e.store.ListBouquets(ctx, store.BouquetFilter{Name: name, Page: q.keyset()})
	if err != nil {
		return nil, fmt.Errorf("bouquets: %w", refused(badSort, err))
	}
	out := make([]BouquetSummary, len(rows))
	for i, r := range rows {
		out[i] = BouquetSummary{ID: r.ID, Name: r.Name, Position: r.Position, StreamCount: r.StreamCount, SeriesCount: r.SeriesCount}
	}
	return out, nil
}

// Bouquet reads a bouquet with its ordered entries.
func (e *Editor) Bouquet(ctx context.Context, id int64) (Bouquet, error) {
	b, err := readBouquet(ctx, e.store, id)
	if err != nil {
		return Bouquet{}, fmt.Errorf("bouquet %d: %w", id, refused(bouquetRefusals, err))
	}
	return b, nil
}

func readBouquet(ctx context.Context, st *store.Store, id int64) (Bouquet, error) {
	r, err := st.BouquetByID(ctx, id)
	if err != nil {
		return Bouquet{}, err
	}
	b := Bouquet{ID: r.ID, Name: r.Name, Position: r.Position}
	if b.StreamIDs, err = st.BouquetStreamIDs(ctx, id); err != nil {
		return Bouquet{}, err
	}
	b.SeriesIDs, err = st.BouquetSeriesIDs(ctx, id)
	return b, err
}

// CreateBouquet creates a bouquet with its entries; a negative position puts it last.
func (e *Editor) CreateBouquet(ctx context.Context, a audit.Actor, in Bouquet) (Bouquet, error) {
	in.StreamIDs, in.SeriesIDs = nonNilIDs(in.StreamIDs), nonNilIDs(in.SeriesIDs)
	if err := checkBouquet(&in); err != nil {
		return Bouquet{}, fmt.Errorf("create bouquet: %w", err)
	}
	var out Bouquet
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		id, err := tx.CreateBouquet(ctx, in.Name, in.Position)
		if err != nil {
			return refused(bouquetRefusals, err)
		}
		if err := setEntries(ctx, tx, id, Bouquet{}, in); err != nil {
			return err
		}
		if out, err = readBouquet(ctx, tx, id); err != nil {
			return err
		}
		return recordWith(ctx, tx, a, "bouquet.create", "bouquet", id, Bouquet{}, out, entryChanges(Bouquet{}, out))
	})
	if err != nil {
		return Bouquet{}, fmt.Errorf("create bouquet: %w", refused(bouquetRefusals, err))
	}
	return out, nil
}

// setEntries writes the entry lists of next that differ from cur.
func setEntries(ctx context.Context, tx *store.Store, id int64, cur, next Bouquet) error {
	if !slices.Equal(cur.StreamIDs, next.StreamIDs) {
		if _, err := tx.SetBouquetStreams(ctx, id, next.StreamIDs); err != nil {
			return refused(entryRefusals("stream_ids"), err)
		}
	}
	if !slices.Equal(cur.SeriesIDs, next.SeriesIDs) {
		if _, err := tx.SetBouquetSeries(ctx, id, next.SeriesIDs); err != nil {
			return refused(entryRefusals("series_ids"), err)
		}
	}
	return nil
}

// UpdateBouquet applies edit to bouquet id: its name, position and ordered entries.
func (e *Editor) UpdateBouquet(ctx context.Context, a audit.Actor, id int64, edit func(*Bouquet) error) (Bouquet, error) {
	var out Bouquet
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableBouquets, id); err != nil {
			return err
		}
		before, err := readBouquet(ctx, tx, id)
		if err != nil {
			return err
		}
		next := before
		next.StreamIDs, next.SeriesIDs = slices.Clone(before.StreamIDs), slices.Clone(before.SeriesIDs)
		if err := edit(&next); err != nil {
			return err
		}
		next.ID, next.StreamIDs, next.SeriesIDs = id, nonNilIDs(next.StreamIDs), nonNilIDs(next.SeriesIDs)
		if err := checkBouquet(&next); err != nil {
			return err
		}
		if next.Name != before.Name || next.Position != before.Position {
			if err := tx.UpdateBouquet(ctx, store.Bouquet{ID: id, Name: next.Name, Position: next.Position}); err != nil {
				return err
			}
		}
		if err := setEntries(ctx, tx, id, before, next); err != nil {
			return err
		}
		out = next
		changes := entryChanges(before, next)
		if b, _ := audit.Diff(before, next); len(b) == 0 && len(changes) == 0 {
			return nil
		}
		return recordWith(ctx, tx, a, "bouquet.update", "bouquet", id, before, next, changes)
	})
	if err != nil {
		return Bouquet{}, fmt.Errorf("update bouquet %d: %w", id, refused(bouquetRefusals, err))
	}
	return out, nil
}

// DeleteBouquet deletes a bouquet; lines that held it lose it.
func (e *Editor) DeleteBouquet(ctx context.Context, a audit.Actor, id int64) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		before, err := readBouquet(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteBouquet(ctx, id); err != nil {
			return err
		}
		return recordWith(ctx, tx, a, "bouquet.delete", "bouquet", id, before, Bouquet{}, entryChanges(before, Bouquet{}))
	})
	if err != nil {
		return fmt.Errorf("delete bouquet %d: %w", id, refused(bouquetRefusals, err))
	}
	return nil
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// maxAuditIDs caps the ids an audit entry lists per change kind.
const maxAuditIDs = 100

// entryChanges says how a bouquet's entry lists changed, for its audit entry: the ids added
// and removed (at most maxAuditIDs of each), the new sizes, and whether the order of the kept
// entries changed. It is empty when nothing did.
func entryChanges(before, after Bouquet) map[string]any {
	out := map[string]any{}
	for _, l := range []struct {
		name     string
		old, new []int64
	}{{"streams", before.StreamIDs, after.StreamIDs}, {"series", before.SeriesIDs, after.SeriesIDs}} {
		if slices.Equal(l.old, l.new) {
			continue
		}
		added, removed := difference(l.new, l.old), difference(l.old, l.new)
		out[l.name] = map[string]any{"added": capIDs(added), "removed": capIDs(removed), "count": len(l.new),
			"reordered": len(added) == 0 && len(removed) == 0}
	}
	return out
}

// difference returns the ids of a that b lacks, in a's order.
func difference(a, b []int64) []int64 {
	in := make(map[int64]bool, len(b))
	for _, id := range b {
		in[id] = true
	}
	out := []int64{}
	for _, id := range a {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out
}

func capIDs(ids []int64) []int64 {
	if len(ids) > maxAuditIDs {
		return ids[:maxAuditIDs]
	}
	return ids
}
