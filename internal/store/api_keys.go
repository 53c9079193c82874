package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// APIKey is a key of the admin API (api_keys, 001_core; scopes, 007_admin_api), with the admin
// it acts for. Only the key's SHA-256 is kept.
type APIKey struct {
	ID         int64      `db:"id"`
	AdminID    int64      `db:"admin_id"`
	Name       string     `db:"name"`
	Prefix     string     `db:"prefix"`
	KeySHA256  []byte     `db:"key_sha256"`
	Scopes     []string   `db:"scopes"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  *time.Time `db:"expires_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	LastUsedAt *time.Time `db:"last_used_at"`
	Admin      Admin      `db:"-"`
}

const apiKeyColumns = `k.id, k.admin_id, k.name, k.prefix, k.key_sha256, k.scopes, k.created_at, k.expires_at,
	k.revoked_at, k.last_used_at, ` + adminColumns

func scanAPIKey(row pgx.CollectableRow) (APIKey, error) {
	var k APIKey
	dst := append([]any{&k.ID, &k.AdminID, &k.Name, &k.Prefix, &k.KeySHA256, &k.Scopes, &k.CreatedAt, &k.ExpiresAt,
		&k.RevokedAt, &k.LastUsedAt}, k.Admin.fields()...)
	return k, row.Scan(dst...)
}

// NewAPIKey is a key to store.
type NewAPIKey struct {
	AdminID   int64
	Name      string
	Prefix    string
	KeySHA256 []byte
	Scopes    []string
	ExpiresAt *time.Time
}

// CreateAPIKey stores a key and returns its id; a taken prefix is ErrConflict, an unknown
// admin ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, in NewAPIKey) (int64, error) {
	const q = `INSERT INTO api_keys (admin_id, name, prefix, key_sha256, scopes, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, in.AdminID, in.Name, in.Prefix, in.KeySHA256, nonNilStrings(in.Scopes), in.ExpiresAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create api key: %w", interpret(err))
	}
	return id, nil
}

// APIKeyByPrefix returns the key with this prefix (its public id), with its admin.
func (s *Store) APIKeyByPrefix(ctx context.Context, prefix string) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys k JOIN admins a ON a.id = k.admin_id WHERE k.prefix = $1`
	return s.oneAPIKey(ctx, q, prefix)
}

// APIKeyByID returns key id, with its admin.
func (s *Store) APIKeyByID(ctx context.Context, id int64) (APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys k JOIN admins a ON a.id = k.admin_id WHERE k.id = $1`
	return s.oneAPIKey(ctx, q, id)
}

func (s *Store) oneAPIKey(ctx context.Context, q string, arg any) (APIKey, error) {
	rows, _ := s.q.Query(ctx, q, arg)
	k, err := pgx.CollectExactlyOneRow(rows, scanAPIKey)
	if err != nil {
		return APIKey{}, fmt.Errorf("api key: %w", interpret(err))
	}
	return k, nil
}

// TouchAPIKey records a use of key id, at most once a minute (a key may call many times a
// second; its last use needs no finer grain).
func (s *Store) TouchAPIKey(ctx context.Context, id int64) error {
	const q = `UPDATE api_keys SET last_used_at = now()
		WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`
	if _, err := s.q.Exec(ctx, q, id); err != nil {
		return fmt.Errorf("touch api key: %w", interpret(err))
	}
	return nil
}

// ListAPIKeys returns the keys of admin adminID (0: every admin's), in id order after afterID.
func (s *Store) ListAPIKeys(ctx context.Context, adminID, afterID int64, limit int) ([]APIKey, error) {
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys k JOIN admins a ON a.id = k.admin_id
		WHERE ($1 = 0 OR k.admin_id = $1) AND k.id > $2 ORDER BY k.id LIMIT $3`
	return collect(ctx, s, "list api keys", scanAPIKey, q, adminID, afterID, clampLimit(limit))
}

// RevokeAPIKey revokes key id; a key already revoked stays as it was. An unknown key is
// ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id int64) error {
	const q = `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1`
	return s.execOne(ctx, "revoke api key", q, id)
}
