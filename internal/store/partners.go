package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Partner clients, their registration tokens, the signing keys of their access tokens and the
// revocations of partner access tokens and media sessions (009_partners).

// Partner is a partner client. Only the SHA-256 of its secret is kept.
type Partner struct {
	ID                  int64
	ClientID            string
	Name                string
	SecretSHA256        []byte
	SecretGeneration    int
	Scopes              []string
	BouquetIDs          []int64
	LineIDs             []int64
	AllowedIPs          []netip.Prefix
	Registration        string // "admin" or "dynamic"
	RegistrationTokenID *int64
	CreatedByAdminID    *int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
	RevokedAt           *time.Time
}

const partnerColumns = `p.id, p.client_id, p.name, p.secret_sha256, p.secret_generation, p.scopes, p.bouquet_ids,
	p.line_ids, p.allowed_ips::text[], p.registration, p.registration_token_id, p.created_by_admin_id, p.created_at,
	p.updated_at, p.revoked_at`

func scanPartner(row pgx.CollectableRow) (Partner, error) {
	var p Partner
	var ips []string
	err := row.Scan(&p.ID, &p.ClientID, &p.Name, &p.SecretSHA256, &p.SecretGeneration, &p.Scopes, &p.BouquetIDs,
		&p.LineIDs, &ips, &p.Registration, &p.RegistrationTokenID, &p.CreatedByAdminID, &p.CreatedAt, &p.UpdatedAt,
		&p.RevokedAt)
	if err != nil {
		return Partner{}, err
	}
	p.AllowedIPs, err = parsePrefixes(ips)
	return p, err
}

// parsePrefixes parses the text form of a cidr[] column.
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for _, s := range ss {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("network %q: %w", s, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// PartnerInput is what an admin (or a registration) sets on a partner client.
type PartnerInput struct {
	Name                string
	Scopes              []string
	BouquetIDs          []int64
	LineIDs             []int64
	AllowedIPs          []netip.Prefix
	Registration        string // "" is "admin"
	RegistrationTokenID *int64
	CreatedByAdminID    *int64
}

// CreatePartner stores a new partner client with its public id and secret sum; a taken
// client id is ErrConflict.
func (s *Store) CreatePartner(ctx context.Context, clientID string, secretSHA256 []byte, in PartnerInput) (Partner, error) {
	const q = `INSERT INTO partner_clients AS p (client_id, name, secret_sha256, scopes, bouquet_ids, line_ids, allowed_ips,
		registration, registration_token_id, created_by_admin_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7::text[]::cidr[], coalesce(nullif($8, ''), 'admin'), $9, $10)
	RETURNING ` + partnerColumns
	rows, _ := s.q.Query(ctx, q, clientID, in.Name, secretSHA256, nonNilStrings(in.Scopes), nonNilIDs(in.BouquetIDs),
		nonNilIDs(in.LineIDs), prefixStrings(in.AllowedIPs), in.Registration, in.RegistrationTokenID, in.CreatedByAdminID)
	p, err := pgx.CollectExactlyOneRow(rows, scanPartner)
	if err != nil {
		return Partner{}, fmt.Errorf("create partner: %w", interpret(err))
	}
	return p, nil
}

// PartnerByID returns partner client id (revoked ones too).
func (s *Store) PartnerByID(ctx context.Context, id int64) (Partner, error) {
	return s.onePartner(ctx, `SELECT `+partnerColumns+` FROM partner_clients p WHERE p.id = $1`, id)
}

// LockPartner returns partner client id locked for an update in this transaction.
func (s *Store) LockPartner(ctx context.Context, id int64) (Partner, error) {
	return s.onePartner(ctx, `SELECT `+partnerColumns+` FROM partner_clients p WHERE p.id = $1 FOR UPDATE`, id)
}

func (s *Store) onePartner(ctx context.Context, q string, args ...any) (Partner, error) {
	rows, _ := s.q.Query(ctx, q, args...)
	p, err := pgx.CollectExactlyOneRow(rows, scanPartner)
	if err != nil {
		return Partner{}, fmt.Errorf("partner: %w", interpret(err))
	}
	return p, nil
}

// ListPartners returns up to limit partner clients after afterID, in id order.
func (s *Store) ListPartners(ctx context.Context, afterID int64, limit int) ([]Partner, error) {
	const q = `SELECT ` + partnerColumns + ` FROM partner_clients p WHERE p.id > $1 ORDER BY p.id LIMIT $2`
	return collect(ctx, s, "list partners", scanPartner, q, afterID, clampLimit(limit))
}

// ActivePartners returns every partner client that is not revoked (the directory's load).
func (s *Store) ActivePartners(ctx context.Context) ([]Partner, error) {
	const q = `SELECT ` + partnerColumns + ` FROM partner_clients p WHERE p.revoked_at IS NULL ORDER BY p.id`
	return collect(ctx, s, "active partners", scanPartner, q)
}

// UpdatePartner replaces the name and scope of partner client id.
func (s *Store) UpdatePartner(ctx context.Context, id int64, in PartnerInput) (Partner, error) {
	const q = `UPDATE partner_clients AS p SET name = $2, scopes = $3, bouquet_ids = $4, line_ids = $5,
		allowed_ips = $6::text[]::cidr[] WHERE p.id = $1 RETURNING ` + partnerColumns
	return s.onePartner(ctx, q, id, in.Name, nonNilStrings(in.Scopes), nonNilIDs(in.BouquetIDs), nonNilIDs(in.LineIDs),
		prefixStrings(in.AllowedIPs))
}

// SetPartnerSecret replaces the secret of partner client id and counts a new secret
// generation (the old secret's access tokens name the old one).
func (s *Store) SetPartnerSecret(ctx context.Context, id int64, secretSHA256 []byte) (Partner, error) {
	const q = `UPDATE partner_clients AS p SET secret_sha256 = $2, secret_generation = secret_generation + 1
		WHERE p.id = $1 RETURNING ` + partnerColumns
	return s.onePartner(ctx, q, id, secretSHA256)
}

// RevokePartner revokes partner client id (it stays, for the audit trail); revoking a revoked
// one changes nothing.
func (s *Store) RevokePartner(ctx context.Context, id int64) error {
	const q = `UPDATE partner_clients SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`
	tag, err := s.q.Exec(ctx, q, id)
	if err != nil {
		return fmt.Errorf("revoke partner: %w", interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke partner: %w", ErrNotFound)
	}
	return nil
}

// TableLines names the lines table for UnknownIDs.
const TableLines Table = "lines"

// UnknownIDs returns those of ids that name no row of table (TableBouquets or TableLines, so
// no other name reaches SQL).
func (s *Store) UnknownIDs(ctx context.Context, table Table, ids []int64) ([]int64, error) {
	if table != TableBouquets && table != TableLines {
		return nil, fmt.Errorf("unknown ids of %s: %w", table, ErrInvalid)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT i FROM unnest($1::bigint[]) AS i WHERE NOT EXISTS (SELECT 1 FROM ` + string(table) + ` t WHERE t.id = i) ORDER BY i`
	rows, _ := s.q.Query(ctx, q, ids)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("unknown %s: %w", table, interpret(err))
	}
	return out, nil
}

// RegistrationToken is an initial access token of dynamic client registration, with the grant
// a partner registering with it gets.
type RegistrationToken struct {
	ID               int64
	Name             string
	Scopes           []string
	BouquetIDs       []int64
	LineIDs          []int64
	AllowedIPs       []netip.Prefix
	MaxUses          int
	Uses             int
	ExpiresAt        time.Time
	RevokedAt        *time.Time
	CreatedByAdminID *int64
	CreatedAt        time.Time
}

const registrationTokenColumns = `r.id, r.name, r.scopes, r.bouquet_ids, r.line_ids, r.allowed_ips::text[], r.max_uses,
	r.uses, r.expires_at, r.revoked_at, r.created_by_admin_id, r.created_at`

func scanRegistrationToken(row pgx.CollectableRow) (RegistrationToken, error) {
	var r RegistrationToken
	var ips []string
	err := row.Scan(&r.ID, &r.Name, &r.Scopes, &r.BouquetIDs, &r.LineIDs, &ips, &r.MaxUses, &r.Uses, &r.ExpiresAt,
		&r.RevokedAt, &r.CreatedByAdminID, &r.CreatedAt)
	if err != nil {
		return RegistrationToken{}, err
	}
	r.AllowedIPs, err = parsePrefixes(ips)
	return r, err
}

// CreateRegistrationToken stores an initial access token (its SHA-256) with its grant.
func (s *Store) CreateRegistrationToken(ctx context.Context, sum []byte, r RegistrationToken) (RegistrationToken, error) {
	const q = `INSERT INTO partner_registration_tokens AS r (name, token_sha256, scopes, bouquet_ids, line_ids, allowed_ips,
		max_uses, expires_at, created_by_admin_id)
	VALUES ($1, $2, $3, $4, $5, $6::text[]::cidr[], $7, $8, $9) RETURNING ` + registrationTokenColumns
	rows, _ := s.q.Query(ctx, q, r.Name, sum, nonNilStrings(r.Scopes), nonNilIDs(r.BouquetIDs), nonNilIDs(r.LineIDs),
		prefixStrings(r.AllowedIPs), r.MaxUses, r.ExpiresAt, r.CreatedByAdminID)
	out, err := pgx.CollectExactlyOneRow(rows, scanRegistrationToken)
	if err != nil {
		return RegistrationToken{}, fmt.Errorf("create registration token: %w", interpret(err))
	}
	return out, nil
}

// ListRegistrationTokens returns up to limit initial access tokens after afterID, in id order.
func (s *Store) ListRegistrationTokens(ctx context.Context, afterID int64, limit int) ([]RegistrationToken, error) {
	const q = `SELECT ` + registrationTokenColumns + ` FROM partner_registration_tokens r WHERE r.id > $1 ORDER BY r.id LIMIT $2`
	return collect(ctx, s, "list registration tokens", scanRegistrationToken, q, afterID, clampLimit(limit))
}

// RevokeRegistrationToken revokes initial access token id.
func (s *Store) RevokeRegistrationToken(ctx context.Context, id int64) error {
	const q = `UPDATE partner_registration_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`
	tag, err := s.q.Exec(ctx, q, id)
	if err != nil {
		return fmt.Errorf("revoke registration token: %w", interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("revoke registration token: %w", ErrNotFound)
	}
	return nil
}

// UseRegistrationToken spends one use of the initial access token with this SHA-256 and
// returns it: ErrNotFound when there is none that is unrevoked, unexpired and not used up.
// The check and the count are one statement, so concurrent registrations never exceed
// max_uses.
func (s *Store) UseRegistrationToken(ctx context.Context, sum []byte) (RegistrationToken, error) {
	const q = `UPDATE partner_registration_tokens AS r SET uses = uses + 1
		WHERE r.token_sha256 = $1 AND r.revoked_at IS NULL AND r.expires_at > now() AND r.uses < r.max_uses
		RETURNING ` + registrationTokenColumns
	rows, _ := s.q.Query(ctx, q, sum)
	out, err := pgx.CollectExactlyOneRow(rows, scanRegistrationToken)
	if err != nil {
		return RegistrationToken{}, fmt.Errorf("use registration token: %w", interpret(err))
	}
	return out, nil
}

// SigningKey is a partner access-token signing key: its id names it ("pk<id>"), its material
// is derived, never stored.
type SigningKey struct {
	ID        int64      `db:"id"`
	CreatedAt time.Time  `db:"created_at"`
	RetiredAt *time.Time `db:"retired_at"` // nil: the current key
}

// PartnerSigningKeys returns every signing key, newest first.
func (s *Store) PartnerSigningKeys(ctx context.Context) ([]SigningKey, error) {
	const q = `SELECT id, created_at, retired_at FROM partner_signing_keys ORDER BY id DESC`
	return many[SigningKey](ctx, s, "partner signing keys", q)
}

// RotatePartnerKey retires the current signing key and makes a new one current, returning
// it. A rotation running at the same time makes this one ErrConflict.
func (s *Store) RotatePartnerKey(ctx context.Context) (SigningKey, error) {
	const retire = `UPDATE partner_signing_keys SET retired_at = now() WHERE retired_at IS NULL`
	const add = `INSERT INTO partner_signing_keys DEFAULT VALUES RETURNING id, created_at, retired_at`
	if _, err := s.q.Exec(ctx, retire); err != nil {
		return SigningKey{}, fmt.Errorf("rotate partner key: %w", interpret(err))
	}
	rows, _ := s.q.Query(ctx, add)
	k, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[SigningKey])
	if err != nil {
		return SigningKey{}, fmt.Errorf("rotate partner key: %w", interpret(err))
	}
	return k, nil
}

// The kinds of partner revocation.
const (
	RevokedAccessToken  = "access_token"  // a partner access token, by jti
	RevokedMediaSession = "media_session" // a media-token session
)

// Revocation is a revoked partner access token or media session, kept until ExpiresAt.
type Revocation struct {
	TokenID   [16]byte
	ExpiresAt time.Time
}

// RevokePartnerToken records the revocation of a token of kind (RevokedAccessToken or
// RevokedMediaSession) issued by partner partnerID (for line lineID; 0: none) that expires at
// expiresAt; the trigger tells every instance. It reports whether it was revoked just now
// (false: it was already).
func (s *Store) RevokePartnerToken(ctx context.Context, kind string, id [16]byte, partnerID, lineID int64, expiresAt time.Time) (bool, error) {
	const q = `INSERT INTO partner_revocations (kind, token_id, partner_id, line_id, expires_at)
		VALUES ($1, $2, nullif($3, 0), nullif($4, 0), $5) ON CONFLICT (kind, token_id) DO NOTHING`
	tag, err := s.q.Exec(ctx, q, kind, id[:], partnerID, lineID, expiresAt)
	if err != nil {
		return false, fmt.Errorf("revoke partner token: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// PartnerRevocations returns the revocations of kind whose token has not expired yet.
func (s *Store) PartnerRevocations(ctx context.Context, kind string) ([]Revocation, error) {
	const q = `SELECT token_id, expires_at FROM partner_revocations WHERE kind = $1 AND expires_at > now()`
	rows, _ := s.q.Query(ctx, q, kind)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Revocation, error) {
		var r Revocation
		var id []byte
		if err := row.Scan(&id, &r.ExpiresAt); err != nil {
			return r, err
		}
		copy(r.TokenID[:], id) // the schema keeps it at 16 bytes
		return r, nil
	})
	if err != nil {
		return nil, fmt.Errorf("partner revocations: %w", interpret(err))
	}
	return out, nil
}

// SweepPartnerRevocations deletes the revocations whose token expired before before.
func (s *Store) SweepPartnerRevocations(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.q.Exec(ctx, `DELETE FROM partner_revocations WHERE expires_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("sweep partner revocations: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}
