package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// NewLine is a line to create, with every per-line control of spec §6.3. Zero values are the
// defaults: no expiry, unlimited connections, every output format, no restriction, no owner.
//
// With a package (PackageID), the package gives the connection limit, the bouquets, the
// trial flag and the expiry (now + its duration); an admin's non-zero values still win. A
// reseller must name a package, pays its price in credits, and may not set what the package
// or an admin decides (those fields must stay zero: ErrForbidden on the field otherwise).
type NewLine struct {
	Username             string        // empty: generated (Policy.LineGeneratedLen characters)
	Password             string        // empty: generated and returned once
	PackageID            int64         // 0: none (admins only)
	MaxConnections       int           // 0: unlimited; at most 10,000
	ExpDate              *time.Time    // nil: never expires
	ValidFor             time.Duration // > 0: expires this long after now; wins over ExpDate
	IsTrial              bool
	BouquetIDs           []int64 // in the line's order
	AdminNotes           string
	ResellerNotes        string
	Banned               bool // by an admin (XC admin_enabled = 0)
	Disabled             bool // by the owner (XC enabled = 0)
	IsRestreamer         bool
	IsMAG                bool
	AllowedIPs           []netip.Prefix // empty: any address
	AllowedUserAgents    []string       // empty: any; else the whole User-Agent must be one
	BypassUABlock        bool
	ForcedCountry        *string  // two letters; nil: the global allowed countries apply
	ISPLock              bool     // the first ISP a line is used from is the only one
	AllowedOutputFormats []string // nil: all of m3u8, ts, rtmp
	OwnerID              *int64   // the owning reseller; a reseller's lines are its own by default
}

// Bounds of a line's lists and texts.
const (
	maxNotes      = 64 << 10
	maxListed     = 100  // allowed IPs, allowed user agents
	maxBouquets   = 1000 // bouquets of a line or package
	maxUALen      = 512
	maxBulk       = 100 // lines one call creates (each costs a password hash)
	maxBulkAction = 1000
)

// CreateLine creates a line as the command line (audit actor "cli"). A taken username is a
// conflict on "username"; an unknown bouquet is invalid on "bouquet_ids".
func (s *Service) CreateLine(ctx context.Context, in NewLine) (Credentials, error) {
	creds, err := s.AddLines(ctx, System(audit.CLI), []NewLine{in})
	if err != nil {
		return Credentials{}, err
	}
	return creds[0], nil
}

// row makes the stored form of a checked new line, applying its package.
func (in NewLine) row(pkg *store.Package, now time.Time) store.LineInput {
	row := store.LineInput{Username: in.Username, ExpDate: in.ExpDate, Banned: in.Banned, Disabled: in.Disabled,
		MaxConnections: in.MaxConnections, IsTrial: in.IsTrial, IsRestreamer: in.IsRestreamer, IsMAG: in.IsMAG,
		AllowedIPs: in.AllowedIPs, AllowedUserAgents: in.AllowedUserAgents, BypassUABlock: in.BypassUABlock,
		ForcedCountry: in.ForcedCountry, ISPLock: in.ISPLock, AllowedOutputFormats: in.AllowedOutputFormats,
		AdminNotes: in.AdminNotes, ResellerNotes: in.ResellerNotes, OwnerAdminID: in.OwnerID, BouquetIDs: in.BouquetIDs}
	validFor := in.ValidFor
	if pkg != nil {
		if row.MaxConnections == 0 {
			row.MaxConnections = pkg.MaxConnections
		}
		if row.BouquetIDs == nil {
			row.BouquetIDs = pkg.BouquetIDs
		}
		row.IsTrial = row.IsTrial || pkg.IsTrial
		if validFor == 0 && row.ExpDate == nil {
			validFor = time.Duration(pkg.DurationHours) * time.Hour
		}
	}
	if validFor > 0 {
		exp := now.Add(validFor).Truncate(time.Second)
		row.ExpDate = &exp
	}
	return row
}

// resellerSetsNothingElse refuses a reseller's new line that sets what a package or an admin
// decides.
func (in NewLine) resellerSetsNothingElse() error {
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"max_connections", in.MaxConnections != 0}, {"exp_date", in.ExpDate != nil || in.ValidFor != 0},
		{"is_trial", in.IsTrial}, {"bouquet_ids", in.BouquetIDs != nil}, {"admin_notes", in.AdminNotes != ""},
		{"banned", in.Banned}, {"is_restreamer", in.IsRestreamer}, {"bypass_ua_block", in.BypassUABlock},
		{"forced_country", in.ForcedCountry != nil}, {"isp_lock", in.ISPLock},
		{"allowed_output_formats", in.AllowedOutputFormats != nil},
	} {
		if f.set {
			return &FieldError{Field: f.name, Reason: "set by the package or an admin, not by a reseller", Kind: ErrForbidden}
		}
	}
	return nil
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// checkLine applies every rule of a line's controls to its stored form.
func checkLine(l store.LineInput) error {
	if err := checkLineUsername(l.Username); err != nil {
		return err
	}
	switch {
	case l.MaxConnections < 0 || l.MaxConnections > 10_000:
		return invalid("max_connections", "0 (unlimited) to 10000")
	case !input.Text(l.AdminNotes, maxNotes):
		return invalid("admin_notes", "text of at most 64 KiB")
	case !input.Text(l.ResellerNotes, maxNotes):
		return invalid("reseller_notes", "text of at most 64 KiB")
	case len(l.AllowedIPs) > maxListed:
		return invalid("allowed_ips", "at most 100 addresses or networks")
	case len(l.AllowedUserAgents) > maxListed:
		return invalid("allowed_user_agents", "at most 100 user agents")
	case l.ForcedCountry != nil && !countryRE.MatchString(*l.ForcedCountry):
		return invalid("forced_country", "two upper-case letters (ISO 3166-1), or null")
	case len(l.BouquetIDs) > maxBouquets:
		return invalid("bouquet_ids", "at most 1000 bouquets")
	}
	for _, ua := range l.AllowedUserAgents {
		if ua == "" || !input.Text(ua, 4*maxUALen) || utf8.RuneCountInString(ua) > maxUALen {
			return invalid("allowed_user_agents", "each 1 to 512 characters")
		}
	}
	for _, f := range l.AllowedOutputFormats {
		if f != "m3u8" && f != "ts" && f != "rtmp" {
			return invalid("allowed_output_formats", "each one of m3u8, ts, rtmp")
		}
	}
	if l.AllowedOutputFormats != nil && len(l.AllowedOutputFormats) == 0 {
		return invalid("allowed_output_formats", "at least one format (or leave it out: all)")
	}
	seen := map[int64]bool{}
	for _, id := range l.BouquetIDs {
		if id <= 0 || seen[id] {
			return invalid("bouquet_ids", "positive ids, each once")
		}
		seen[id] = true
	}
	return nil
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
		if _, err := s.SetLinePassword(ctx, line.ID, in.Password); err != nil {
			return 0, fmt.Errorf("ensure line: %w", err)
		}
	}
	if !slices.Equal(line.BouquetIDs, in.BouquetIDs) {
		if err := s.SetLineBouquets(ctx, line.ID, in.BouquetIDs); err != nil {
			return 0, fmt.Errorf("ensure line: %w", err)
		}
	}
	return line.ID, nil
}

// SetLinePassword replaces the password of line lineID with password, or, when it is empty,
// with a generated one (a reset), as the command line. The Credentials carry the line id and
// the password; an unknown line is not found on "line".
func (s *Service) SetLinePassword(ctx context.Context, lineID int64, password string) (Credentials, error) {
	return s.ResetLinePassword(ctx, System(audit.CLI), lineID, password)
}

// SetLineBouquets replaces the ordered bouquet list of line lineID, as the command line. An
// unknown line is not found on "line", an unknown bouquet invalid on "bouquet_ids".
func (s *Service) SetLineBouquets(ctx context.Context, lineID int64, bouquetIDs []int64) error {
	_, err := s.UpdateLine(ctx, System(audit.CLI), lineID, LinePatch{BouquetIDs: Set(bouquetIDs)})
	return err
}

// lineRefusals read the store's refusals of a line write: the one unique key of lines is the
// username, and the only reference a line write resolves (once the line is known) is a
// bouquet (or its owner, checked before).
var lineRefusals = refusals{
	conflict: FieldError{Field: "username", Reason: "taken", Kind: ErrConflict},
	notFound: FieldError{Field: "bouquet_ids", Reason: "unknown bouquet", Kind: ErrInvalid},
	invalid:  FieldError{Field: "line", Reason: "refused by the schema", Kind: ErrInvalid},
}
