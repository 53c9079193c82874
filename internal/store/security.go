package store

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// BlockedIP is an entry of the global blocked address list.
type BlockedIP struct {
	ID        int64        `db:"id"`
	Network   netip.Prefix `db:"-"`
	Source    string       `db:"source"` // admin or flood
	Reason    string       `db:"reason"`
	ExpiresAt *time.Time   `db:"expires_at"`
	CreatedAt time.Time    `db:"created_at"`
}

// BlockedUserAgent is a global user-agent rule.
type BlockedUserAgent struct {
	Pattern string `db:"pattern"`
	Match   string `db:"match"` // exact or substring
}

// BlockedISP is a blocked ISP name or autonomous system.
type BlockedISP struct {
	ISPName *string `db:"isp_name"`
	ASN     *int64  `db:"asn"`
}

// SecurityLists are the global rules of the check, read together.
type SecurityLists struct {
	Version          int64
	BlockedIPs       []BlockedIP
	BlockedUAs       []BlockedUserAgent
	BlockedISPs      []BlockedISP
	AllowedCountries []string
	Settings         map[string]json.RawMessage
	SettingsVersion  int64
}

// LoadSecurityLists reads every global rule and setting. The versions are read first: a
// change committed meanwhile has a newer version, whose NOTIFY makes the caller load again.
// Expired blocks are left out.
func (s *Store) LoadSecurityLists(ctx context.Context) (SecurityLists, error) {
	const versions = `SELECT (SELECT version FROM change_versions WHERE scope = 'security'),
		(SELECT version FROM change_versions WHERE scope = 'settings')`
	var out SecurityLists
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q.QueryRow(ctx, versions).Scan(&out.Version, &out.SettingsVersion); err != nil {
			return err
		}
		var err error
		if out.BlockedIPs, err = tx.blockedIPs(ctx); err != nil {
			return err
		}
		rows, _ := tx.q.Query(ctx, `SELECT pattern, match FROM blocked_user_agents ORDER BY id`)
		if out.BlockedUAs, err = pgx.CollectRows(rows, pgx.RowToStructByName[BlockedUserAgent]); err != nil {
			return err
		}
		rows, _ = tx.q.Query(ctx, `SELECT isp_name, asn FROM blocked_isps ORDER BY id`)
		if out.BlockedISPs, err = pgx.CollectRows(rows, pgx.RowToStructByName[BlockedISP]); err != nil {
			return err
		}
		rows, _ = tx.q.Query(ctx, `SELECT code FROM allowed_countries ORDER BY code`)
		if out.AllowedCountries, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			return err
		}
		out.Settings, err = tx.settings(ctx)
		return err
	})
	if err != nil {
		return SecurityLists{}, fmt.Errorf("load security lists: %w", interpret(err))
	}
	return out, nil
}

// blockedIPs reads the unexpired blocks.
func (s *Store) blockedIPs(ctx context.Context) ([]BlockedIP, error) {
	const q = `SELECT id, network::text, source, reason, expires_at, created_at FROM blocked_ips
		WHERE expires_at IS NULL OR expires_at > now() ORDER BY id`
	rows, _ := s.q.Query(ctx, q)
	return pgx.CollectRows(rows, scanBlockedIP)
}

// BlockIP adds (or extends) a block of network. expiresAt nil means until removed.
func (s *Store) BlockIP(ctx context.Context, network netip.Prefix, source, reason string, expiresAt *time.Time) error {
	const q = `INSERT INTO blocked_ips (network, source, reason, expires_at) VALUES ($1::cidr, $2, $3, $4)
		ON CONFLICT (network) DO UPDATE SET source = excluded.source, reason = excluded.reason,
			expires_at = CASE WHEN blocked_ips.expires_at IS NULL AND blocked_ips.source = 'admin' THEN NULL
			                  ELSE excluded.expires_at END`
	if _, err := s.q.Exec(ctx, q, network.String(), source, reason, expiresAt); err != nil {
		return fmt.Errorf("block ip %s: %w", network, interpret(err))
	}
	return nil
}

// UnblockIP removes the block of network.
func (s *Store) UnblockIP(ctx context.Context, network netip.Prefix) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM blocked_ips WHERE network = $1::cidr`, network.String()); err != nil {
		return fmt.Errorf("unblock ip %s: %w", network, interpret(err))
	}
	return nil
}

// AddBlockedUserAgent adds a global user-agent rule (match: exact or substring).
func (s *Store) AddBlockedUserAgent(ctx context.Context, pattern, match string) error {
	const q = `INSERT INTO blocked_user_agents (pattern, match) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	if _, err := s.q.Exec(ctx, q, pattern, match); err != nil {
		return fmt.Errorf("block user agent: %w", interpret(err))
	}
	return nil
}

// AddBlockedISP blocks an ISP by name (asn nil) or an autonomous system (name nil).
func (s *Store) AddBlockedISP(ctx context.Context, name *string, asn *int64) error {
	const q = `INSERT INTO blocked_isps (isp_name, asn) VALUES ($1, $2) ON CONFLICT DO NOTHING`
	if _, err := s.q.Exec(ctx, q, name, asn); err != nil {
		return fmt.Errorf("block isp: %w", interpret(err))
	}
	return nil
}

// SetAllowedCountries replaces the global allowed-country list ("ALL" allows every country).
func (s *Store) SetAllowedCountries(ctx context.Context, codes []string) error {
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.Exec(ctx, `DELETE FROM allowed_countries`); err != nil {
			return fmt.Errorf("set allowed countries: %w", interpret(err))
		}
		const q = `INSERT INTO allowed_countries (code) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`
		if _, err := tx.q.Exec(ctx, q, codes); err != nil {
			return fmt.Errorf("set allowed countries: %w", interpret(err))
		}
		return nil
	})
}

// SweepSecurity deletes expired blocks (failure counters: TrimAuthFailures).
func (s *Store) SweepSecurity(ctx context.Context) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM blocked_ips WHERE expires_at <= now()`); err != nil {
		return fmt.Errorf("sweep blocks: %w", interpret(err))
	}
	return nil
}

// BlockedUntil reports whether ip is inside an active block of the global list (an admin's or
// a flood block), and until when (zero time: until removed). Admin logins ask it before
// checking a password.
func (s *Store) BlockedUntil(ctx context.Context, ip netip.Addr) (until time.Time, blocked bool, err error) {
	const q = `SELECT count(*) > 0, bool_or(expires_at IS NULL), max(expires_at) FROM blocked_ips
		WHERE network >>= $1::inet AND (expires_at IS NULL OR expires_at > now())`
	var forever *bool
	var last *time.Time
	if err := s.q.QueryRow(ctx, q, ip.Unmap().String()).Scan(&blocked, &forever, &last); err != nil {
		return time.Time{}, false, fmt.Errorf("blocked until: %w", interpret(err))
	}
	if blocked && (forever == nil || !*forever) && last != nil {
		until = *last
	}
	return until, blocked, nil
}
