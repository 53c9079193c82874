package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolOptions tune a pool beyond what the connection string says.
type PoolOptions struct {
	MaxConns        int32 // 0: keep the DSN's pool_max_conns, or pgx's default
	ApplicationName string
}

// Open connects a pool to dsn, checks within ctx that the server answers, and returns a Store
// on it (Close it when done). The error names the server, never the password.
func Open(ctx context.Context, dsn string, opts PoolOptions) (*Store, error) {
	pool, err := OpenPool(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	return New(pool), nil
}

// Close closes the store's pool.
func (s *Store) Close() { s.pool.Close() }

// OpenPool is Open returning the bare pool.
func OpenPool(ctx context.Context, dsn string, opts PoolOptions) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.ApplicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = opts.ApplicationName
	}
	cfg.HealthCheckPeriod = 15 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect database: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect database: %w", err)
	}
	return pool, nil
}

// EnsureDatabase creates database name on the server of maintenanceDSN if it does not exist.
func EnsureDatabase(ctx context.Context, maintenanceDSN, name string) error {
	conn, err := pgx.Connect(ctx, maintenanceDSN)
	if err != nil {
		return fmt.Errorf("connect database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// bulkSlots is how many of a pool's connections bulk reads may hold at once: a quarter, at
// least one. The rest always serve what must stay fast under load: access checks, lease
// acquisition and renewal, /readyz.
func bulkSlots(maxConns int32) int { return max(1, int(maxConns)/4) }

// bulkRead runs fn, one query of a bulk read (a page of a guide export), on one of the pool's
// bulk slots and within programmePageWait (the wait for a slot included). However many guide
// downloads run, they hold at most bulkSlots connections, and only for a page's query: never
// while a client reads. Inside a transaction fn runs as it is (the connection is held anyway).
func (s *Store) bulkRead(ctx context.Context, fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, programmePageWait)
	defer cancel()
	if s.bulk != nil {
		select {
		case s.bulk <- struct{}{}:
			defer func() { <-s.bulk }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fn(ctx)
}
