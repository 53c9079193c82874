package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// The admin side of the global security lists (004_security): paged lists with ids, and
// inserts that report a duplicate as ErrConflict instead of merging it as the flood
// protection's BlockIP does.

// BlockedIPFilter selects blocked networks for an admin list; zero fields match everything.
type BlockedIPFilter struct {
	Source   string     // admin or flood
	Contains netip.Addr // networks holding this address
	Page     Keyset
}

// ListBlockedIPs returns one page of the unexpired blocks f selects.
func (s *Store) ListBlockedIPs(ctx context.Context, f BlockedIPFilter) ([]BlockedIP, error) {
	const base = `SELECT id, network::text, source, reason, expires_at, created_at FROM blocked_ips`
	lq := listQuery{where: []string{"(expires_at IS NULL OR expires_at > now())"}}
	if f.Source != "" {
		lq.cond("source = %s", f.Source)
	}
	if f.Contains.IsValid() {
		lq.cond("network >>= %s::inet", f.Contains.String())
	}
	return list(ctx, s, "blocked ips", &lq, base, "id", nil, f.Page, scanBlockedIP)
}

// BlockedIPByID reads one block.
func (s *Store) BlockedIPByID(ctx context.Context, id int64) (BlockedIP, error) {
	const q = `SELECT id, network::text, source, reason, expires_at, created_at FROM blocked_ips WHERE id = $1`
	rows, _ := s.q.Query(ctx, q, id)
	b, err := pgx.CollectExactlyOneRow(rows, scanBlockedIP)
	if err != nil {
		return BlockedIP{}, fmt.Errorf("blocked ip %d: %w", id, interpret(err))
	}
	return b, nil
}

func scanBlockedIP(row pgx.CollectableRow) (BlockedIP, error) {
	var b BlockedIP
	var network string
	if err := row.Scan(&b.ID, &network, &b.Source, &b.Reason, &b.ExpiresAt, &b.CreatedAt); err != nil {
		return b, err
	}
	p, err := netip.ParsePrefix(network)
	if err != nil {
		return b, fmt.Errorf("blocked ip %q: %w", network, err)
	}
	b.Network = p
	return b, nil
}

// InsertBlockedIP adds an admin block of network and returns its id. A network blocked
// already is ErrConflict, unless its block has expired (it is replaced then).
func (s *Store) InsertBlockedIP(ctx context.Context, network netip.Prefix, reason string, expiresAt *time.Time) (int64, error) {
	const q = `INSERT INTO blocked_ips (network, source, reason, expires_at) VALUES ($1::cidr, 'admin', $2, $3)
		ON CONFLICT (network) DO UPDATE SET source = 'admin', reason = excluded.reason, expires_at = excluded.expires_at,
			created_at = now()
		WHERE blocked_ips.expires_at IS NOT NULL AND blocked_ips.expires_at <= now()
		RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, network.String(), reason, expiresAt).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) { // the conflicting block is live
		return 0, fmt.Errorf("block ip %s: %w: blocked_ips_network_key", network, ErrConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("block ip %s: %w", network, interpret(err))
	}
	return id, nil
}

// DeleteBlockedIP removes block id.
func (s *Store) DeleteBlockedIP(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete blocked ip %d", id), `DELETE FROM blocked_ips WHERE id = $1`, id)
}

// BlockedUserAgentRow is a global user-agent rule as the admin lists it.
type BlockedUserAgentRow struct {
	ID        int64     `db:"id"`
	Pattern   string    `db:"pattern"`
	Match     string    `db:"match"`
	CreatedAt time.Time `db:"created_at"`
}

// ListBlockedUserAgents returns one page of the user-agent rules (pattern: contains, ignoring
// case).
func (s *Store) ListBlockedUserAgents(ctx context.Context, pattern string, page Keyset) ([]BlockedUserAgentRow, error) {
	var lq listQuery
	if pattern != "" {
		lq.cond("strpos(lower(pattern), lower(%s)) > 0", pattern)
	}
	return list(ctx, s, "blocked user agents", &lq, `SELECT id, pattern, match, created_at FROM blocked_user_agents`,
		"id", nil, page, pgx.RowToStructByName[BlockedUserAgentRow])
}

// BlockedUserAgentByID reads one user-agent rule.
func (s *Store) BlockedUserAgentByID(ctx context.Context, id int64) (BlockedUserAgentRow, error) {
	return one[BlockedUserAgentRow](ctx, s, fmt.Sprintf("blocked user agent %d", id),
		`SELECT id, pattern, match, created_at FROM blocked_user_agents WHERE id = $1`, id)
}

// InsertBlockedUserAgent adds a user-agent rule and returns its id; the same (match, pattern)
// is ErrConflict.
func (s *Store) InsertBlockedUserAgent(ctx context.Context, pattern, match string) (int64, error) {
	const q = `INSERT INTO blocked_user_agents (pattern, match) VALUES ($1, $2) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, pattern, match).Scan(&id); err != nil {
		return 0, fmt.Errorf("block user agent: %w", interpret(err))
	}
	return id, nil
}

// DeleteBlockedUserAgent removes user-agent rule id.
func (s *Store) DeleteBlockedUserAgent(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete blocked user agent %d", id), `DELETE FROM blocked_user_agents WHERE id = $1`, id)
}

// BlockedISPRow is a blocked ISP name or autonomous system as the admin lists it.
type BlockedISPRow struct {
	ID        int64     `db:"id"`
	ISPName   *string   `db:"isp_name"`
	ASN       *int64    `db:"asn"`
	CreatedAt time.Time `db:"created_at"`
}

// ListBlockedISPs returns one page of the blocked ISPs and ASNs.
func (s *Store) ListBlockedISPs(ctx context.Context, page Keyset) ([]BlockedISPRow, error) {
	var lq listQuery
	return list(ctx, s, "blocked isps", &lq, `SELECT id, isp_name, asn, created_at FROM blocked_isps`,
		"id", nil, page, pgx.RowToStructByName[BlockedISPRow])
}

// BlockedISPByID reads one ISP or ASN block.
func (s *Store) BlockedISPByID(ctx context.Context, id int64) (BlockedISPRow, error) {
	return one[BlockedISPRow](ctx, s, fmt.Sprintf("blocked isp %d", id),
		`SELECT id, isp_name, asn, created_at FROM blocked_isps WHERE id = $1`, id)
}

// InsertBlockedISP blocks an ISP by name (asn nil) or an autonomous system (name nil) and
// returns the block's id; a name (ignoring case) or ASN blocked already is ErrConflict.
func (s *Store) InsertBlockedISP(ctx context.Context, name *string, asn *int64) (int64, error) {
	const q = `INSERT INTO blocked_isps (isp_name, asn) VALUES ($1, $2) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, name, asn).Scan(&id); err != nil {
		return 0, fmt.Errorf("block isp: %w", interpret(err))
	}
	return id, nil
}

// DeleteBlockedISP removes ISP block id.
func (s *Store) DeleteBlockedISP(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete blocked isp %d", id), `DELETE FROM blocked_isps WHERE id = $1`, id)
}

// AllowedCountries lists the global allowed-country codes ("ALL" allows every country).
func (s *Store) AllowedCountries(ctx context.Context) ([]string, error) {
	return collect(ctx, s, "allowed countries", pgx.RowTo[string], `SELECT code FROM allowed_countries ORDER BY code`)
}
