package store

import (
	"context"
	"fmt"
	"time"
)

// Admin is an account of the admin API and web page.
type Admin struct {
	ID           int64      `db:"id"`
	Username     string     `db:"username"`
	PasswordHash string     `db:"password_hash"`
	Role         string     `db:"role"`
	Disabled     bool       `db:"disabled"`
	CreatedAt    time.Time  `db:"created_at"`
	LastLoginAt  *time.Time `db:"last_login_at"`
}

// CreateAdmin inserts an admin; a taken username is ErrConflict.
func (s *Store) CreateAdmin(ctx context.Context, username, passwordHash, role string) (int64, error) {
	const q = `INSERT INTO admins (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, username, passwordHash, role).Scan(&id); err != nil {
		return 0, fmt.Errorf("create admin %q: %w", username, interpret(err))
	}
	return id, nil
}

// SetAdminPassword replaces an admin's password hash; an unknown username is ErrNotFound.
func (s *Store) SetAdminPassword(ctx context.Context, username, passwordHash string) error {
	const q = `UPDATE admins SET password_hash = $2 WHERE username = $1`
	tag, err := s.q.Exec(ctx, q, username, passwordHash)
	if err != nil {
		return fmt.Errorf("set admin password %q: %w", username, interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("set admin password %q: %w", username, ErrNotFound)
	}
	return nil
}
