package accounts

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Packages are what resellers sell: a duration, a connection limit, bouquets, a trial flag
// and a price in credits. Admins manage them; resellers see the enabled ones.

var packageRefusals = refusals{
	conflict: FieldError{Field: "name", Reason: "taken", Kind: ErrConflict},
	notFound: FieldError{Field: "bouquet_ids", Reason: "unknown bouquet", Kind: ErrInvalid},
	invalid:  FieldError{Field: "package", Reason: "refused by the schema", Kind: ErrInvalid},
}

func checkPackage(pkg store.Package) error {
	switch {
	case pkg.Name == "" || !input.Text(pkg.Name, 4*128) || utf8.RuneCountInString(pkg.Name) > 128:
		return invalid("name", "1 to 128 characters")
	case pkg.DurationHours < 1 || pkg.DurationHours > 876000:
		return invalid("duration_hours", "1 to 876000 hours")
	case pkg.MaxConnections < 0 || pkg.MaxConnections > 10_000:
		return invalid("max_connections", "0 (unlimited) to 10000")
	case pkg.Credits < 0 || pkg.Credits > 1e9:
		return invalid("credits", "0 to 10^9")
	case len(pkg.BouquetIDs) > maxBouquets:
		return invalid("bouquet_ids", "at most 1000 bouquets")
	}
	seen := map[int64]bool{}
	for _, id := range pkg.BouquetIDs {
		if id <= 0 || seen[id] {
			return invalid("bouquet_ids", "positive ids, each once")
		}
		seen[id] = true
	}
	return nil
}

func adminsOnly(p Principal) error {
	if !p.IsAdmin() {
		return fmt.Errorf("%w: an admin's", ErrForbidden)
	}
	return nil
}

// AddPackage creates a package (admins) and returns it.
func (s *Service) AddPackage(ctx context.Context, p Principal, pkg store.Package) (store.Package, error) {
	if err := adminsOnly(p); err != nil {
		return store.Package{}, fmt.Errorf("create package: %w", err)
	}
	if err := checkPackage(pkg); err != nil {
		return store.Package{}, fmt.Errorf("create package: %w", err)
	}
	var id int64
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if id, err = tx.CreatePackage(ctx, pkg); err != nil {
			return packageRefusals.of(err)
		}
		e := entry("package.create", "package", id)
		e.After = map[string]any{"name": pkg.Name, "credits": pkg.Credits, "duration_hours": pkg.DurationHours,
			"max_connections": pkg.MaxConnections, "is_trial": pkg.IsTrial, "bouquet_ids": pkg.BouquetIDs}
		return audit.Record(ctx, tx, p.Actor, e)
	})
	if err != nil {
		return store.Package{}, fmt.Errorf("create package: %w", err)
	}
	return s.store.PackageByID(ctx, id)
}

// Package returns package id: any to an admin or viewer, an enabled one to a reseller.
func (s *Service) Package(ctx context.Context, p Principal, id int64) (store.Package, error) {
	pkg, err := s.store.PackageByID(ctx, id)
	if err == nil && !pkg.Enabled && p.Role == RoleReseller {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Package{}, fmt.Errorf("package: %w", missing(err, "id", "package"))
	}
	return pkg, nil
}

// ListPackages returns packages in id order after afterID (a reseller: the enabled ones).
func (s *Service) ListPackages(ctx context.Context, p Principal, afterID int64, limit int) ([]store.Package, error) {
	out, err := s.store.ListPackages(ctx, p.Role == RoleReseller, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	return out, nil
}

// PackagePatch changes a package; fields not Given stay.
type PackagePatch struct {
	Name           Field[string]
	DurationHours  Field[int]
	MaxConnections Field[int]
	IsTrial        Field[bool]
	Credits        Field[int64]
	Enabled        Field[bool]
	BouquetIDs     Field[[]int64]
}

// UpdatePackage applies patch to package id (admins). Lines made from it keep what they got.
func (s *Service) UpdatePackage(ctx context.Context, p Principal, id int64, patch PackagePatch) (store.Package, error) {
	if err := adminsOnly(p); err != nil {
		return store.Package{}, fmt.Errorf("update package: %w", err)
	}
	err := s.change(ctx, p, entry("package.update", "package", id), func(tx *store.Store) (any, any, error) {
		before, err := tx.PackageByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "package")
		}
		after := before
		patch.Name.apply(&after.Name)
		patch.DurationHours.apply(&after.DurationHours)
		patch.MaxConnections.apply(&after.MaxConnections)
		patch.IsTrial.apply(&after.IsTrial)
		patch.Credits.apply(&after.Credits)
		patch.Enabled.apply(&after.Enabled)
		patch.BouquetIDs.apply(&after.BouquetIDs)
		if err := checkPackage(after); err != nil {
			return nil, nil, err
		}
		if err := tx.UpdatePackage(ctx, after); err != nil {
			return nil, nil, packageRefusals.of(err)
		}
		return before, after, nil
	})
	if err != nil {
		return store.Package{}, fmt.Errorf("update package: %w", err)
	}
	return s.store.PackageByID(ctx, id)
}

// DeletePackage deletes package id (admins); the ledger keeps its moves without it.
func (s *Service) DeletePackage(ctx context.Context, p Principal, id int64) error {
	if err := adminsOnly(p); err != nil {
		return fmt.Errorf("delete package: %w", err)
	}
	err := s.change(ctx, p, entry("package.delete", "package", id), func(tx *store.Store) (any, any, error) {
		pkg, err := tx.PackageByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "package")
		}
		return map[string]any{"name": pkg.Name}, map[string]any{}, tx.DeletePackage(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete package: %w", err)
	}
	return nil
}
