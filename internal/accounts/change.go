package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
)

// change is the one way the admin surfaces' changes are written: fn runs inside one
// transaction, reads what it changes (locked), checks the rules and writes; then the audit
// entry e is written on the same transaction, with the fields fn's before and after differ in
// (audit.Diff, secrets masked), or, when fn returns maps, those as they are. Either all of it commits or none. The schema's triggers send
// the NOTIFY every instance follows (line:<id>, catalog, security ...), delivered on commit.
func (s *Service) change(ctx context.Context, p Principal, e audit.Entry, fn func(tx *store.Store) (before, after any, err error)) error {
	return s.store.InTx(ctx, func(tx *store.Store) error {
		before, after, err := fn(tx)
		if err != nil {
			return err
		}
		if b, ok := before.(map[string]any); ok { // a delete or a summary: recorded as given
			a, _ := after.(map[string]any)
			e.Before, e.After = b, a
		} else if before != nil && after != nil {
			e.Before, e.After = audit.Diff(before, after)
		}
		return audit.Record(ctx, tx, p.Actor, e)
	})
}

// entry is an audit entry of action on target (type, id).
func entry(action, targetType string, id int64) audit.Entry {
	return audit.Entry{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10)}
}

// reach is what a principal sees and changes: everything (an admin; a viewer, read only), or
// a reseller's own account and those below it (its sub-resellers, theirs ...), whose lines and
// devices are the reseller's to manage.
type reach struct {
	all bool
	ids []int64 // the reseller and its subtree, when !all
}

// reachOf is p's reach, read on q (inside the change's transaction when there is one).
func reachOf(ctx context.Context, q *store.Store, p Principal) (reach, error) {
	if p.Role != RoleReseller {
		return reach{all: true}, nil
	}
	ids, err := q.AdminSubtree(ctx, p.AdminID())
	if err != nil {
		return reach{}, err
	}
	return reach{ids: ids}, nil
}

// owns reports whether an account owned by owner (nil: nobody, i.e. the panel's) is in reach.
func (r reach) owns(owner *int64) bool {
	return r.all || (owner != nil && slices.Contains(r.ids, *owner))
}

// has reports whether admin id is in reach.
func (r reach) has(id int64) bool { return r.all || slices.Contains(r.ids, id) }

// owners is the owner filter of a list: nil (everything) or the reseller's subtree.
func (r reach) owners() []int64 {
	if r.all {
		return nil
	}
	return r.ids
}

// writable refuses a viewer, which reads everything and changes nothing.
func writable(p Principal) error {
	if p.Role == RoleViewer {
		return fmt.Errorf("%w: the viewer role changes nothing", ErrForbidden)
	}
	return nil
}

// notYours is the refusal of an account that exists but is not in the principal's reach.
func notYours(field string) error {
	return &FieldError{Field: field, Reason: "not yours to see or change", Kind: ErrForbidden}
}

// missing turns store.ErrNotFound into a not-found refusal on field.
func missing(err error, field, what string) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(field, "no such "+what)
	}
	return err
}
