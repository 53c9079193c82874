package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// NewAdmin is an admin account to create.
type NewAdmin struct {
	Username string
	Password string // empty: generated (Policy.AdminGeneratedLen characters) and returned once
	Role     Role   // empty: RoleAdmin
	// ParentID is the reseller a reseller works under (sub-resellers); a reseller's new
	// resellers are below it by default.
	ParentID        *int64
	MaxTrialsPerDay *int // nil: 5
	Notes           string
}

const defaultTrialsPerDay = 5

// CreateAdmin creates an admin as the command line. A taken username is a conflict on
// "username"; a username or role the schema refuses is invalid.
func (s *Service) CreateAdmin(ctx context.Context, in NewAdmin) (Credentials, error) {
	return s.AddAdmin(ctx, System(audit.CLI), in)
}

// AddAdmin creates an account: an admin makes any role; a reseller makes resellers below
// itself (or below one of its own).
func (s *Service) AddAdmin(ctx context.Context, p Principal, in NewAdmin) (Credentials, error) {
	if err := writable(p); err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", err)
	}
	if in.Role == "" {
		in.Role = RoleAdmin
	}
	if p.Role == RoleReseller {
		if in.Role != RoleReseller {
			return Credentials{}, fmt.Errorf("create admin: %w",
				&FieldError{Field: "role", Reason: "a reseller makes only resellers", Kind: ErrForbidden})
		}
		if in.ParentID == nil {
			self := p.AdminID()
			in.ParentID = &self
		}
	}
	trials := defaultTrialsPerDay
	if in.MaxTrialsPerDay != nil {
		trials = *in.MaxTrialsPerDay
	}
	if err := checkAdmin(in.Username, in.Role, in.Notes, trials, in.ParentID); err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", err)
	}
	cred, hash, err := s.newPassword(in.Password, s.policy.AdminGeneratedLen, s.policy.CheckAdminPassword)
	if err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", err)
	}
	cred.Username = in.Username
	row := store.AdminInput{Username: in.Username, PasswordHash: hash, Role: string(in.Role), Notes: in.Notes,
		ParentID: in.ParentID, MaxTrialsPerDay: trials}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if in.ParentID != nil {
			if err := checkParent(ctx, tx, p, 0, *in.ParentID); err != nil {
				return err
			}
		}
		if cred.ID, err = tx.InsertAdmin(ctx, row); err != nil {
			return adminRefusals.of(err)
		}
		e := entry("admin.create", "admin", cred.ID)
		e.After = map[string]any{"username": in.Username, "role": in.Role, "parent_id": in.ParentID}
		return audit.Record(ctx, tx, p.Actor, e)
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", err)
	}
	return cred, nil
}

func checkAdmin(username string, role Role, notes string, trials int, parent *int64) error {
	if err := checkAdminUsername(username); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	switch {
	case !input.Text(notes, maxNotes):
		return invalid("notes", "text of at most 64 KiB")
	case trials < 0 || trials > 100000:
		return invalid("max_trials_per_day", "0 to 100000")
	case parent != nil && role != RoleReseller:
		return invalid("parent_id", "only a reseller works under another")
	}
	return nil
}

// checkParent checks that parent is a reseller in p's reach and not id itself or below it (a
// cycle would hide both from every reseller).
func checkParent(ctx context.Context, tx *store.Store, p Principal, id, parent int64) error {
	r, err := reachOf(ctx, tx, p)
	if err != nil {
		return err
	}
	if !r.has(parent) {
		return &FieldError{Field: "parent_id", Reason: "not one of your accounts", Kind: ErrForbidden}
	}
	par, err := tx.AdminByID(ctx, parent)
	if err != nil {
		return missing(err, "parent_id", "admin")
	}
	if par.Role != string(RoleReseller) {
		return invalid("parent_id", "not a reseller")
	}
	if id != 0 {
		below, err := tx.AdminSubtree(ctx, id)
		if err != nil {
			return err
		}
		if slices.Contains(below, parent) {
			return invalid("parent_id", "would make a cycle")
		}
	}
	return nil
}

// EnsureAdmin creates the admin unless the username exists, and reports whether it did. An
// existing admin is left as it is, password included: an operator may have changed it. The
// password is required: a generated one would never be seen.
func (s *Service) EnsureAdmin(ctx context.Context, in NewAdmin) (created bool, err error) {
	if err := s.policy.CheckAdminPassword(in.Password); err != nil {
		return false, fmt.Errorf("ensure admin: %w", err)
	}
	_, err = s.CreateAdmin(ctx, in)
	if errors.Is(err, ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// SetAdminPassword replaces the password of the admin username with password, or, when it is
// empty, with a generated one (a reset), as the command line. An unknown username is not
// found on "username".
func (s *Service) SetAdminPassword(ctx context.Context, username, password string) (Credentials, error) {
	a, err := s.store.AdminByUsername(ctx, username)
	if err != nil {
		return Credentials{}, fmt.Errorf("set admin password: %w", missing(err, "username", "admin"))
	}
	return s.ResetAdminPassword(ctx, System(audit.CLI), a.ID, password)
}

// ResetAdminPassword replaces admin id's password (given, or generated and returned once):
// anyone their own, an admin anyone's, a reseller its sub-resellers'. Every login of the
// account ends.
func (s *Service) ResetAdminPassword(ctx context.Context, p Principal, id int64, password string) (Credentials, error) {
	if id != p.AdminID() {
		if err := writable(p); err != nil {
			return Credentials{}, fmt.Errorf("set admin password: %w", err)
		}
	}
	cred, hash, err := s.newPassword(password, s.policy.AdminGeneratedLen, s.policy.CheckAdminPassword)
	if err != nil {
		return Credentials{}, fmt.Errorf("set admin password: %w", err)
	}
	var ended []int64
	err = s.change(ctx, p, entry("admin.reset_password", "admin", id), func(tx *store.Store) (any, any, error) {
		before, err := s.lockReachable(ctx, tx, p, id)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.SetAdminPasswordHash(ctx, id, hash); err != nil {
			return nil, nil, err
		}
		if ended, err = revokeAdmin(ctx, tx, id, "password_changed"); err != nil {
			return nil, nil, err
		}
		cred.Username = before.Username
		after := before
		after.PasswordHash = hash
		return before, after, nil
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("set admin password: %w", err)
	}
	s.revoked.add(ended...)
	cred.ID = id
	return cred, nil
}

// lockReachable reads admin id locked for a change by p: itself, anyone for an admin, its
// subtree for a reseller.
func (s *Service) lockReachable(ctx context.Context, tx *store.Store, p Principal, id int64) (store.Admin, error) {
	a, err := tx.LockAdmin(ctx, id)
	if err != nil {
		return store.Admin{}, missing(err, "id", "admin")
	}
	if id == p.AdminID() {
		return a, nil
	}
	r, err := reachOf(ctx, tx, p)
	if err != nil {
		return store.Admin{}, err
	}
	if !r.has(id) {
		return store.Admin{}, notYours("id")
	}
	return a, nil
}

// adminRefusals read the store's refusals of an admin write: the admins table has one unique
// key (the username), and its checks are the ones prepareAdmin made first, so a refusal by
// them means the two disagree.
var adminRefusals = refusals{
	conflict: FieldError{Field: "username", Reason: "taken", Kind: ErrConflict},
	notFound: FieldError{Field: "parent_id", Reason: "no such admin", Kind: ErrInvalid},
	invalid:  FieldError{Field: "admin", Reason: "refused by the schema", Kind: ErrInvalid},
}
