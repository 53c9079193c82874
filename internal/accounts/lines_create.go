package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
)

// prepared is a new line checked and hashed, ready for the transaction.
type prepared struct {
	in        NewLine
	cred      Credentials
	hash      string
	generated bool // the username was generated: draw again if it is taken
}

// AddLines creates lines (one, or a bulk of up to 100 from one package) and returns each
// one's credentials, passwords in clear for the only time. The passwords are hashed before
// the transaction; then, in one transaction, a reseller's balance and trials are checked
// under its lock, every line is written with its ledger entry and audit entry, and all of it
// commits or none. A taken username is a conflict on "username" (lines[i].username for a bulk).
func (s *Service) AddLines(ctx context.Context, p Principal, ins []NewLine) ([]Credentials, error) {
	if err := writable(p); err != nil {
		return nil, fmt.Errorf("create lines: %w", err)
	}
	if len(ins) == 0 || len(ins) > maxBulk {
		return nil, fmt.Errorf("create lines: %w", invalid("count", "1 to 100 lines at once"))
	}
	preps := make([]prepared, len(ins))
	for i, in := range ins {
		if in.PackageID != ins[0].PackageID {
			return nil, fmt.Errorf("create lines: %w", invalid("package_id", "one package for all lines of a call"))
		}
		var err error
		if preps[i], err = s.prepareLine(p, in); err != nil {
			return nil, fmt.Errorf("create lines: %w", indexed(err, i, len(ins)))
		}
	}
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		r, err := reachOf(ctx, tx, p)
		if err != nil {
			return err
		}
		buy, err := s.packageFor(ctx, tx, p, ins[0].PackageID, "line.create", len(ins))
		if err != nil {
			return err
		}
		for i := range preps {
			if err := s.insertLine(ctx, tx, p, r, &preps[i], buy); err != nil {
				return indexed(err, i, len(ins))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create lines: %w", err)
	}
	out := make([]Credentials, len(preps))
	for i, pr := range preps {
		out[i] = pr.cred
	}
	return out, nil
}

// indexed names the line of a bulk a refusal is about: lines[3].username.
func indexed(err error, i, n int) error {
	var fe *FieldError
	if n == 1 || !errors.As(err, &fe) {
		return err
	}
	c := *fe
	c.Field = "lines[" + strconv.Itoa(i) + "]." + c.Field
	return &c
}

// prepareLine checks what can be checked of a new line before the transaction, generates what
// is missing and hashes the password.
func (s *Service) prepareLine(p Principal, in NewLine) (prepared, error) {
	pr := prepared{in: in, generated: in.Username == ""}
	if p.Role == RoleReseller {
		if in.PackageID == 0 {
			return prepared{}, invalid("package_id", "required: a reseller's lines come from a package")
		}
		if err := in.resellerSetsNothingElse(); err != nil {
			return prepared{}, err
		}
	}
	if pr.generated {
		var err error
		if pr.in.Username, err = generate(s.rand, s.policy.LineGeneratedLen); err != nil {
			return prepared{}, err
		}
	}
	if err := checkLine(pr.in.row(nil, s.now())); err != nil {
		return prepared{}, err
	}
	cred, hash, err := s.newPassword(in.Password, s.policy.LineGeneratedLen, s.policy.CheckLinePassword)
	if err != nil {
		return prepared{}, err
	}
	cred.Username = pr.in.Username
	pr.cred, pr.hash = cred, hash
	return pr, nil
}

// packageFor reads the package a reseller or an admin uses (none: nil purchase) and, for a
// reseller, locks its row and checks that it can pay for n of them.
func (s *Service) packageFor(ctx context.Context, tx *store.Store, p Principal, id int64, reason string, n int) (*purchase, error) {
	if id == 0 {
		return nil, nil
	}
	pkg, err := tx.PackageByID(ctx, id)
	if err != nil {
		return nil, missing(err, "package_id", "package")
	}
	if p.Role != RoleReseller {
		return &purchase{reason: reason, pkg: pkg}, nil // admins use packages as templates, free
	}
	if !pkg.Enabled {
		return nil, invalid("package_id", "package disabled")
	}
	buy := purchase{reason: reason, pkg: pkg, n: n}
	if _, err := afford(ctx, tx, p.AdminID(), buy); err != nil {
		return nil, err
	}
	return &buy, nil
}

// insertLine writes one prepared line on tx: its row (drawing another generated username on
// a collision), its price on the ledger for a reseller, and its audit entry.
func (s *Service) insertLine(ctx context.Context, tx *store.Store, p Principal, r reach, pr *prepared, buy *purchase) error {
	var pkg *store.Package
	if buy != nil {
		pkg = &buy.pkg
	}
	row := pr.in.row(pkg, s.now())
	row.PasswordHash = pr.hash
	if p.Role == RoleReseller && row.OwnerAdminID == nil {
		self := p.AdminID()
		row.OwnerAdminID = &self
	}
	if err := checkLine(row); err != nil {
		return err
	}
	if row.OwnerAdminID != nil || !r.all {
		if err := checkOwner(ctx, tx, r, row.OwnerAdminID); err != nil {
			return err
		}
	}
	var id int64
	var err error
	for attempt := 0; ; attempt++ {
		id, err = tx.CreateLine(ctx, row) // a savepoint: a collision leaves the transaction usable
		if !errors.Is(err, store.ErrConflict) || !pr.generated || attempt == 2 {
			break
		}
		if row.Username, err = generate(s.rand, s.policy.LineGeneratedLen); err != nil {
			return err
		}
	}
	if err != nil {
		return lineRefusals.of(err)
	}
	pr.cred.ID, pr.cred.Username = id, row.Username
	if buy != nil && p.Role == RoleReseller {
		if err := pay(ctx, tx, p, *buy, id); err != nil {
			return err
		}
	}
	e := entry("line.create", "line", id)
	e.After = lineAudit(row)
	if buy != nil {
		e.Extra = map[string]any{"package_id": buy.pkg.ID, "credits": buy.pkg.Credits}
	}
	return audit.Record(ctx, tx, p.Actor, e)
}

// lineAudit is what a new line's audit entry records of it (never its hash).
func lineAudit(row store.LineInput) map[string]any {
	_, after := audit.Diff(store.Line{}, store.Line{Username: row.Username, ExpDate: row.ExpDate, Banned: row.Banned,
		Disabled: row.Disabled, MaxConnections: row.MaxConnections, IsTrial: row.IsTrial, IsRestreamer: row.IsRestreamer,
		IsMAG: row.IsMAG, AllowedIPs: row.AllowedIPs, AllowedUserAgents: row.AllowedUserAgents, BypassUABlock: row.BypassUABlock,
		ForcedCountry: row.ForcedCountry, ISPLock: row.ISPLock, AllowedOutputFormats: row.AllowedOutputFormats,
		OwnerAdminID: row.OwnerAdminID, BouquetIDs: row.BouquetIDs})
	return after
}
