package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The reads of re-authorization besides LinesByID (lines_admin.go): what a line's open streams
// are checked against again after a change, fresh from the database (never from a cache).

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
