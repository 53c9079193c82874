package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewAdminSession is a login to record: the session (a refresh-token family) and its first
// refresh token, kept as a SHA-256 (none for a browser login: TokenSHA256 nil).
type NewAdminSession struct {
	AdminID        int64
	ExpiresAt      time.Time // the family's absolute end
	ClientIP       netip.Addr
	UserAgent      string
	TokenSHA256    []byte
	TokenExpiresAt time.Time
}

// CreateAdminSession records a login and its first refresh token, and stamps the admin's
// last login, and returns the session id.
func (s *Store) CreateAdminSession(ctx context.Context, in NewAdminSession) (int64, error) {
	const q = `INSERT INTO admin_sessions (admin_id, expires_at, client_ip, user_agent)
		VALUES ($1, $2, $3::inet, $4) RETURNING id`
	const stamp = `UPDATE admins SET last_login_at = now() WHERE id = $1`
	var ip any
	if in.ClientIP.IsValid() {
		ip = in.ClientIP.Unmap().String()
	}
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q.QueryRow(ctx, q, in.AdminID, in.ExpiresAt, ip, truncateUTF8(in.UserAgent, 512)).Scan(&id); err != nil {
			return err
		}
		if in.TokenSHA256 != nil {
			if err := tx.AddRefreshToken(ctx, id, in.TokenSHA256, in.TokenExpiresAt); err != nil {
				return err
			}
		}
		_, err := tx.q.Exec(ctx, stamp, in.AdminID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create admin session: %w", interpret(err))
	}
	return id, nil
}

// AddRefreshToken adds a refresh token (its SHA-256) to session sessionID.
func (s *Store) AddRefreshToken(ctx context.Context, sessionID int64, tokenSHA256 []byte, expiresAt time.Time) error {
	const q = `INSERT INTO admin_refresh_tokens (session_id, token_sha256, expires_at) VALUES ($1, $2, $3)`
	if _, err := s.q.Exec(ctx, q, sessionID, tokenSHA256, expiresAt); err != nil {
		return fmt.Errorf("add refresh token: %w", interpret(err))
	}
	return nil
}

// RefreshToken is a refresh token with its session and admin, as a refresh sees them.
type RefreshToken struct {
	ID               int64      `db:"id"`
	SessionID        int64      `db:"session_id"`
	ExpiresAt        time.Time  `db:"expires_at"`
	UsedAt           *time.Time `db:"used_at"`
	SessionExpiresAt time.Time  `db:"session_expires_at"`
	SessionRevokedAt *time.Time `db:"session_revoked_at"`
	Admin            Admin      `db:"-"`
}

// LockRefreshToken returns the refresh token with this SHA-256, locking it and its session
// until the transaction ends (call it inside InTx), so two refreshes with one token are
// serialised: the second sees the first's use. An unknown token is ErrNotFound.
func (s *Store) LockRefreshToken(ctx context.Context, tokenSHA256 []byte) (RefreshToken, error) {
	const q = `SELECT t.id, t.session_id, t.expires_at, t.used_at, s.expires_at, s.revoked_at, ` + adminColumns + `
		FROM admin_refresh_tokens t
		JOIN admin_sessions s ON s.id = t.session_id
		JOIN admins a ON a.id = s.admin_id
		WHERE t.token_sha256 = $1
		FOR UPDATE OF t, s`
	rows, _ := s.q.Query(ctx, q, tokenSHA256)
	rt, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (RefreshToken, error) {
		var rt RefreshToken
		dst := append([]any{&rt.ID, &rt.SessionID, &rt.ExpiresAt, &rt.UsedAt, &rt.SessionExpiresAt, &rt.SessionRevokedAt},
			rt.Admin.fields()...)
		return rt, row.Scan(dst...)
	})
	if err != nil {
		return RefreshToken{}, fmt.Errorf("lock refresh token: %w", interpret(err))
	}
	return rt, nil
}

// UseRefreshToken marks refresh token id used and stamps its session's last refresh.
func (s *Store) UseRefreshToken(ctx context.Context, id, sessionID int64) error {
	const q = `UPDATE admin_refresh_tokens SET used_at = now() WHERE id = $1`
	const stamp = `UPDATE admin_sessions SET refreshed_at = now() WHERE id = $1`
	if err := s.execOne(ctx, "use refresh token", q, id); err != nil {
		return err
	}
	return s.execOne(ctx, "use refresh token", stamp, sessionID)
}

// RevokeAdminSession revokes session id for reason (its trigger tells every instance) and
// reports whether it was live until now.
func (s *Store) RevokeAdminSession(ctx context.Context, id int64, reason string) (bool, error) {
	const q = `UPDATE admin_sessions SET revoked_at = now(), revoke_reason = $2 WHERE id = $1 AND revoked_at IS NULL`
	tag, err := s.q.Exec(ctx, q, id, truncateUTF8(reason, 64))
	if err != nil {
		return false, fmt.Errorf("revoke admin session: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// RevokeAdminSessions revokes every live session of an admin (disabled, deleted, role or
// password changed) and returns their ids.
func (s *Store) RevokeAdminSessions(ctx context.Context, adminID int64, reason string) ([]int64, error) {
	const q = `UPDATE admin_sessions SET revoked_at = now(), revoke_reason = $2
		WHERE admin_id = $1 AND revoked_at IS NULL RETURNING id`
	return collect(ctx, s, "revoke admin sessions", pgx.RowTo[int64], q, adminID, truncateUTF8(reason, 64))
}

// RevokedAdminSessions returns the sessions revoked since the given time: the ones whose
// access tokens may still be unexpired.
func (s *Store) RevokedAdminSessions(ctx context.Context, since time.Time) ([]int64, error) {
	const q = `SELECT id FROM admin_sessions WHERE revoked_at >= $1`
	return collect(ctx, s, "revoked admin sessions", pgx.RowTo[int64], q, since)
}

// SweepAdminSessions deletes sessions (and their refresh tokens) that ended before the given
// time, and returns how many.
func (s *Store) SweepAdminSessions(ctx context.Context, before time.Time) (int64, error) {
	const q = `DELETE FROM admin_sessions WHERE expires_at < $1 OR revoked_at < $1`
	tag, err := s.q.Exec(ctx, q, before)
	if err != nil {
		return 0, fmt.Errorf("sweep admin sessions: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}
