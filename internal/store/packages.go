package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Package is what a reseller sells (packages, package_bouquets; 007_admin_api).
type Package struct {
	ID             int64     `db:"id" audit:"-"`
	Name           string    `db:"name"`
	DurationHours  int       `db:"duration_hours"`
	MaxConnections int       `db:"max_connections"`
	IsTrial        bool      `db:"is_trial"`
	Credits        int64     `db:"credits"`
	Enabled        bool      `db:"enabled"`
	BouquetIDs     []int64   `db:"bouquet_ids"`
	CreatedAt      time.Time `db:"created_at" audit:"-"`
	UpdatedAt      time.Time `db:"updated_at" audit:"-"`
}

const packageColumns = `p.id, p.name, p.duration_hours, p.max_connections, p.is_trial, p.credits, p.enabled,
	ARRAY(SELECT pb.bouquet_id FROM package_bouquets pb WHERE pb.package_id = p.id ORDER BY pb.position, pb.bouquet_id) AS bouquet_ids,
	p.created_at, p.updated_at`

// CreatePackage inserts a package with its bouquets and returns its id: a taken name is
// ErrConflict, an unknown bouquet ErrNotFound.
func (s *Store) CreatePackage(ctx context.Context, p Package) (int64, error) {
	const q = `INSERT INTO packages (name, duration_hours, max_connections, is_trial, credits, enabled)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q.QueryRow(ctx, q, p.Name, p.DurationHours, p.MaxConnections, p.IsTrial, p.Credits, p.Enabled).Scan(&id); err != nil {
			return err
		}
		return tx.setPackageBouquets(ctx, id, p.BouquetIDs)
	})
	if err != nil {
		return 0, fmt.Errorf("create package: %w", interpret(err))
	}
	return id, nil
}

// UpdatePackage writes every field of package p.ID.
func (s *Store) UpdatePackage(ctx context.Context, p Package) error {
	const q = `UPDATE packages SET name = $2, duration_hours = $3, max_connections = $4, is_trial = $5, credits = $6,
		enabled = $7 WHERE id = $1`
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.execOne(ctx, "update package", q, p.ID, p.Name, p.DurationHours, p.MaxConnections, p.IsTrial,
			p.Credits, p.Enabled); err != nil {
			return err
		}
		return tx.setPackageBouquets(ctx, p.ID, p.BouquetIDs)
	})
	if err != nil {
		return fmt.Errorf("update package %d: %w", p.ID, interpret(err))
	}
	return nil
}

func (s *Store) setPackageBouquets(ctx context.Context, id int64, bouquetIDs []int64) error {
	const del = `DELETE FROM package_bouquets WHERE package_id = $1`
	const ins = `INSERT INTO package_bouquets (package_id, bouquet_id, position)
		SELECT $1, b.id, b.pos FROM unnest($2::bigint[]) WITH ORDINALITY AS b(id, pos)
		ON CONFLICT DO NOTHING`
	if _, err := s.q.Exec(ctx, del, id); err != nil {
		return err
	}
	if len(bouquetIDs) == 0 {
		return nil
	}
	_, err := s.q.Exec(ctx, ins, id, bouquetIDs)
	return err
}

// PackageByID returns package id.
func (s *Store) PackageByID(ctx context.Context, id int64) (Package, error) {
	rows, _ := s.q.Query(ctx, `SELECT `+packageColumns+` FROM packages p WHERE p.id = $1`, id)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Package])
	if err != nil {
		return Package{}, fmt.Errorf("package %d: %w", id, interpret(err))
	}
	return p, nil
}

// ListPackages returns packages in id order after afterID; onlyEnabled leaves out disabled ones.
func (s *Store) ListPackages(ctx context.Context, onlyEnabled bool, afterID int64, limit int) ([]Package, error) {
	const q = `SELECT ` + packageColumns + ` FROM packages p WHERE (NOT $1 OR p.enabled) AND p.id > $2 ORDER BY p.id LIMIT $3`
	return many[Package](ctx, s, "list packages", q, onlyEnabled, afterID, clampLimit(limit))
}

// DeletePackage deletes package id (ledger entries keep no package).
func (s *Store) DeletePackage(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete package", `DELETE FROM packages WHERE id = $1`, id)
}
