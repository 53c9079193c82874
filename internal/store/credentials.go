package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// VerifiedCredential is a line's verified-credential record (011_verified_credentials): the MAC
// internal/credential computed over the credentials that last verified for the line. The store
// neither computes nor understands it.
type VerifiedCredential struct {
	LineID    int64     `db:"line_id"`
	MAC       []byte    `db:"mac"`
	ExpiresAt time.Time `db:"expires_at"`
}

// VerifiedCredential returns the line's record if one is live; ErrNotFound otherwise.
func (s *Store) VerifiedCredential(ctx context.Context, lineID int64) (VerifiedCredential, error) {
	const q = `SELECT line_id, mac, expires_at FROM verified_credentials WHERE line_id = $1 AND expires_at > now()`
	rows, _ := s.q.Query(ctx, q, lineID)
	vc, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[VerifiedCredential])
	if err != nil {
		return VerifiedCredential{}, fmt.Errorf("verified credential of line %d: %w", lineID, interpret(err))
	}
	return vc, nil
}

// PutVerifiedCredentials writes records (LineID and MAC; ExpiresAt is ignored), each live for
// ttl from now, replacing a line's previous record. Records of lines deleted meanwhile are
// skipped.
func (s *Store) PutVerifiedCredentials(ctx context.Context, recs []VerifiedCredential, ttl time.Duration) error {
	if len(recs) == 0 {
		return nil
	}
	// The join with lines skips lines deleted since their verification (a foreign-key error would
	// lose the whole batch); one still deleted in the meantime fails it, which costs a rehash.
	const q = `INSERT INTO verified_credentials (line_id, mac, expires_at)
	SELECT r.line_id, r.mac, now() + $3 * interval '1 second'
	FROM unnest($1::bigint[], $2::bytea[]) AS r(line_id, mac) JOIN lines l ON l.id = r.line_id
	ON CONFLICT (line_id) DO UPDATE SET mac = excluded.mac, expires_at = excluded.expires_at`
	ids, macs := make([]int64, 0, len(recs)), make([][]byte, 0, len(recs))
	seen := make(map[int64]bool, len(recs))
	for i := len(recs) - 1; i >= 0; i-- { // the newest of a line's records wins
		if r := recs[i]; !seen[r.LineID] {
			seen[r.LineID] = true
			ids, macs = append(ids, r.LineID), append(macs, r.MAC)
		}
	}
	if _, err := s.q.Exec(ctx, q, ids, macs, ttl.Seconds()); err != nil {
		return fmt.Errorf("put verified credentials: %w", interpret(err))
	}
	return nil
}

// SweepVerifiedCredentials deletes expired records and returns how many.
func (s *Store) SweepVerifiedCredentials(ctx context.Context) (int64, error) {
	const q = `DELETE FROM verified_credentials WHERE expires_at <= now()`
	tag, err := s.q.Exec(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("sweep verified credentials: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// LiveVerifiedCredentials returns up to limit live records, the longest-lived first (the most
// recently written), for warming a fresh instance's caches.
func (s *Store) LiveVerifiedCredentials(ctx context.Context, limit int) ([]VerifiedCredential, error) {
	const q = `SELECT line_id, mac, expires_at FROM verified_credentials WHERE expires_at > now()
	ORDER BY expires_at DESC LIMIT $1`
	return many[VerifiedCredential](ctx, s, "live verified credentials", q, limit)
}

// LinesByIDs returns the lines with these ids that exist, in no particular order.
func (s *Store) LinesByIDs(ctx context.Context, ids []int64) ([]Line, error) {
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.id = ANY($1)`
	return collect(ctx, s, "lines by ids", scanLine, q, ids)
}
