package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// LedgerEntry is one move of a reseller's credits (credit_ledger, 007_admin_api).
type LedgerEntry struct {
	ID             int64     `db:"id"`
	At             time.Time `db:"at"`
	AdminID        int64     `db:"admin_id"`
	Delta          int64     `db:"delta"`
	BalanceAfter   int64     `db:"balance_after"`
	Reason         string    `db:"reason"` // line.create, line.extend, transfer.in, transfer.out, adjust
	IsTrial        bool      `db:"is_trial"`
	LineID         *int64    `db:"line_id"`
	PackageID      *int64    `db:"package_id"`
	CounterpartyID *int64    `db:"counterparty_id"`
	ActorAdminID   *int64    `db:"actor_admin_id"`
	Note           string    `db:"note"`
}

// MoveCredits changes admin e.AdminID's balance by e.Delta and records the move, in one
// statement: the balance check (credits + delta >= 0) and the ledger row cannot disagree.
// Call it inside InTx after LockAdmin, on the transaction of what the credits pay for. A move
// the balance does not cover is ErrInvalid (admins_credits_nonnegative) and changes nothing.
func (s *Store) MoveCredits(ctx context.Context, e LedgerEntry) (LedgerEntry, error) {
	const q = `WITH moved AS (
			UPDATE admins SET credits = credits + $2 WHERE id = $1 RETURNING credits
		)
		INSERT INTO credit_ledger (admin_id, delta, balance_after, reason, is_trial, line_id, package_id,
			counterparty_id, actor_admin_id, note)
		SELECT $1, $2, credits, $3, $4, $5, $6, $7, $8, $9 FROM moved
		RETURNING id, at, admin_id, delta, balance_after, reason, is_trial, line_id, package_id, counterparty_id,
			actor_admin_id, note`
	rows, _ := s.q.Query(ctx, q, e.AdminID, e.Delta, e.Reason, e.IsTrial, e.LineID, e.PackageID, e.CounterpartyID,
		e.ActorAdminID, truncateUTF8(e.Note, 1024))
	out, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[LedgerEntry])
	if err != nil {
		return LedgerEntry{}, fmt.Errorf("move credits: %w", interpret(err))
	}
	return out, nil
}

// TrialsWithin counts the trial lines admin adminID made within the last window (by the
// database's clock, the one the ledger's times are written with).
func (s *Store) TrialsWithin(ctx context.Context, adminID int64, window time.Duration) (int, error) {
	const q = `SELECT count(*) FROM credit_ledger
		WHERE admin_id = $1 AND is_trial AND reason = 'line.create' AND at > now() - $2 * interval '1 second'`
	var n int
	if err := s.q.QueryRow(ctx, q, adminID, window.Seconds()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count trials: %w", interpret(err))
	}
	return n, nil
}

// Ledger returns admin adminID's moves newest first, before beforeID (0: from the newest).
func (s *Store) Ledger(ctx context.Context, adminID, beforeID int64, limit int) ([]LedgerEntry, error) {
	const q = `SELECT id, at, admin_id, delta, balance_after, reason, is_trial, line_id, package_id, counterparty_id,
			actor_admin_id, note
		FROM credit_ledger WHERE admin_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`
	return many[LedgerEntry](ctx, s, "ledger", q, adminID, beforeID, clampLimit(limit))
}
