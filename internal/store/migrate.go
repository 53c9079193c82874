package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"github.com/xtreamd/xtreamd/migrations"
)

// VersionTable records the applied migration version.
const VersionTable = "public.schema_version"

// MigrationStatus says where the schema stands.
type MigrationStatus struct {
	Current int32    // version applied
	Latest  int32    // version of the newest embedded migration
	Pending []string // names of migrations not applied yet, in order
}

// Migrate applies every pending embedded migration, each in its own transaction, under tern's
// advisory lock (so instances starting together migrate once).
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return MigrateFS(ctx, pool, migrations.FS)
}

// MigrateFS applies the migrations of fsys; a failing one is rolled back and stops the run.
func MigrateFS(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS) error {
	return withMigrator(ctx, pool, fsys, func(m *migrate.Migrator) error {
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		return nil
	})
}

// Status reports the applied and pending embedded migrations.
func Status(ctx context.Context, pool *pgxpool.Pool) (MigrationStatus, error) {
	var st MigrationStatus
	err := withMigrator(ctx, pool, migrations.FS, func(m *migrate.Migrator) error {
		cur, err := m.GetCurrentVersion(ctx)
		if err != nil {
			return fmt.Errorf("migration status: %w", err)
		}
		st.Current = cur
		st.Latest = int32(len(m.Migrations))
		sort.Slice(m.Migrations, func(i, j int) bool { return m.Migrations[i].Sequence < m.Migrations[j].Sequence })
		for _, mg := range m.Migrations {
			if mg.Sequence > cur {
				st.Pending = append(st.Pending, mg.Name)
			}
		}
		return nil
	})
	return st, err
}

// withMigrator runs fn on a dedicated connection that is closed afterwards, so tern's
// session-level advisory lock can never stay behind on a pooled connection.
func withMigrator(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, fn func(*migrate.Migrator) error) error {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := m.LoadMigrations(fsys); err != nil {
		return fmt.Errorf("migrate: load: %w", err)
	}
	return fn(m)
}

// Migrate applies every pending embedded migration on the store's database.
func (s *Store) Migrate(ctx context.Context) error { return Migrate(ctx, s.pool) }

// MigrationStatus reports the applied and pending embedded migrations.
func (s *Store) MigrationStatus(ctx context.Context) (MigrationStatus, error) {
	return Status(ctx, s.pool)
}

// SchemaCurrent reports whether every embedded migration is applied (for /readyz). It reads
// the version table only, without taking tern's lock.
func (s *Store) SchemaCurrent(ctx context.Context) (bool, error) {
	var v int32
	if err := s.q.QueryRow(ctx, "SELECT version FROM "+VersionTable).Scan(&v); err != nil {
		return false, fmt.Errorf("schema version: %w", err)
	}
	return v >= latestEmbedded, nil
}

// latestEmbedded is the number of embedded migration files.
var latestEmbedded = func() int32 {
	names, err := migrate.FindMigrations(migrations.FS)
	if err != nil {
		panic(fmt.Sprintf("embedded migrations: %v", err)) // a build defect, caught by every test
	}
	return int32(len(names))
}()
