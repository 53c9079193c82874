// Package editor changes the catalog on behalf of an admin: categories, live channels, movies,
// series with their seasons and episodes, and bouquets with their ordered channels and
// series. It is what the admin surfaces call; the player side reads the catalog through
// internal/catalog's snapshot.
//
// Every mutation goes through one path: the input is checked (a refusal is an
// *input.FieldError naming the field), then one transaction locks and reads the current row,
// writes only what differs, and records the audit entry (internal/audit: who, what, the
// before/after of the changed fields, source URLs masked because providers put credentials
// in them). The catalog's statement triggers send the NOTIFY that makes every instance
// rebuild its snapshot, so a change is seen everywhere within the catalog's debounce.
//
// Updates take an edit function that receives the current value inside the transaction and
// changes it in place: a surface applies a PUT (replace) or a JSON merge patch there, and two
// concurrent edits of one row cannot interleave.
package editor

import (
	"context"
	"fmt"
	"strings"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Editor applies admin changes to the catalog. It is safe for concurrent use.
type Editor struct {
	store *store.Store
}

// New returns an Editor over st.
func New(st *store.Store) *Editor { return &Editor{store: st} }

// Query pages an admin list: Sort names a sort key the list allows ("" orders by id), and
// After is the cursor of the previous page's last item (its Cursor), "" for the first page.
type Query struct {
	Sort  string
	Desc  bool
	After Cursor
	Limit int
}

// Cursor is where a keyset page ends: the last item's id and, when the list is sorted by
// something else, that item's sort value as text.
type Cursor struct {
	ID  int64
	Key string
}

func (q Query) keyset() store.Keyset {
	return store.Keyset{Sort: q.Sort, Desc: q.Desc, AfterID: q.After.ID, AfterKey: q.After.Key, Limit: q.Limit}
}

// refused turns the store's refusal of a write into the refusal r names for it.
func refused(r input.Refusals, err error) error {
	return r.Of(err, store.ErrConflict, store.ErrNotFound, store.ErrInvalid)
}

// badSort is the refusal of a sort key or cursor the list does not take.
var badSort = input.Refusals{Invalid: &input.FieldError{Field: "sort", Reason: "not a sort key of this list, or a cursor of another sort", Kind: input.ErrInvalid}}

// record writes the audit entry of a change of target (type, id) on tx: before and after are
// two values of one struct type, of which only the changed fields are kept.
func record(ctx context.Context, tx *store.Store, a audit.Actor, action, targetType string, id int64, before, after any) error {
	return recordWith(ctx, tx, a, action, targetType, id, before, after, nil)
}

// recordWith is record with extra detail (which season, which placement).
func recordWith(ctx context.Context, tx *store.Store, a audit.Actor, action, targetType string, id int64, before, after any,
	extra map[string]any) error {
	e := audit.Change(action, targetType, id, before, after)
	e.Extra = extra
	return audit.Record(ctx, tx, a, e)
}

// checkText refuses a required or optional text field that is too long, empty when required,
// or not storable (NUL, invalid UTF-8).
func checkText(field, s string, required bool, maxRunes int) error {
	if !input.Text(s, 4*maxRunes) {
		return input.Invalid(field, fmt.Sprintf("text of at most %d characters, without NUL bytes", maxRunes))
	}
	if required && strings.TrimSpace(s) == "" {
		return input.Invalid(field, "required")
	}
	if n := len([]rune(s)); n > maxRunes {
		return input.Invalid(field, fmt.Sprintf("at most %d characters", maxRunes))
	}
	return nil
}

// maxURL is the longest source URL the schema stores.
const maxURL = 4096

// validateSource is the check of a source URL an admin gives a stream, a movie or an episode
// (and a channel's catch-up template): the project's one source check, source.Check, as the
// importers apply it (http(s) with a host, or a local file by an absolute, clean path). Where
// a local file may be read from (the media directories) is decided again at every open.
func validateSource(field, raw string) error {
	if raw == "" {
		return input.Invalid(field, "required")
	}
	if err := source.Check(raw); err != nil {
		return input.Invalid(field, strings.TrimPrefix(err.Error(), "source: "))
	}
	return nil
}
