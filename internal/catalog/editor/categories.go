package editor

import (
	"context"
	"fmt"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Category is a live, radio, movie or series category.
type Category struct {
	ID       int64  `json:"id" audit:"-"`
	Kind     string `json:"kind"` // live, radio, movie or series; fixed once created
	Name     string `json:"name"`
	Position int32  `json:"position"`
	IsAdult  bool   `json:"is_adult"`
}

// Cursor is where a page ending at c continues, in the order of sort ("position", "name" or "").
func (c Category) Cursor(sort string) Cursor {
	switch sort {
	case "position":
		return Cursor{ID: c.ID, Key: fmt.Sprint(c.Position)}
	case "name":
		return Cursor{ID: c.ID, Key: c.Name}
	}
	return Cursor{ID: c.ID}
}

func categoryOf(c store.Category) Category {
	return Category{ID: c.ID, Kind: c.Kind, Name: c.Name, Position: c.Position, IsAdult: c.IsAdult}
}

var categoryRefusals = input.Refusals{
	Conflict: &input.FieldError{Field: "name", Reason: "a category of this kind has this name", Kind: input.ErrConflict},
	NotFound: &input.FieldError{Field: "id", Reason: "no such category", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "name", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

func checkCategory(c Category) error {
	switch c.Kind {
	case store.KindLive, store.KindRadio, store.KindMovie, store.KindSeries:
	default:
		return input.Invalid("kind", "live, radio, movie or series")
	}
	return checkText("name", c.Name, true, 256)
}

// Categories returns one page of the categories of kind ("" for every kind) whose name holds
// name. Sorts: "position", "name".
func (e *Editor) Categories(ctx context.Context, kind, name string, q Query) ([]Category, error) {
	rows, err := e.store.ListCategories(ctx, store.CategoryFilter{Kind: kind, Name: name, Page: q.keyset()})
	if err != nil {
		return nil, fmt.Errorf("categories: %w", refused(badSort, err))
	}
	out := make([]Category, len(rows))
	for i, r := range rows {
		out[i] = categoryOf(r)
	}
	return out, nil
}

// Category reads one category.
func (e *Editor) Category(ctx context.Context, id int64) (Category, error) {
	c, err := e.store.CategoryByID(ctx, id)
	if err != nil {
		return Category{}, fmt.Errorf("category: %w", refused(categoryRefusals, err))
	}
	return categoryOf(c), nil
}

// CreateCategory creates a category; a negative position puts it after the kind's last one.
func (e *Editor) CreateCategory(ctx context.Context, a audit.Actor, in Category) (Category, error) {
	if err := checkCategory(in); err != nil {
		return Category{}, fmt.Errorf("create category: %w", err)
	}
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if in.Position < 0 {
			pos, err := tx.NextCategoryPosition(ctx, in.Kind)
			if err != nil {
				return err
			}
			in.Position = pos
		}
		var err error
		if in.ID, err = tx.CreateCategory(ctx, store.Category{Kind: in.Kind, Name: in.Name, Position: in.Position,
			IsAdult: in.IsAdult}); err != nil {
			return err
		}
		return record(ctx, tx, a, "category.create", "category", in.ID, Category{}, in)
	})
	if err != nil {
		return Category{}, fmt.Errorf("create category: %w", refused(categoryRefusals, err))
	}
	return in, nil
}

// UpdateCategory applies edit to category id; its kind cannot change.
func (e *Editor) UpdateCategory(ctx context.Context, a audit.Actor, id int64, edit func(*Category) error) (Category, error) {
	var next Category
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableCategories, id); err != nil {
			return err
		}
		cur, err := tx.CategoryByID(ctx, id)
		if err != nil {
			return err
		}
		before := categoryOf(cur)
		next = before
		if err := edit(&next); err != nil {
			return err
		}
		next.ID = id
		if next.Kind != before.Kind {
			return input.Invalid("kind", "a category's kind cannot change")
		}
		if err := checkCategory(next); err != nil {
			return err
		}
		if next == before {
			return nil
		}
		if err := tx.UpdateCategory(ctx, store.Category{ID: id, Name: next.Name, Position: next.Position,
			IsAdult: next.IsAdult}); err != nil {
			return err
		}
		return record(ctx, tx, a, "category.update", "category", id, before, next)
	})
	if err != nil {
		return Category{}, fmt.Errorf("update category %d: %w", id, refused(categoryRefusals, err))
	}
	return next, nil
}

// DeleteCategory deletes a category; its streams and series become uncategorised.
func (e *Editor) DeleteCategory(ctx context.Context, a audit.Actor, id int64) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		cur, err := tx.CategoryByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteCategory(ctx, id); err != nil {
			return err
		}
		return record(ctx, tx, a, "category.delete", "category", id, categoryOf(cur), Category{})
	})
	if err != nil {
		return fmt.Errorf("delete category %d: %w", id, refused(categoryRefusals, err))
	}
	return nil
}
