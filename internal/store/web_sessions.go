package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebSession is a browser login as a request sees it: its admin session, the admin as it is
// now, and the synchronizer token of its forms.
type WebSession struct {
	SessionID     int64     `db:"session_id"`
	CSRFToken     string    `db:"csrf_token"`
	SeenAt        time.Time `db:"seen_at"`
	IdleExpiresAt time.Time `db:"idle_expires_at"`
	Admin         Admin     `db:"-"`
}

// CreateWebSession records a browser login's cookie token (its SHA-256) on admin session
// sessionID.
func (s *Store) CreateWebSession(ctx context.Context, tokenSHA256 []byte, sessionID int64, csrf string, idleUntil time.Time) error {
	const q = `INSERT INTO admin_web_sessions (token_sha256, session_id, csrf_token, idle_expires_at) VALUES ($1, $2, $3, $4)`
	if _, err := s.q.Exec(ctx, q, tokenSHA256, sessionID, csrf, idleUntil); err != nil {
		return fmt.Errorf("create web session: %w", interpret(err))
	}
	return nil
}

// LiveWebSession returns the browser login of this token: live while its idle deadline has
// not passed, its admin session is neither revoked nor expired and its admin is enabled.
// Anything else is ErrNotFound.
func (s *Store) LiveWebSession(ctx context.Context, tokenSHA256 []byte) (WebSession, error) {
	const q = `SELECT w.session_id, w.csrf_token, w.seen_at, w.idle_expires_at, ` + adminColumns + `
		FROM admin_web_sessions w
		JOIN admin_sessions s ON s.id = w.session_id
		JOIN admins a ON a.id = s.admin_id
		WHERE w.token_sha256 = $1 AND w.idle_expires_at > now() AND s.revoked_at IS NULL AND s.expires_at > now()
			AND NOT a.disabled`
	var w WebSession
	dst := append([]any{&w.SessionID, &w.CSRFToken, &w.SeenAt, &w.IdleExpiresAt}, w.Admin.fields()...)
	if err := s.q.QueryRow(ctx, q, tokenSHA256).Scan(dst...); err != nil {
		return WebSession{}, fmt.Errorf("web session: %w", interpret(err))
	}
	return w, nil
}

// TouchWebSession moves a browser login's idle deadline to idleUntil.
func (s *Store) TouchWebSession(ctx context.Context, tokenSHA256 []byte, idleUntil time.Time) error {
	const q = `UPDATE admin_web_sessions SET seen_at = now(), idle_expires_at = $2 WHERE token_sha256 = $1`
	return s.execOne(ctx, "touch web session", q, tokenSHA256, idleUntil)
}

// DeleteWebSession forgets a browser login's cookie token.
func (s *Store) DeleteWebSession(ctx context.Context, tokenSHA256 []byte) error {
	const q = `DELETE FROM admin_web_sessions WHERE token_sha256 = $1`
	if _, err := s.q.Exec(ctx, q, tokenSHA256); err != nil {
		return fmt.Errorf("delete web session: %w", interpret(err))
	}
	return nil
}

// SweepWebSessions deletes browser logins idle since before the given time.
func (s *Store) SweepWebSessions(ctx context.Context, before time.Time) (int64, error) {
	const q = `DELETE FROM admin_web_sessions WHERE idle_expires_at < $1`
	tag, err := s.q.Exec(ctx, q, before)
	if err != nil {
		return 0, fmt.Errorf("sweep web sessions: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// TOTP is an admin's second factor as stored: the sealed secret, whether enrolment is
// confirmed, and the last 30-second step a code was accepted for.
type TOTP struct {
	AdminID      int64      `db:"admin_id"`
	SecretSealed []byte     `db:"secret_sealed"`
	EnabledAt    *time.Time `db:"enabled_at"`
	LastStep     int64      `db:"last_step"`
}

// AdminTOTP returns an admin's TOTP row (ErrNotFound: none).
func (s *Store) AdminTOTP(ctx context.Context, adminID int64) (TOTP, error) {
	const q = `SELECT admin_id, secret_sealed, enabled_at, last_step FROM admin_totp WHERE admin_id = $1`
	rows, _ := s.q.Query(ctx, q, adminID)
	t, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[TOTP])
	if err != nil {
		return TOTP{}, fmt.Errorf("admin totp: %w", interpret(err))
	}
	return t, nil
}

// StartTOTP stores a new, unconfirmed secret for an admin, replacing an unconfirmed one. A
// confirmed one stays: ErrConflict.
func (s *Store) StartTOTP(ctx context.Context, adminID int64, sealed []byte) error {
	const q = `INSERT INTO admin_totp (admin_id, secret_sealed) VALUES ($1, $2)
		ON CONFLICT (admin_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed, last_step = 0, created_at = now()
		WHERE admin_totp.enabled_at IS NULL`
	tag, err := s.q.Exec(ctx, q, adminID, sealed)
	if err != nil {
		return fmt.Errorf("start totp: %w", interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("start totp: %w", ErrConflict)
	}
	return nil
}

// UseTOTPStep records that a code of step was accepted, if no code of that step or a later
// one was; false means the code was used already (a replay). enable also confirms enrolment.
func (s *Store) UseTOTPStep(ctx context.Context, adminID, step int64, enable bool) (bool, error) {
	const q = `UPDATE admin_totp SET last_step = $2,
			enabled_at = CASE WHEN $3 THEN coalesce(enabled_at, now()) ELSE enabled_at END
		WHERE admin_id = $1 AND last_step < $2 AND (enabled_at IS NOT NULL OR $3)`
	tag, err := s.q.Exec(ctx, q, adminID, step, enable)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteTOTP removes an admin's second factor and recovery codes, reporting whether there was one.
func (s *Store) DeleteTOTP(ctx context.Context, adminID int64) (bool, error) {
	const q = `DELETE FROM admin_totp WHERE admin_id = $1`
	const codes = `DELETE FROM admin_recovery_codes WHERE admin_id = $1`
	if _, err := s.q.Exec(ctx, codes, adminID); err != nil {
		return false, fmt.Errorf("delete recovery codes: %w", interpret(err))
	}
	tag, err := s.q.Exec(ctx, q, adminID)
	if err != nil {
		return false, fmt.Errorf("delete totp: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// SetRecoveryCodes replaces an admin's recovery codes with these SHA-256s.
func (s *Store) SetRecoveryCodes(ctx context.Context, adminID int64, sums [][]byte) error {
	const del = `DELETE FROM admin_recovery_codes WHERE admin_id = $1`
	const ins = `INSERT INTO admin_recovery_codes (admin_id, code_sha256) SELECT $1, unnest($2::bytea[])`
	if _, err := s.q.Exec(ctx, del, adminID); err != nil {
		return fmt.Errorf("set recovery codes: %w", interpret(err))
	}
	if _, err := s.q.Exec(ctx, ins, adminID, sums); err != nil {
		return fmt.Errorf("set recovery codes: %w", interpret(err))
	}
	return nil
}

// UseRecoveryCode spends an unused recovery code (its SHA-256) of an admin; false: no such
// unused code.
func (s *Store) UseRecoveryCode(ctx context.Context, adminID int64, sum []byte) (bool, error) {
	const q = `UPDATE admin_recovery_codes SET used_at = now() WHERE admin_id = $1 AND code_sha256 = $2 AND used_at IS NULL`
	tag, err := s.q.Exec(ctx, q, adminID, sum)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// RecoveryCodesLeft counts an admin's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, adminID int64) (int, error) {
	const q = `SELECT count(*) FROM admin_recovery_codes WHERE admin_id = $1 AND used_at IS NULL`
	var n int
	if err := s.q.QueryRow(ctx, q, adminID).Scan(&n); err != nil {
		return 0, fmt.Errorf("recovery codes left: %w", interpret(err))
	}
	return n, nil
}
