// Package store is the only package that speaks SQL: the pgx pool, queries, transactions,
// advisory locks, LISTEN/NOTIFY and the schema migrations.
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
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, q: pool}
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

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.q.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
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
			return fmt.Errorf("%w: %s", ErrConflict, pgErr.ConstraintName)
		case pgerrcode.ForeignKeyViolation:
			return fmt.Errorf("%w: %s", ErrNotFound, pgErr.ConstraintName)
		case pgerrcode.CheckViolation, pgerrcode.NotNullViolation, pgerrcode.InvalidTextRepresentation,
			pgerrcode.NumericValueOutOfRange, pgerrcode.StringDataRightTruncationDataException:
			name := pgErr.ConstraintName
			if name == "" {
				name = pgErr.ColumnName
			}
			return fmt.Errorf("%w: %s", ErrInvalid, name)
		}
	}
	return err
}
