package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The reads of re-authorization: the lines whose open streams are checked again after a change,
// fresh from the database (never from a cache).

// LinesByID returns the lines with these ids (in no particular order); ids without a line are
// left out (deleted lines).
func (s *Store) LinesByID(ctx context.Context, ids []int64) ([]Line, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	const q = `SELECT ` + lineColumns + ` FROM lines l WHERE l.id = ANY($1)`
	rows, _ := s.q.Query(ctx, q, ids)
	out, err := pgx.CollectRows(rows, scanLine)
	if err != nil {
		return nil, fmt.Errorf("lines by id: %w", interpret(err))
	}
	return out, nil
}

// MAGTokenSums returns the SHA-256 sums of the portal session tokens of the MAG devices bound
// to a line (devices without a session are left out).
func (s *Store) MAGTokenSums(ctx context.Context, lineID int64) ([][]byte, error) {
	const q = `SELECT token_sha256 FROM mag_devices WHERE line_id = $1 AND token_sha256 IS NOT NULL AND token_expires_at > now()`
	rows, _ := s.q.Query(ctx, q, lineID)
	out, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("mag tokens of line %d: %w", lineID, interpret(err))
	}
	return out, nil
}
