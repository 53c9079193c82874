package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Credits are a reseller's balance. They move only through the ledger (store.MoveCredits),
// on the transaction of what they pay for and after the reseller's row is locked
// (store.LockAdmin): concurrent purchases queue on that lock, each sees the balance the one
// before left, and the schema refuses a negative balance besides. So a balance can never go
// below zero nor pay twice: 50 parallel creations with credit for 10 make exactly 10 lines.

// trialWindow is the day a reseller's trial limit counts over.
const trialWindow = 24 * time.Hour

// purchase is what a reseller pays for in one transaction: n lines (or extensions) of a
// package.
type purchase struct {
	reason string // line.create or line.extend
	pkg    store.Package
	n      int
}

// afford locks reseller id's row and checks that its balance covers buy and, for new trial
// lines, that its trials of the last day leave room for them. It returns the locked reseller.
func afford(ctx context.Context, tx *store.Store, id int64, buy purchase) (store.Admin, error) {
	adm, err := tx.LockAdmin(ctx, id)
	if err != nil {
		return store.Admin{}, err
	}
	if adm.Credits < buy.pkg.Credits*int64(buy.n) {
		return store.Admin{}, fmt.Errorf("%w: %d credits, %d needed", ErrInsufficientCredits, adm.Credits, buy.pkg.Credits*int64(buy.n))
	}
	if buy.pkg.IsTrial && buy.reason == "line.create" {
		used, err := tx.TrialsWithin(ctx, id, trialWindow)
		if err != nil {
			return store.Admin{}, err
		}
		if used+buy.n > adm.MaxTrialsPerDay {
			return store.Admin{}, fmt.Errorf("%w: %d of %d used", ErrTrialLimit, used, adm.MaxTrialsPerDay)
		}
	}
	return adm, nil
}

// pay records one line's price on the ledger (after afford on the same transaction).
func pay(ctx context.Context, tx *store.Store, p Principal, buy purchase, lineID int64) error {
	actor, pkgID := p.AdminID(), buy.pkg.ID
	_, err := tx.MoveCredits(ctx, store.LedgerEntry{AdminID: p.AdminID(), Delta: -buy.pkg.Credits, Reason: buy.reason,
		IsTrial: buy.pkg.IsTrial, LineID: &lineID, PackageID: &pkgID, ActorAdminID: &actor})
	if errors.Is(err, store.ErrInvalid) { // afford checked; only a concurrent writer outside the lock gets here
		return fmt.Errorf("%w: balance changed", ErrInsufficientCredits)
	}
	return err
}

// AdjustCredits moves delta credits to reseller target. An admin adds or takes credits
// (delta of either sign) from any reseller; a reseller transfers credits (delta > 0) from
// its own balance to a reseller below it. Both sides' moves are on the ledger; a balance that
// would go negative is ErrInsufficientCredits. It returns the target's ledger entry.
func (s *Service) AdjustCredits(ctx context.Context, p Principal, target, delta int64, note string) (store.LedgerEntry, error) {
	switch {
	case writable(p) != nil:
		return store.LedgerEntry{}, fmt.Errorf("adjust credits: %w", writable(p))
	case delta == 0 || delta > 1e9 || delta < -1e9:
		return store.LedgerEntry{}, fmt.Errorf("adjust credits: %w", invalid("amount", "non-zero, at most 10^9 either way"))
	case !input.Text(note, 4*1024) || len([]rune(note)) > 1024:
		return store.LedgerEntry{}, fmt.Errorf("adjust credits: %w", invalid("note", "at most 1024 characters"))
	case p.Role == RoleReseller && (delta < 0 || target == p.AdminID()):
		return store.LedgerEntry{}, fmt.Errorf("adjust credits: %w",
			&FieldError{Field: "amount", Reason: "a reseller only gives its own credits to a reseller below it", Kind: ErrForbidden})
	}
	var out store.LedgerEntry
	e := entry("credits.adjust", "admin", target)
	e.Extra = map[string]any{"amount": delta, "note": note}
	err := s.change(ctx, p, e, func(tx *store.Store) (any, any, error) {
		var err error
		out, err = s.moveCredits(ctx, tx, p, target, delta, note)
		return nil, nil, err
	})
	if err != nil {
		return store.LedgerEntry{}, fmt.Errorf("adjust credits: %w", err)
	}
	return out, nil
}

func (s *Service) moveCredits(ctx context.Context, tx *store.Store, p Principal, target, delta int64, note string) (store.LedgerEntry, error) {
	r, err := reachOf(ctx, tx, p)
	if err != nil {
		return store.LedgerEntry{}, err
	}
	if !r.has(target) {
		return store.LedgerEntry{}, notYours("id")
	}
	actor := p.AdminID()
	var from *int64
	if p.Role == RoleReseller {
		// Lock both rows in id order, so two opposite transfers cannot deadlock.
		first, second := min(actor, target), max(actor, target)
		if _, err := tx.LockAdmin(ctx, first); err != nil {
			return store.LedgerEntry{}, missing(err, "id", "admin")
		}
		if _, err := tx.LockAdmin(ctx, second); err != nil {
			return store.LedgerEntry{}, missing(err, "id", "admin")
		}
		from = &actor
		if _, err := tx.MoveCredits(ctx, store.LedgerEntry{AdminID: actor, Delta: -delta, Reason: "transfer.out",
			CounterpartyID: &target, ActorAdminID: &actor, Note: note}); err != nil {
			return store.LedgerEntry{}, creditRefusal(err)
		}
	}
	adm, err := tx.LockAdmin(ctx, target)
	if err != nil {
		return store.LedgerEntry{}, missing(err, "id", "admin")
	}
	if adm.Role != string(RoleReseller) {
		return store.LedgerEntry{}, invalid("id", "only resellers have credits")
	}
	reason := "adjust"
	if from != nil {
		reason = "transfer.in"
	}
	var actorID *int64
	if actor != 0 {
		actorID = &actor
	}
	out, err := tx.MoveCredits(ctx, store.LedgerEntry{AdminID: target, Delta: delta, Reason: reason,
		CounterpartyID: from, ActorAdminID: actorID, Note: note})
	return out, creditRefusal(err)
}

func creditRefusal(err error) error {
	if errors.Is(err, store.ErrInvalid) {
		return fmt.Errorf("%w: the balance would go negative", ErrInsufficientCredits)
	}
	return err
}

// Ledger returns the credit moves of reseller id, newest first, before beforeID.
func (s *Service) Ledger(ctx context.Context, p Principal, id, beforeID int64, limit int) ([]store.LedgerEntry, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	if _, err := s.store.AdminByID(ctx, id); err != nil {
		return nil, fmt.Errorf("ledger: %w", missing(err, "id", "admin"))
	}
	if !r.has(id) {
		return nil, fmt.Errorf("ledger: %w", notYours("id"))
	}
	out, err := s.store.Ledger(ctx, id, beforeID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return out, nil
}
