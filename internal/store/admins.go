package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Admin is an account of the admin API and web page: an admin, a reseller (with credits and
// maybe a parent reseller) or a viewer.
type Admin struct {
	ID              int64      `db:"id" json:"id"`
	Username        string     `db:"username" json:"username"`
	PasswordHash    string     `db:"password_hash" json:"-" audit:"secret"`
	Role            string     `db:"role" json:"role"`
	Disabled        bool       `db:"disabled" json:"disabled"`
	Credits         int64      `db:"credits" json:"credits"`
	Notes           string     `db:"notes" json:"notes"`
	ParentID        *int64     `db:"parent_id" json:"parent_id"`
	MaxTrialsPerDay int        `db:"max_trials_per_day" json:"max_trials_per_day"`
	CreatedAt       time.Time  `db:"created_at" json:"-" audit:"-"`
	UpdatedAt       time.Time  `db:"updated_at" json:"-" audit:"-"`
	LastLoginAt     *time.Time `db:"last_login_at" json:"-" audit:"-"`
}

// adminColumns matches Admin field for field, on the alias a.
const adminColumns = `a.id, a.username, a.password_hash, a.role, a.disabled, a.credits, a.notes, a.parent_id,
	a.max_trials_per_day, a.created_at, a.updated_at, a.last_login_at`

func (a *Admin) fields() []any {
	return []any{&a.ID, &a.Username, &a.PasswordHash, &a.Role, &a.Disabled, &a.Credits, &a.Notes, &a.ParentID,
		&a.MaxTrialsPerDay, &a.CreatedAt, &a.UpdatedAt, &a.LastLoginAt}
}

func scanAdmin(row pgx.CollectableRow) (Admin, error) {
	var a Admin
	return a, row.Scan(a.fields()...)
}

// CreateAdmin inserts an admin; a taken username is ErrConflict.
func (s *Store) CreateAdmin(ctx context.Context, username, passwordHash, role string) (int64, error) {
	return s.InsertAdmin(ctx, AdminInput{Username: username, PasswordHash: passwordHash, Role: role, MaxTrialsPerDay: 5})
}

// AdminInput holds the writable fields of an admin.
type AdminInput struct {
	Username        string
	PasswordHash    string
	Role            string
	Disabled        bool
	Notes           string
	ParentID        *int64
	MaxTrialsPerDay int
}

// InsertAdmin inserts an admin and returns its id: a taken username is ErrConflict, an
// unknown parent ErrNotFound.
func (s *Store) InsertAdmin(ctx context.Context, in AdminInput) (int64, error) {
	const q = `INSERT INTO admins (username, password_hash, role, disabled, notes, parent_id, max_trials_per_day)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, in.Username, in.PasswordHash, in.Role, in.Disabled, in.Notes, in.ParentID,
		in.MaxTrialsPerDay).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create admin %q: %w", in.Username, interpret(err))
	}
	return id, nil
}

// UpdateAdmin writes every writable field of admin id but the password (SetAdminPasswordHash).
func (s *Store) UpdateAdmin(ctx context.Context, id int64, in AdminInput) error {
	const q = `UPDATE admins SET username = $2, role = $3, disabled = $4, notes = $5, parent_id = $6,
		max_trials_per_day = $7 WHERE id = $1`
	return s.execOne(ctx, "update admin", q, id, in.Username, in.Role, in.Disabled, in.Notes, in.ParentID, in.MaxTrialsPerDay)
}

// SetAdminPassword replaces an admin's password hash; an unknown username is ErrNotFound.
func (s *Store) SetAdminPassword(ctx context.Context, username, passwordHash string) error {
	const q = `UPDATE admins SET password_hash = $2 WHERE username = $1`
	return s.execOne(ctx, "set admin password", q, username, passwordHash)
}

// SetAdminPasswordHash replaces the password hash of admin id.
func (s *Store) SetAdminPasswordHash(ctx context.Context, id int64, passwordHash string) error {
	const q = `UPDATE admins SET password_hash = $2 WHERE id = $1`
	return s.execOne(ctx, "set admin password", q, id, passwordHash)
}

// AdminByUsername returns the admin with exactly this username.
func (s *Store) AdminByUsername(ctx context.Context, username string) (Admin, error) {
	const q = `SELECT ` + adminColumns + ` FROM admins a WHERE a.username = $1`
	return s.oneAdmin(ctx, q, username)
}

// AdminByID returns admin id.
func (s *Store) AdminByID(ctx context.Context, id int64) (Admin, error) {
	const q = `SELECT ` + adminColumns + ` FROM admins a WHERE a.id = $1`
	return s.oneAdmin(ctx, q, id)
}

// LockAdmin returns admin id locked until the transaction ends (call it inside InTx): the
// row every credit move and trial count of a reseller serialises on.
func (s *Store) LockAdmin(ctx context.Context, id int64) (Admin, error) {
	const q = `SELECT ` + adminColumns + ` FROM admins a WHERE a.id = $1 FOR UPDATE`
	return s.oneAdmin(ctx, q, id)
}

func (s *Store) oneAdmin(ctx context.Context, q string, arg any) (Admin, error) {
	rows, _ := s.q.Query(ctx, q, arg)
	a, err := pgx.CollectExactlyOneRow(rows, scanAdmin)
	if err != nil {
		return Admin{}, fmt.Errorf("admin %v: %w", arg, interpret(err))
	}
	return a, nil
}

// DeleteAdmin deletes admin id (its sessions and keys go with it; its lines keep no owner).
func (s *Store) DeleteAdmin(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete admin", `DELETE FROM admins WHERE id = $1`, id)
}

// AdminSubtree returns the ids of admin id and every reseller below it (its sub-resellers,
// theirs ...), id first.
func (s *Store) AdminSubtree(ctx context.Context, id int64) ([]int64, error) {
	const q = `WITH RECURSIVE tree(id, depth) AS (
			SELECT id, 0 FROM admins WHERE id = $1
			UNION
			SELECT a.id, t.depth + 1 FROM admins a JOIN tree t ON a.parent_id = t.id WHERE t.depth < 32
		)
		SELECT id FROM tree ORDER BY depth, id`
	return collect(ctx, s, "admin subtree", pgx.RowTo[int64], q, id)
}

// AdminFilter selects admins for a list; zero fields match everything. Within restricts the
// list to these ids (a reseller's subtree); nil means no restriction.
type AdminFilter struct {
	Within   []int64
	Role     string
	Username string // prefix
	ParentID int64
	AfterID  int64 // keyset: ids above it, ascending
	Limit    int
}

// ListAdmins returns admins matching f in id order.
func (s *Store) ListAdmins(ctx context.Context, f AdminFilter) ([]Admin, error) {
	const q = `SELECT ` + adminColumns + ` FROM admins a
		WHERE ($1::bigint[] IS NULL OR a.id = ANY($1))
		  AND ($2 = '' OR a.role = $2)
		  AND ($3 = '' OR a.username LIKE $3 || '%')
		  AND ($4 = 0 OR a.parent_id = $4)
		  AND a.id > $5
		ORDER BY a.id LIMIT $6`
	return collect(ctx, s, "list admins", scanAdmin, q, f.Within, f.Role, likePrefix(f.Username), f.ParentID, f.AfterID, clampLimit(f.Limit))
}
