package accounts

import (
	"context"
	"fmt"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Admin returns account id when p may see it: its own, any for an admin or a viewer, its
// subtree for a reseller.
func (s *Service) Admin(ctx context.Context, p Principal, id int64) (store.Admin, error) {
	a, err := s.store.AdminByID(ctx, id)
	if err != nil {
		return store.Admin{}, fmt.Errorf("admin: %w", missing(err, "id", "admin"))
	}
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return store.Admin{}, fmt.Errorf("admin: %w", err)
	}
	if !r.has(id) {
		return store.Admin{}, fmt.Errorf("admin: %w", notYours("id"))
	}
	return a, nil
}

// ListAdmins returns the accounts matching f that p may see.
func (s *Service) ListAdmins(ctx context.Context, p Principal, f store.AdminFilter) ([]store.Admin, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	f.Within = r.owners()
	out, err := s.store.ListAdmins(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return out, nil
}

// AdminPatch changes an account; fields not Given stay. A reseller changes only the notes,
// the disabled flag and the trial limit of the resellers below it.
type AdminPatch struct {
	Username        Field[string]
	Role            Field[Role]
	Disabled        Field[bool]
	Notes           Field[string]
	ParentID        Field[*int64]
	MaxTrialsPerDay Field[int]
}

// UpdateAdmin applies patch to account id and returns it. A new role, a disabled account or
// a new parent ends the account's logins on every instance. Nobody disables, demotes or
// re-parents themself: the panel must keep an admin who can undo it.
func (s *Service) UpdateAdmin(ctx context.Context, p Principal, id int64, patch AdminPatch) (store.Admin, error) {
	if err := writable(p); err != nil {
		return store.Admin{}, fmt.Errorf("update admin: %w", err)
	}
	if err := patch.check(p, id); err != nil {
		return store.Admin{}, fmt.Errorf("update admin: %w", err)
	}
	var ended []int64
	err := s.change(ctx, p, entry("admin.update", "admin", id), func(tx *store.Store) (any, any, error) {
		before, err := s.lockReachable(ctx, tx, p, id)
		if err != nil {
			return nil, nil, err
		}
		after := before
		patch.Username.apply(&after.Username)
		if patch.Role.Given {
			after.Role = string(patch.Role.V)
		}
		patch.Disabled.apply(&after.Disabled)
		patch.Notes.apply(&after.Notes)
		patch.ParentID.apply(&after.ParentID)
		patch.MaxTrialsPerDay.apply(&after.MaxTrialsPerDay)
		if err := checkAdmin(after.Username, Role(after.Role), after.Notes, after.MaxTrialsPerDay, after.ParentID); err != nil {
			return nil, nil, err
		}
		if patch.ParentID.Given && after.ParentID != nil {
			if err := checkParent(ctx, tx, p, id, *after.ParentID); err != nil {
				return nil, nil, err
			}
		}
		if err := tx.UpdateAdmin(ctx, id, store.AdminInput{Username: after.Username, Role: after.Role, Disabled: after.Disabled,
			Notes: after.Notes, ParentID: after.ParentID, MaxTrialsPerDay: after.MaxTrialsPerDay}); err != nil {
			return nil, nil, adminRefusals.of(err)
		}
		if after.Role != before.Role || (after.Disabled && !before.Disabled) || !sameID(after.ParentID, before.ParentID) {
			if ended, err = revokeAdmin(ctx, tx, id, "account_changed"); err != nil {
				return nil, nil, err
			}
		}
		return before, after, nil
	})
	if err != nil {
		return store.Admin{}, fmt.Errorf("update admin: %w", err)
	}
	s.revoked.add(ended...)
	return s.store.AdminByID(ctx, id)
}

func (patch AdminPatch) check(p Principal, id int64) error {
	if id == p.AdminID() && (patch.Role.Given || patch.Disabled.Given || patch.ParentID.Given) {
		return &FieldError{Field: "role", Reason: "nobody changes their own role, parent or disabled flag", Kind: ErrForbidden}
	}
	if p.Role != RoleReseller {
		return nil
	}
	switch {
	case patch.Role.Given:
		return &FieldError{Field: "role", Reason: "an admin's to change", Kind: ErrForbidden}
	case patch.Username.Given:
		return &FieldError{Field: "username", Reason: "an admin's to change", Kind: ErrForbidden}
	case patch.MaxTrialsPerDay.Given && id == p.AdminID():
		return &FieldError{Field: "max_trials_per_day", Reason: "your own limit is your parent's or an admin's to set", Kind: ErrForbidden}
	}
	return nil
}

func sameID(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// DeleteAdmin deletes account id (an admin's call; nobody deletes themself). Its logins and
// keys go with it; its lines and sub-resellers stay, without owner or parent.
func (s *Service) DeleteAdmin(ctx context.Context, p Principal, id int64) error {
	switch {
	case !p.IsAdmin():
		return fmt.Errorf("delete admin: %w", ErrForbidden)
	case id == p.AdminID():
		return fmt.Errorf("delete admin: %w", &FieldError{Field: "id", Reason: "nobody deletes themself", Kind: ErrForbidden})
	}
	var ended []int64
	err := s.change(ctx, p, entry("admin.delete", "admin", id), func(tx *store.Store) (any, any, error) {
		a, err := tx.LockAdmin(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "admin")
		}
		// Revoked before the delete: the sessions stay (without admin) until swept, so an
		// instance starting later still loads their revocation.
		if ended, err = revokeAdmin(ctx, tx, id, "account_deleted"); err != nil {
			return nil, nil, err
		}
		if err := tx.DeleteAdmin(ctx, id); err != nil {
			return nil, nil, err
		}
		return map[string]any{"username": a.Username, "role": a.Role, "credits": a.Credits}, map[string]any{}, nil
	})
	if err != nil {
		return fmt.Errorf("delete admin: %w", err)
	}
	s.revoked.add(ended...)
	return nil
}
