package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Field is one member of a change: set (Given) to V, or left as it is.
type Field[T any] struct {
	Given bool
	V     T
}

// Set is a field set to v.
func Set[T any](v T) Field[T] { return Field[T]{Given: true, V: v} }

func (f Field[T]) apply(dst *T) {
	if f.Given {
		*dst = f.V
	}
}

// LinePatch changes some controls of a line; fields not Given stay. A reseller may change
// only what is its own to decide: disabled, allowed IPs and user agents, its notes, the
// username, and the owner within its sub-resellers (ErrForbidden on the field otherwise).
type LinePatch struct {
	Username             Field[string]
	ExpDate              Field[*time.Time]
	Banned               Field[bool]
	Disabled             Field[bool]
	MaxConnections       Field[int]
	IsTrial              Field[bool]
	IsRestreamer         Field[bool]
	AllowedIPs           Field[[]netip.Prefix]
	AllowedUserAgents    Field[[]string]
	BypassUABlock        Field[bool]
	ForcedCountry        Field[*string]
	ISPLock              Field[bool]
	AllowedOutputFormats Field[[]string]
	AdminNotes           Field[string]
	ResellerNotes        Field[string]
	OwnerID              Field[*int64]
	BouquetIDs           Field[[]int64]
}

func (p LinePatch) apply(l *store.Line) {
	p.Username.apply(&l.Username)
	p.ExpDate.apply(&l.ExpDate)
	p.Banned.apply(&l.Banned)
	p.Disabled.apply(&l.Disabled)
	p.MaxConnections.apply(&l.MaxConnections)
	p.IsTrial.apply(&l.IsTrial)
	p.IsRestreamer.apply(&l.IsRestreamer)
	p.AllowedIPs.apply(&l.AllowedIPs)
	p.AllowedUserAgents.apply(&l.AllowedUserAgents)
	p.BypassUABlock.apply(&l.BypassUABlock)
	p.ForcedCountry.apply(&l.ForcedCountry)
	p.ISPLock.apply(&l.ISPLock)
	p.AllowedOutputFormats.apply(&l.AllowedOutputFormats)
	p.AdminNotes.apply(&l.AdminNotes)
	p.ResellerNotes.apply(&l.ResellerNotes)
	p.OwnerID.apply(&l.OwnerAdminID)
	p.BouquetIDs.apply(&l.BouquetIDs)
}

// adminOnly names the first field of p a reseller may not change.
func (p LinePatch) adminOnly() string {
	for _, f := range []struct {
		name  string
		given bool
	}{
		{"exp_date", p.ExpDate.Given}, {"banned", p.Banned.Given}, {"max_connections", p.MaxConnections.Given},
		{"is_trial", p.IsTrial.Given}, {"is_restreamer", p.IsRestreamer.Given}, {"bypass_ua_block", p.BypassUABlock.Given},
		{"forced_country", p.ForcedCountry.Given}, {"isp_lock", p.ISPLock.Given},
		{"allowed_output_formats", p.AllowedOutputFormats.Given}, {"admin_notes", p.AdminNotes.Given},
		{"bouquet_ids", p.BouquetIDs.Given},
	} {
		if f.given {
			return f.name
		}
	}
	return ""
}

// inputOf is the writable form of a stored line (for the shared checks).
func inputOf(l store.Line) store.LineInput {
	return store.LineInput{Username: l.Username, ExpDate: l.ExpDate, Banned: l.Banned, Disabled: l.Disabled,
		MaxConnections: l.MaxConnections, IsTrial: l.IsTrial, IsRestreamer: l.IsRestreamer, IsMAG: l.IsMAG,
		AllowedIPs: l.AllowedIPs, AllowedUserAgents: l.AllowedUserAgents, BypassUABlock: l.BypassUABlock,
		ForcedCountry: l.ForcedCountry, ISPLock: l.ISPLock, AllowedOutputFormats: l.AllowedOutputFormats,
		AdminNotes: l.AdminNotes, ResellerNotes: l.ResellerNotes, OwnerAdminID: l.OwnerAdminID, BouquetIDs: l.BouquetIDs}
}

// Line returns line id when p may see it: an existing line outside p's reach is ErrForbidden
// on "id", a missing one ErrNotFound.
func (s *Service) Line(ctx context.Context, p Principal, id int64) (store.Line, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return store.Line{}, fmt.Errorf("line: %w", err)
	}
	l, err := s.store.LineByID(ctx, id)
	if err != nil {
		return store.Line{}, fmt.Errorf("line: %w", missing(err, "id", "line"))
	}
	if !r.owns(l.OwnerAdminID) {
		return store.Line{}, fmt.Errorf("line: %w", notYours("id"))
	}
	return l, nil
}

// LineByUsername returns the line with this username when p may see it.
func (s *Service) LineByUsername(ctx context.Context, p Principal, username string) (store.Line, error) {
	l, err := s.store.LineByUsername(ctx, username)
	if err != nil {
		return store.Line{}, fmt.Errorf("line: %w", missing(err, "username", "line"))
	}
	return s.Line(ctx, p, l.ID)
}

// ListLines returns the lines matching f that p may see (a reseller: its subtree's).
func (s *Service) ListLines(ctx context.Context, p Principal, f store.LineFilter) ([]store.Line, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	f.Owners = r.owners()
	lines, err := s.store.ListLines(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list lines: %w", err)
	}
	return lines, nil
}

// lockOwned reads line id for a change, locked, and checks that p may change it.
func lockOwned(ctx context.Context, tx *store.Store, p Principal, r reach, id int64) (store.Line, error) {
	l, err := tx.LockLineRow(ctx, id)
	if err != nil {
		return store.Line{}, missing(err, "id", "line")
	}
	if !r.owns(l.OwnerAdminID) {
		return store.Line{}, notYours("id")
	}
	return l, nil
}

// lockLine is lockOwned with p's reach read on tx first; it returns both.
func lockLine(ctx context.Context, tx *store.Store, p Principal, id int64) (store.Line, reach, error) {
	r, err := reachOf(ctx, tx, p)
	if err != nil {
		return store.Line{}, reach{}, err
	}
	l, err := lockOwned(ctx, tx, p, r, id)
	return l, r, err
}

// checkOwner checks a line's new owner: an existing admin, within a reseller's reach.
func checkOwner(ctx context.Context, tx *store.Store, r reach, owner *int64) error {
	if owner == nil {
		if !r.all {
			return &FieldError{Field: "owner_id", Reason: "a reseller's lines stay within its reach", Kind: ErrForbidden}
		}
		return nil
	}
	if !r.has(*owner) {
		return &FieldError{Field: "owner_id", Reason: "not one of your accounts", Kind: ErrForbidden}
	}
	if _, err := tx.AdminByID(ctx, *owner); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalid("owner_id", "no such admin")
		}
		return err
	}
	return nil
}

// UpdateLine changes the controls patch gives on line id and returns the line as it is now.
func (s *Service) UpdateLine(ctx context.Context, p Principal, id int64, patch LinePatch) (store.Line, error) {
	if err := writable(p); err != nil {
		return store.Line{}, fmt.Errorf("update line: %w", err)
	}
	if name := patch.adminOnly(); name != "" && p.Role == RoleReseller {
		return store.Line{}, fmt.Errorf("update line: %w",
			&FieldError{Field: name, Reason: "an admin's to change, not a reseller's", Kind: ErrForbidden})
	}
	var after store.Line
	err := s.change(ctx, p, entry("line.update", "line", id), func(tx *store.Store) (any, any, error) {
		before, r, err := lockLine(ctx, tx, p, id)
		if err != nil {
			return nil, nil, err
		}
		after = before
		patch.apply(&after)
		if err := checkLine(inputOf(after)); err != nil {
			return nil, nil, err
		}
		if patch.OwnerID.Given {
			if err := checkOwner(ctx, tx, r, after.OwnerAdminID); err != nil {
				return nil, nil, err
			}
		}
		if err := writeLine(ctx, tx, before, after); err != nil {
			return nil, nil, err
		}
		return before, after, nil
	})
	if err != nil {
		return store.Line{}, fmt.Errorf("update line: %w", err)
	}
	return s.store.LineByID(ctx, id)
}

// writeLine stores after over before, unless nothing changes (a form saved untouched, a PATCH
// repeating the values, a ban of a banned line): then nothing is written, so there is no change
// NOTIFY, on which every instance would drop the line's caches and re-decide its open streams,
// and updated_at stays. The caller audits the edit either way.
func writeLine(ctx context.Context, tx *store.Store, before, after store.Line) error {
	if b, _ := audit.Diff(before, after); len(b) == 0 {
		return nil
	}
	if err := tx.UpdateLine(ctx, before, after); err != nil {
		return lineRefusals.of(err)
	}
	return nil
}

// DeleteLine deletes line id (its device and connections go with it).
func (s *Service) DeleteLine(ctx context.Context, p Principal, id int64) error {
	if err := writable(p); err != nil {
		return fmt.Errorf("delete line: %w", err)
	}
	err := s.change(ctx, p, entry("line.delete", "line", id), func(tx *store.Store) (any, any, error) {
		l, _, err := lockLine(ctx, tx, p, id)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.DeleteLine(ctx, id); err != nil {
			return nil, nil, err
		}
		return map[string]any{"username": l.Username}, map[string]any{}, nil
	})
	if err != nil {
		return fmt.Errorf("delete line: %w", err)
	}
	return nil
}

// ResetLinePassword replaces line id's password with password or, when it is empty, a
// generated one, and returns it once. Sessions opened with the old password end (every
// instance re-checks its streams on the line's change).
func (s *Service) ResetLinePassword(ctx context.Context, p Principal, id int64, password string) (Credentials, error) {
	if err := writable(p); err != nil {
		return Credentials{}, fmt.Errorf("reset line password: %w", err)
	}
	cred, hash, err := s.newPassword(password, s.policy.LineGeneratedLen, s.policy.CheckLinePassword)
	if err != nil {
		return Credentials{}, fmt.Errorf("reset line password: %w", err)
	}
	err = s.change(ctx, p, entry("line.reset_password", "line", id), func(tx *store.Store) (any, any, error) {
		before, _, err := lockLine(ctx, tx, p, id)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.SetLinePasswordHash(ctx, id, hash); err != nil {
			return nil, nil, err
		}
		cred.Username = before.Username
		after := before
		after.PasswordHash = hash
		return before, after, nil
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("reset line password: %w", err)
	}
	cred.ID = id
	return cred, nil
}

// LineByCredentials returns the line with this username and password when p may see it (the
// original api.php names a line that way). A wrong password is the same refusal as an unknown
// username: not found on "username".
func (s *Service) LineByCredentials(ctx context.Context, p Principal, username, password string) (store.Line, error) {
	refusal := fmt.Errorf("line: %w", notFound("username", "no such line, or a wrong password"))
	l, err := s.store.LineByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		if s.hasher != nil { // the same time as a wrong password
			if err := s.hasher.DummyVerify(ctx, username, password); err != nil {
				return store.Line{}, fmt.Errorf("line: %w", err)
			}
		}
		return store.Line{}, refusal
	} else if err != nil {
		return store.Line{}, fmt.Errorf("line: %w", err)
	}
	ok, err := s.verify(ctx, l.PasswordHash, password)
	if err != nil && !errors.Is(err, credential.ErrMalformedHash) {
		return store.Line{}, fmt.Errorf("line: %w", err)
	}
	if !ok {
		return store.Line{}, refusal
	}
	return s.Line(ctx, p, l.ID)
}
