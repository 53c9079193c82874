package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// NewLine is a line to create. The fields the admin API adds (allowed IPs and user agents,
// forced country, ISP lock, output formats, owner) join here with their rules; until then a
// line gets the schema's defaults for them (every output format, no restriction).
type NewLine struct {
	Username       string        // empty: generated (Policy.LineGeneratedLen characters)
	Password       string        // empty: generated and returned once
	MaxConnections int           // 0: unlimited; at most 10,000
	ExpDate        *time.Time    // nil: never expires
	ValidFor       time.Duration // > 0: expires this long after now (a package's duration); wins over ExpDate
	IsTrial        bool
	BouquetIDs     []int64 // in the line's order
	AdminNotes     string
}

// maxNotes bounds free-text notes.
const maxNotes = 64 << 10

// CreateLine creates a line with its bouquets. A taken username is a conflict on "username";
// an unknown bouquet is invalid on "bouquet_ids".
func (s *Service) CreateLine(ctx context.Context, in NewLine) (Credentials, error) {
	cred, row, err := s.prepareLine(in)
	if err != nil {
		return Credentials{}, fmt.Errorf("create line: %w", err)
	}
	for attempt := 0; ; attempt++ {
		cred.ID, err = s.store.CreateLine(ctx, row)
		if !errors.Is(err, store.ErrConflict) || in.Username != "" || attempt == 2 {
			break
		}
		// A generated username met an existing one (62^10 makes it rare): draw again.
		if row.Username, err = generate(s.rand, s.policy.LineGeneratedLen); err != nil {
			break
		}
		cred.Username = row.Username
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("create line: %w", lineRefusals.of(err))
	}
	return cred, nil
}

// prepareLine checks a new line, generates what is missing and hashes its password.
func (s *Service) prepareLine(in NewLine) (Credentials, store.LineInput, error) {
	var err error
	if in.Username == "" {
		if in.Username, err = generate(s.rand, s.policy.LineGeneratedLen); err != nil {
			return Credentials{}, store.LineInput{}, err
		}
	}
	if err := checkLineUsername(in.Username); err != nil {
		return Credentials{}, store.LineInput{}, err
	}
	if in.MaxConnections < 0 || in.MaxConnections > 10_000 {
		return Credentials{}, store.LineInput{}, invalid("max_connections", "0 (unlimited) to 10000")
	}
	if !input.Text(in.AdminNotes, maxNotes) {
		return Credentials{}, store.LineInput{}, invalid("admin_notes", "text of at most 64 KiB")
	}
	cred, hash, err := s.newPassword(in.Password, s.policy.LineGeneratedLen, s.policy.CheckLinePassword)
	if err != nil {
		return Credentials{}, store.LineInput{}, err
	}
	cred.Username = in.Username
	if in.ValidFor > 0 {
		exp := s.now().Add(in.ValidFor).Truncate(time.Second)
		in.ExpDate = &exp
	}
	row := store.LineInput{Username: in.Username, PasswordHash: hash, ExpDate: in.ExpDate, MaxConnections: in.MaxConnections,
		IsTrial: in.IsTrial, AdminNotes: in.AdminNotes, BouquetIDs: in.BouquetIDs}
	return cred, row, nil
}

// EnsureLine makes the line in.Username exist with in.Password and exactly in.BouquetIDs, and
// returns its id: it creates the line from in when missing; otherwise it changes only the
// password (when in.Password no longer verifies) and the bouquet list (when it differs), so a
// second run writes nothing and the line's other fields stay as an operator set them. Both
// username and password are required: a generated one would change on every run.
func (s *Service) EnsureLine(ctx context.Context, in NewLine) (int64, error) {
	if in.Username == "" {
		return 0, fmt.Errorf("ensure line: %w", invalid("username", "required"))
	}
	if err := s.policy.CheckLinePassword(in.Password); err != nil {
		return 0, fmt.Errorf("ensure line: %w", err)
	}
	line, err := s.store.LineByUsername(ctx, in.Username)
	if errors.Is(err, store.ErrNotFound) {
		cred, err := s.CreateLine(ctx, in)
		return cred.ID, err
	}
	if err != nil {
		return 0, fmt.Errorf("ensure line: %w", err)
	}
	if ok, _ := credential.Verify(line.PasswordHash, in.Password); !ok { // a malformed hash is replaced too
		hash, err := s.hash(in.Password)
		if err != nil {
			return 0, fmt.Errorf("ensure line: %w", err)
		}
		if err := s.store.SetLinePasswordHash(ctx, line.ID, hash); err != nil {
			return 0, fmt.Errorf("ensure line: %w", err)
		}
	}
	if !slices.Equal(line.BouquetIDs, in.BouquetIDs) {
		if err := s.store.SetLineBouquets(ctx, line.ID, in.BouquetIDs); err != nil {
			return 0, fmt.Errorf("ensure line: %w", lineRefusals.of(err))
		}
	}
	return line.ID, nil
}

// SetLinePassword replaces the password of line lineID with password, or, when it is empty,
// with a generated one (a reset). The Credentials carry the line id and the password; an
// unknown line is not found on "line".
func (s *Service) SetLinePassword(ctx context.Context, lineID int64, password string) (Credentials, error) {
	cred, hash, err := s.newPassword(password, s.policy.LineGeneratedLen, s.policy.CheckLinePassword)
	if err != nil {
		return Credentials{}, fmt.Errorf("set line password: %w", err)
	}
	if err := s.store.SetLinePasswordHash(ctx, lineID, hash); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("line", "no such line")
		}
		return Credentials{}, fmt.Errorf("set line password: %w", err)
	}
	cred.ID = lineID
	return cred, nil
}

// SetLineBouquets replaces the ordered bouquet list of line lineID. An unknown line is not
// found on "line", an unknown bouquet invalid on "bouquet_ids".
func (s *Service) SetLineBouquets(ctx context.Context, lineID int64, bouquetIDs []int64) error {
	if _, err := s.store.LineByID(ctx, lineID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("line", "no such line")
		}
		return fmt.Errorf("set line bouquets: %w", err)
	}
	if err := s.store.SetLineBouquets(ctx, lineID, bouquetIDs); err != nil {
		return fmt.Errorf("set line bouquets: %w", lineRefusals.of(err))
	}
	return nil
}

// EnsureDevice makes the MAG device mac bound to line lineID: nothing to do when it is, a new
// binding when the MAC is free. A MAC bound to another line is a conflict on "mac"; a line
// with another device (one per line) a conflict on "line".
func (s *Service) EnsureDevice(ctx context.Context, lineID int64, mac mag.MAC) error {
	dev, err := s.store.MAGDeviceByMAC(ctx, mac.String())
	switch {
	case err == nil && dev.LineID == lineID:
		return nil
	case err == nil:
		return fmt.Errorf("ensure device: %w", conflict("mac", "bound to another line"))
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("ensure device: %w", err)
	}
	if _, err := s.store.CreateMAGDevice(ctx, lineID, mac.String()); err != nil {
		switch {
		case errors.Is(err, store.ErrConflict): // the MAC was free, so the line has one
			err = conflict("line", "already has another MAG device")
		case errors.Is(err, store.ErrNotFound):
			err = notFound("line", "no such line")
		}
		return fmt.Errorf("ensure device: %w", err)
	}
	return nil
}

// lineRefusals read the store's refusals of a line write: the one unique key of lines is the
// username, and the only reference a line write resolves (once the line is known) is a
// bouquet.
var lineRefusals = refusals{
	conflict: FieldError{Field: "username", Reason: "taken", Kind: ErrConflict},
	notFound: FieldError{Field: "bouquet_ids", Reason: "unknown bouquet", Kind: ErrInvalid},
	invalid:  FieldError{Field: "line", Reason: "refused by the schema", Kind: ErrInvalid},
}
