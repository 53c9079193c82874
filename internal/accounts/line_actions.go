package accounts

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
)

// ActionKind is a per-line action of the admin surfaces.
type ActionKind string

// The per-line actions (spec §4.1: what XC's api.php does with user_data[admin_enabled],
// [enabled] and [exp_date]).
const (
	ActionBan     ActionKind = "ban"     // an admin's: the line is refused (USER_BAN)
	ActionUnban   ActionKind = "unban"   // lifts a ban
	ActionDisable ActionKind = "disable" // the owner's: the line is refused (USER_DISABLED)
	ActionEnable  ActionKind = "enable"  // lifts a disable
	ActionExtend  ActionKind = "extend"  // by Days (admins) or a package's duration (charged to a reseller)
)

// LineAction is an action on one or many lines.
type LineAction struct {
	Kind      ActionKind
	Days      int   // ActionExtend by an admin: 1 to 3650 days
	PackageID int64 // ActionExtend by a package: its duration, connections and bouquets
}

func (a LineAction) check(p Principal) error {
	switch a.Kind {
	case ActionBan, ActionUnban:
		if p.Role == RoleReseller {
			return &FieldError{Field: "action", Reason: "banning is an admin's", Kind: ErrForbidden}
		}
	case ActionDisable, ActionEnable:
	case ActionExtend:
		switch {
		case (a.Days == 0) == (a.PackageID == 0):
			return invalid("days", "give days or package_id")
		case a.Days != 0 && p.Role == RoleReseller:
			return &FieldError{Field: "days", Reason: "a reseller extends by a package", Kind: ErrForbidden}
		case a.Days < 0 || a.Days > 3650:
			return invalid("days", "1 to 3650")
		}
	default:
		return invalid("action", "ban, unban, disable, enable or extend")
	}
	return nil
}

// ActOnLines applies a to every line of ids (at most 1000) in one transaction, each with its
// audit entry and, for a reseller's extension, its price: all lines change or none. It
// returns the lines as they are now, in id order.
func (s *Service) ActOnLines(ctx context.Context, p Principal, ids []int64, a LineAction) ([]store.Line, error) {
	if err := writable(p); err != nil {
		return nil, fmt.Errorf("line %s: %w", a.Kind, err)
	}
	if err := a.check(p); err != nil {
		return nil, fmt.Errorf("line %s: %w", a.Kind, err)
	}
	ids = slices.Clone(ids)
	slices.Sort(ids) // lock in id order: two bulk actions cannot deadlock
	ids = slices.Compact(ids)
	if len(ids) == 0 || len(ids) > maxBulkAction {
		return nil, fmt.Errorf("line %s: %w", a.Kind, invalid("ids", "1 to 1000 line ids"))
	}
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		r, err := reachOf(ctx, tx, p)
		if err != nil {
			return err
		}
		var buy *purchase
		if a.Kind == ActionExtend {
			if buy, err = s.packageFor(ctx, tx, p, a.PackageID, "line.extend", len(ids)); err != nil {
				return err
			}
			if buy != nil && buy.pkg.IsTrial {
				return invalid("package_id", "a trial package only makes new lines")
			}
		}
		for i, id := range ids {
			if err := s.actOn(ctx, tx, p, r, id, a, buy); err != nil {
				return indexed(err, i, len(ids))
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("line %s: %w", a.Kind, err)
	}
	return s.store.LinesByID(ctx, ids)
}

// actOn applies a to line id on tx.
func (s *Service) actOn(ctx context.Context, tx *store.Store, p Principal, r reach, id int64, a LineAction, buy *purchase) error {
	before, err := lockOwned(ctx, tx, p, r, id)
	if err != nil {
		return err
	}
	after := before
	switch a.Kind {
	case ActionBan, ActionUnban:
		after.Banned = a.Kind == ActionBan
	case ActionDisable, ActionEnable:
		after.Disabled = a.Kind == ActionDisable
	case ActionExtend:
		if err := s.extend(&after, a, buy); err != nil {
			return err
		}
	}
	if err := writeLine(ctx, tx, before, after); err != nil {
		return err
	}
	if buy != nil && p.Role == RoleReseller {
		if err := pay(ctx, tx, p, *buy, id); err != nil {
			return err
		}
	}
	e := entry("line."+string(a.Kind), "line", id)
	e.Before, e.After = audit.Diff(before, after)
	if buy != nil {
		e.Extra = map[string]any{"package_id": buy.pkg.ID, "credits": buy.pkg.Credits}
	}
	return audit.Record(ctx, tx, p.Actor, e)
}

// extend moves l's expiry on by a's days or package: from its expiry, or from now when that
// has passed. A package also renews the line's connections, bouquets and trial flag.
func (s *Service) extend(l *store.Line, a LineAction, buy *purchase) error {
	if l.ExpDate == nil {
		return invalid("exp_date", "the line never expires")
	}
	base := *l.ExpDate
	if now := s.now(); now.After(base) {
		base = now
	}
	by := time.Duration(a.Days) * 24 * time.Hour
	if buy != nil {
		by = time.Duration(buy.pkg.DurationHours) * time.Hour
		l.MaxConnections, l.BouquetIDs, l.IsTrial = buy.pkg.MaxConnections, buy.pkg.BouquetIDs, false
	}
	exp := base.Add(by).Truncate(time.Second)
	l.ExpDate = &exp
	return nil
}
