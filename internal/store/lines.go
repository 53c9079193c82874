package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Line is a subscriber account with every per-line control (spec §6.3).
type Line struct {
	ID                   int64          `db:"id" audit:"-"`
	Username             string         `db:"username"`
	PasswordHash         string         `db:"password_hash" audit:"secret"`
	ExpDate              *time.Time     `db:"exp_date"` // nil: never expires
	Banned               bool           `db:"banned"`
	Disabled             bool           `db:"disabled"`
	MaxConnections       int            `db:"max_connections"` // 0: unlimited
	IsTrial              bool           `db:"is_trial"`
	IsRestreamer         bool           `db:"is_restreamer"`
	IsMAG                bool           `db:"is_mag"`
	AllowedIPs           []netip.Prefix `db:"allowed_ips"`
	AllowedUserAgents    []string       `db:"allowed_user_agents"`
	BypassUABlock        bool           `db:"bypass_ua_block"`
	ForcedCountry        *string        `db:"forced_country"`
	ISPLock              bool           `db:"isp_lock"`
	ISPName              *string        `db:"isp_name" audit:"-"`
	ISPASN               *int64         `db:"isp_asn" audit:"-"`
	AllowedOutputFormats []string       `db:"allowed_output_formats"`
	AdminNotes           string         `db:"admin_notes"`
	ResellerNotes        string         `db:"reseller_notes"`
	OwnerAdminID         *int64         `db:"owner_admin_id"`
	CreatedAt            time.Time      `db:"created_at" audit:"-"`
	UpdatedAt            time.Time      `db:"updated_at" audit:"-"`
	BouquetIDs           []int64        `db:"bouquet_ids"` // in the line's order
}

// lineColumns matches Line field for field.
const lineColumns = `l.id, l.username, l.password_hash, l.exp_date, l.banned, l.disabled, l.max_connections,
	l.is_trial, l.is_restreamer, l.is_mag, l.allowed_ips::text[] AS allowed_ips, l.allowed_user_agents,
	l.bypass_ua_block, l.forced_country, l.isp_lock, l.isp_name, l.isp_asn, l.allowed_output_formats,
	l.admin_notes, l.reseller_notes, l.owner_admin_id, l.created_at, l.updated_at,
	ARRAY(SELECT lb.bouquet_id FROM line_bouquets lb WHERE lb.line_id = l.id ORDER BY lb.position, lb.bouquet_id) AS bouquet_ids`

// LineByUsername returns the line with exactly this username.
func (s *Store) LineByUsername(ctx context.Context, username string) (Line, error) {
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.username = $1`
	return s.oneLine(ctx, q, username)
}

// LineByID returns the line with this id.
func (s *Store) LineByID(ctx context.Context, id int64) (Line, error) {
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.id = $1`
	return s.oneLine(ctx, q, id)
}

func (s *Store) oneLine(ctx context.Context, q string, arg any) (Line, error) {
	rows, _ := s.q.Query(ctx, q, arg)
	line, err := pgx.CollectExactlyOneRow(rows, scanLine)
	if err != nil {
		return Line{}, fmt.Errorf("line %v: %w", arg, interpret(err))
	}
	return line, nil
}

// scanLine reads a row of lineColumns; allowed_ips arrive as text and are parsed here, so a
// Line never holds an unparsed network.
func scanLine(row pgx.CollectableRow) (Line, error) {
	var l Line
	var ips []string
	err := row.Scan(&l.ID, &l.Username, &l.PasswordHash, &l.ExpDate, &l.Banned, &l.Disabled, &l.MaxConnections,
		&l.IsTrial, &l.IsRestreamer, &l.IsMAG, &ips, &l.AllowedUserAgents, &l.BypassUABlock, &l.ForcedCountry,
		&l.ISPLock, &l.ISPName, &l.ISPASN, &l.AllowedOutputFormats, &l.AdminNotes, &l.ResellerNotes,
		&l.OwnerAdminID, &l.CreatedAt, &l.UpdatedAt, &l.BouquetIDs)
	if err != nil {
		return Line{}, err
	}
	for _, s := range ips {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Line{}, fmt.Errorf("allowed ip %q: %w", s, err)
		}
		l.AllowedIPs = append(l.AllowedIPs, p)
	}
	return l, nil
}

// LineInput holds the writable fields of a line. Zero values are the schema's defaults except
// where noted.
type LineInput struct {
	Username             string
	PasswordHash         string
	ExpDate              *time.Time
	Banned               bool
	Disabled             bool
	MaxConnections       int
	IsTrial              bool
	IsRestreamer         bool
	IsMAG                bool
	AllowedIPs           []netip.Prefix
	AllowedUserAgents    []string
	BypassUABlock        bool
	ForcedCountry        *string
	ISPLock              bool
	AllowedOutputFormats []string // nil: all (m3u8, ts, rtmp)
	AdminNotes           string
	ResellerNotes        string
	OwnerAdminID         *int64
	BouquetIDs           []int64 // in order
}

// CreateLine inserts a line with its bouquets and returns its id. A taken username is
// ErrConflict; a value the schema refuses is ErrInvalid; an unknown bouquet is ErrNotFound.
func (s *Store) CreateLine(ctx context.Context, in LineInput) (int64, error) {
	const q = `INSERT INTO lines (username, password_hash, exp_date, banned, disabled, max_connections, is_trial,
		is_restreamer, is_mag, allowed_ips, allowed_user_agents, bypass_ua_block, forced_country, isp_lock,
		allowed_output_formats, admin_notes, reseller_notes, owner_admin_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text[]::cidr[], $11, $12, $13, $14,
		coalesce($15, '{m3u8,ts,rtmp}'::text[]), $16, $17, $18)
	RETURNING id`
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.q.QueryRow(ctx, q, in.Username, in.PasswordHash, in.ExpDate, in.Banned, in.Disabled,
			in.MaxConnections, in.IsTrial, in.IsRestreamer, in.IsMAG, prefixStrings(in.AllowedIPs),
			nonNilStrings(in.AllowedUserAgents), in.BypassUABlock, in.ForcedCountry, in.ISPLock,
			in.AllowedOutputFormats, in.AdminNotes, in.ResellerNotes, in.OwnerAdminID).Scan(&id)
		if err != nil {
			return err
		}
		return tx.SetLineBouquets(ctx, id, in.BouquetIDs)
	})
	if err != nil {
		return 0, fmt.Errorf("create line %q: %w", in.Username, interpret(err))
	}
	return id, nil
}

// SetLineBouquets replaces a line's ordered bouquet list.
func (s *Store) SetLineBouquets(ctx context.Context, lineID int64, bouquetIDs []int64) error {
	const del = `DELETE FROM line_bouquets WHERE line_id = $1`
	const ins = `INSERT INTO line_bouquets (line_id, bouquet_id, position)
		SELECT $1, b.id, b.pos FROM unnest($2::bigint[]) WITH ORDINALITY AS b(id, pos)
		ON CONFLICT (line_id, bouquet_id) DO NOTHING`
	return s.InTx(ctx, func(tx *Store) error {
		if _, err := tx.q.Exec(ctx, del, lineID); err != nil {
			return fmt.Errorf("set line bouquets: %w", interpret(err))
		}
		if len(bouquetIDs) == 0 {
			return nil
		}
		if _, err := tx.q.Exec(ctx, ins, lineID, bouquetIDs); err != nil {
			return fmt.Errorf("set line bouquets: %w", interpret(err))
		}
		return nil
	})
}

// RecordLineISP stores the ISP of an ISP-locked line's first accepted use. It only writes when
// none is recorded yet and returns the ISP recorded afterwards (ours, or one another request
// recorded first).
func (s *Store) RecordLineISP(ctx context.Context, lineID int64, isp string, asn int64) (string, error) {
	const q = `UPDATE lines SET isp_name = $2, isp_asn = $3 WHERE id = $1 AND isp_name IS NULL RETURNING isp_name`
	const cur = `SELECT coalesce(isp_name, '') FROM lines WHERE id = $1`
	var got string
	err := s.q.QueryRow(ctx, q, lineID, isp, asn).Scan(&got)
	if err == nil {
		return got, nil
	}
	if err != pgx.ErrNoRows {
		return "", fmt.Errorf("record line isp: %w", interpret(err))
	}
	if err := s.q.QueryRow(ctx, cur, lineID).Scan(&got); err != nil {
		return "", fmt.Errorf("record line isp: %w", interpret(err))
	}
	return got, nil
}

// UpdateLineFlags sets the ban/disable/expiry controls of a line (admin actions, tests).
func (s *Store) UpdateLineFlags(ctx context.Context, lineID int64, banned, disabled bool, expDate *time.Time) error {
	const q = `UPDATE lines SET banned = $2, disabled = $3, exp_date = $4 WHERE id = $1`
	tag, err := s.q.Exec(ctx, q, lineID, banned, disabled, expDate)
	if err != nil {
		return fmt.Errorf("update line %d: %w", lineID, interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update line %d: %w", lineID, ErrNotFound)
	}
	return nil
}

// SetLinePasswordHash replaces a line's password hash.
func (s *Store) SetLinePasswordHash(ctx context.Context, lineID int64, hash string) error {
	const q = `UPDATE lines SET password_hash = $2 WHERE id = $1`
	tag, err := s.q.Exec(ctx, q, lineID, hash)
	if err != nil {
		return fmt.Errorf("set line password: %w", interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set line password: %w", ErrNotFound)
	}
	return nil
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
