package accounts

import (
	"context"
	"errors"
	"fmt"
)

// NewAdmin is an admin account to create.
type NewAdmin struct {
	Username string
	Password string // empty: generated (Policy.AdminGeneratedLen characters) and returned once
	Role     Role   // empty: RoleAdmin
}

// CreateAdmin creates an admin. A taken username is a conflict on "username"; a username or
// role the schema refuses is invalid.
func (s *Service) CreateAdmin(ctx context.Context, in NewAdmin) (Credentials, error) {
	cred, hash, err := s.prepareAdmin(in)
	if err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", err)
	}
	if in.Role == "" {
		in.Role = RoleAdmin
	}
	cred.ID, err = s.store.CreateAdmin(ctx, in.Username, hash, string(in.Role))
	if err != nil {
		return Credentials{}, fmt.Errorf("create admin: %w", adminRefusals.of(err))
	}
	return cred, nil
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
// empty, with a generated one (a reset). An unknown username is not found on "username".
func (s *Service) SetAdminPassword(ctx context.Context, username, password string) (Credentials, error) {
	cred, hash, err := s.newPassword(password, s.policy.AdminGeneratedLen, s.policy.CheckAdminPassword)
	cred.Username = username
	if err != nil {
		return Credentials{}, fmt.Errorf("set admin password: %w", err)
	}
	if err := s.store.SetAdminPassword(ctx, username, hash); err != nil {
		return Credentials{}, fmt.Errorf("set admin password: %w", adminRefusals.of(err))
	}
	return cred, nil
}

// prepareAdmin checks an admin's input and hashes its password (given or generated).
func (s *Service) prepareAdmin(in NewAdmin) (Credentials, string, error) {
	if err := checkAdminUsername(in.Username); err != nil {
		return Credentials{}, "", err
	}
	if in.Role != "" {
		if _, err := ParseRole(string(in.Role)); err != nil {
			return Credentials{}, "", err
		}
	}
	cred, hash, err := s.newPassword(in.Password, s.policy.AdminGeneratedLen, s.policy.CheckAdminPassword)
	cred.Username = in.Username
	return cred, hash, err
}

// adminRefusals read the store's refusals of an admin write: the admins table has one unique
// key (the username), and its checks are the ones prepareAdmin made first, so a refusal by
// them means the two disagree.
var adminRefusals = refusals{
	conflict: FieldError{Field: "username", Reason: "taken", Kind: ErrConflict},
	notFound: FieldError{Field: "username", Reason: "no such admin", Kind: ErrNotFound},
	invalid:  FieldError{Field: "admin", Reason: "refused by the schema", Kind: ErrInvalid},
}
