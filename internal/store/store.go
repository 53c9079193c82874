// Package store is the only package that speaks SQL: the pgx pool, queries, transactions,
// advisory locks, LISTEN/NOTIFY and the schema migrations.
//
// Its files follow the migrations, one per table family: settings.go, admins.go (001_core);
// categories.go, streams.go, stream_import.go, series.go, bouquets.go, catalog.go (the
// snapshot read), epg.go, programmes.go, epg_import.go (002_catalog); lines.go, devices.go,
// mag_events.go (003_lines, 006_portal_sessions); security.go, authfailures.go (004_security);
// leases.go, logs.go (005_connections); credentials.go (verified-credential records,
// 011_verified_credentials); audit.go (audit_log of 001_core). changes.go and
// listen.go carry the change notifications every migration's triggers send, as typed Change
// values. The admin side (007_admin_api, 008_admin_catalog) adds admins and lines_admin.go,
// api_keys.go, credits.go, packages.go, servers.go, devices_admin.go, security_admin.go (the
// security lists with ids), connections.go (live connections, their delivery counters,
// activity search, dashboard counts), imports.go (import_jobs) and keyset.go (the keyset
// pages, single-row reads and row locks of the admin lists). device_auth.go holds second-screen
// activation's device codes and device credentials (migration device_authorization).
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Domain errors: driver errors are interpreted once, here, into these.
var (
	ErrNotFound = errors.New("store: not found")
	ErrConflict = errors.New("store: conflict")
	ErrInvalid  = errors.New("store: invalid value")
)

// querier is what both *pgxpool.Pool and pgx.Tx offer.
type querier interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Store runs queries on a pool, or inside one transaction when obtained through InTx.
type Store struct {
	pool *pgxpool.Pool
	q    querier
	bulk chan struct{} // the pool's bulk-read slots (see bulkRead); nil inside a transaction
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: pool, bulk: make(chan struct{}, bulkSlots(pool.Config().MaxConns))}
}

// Pool returns the underlying pool (for health checks and metrics).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// InTx runs fn in a transaction: committed if fn returns nil, rolled back otherwise. Inside fn,
// tx runs every query in that transaction; a nested InTx becomes a savepoint.
func (s *Store) InTx(ctx context.Context, fn func(tx *Store) error) error {
	return pgx.BeginFunc(ctx, s.q, func(tx pgx.Tx) error {
		return fn(&Store{pool: s.pool, q: tx})
	})
}

// readOnly runs fn in a repeatable-read read-only transaction (or in the current transaction
// when s already is one).
func (s *Store) readOnly(ctx context.Context, fn func(q querier) error) error {
	if _, inTx := s.q.(pgx.Tx); inTx || s.pool == nil {
		return fn(s.q)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx) })
}

// withConn runs fn on one connection: the current transaction, or a connection held from the
// pool for fn's duration (session state such as temporary tables stays on it).
func (s *Store) withConn(ctx context.Context, fn func(c *Store) error) error {
	if _, inTx := s.q.(pgx.Tx); inTx {
		return fn(s)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return fn(&Store{pool: s.pool, q: conn})
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// ConstraintError is a refusal by a named constraint: its Kind (ErrConflict, ErrNotFound or
// ErrInvalid) for errors.Is, and the constraint, for a caller that must tell two unique keys
// of one table apart (mag_devices_mac_key from mag_devices_line_id_key).
type ConstraintError struct {
	Kind       error
	Constraint string
}

// Error reads "store: conflict: lines_username_key".
func (e *ConstraintError) Error() string { return e.Kind.Error() + ": " + e.Constraint }

// Unwrap returns the kind.
func (e *ConstraintError) Unwrap() error { return e.Kind }

// Constraint returns the name of the constraint that refused err, "" when none did.
func Constraint(err error) string {
	var ce *ConstraintError
	if errors.As(err, &ce) {
		return ce.Constraint
	}
	return ""
}

func interpret(err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return ErrNotFound
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case pgerrcode.UniqueViolation:
			return &ConstraintError{Kind: ErrConflict, Constraint: pgErr.ConstraintName}
		case pgerrcode.ForeignKeyViolation:
			return fmt.Errorf("%w: %s", ErrNotFound, pgErr.ConstraintName)
		case pgerrcode.CheckViolation, pgerrcode.NotNullViolation, pgerrcode.InvalidTextRepresentation,
			pgerrcode.NumericValueOutOfRange, pgerrcode.StringDataRightTruncationDataException,
			pgerrcode.InvalidDatetimeFormat, pgerrcode.DatetimeFieldOverflow:
			name := pgErr.ConstraintName
			if name == "" {
				name = pgErr.ColumnName
			}
			return fmt.Errorf("%w: %s", ErrInvalid, name)
		}
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func (s *Store) execOne(ctx context.Context, op, q string, args ...any) error {
	tag, err := s.q.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
