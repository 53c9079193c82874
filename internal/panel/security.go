package panel

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Security administers the global security lists the check applies at steps 5 to 8: blocked
// IPs and networks, blocked user agents, blocked ISPs and autonomous systems, and the allowed
// countries.
type Security struct {
	store *store.Store
	now   func() time.Time
}

// NewSecurity returns the security lists' administration over st; now is the clock of block
// expiries (time.Now when nil).
func NewSecurity(st *store.Store, now func() time.Time) *Security {
	if now == nil {
		now = time.Now
	}
	return &Security{store: st, now: now}
}

// Page pages a security list by id: After is the previous page's last id.
type Page struct {
	After int64
	Limit int
}

func (p Page) keyset() store.Keyset { return store.Keyset{AfterID: p.After, Limit: p.Limit} }

// BlockedIP is a blocked address or network.
type BlockedIP struct {
	ID        int64        `json:"id"`
	Network   netip.Prefix `json:"network"`
	Source    string       `json:"source"` // admin, or flood (set by the failed-login protection)
	Reason    string       `json:"reason"`
	ExpiresAt *time.Time   `json:"expires_at"` // nil: until removed
	CreatedAt time.Time    `json:"created_at"`
}

func blockedIPOf(b store.BlockedIP) BlockedIP {
	return BlockedIP{ID: b.ID, Network: b.Network, Source: b.Source, Reason: b.Reason, ExpiresAt: b.ExpiresAt, CreatedAt: b.CreatedAt}
}

// BlockedIPs returns one page of the live blocks; source ("admin", "flood" or "") and
// contains (the blocks holding an address, or the zero Addr) filter them.
func (s *Security) BlockedIPs(ctx context.Context, source string, contains netip.Addr, p Page) ([]BlockedIP, error) {
	if source != "" && source != "admin" && source != "flood" {
		return nil, fmt.Errorf("blocked ips: %w", input.Invalid("source", "admin or flood"))
	}
	rows, err := s.store.ListBlockedIPs(ctx, store.BlockedIPFilter{Source: source, Contains: contains.Unmap(), Page: p.keyset()})
	if err != nil {
		return nil, fmt.Errorf("blocked ips: %w", err)
	}
	out := make([]BlockedIP, len(rows))
	for i, r := range rows {
		out[i] = blockedIPOf(r)
	}
	return out, nil
}

// BlockIP blocks an IP or CIDR (network, as an admin types it) for the reason, until
// expiresAt (nil: until removed). A network blocked already is a conflict on "network".
func (s *Security) BlockIP(ctx context.Context, a audit.Actor, network, reason string, expiresAt *time.Time) (BlockedIP, error) {
	p, err := ParseNetwork(network)
	if err != nil {
		return BlockedIP{}, fmt.Errorf("block ip: %w", input.Invalid("network", "an IP or CIDR"))
	}
	if !input.Text(reason, 2048) || len([]rune(reason)) > 512 {
		return BlockedIP{}, fmt.Errorf("block ip: %w", input.Invalid("reason", "at most 512 characters"))
	}
	if expiresAt != nil && !expiresAt.After(s.now()) {
		return BlockedIP{}, fmt.Errorf("block ip: %w", input.Invalid("expires_at", "in the future"))
	}
	r, err := add(ctx, s.store, a, "blocked_ip", func(tx *store.Store) (int64, error) {
		return tx.InsertBlockedIP(ctx, p, reason, expiresAt)
	}, (*store.Store).BlockedIPByID, map[string]any{"network": p.String(), "reason": reason, "expires_at": expiresAt})
	if err != nil {
		return BlockedIP{}, fmt.Errorf("block ip: %w", refused(listRefusals("network", "blocked already"), err))
	}
	return blockedIPOf(r), nil
}

// add writes a new entry of a security list (target names the list in the audit log) with
// its audit entry: insert adds it and returns its id, read reads it back for the answer, and
// detail is what the audit log keeps of it.
func add[T any](ctx context.Context, st *store.Store, a audit.Actor, target string, insert func(*store.Store) (int64, error),
	read func(*store.Store, context.Context, int64) (T, error), detail map[string]any) (T, error) {
	var out T
	err := st.InTx(ctx, func(tx *store.Store) error {
		id, err := insert(tx)
		if err != nil {
			return err
		}
		if out, err = read(tx, ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: target + ".create", TargetType: target,
			TargetID: fmt.Sprint(id), After: detail})
	})
	return out, err
}

// UnblockIP removes block id (an admin's or a flood block).
func (s *Security) UnblockIP(ctx context.Context, a audit.Actor, id int64) error {
	return remove(ctx, s.store, a, "blocked_ip", id, (*store.Store).BlockedIPByID, (*store.Store).DeleteBlockedIP,
		func(r store.BlockedIP) map[string]any {
			return map[string]any{"network": r.Network.String(), "source": r.Source, "reason": r.Reason}
		})
}

// remove deletes entry id of a security list (target names it in the audit log: "blocked_ip"
// …) with its audit entry, which keeps what detail says of the entry.
func remove[T any](ctx context.Context, st *store.Store, a audit.Actor, target string, id int64,
	read func(*store.Store, context.Context, int64) (T, error), del func(*store.Store, context.Context, int64) error,
	detail func(T) map[string]any) error {
	err := st.InTx(ctx, func(tx *store.Store) error {
		r, err := read(tx, ctx, id)
		if err != nil {
			return err
		}
		if err := del(tx, ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: target + ".delete", TargetType: target,
			TargetID: fmt.Sprint(id), Before: detail(r)})
	})
	if err != nil {
		return fmt.Errorf("delete %s %d: %w", target, id, refused(listRefusals("", ""), err))
	}
	return nil
}

// BlockedUserAgent is a global user-agent rule: the whole User-Agent equals the pattern
// (exact) or holds it (substring), ignoring case.
type BlockedUserAgent struct {
	ID        int64     `json:"id"`
	Pattern   string    `json:"pattern"`
	Match     string    `json:"match"` // exact or substring
	CreatedAt time.Time `json:"created_at"`
}

// BlockedUserAgents returns one page of the user-agent rules whose pattern holds pattern.
func (s *Security) BlockedUserAgents(ctx context.Context, pattern string, p Page) ([]BlockedUserAgent, error) {
	rows, err := s.store.ListBlockedUserAgents(ctx, pattern, p.keyset())
	if err != nil {
		return nil, fmt.Errorf("blocked user agents: %w", err)
	}
	out := make([]BlockedUserAgent, len(rows))
	for i, r := range rows {
		out[i] = BlockedUserAgent(r)
	}
	return out, nil
}

// BlockUserAgent adds a user-agent rule (match: exact or substring; "" is substring). The same
// rule twice is a conflict on "pattern".
func (s *Security) BlockUserAgent(ctx context.Context, a audit.Actor, pattern, match string) (BlockedUserAgent, error) {
	if match == "" {
		match = "substring"
	}
	if match != "exact" && match != "substring" {
		return BlockedUserAgent{}, fmt.Errorf("block user agent: %w", input.Invalid("match", "exact or substring"))
	}
	if !input.Text(pattern, 512) || strings.TrimSpace(pattern) == "" || strings.IndexFunc(pattern, isControl) >= 0 {
		return BlockedUserAgent{}, fmt.Errorf("block user agent: %w", input.Invalid("pattern", "1 to 512 bytes of printable text"))
	}
	r, err := add(ctx, s.store, a, "blocked_user_agent", func(tx *store.Store) (int64, error) {
		return tx.InsertBlockedUserAgent(ctx, pattern, match)
	}, (*store.Store).BlockedUserAgentByID, map[string]any{"pattern": pattern, "match": match})
	if err != nil {
		return BlockedUserAgent{}, fmt.Errorf("block user agent: %w", refused(listRefusals("pattern", "this rule exists"), err))
	}
	return BlockedUserAgent(r), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// UnblockUserAgent removes user-agent rule id.
func (s *Security) UnblockUserAgent(ctx context.Context, a audit.Actor, id int64) error {
	return remove(ctx, s.store, a, "blocked_user_agent", id, (*store.Store).BlockedUserAgentByID,
		(*store.Store).DeleteBlockedUserAgent, func(r store.BlockedUserAgentRow) map[string]any {
			return map[string]any{"pattern": r.Pattern, "match": r.Match}
		})
}

// BlockedISP is a blocked ISP (by the GeoIP ISP or organisation name, ignoring case) or
// autonomous system: exactly one of ISPName and ASN is set.
type BlockedISP struct {
	ID        int64     `json:"id"`
	ISPName   *string   `json:"isp_name"`
	ASN       *int64    `json:"asn"`
	CreatedAt time.Time `json:"created_at"`
}

// BlockedISPs returns one page of the ISP and ASN blocks.
func (s *Security) BlockedISPs(ctx context.Context, p Page) ([]BlockedISP, error) {
	rows, err := s.store.ListBlockedISPs(ctx, p.keyset())
	if err != nil {
		return nil, fmt.Errorf("blocked isps: %w", err)
	}
	out := make([]BlockedISP, len(rows))
	for i, r := range rows {
		out[i] = BlockedISP(r)
	}
	return out, nil
}

// BlockISP blocks an ISP by name or an autonomous system by number: exactly one of name and
// asn. A name (ignoring case) or ASN blocked already is a conflict on that field.
func (s *Security) BlockISP(ctx context.Context, a audit.Actor, name *string, asn *int64) (BlockedISP, error) {
	field := "isp_name"
	switch {
	case (name == nil) == (asn == nil):
		return BlockedISP{}, fmt.Errorf("block isp: %w", input.Invalid("isp_name", "give exactly one of isp_name and asn"))
	case name != nil && (!input.Text(*name, 1024) || strings.TrimSpace(*name) == "" || len([]rune(*name)) > 256):
		return BlockedISP{}, fmt.Errorf("block isp: %w", input.Invalid("isp_name", "1 to 256 characters"))
	case asn != nil && (*asn < 0 || *asn > 4294967295):
		return BlockedISP{}, fmt.Errorf("block isp: %w", input.Invalid("asn", "0 to 4294967295"))
	case asn != nil:
		field = "asn"
	}
	r, err := add(ctx, s.store, a, "blocked_isp", func(tx *store.Store) (int64, error) {
		return tx.InsertBlockedISP(ctx, name, asn)
	}, (*store.Store).BlockedISPByID, map[string]any{"isp_name": name, "asn": asn})
	if err != nil {
		return BlockedISP{}, fmt.Errorf("block isp: %w", refused(listRefusals(field, "blocked already"), err))
	}
	return BlockedISP(r), nil
}

// UnblockISP removes ISP block id.
func (s *Security) UnblockISP(ctx context.Context, a audit.Actor, id int64) error {
	return remove(ctx, s.store, a, "blocked_isp", id, (*store.Store).BlockedISPByID, (*store.Store).DeleteBlockedISP,
		func(r store.BlockedISPRow) map[string]any { return map[string]any{"isp_name": r.ISPName, "asn": r.ASN} })
}

// AllowedCountries returns the countries lines without a forced country may connect from:
// ["ALL"] allows every country.
func (s *Security) AllowedCountries(ctx context.Context) ([]string, error) {
	return s.store.AllowedCountries(ctx)
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

// SetAllowedCountries replaces the allowed countries: ISO 3166 alpha-2 codes (any case), or
// ["ALL"] alone for every country; an empty list is refused (it would lock every line out).
func (s *Security) SetAllowedCountries(ctx context.Context, a audit.Actor, codes []string) ([]string, error) {
	next := make([]string, 0, len(codes))
	for i, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != "ALL" && !countryRE.MatchString(c) {
			return nil, fmt.Errorf("allowed countries: %w", input.Invalid(fmt.Sprintf("countries[%d]", i), "an ISO 3166 alpha-2 code or ALL"))
		}
		if !slices.Contains(next, c) {
			next = append(next, c)
		}
	}
	switch {
	case len(next) == 0:
		return nil, fmt.Errorf("allowed countries: %w", input.Invalid("countries", `at least one; ["ALL"] allows every country`))
	case len(next) > 1 && slices.Contains(next, "ALL"):
		return nil, fmt.Errorf("allowed countries: %w", input.Invalid("countries", "ALL stands alone"))
	}
	slices.Sort(next)
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		cur, err := tx.AllowedCountries(ctx)
		if err != nil || slices.Equal(cur, next) {
			return err
		}
		if err := tx.SetAllowedCountries(ctx, next); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "allowed_countries.update", TargetType: "allowed_countries",
			Before: map[string]any{"countries": cur}, After: map[string]any{"countries": next}})
	})
	if err != nil {
		return nil, fmt.Errorf("allowed countries: %w", err)
	}
	return next, nil
}

// listRefusals read the store's refusals of a security list write: a duplicate on field, or
// a missing entry.
func listRefusals(field, conflict string) input.Refusals {
	r := input.Refusals{NotFound: &input.FieldError{Field: "id", Reason: "no such entry", Kind: input.ErrNotFound}}
	if field != "" {
		r.Conflict = &input.FieldError{Field: field, Reason: conflict, Kind: input.ErrConflict}
		r.Invalid = &input.FieldError{Field: field, Reason: "refused by the schema", Kind: input.ErrInvalid}
	}
	return r
}

func refused(r input.Refusals, err error) error {
	return r.Of(err, store.ErrConflict, store.ErrNotFound, store.ErrInvalid)
}
