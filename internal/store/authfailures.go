package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// RecordAuthFailure counts a failed login from ip in a window of the given length (a new
// window starts when the old one is over) and returns the failures counted in the current
// window. One statement, so every instance counts together.
func (s *Store) RecordAuthFailure(ctx context.Context, ip netip.Addr, window time.Duration) (int, error) {
	const q = `INSERT INTO auth_failures AS f (client_ip) VALUES ($1::inet)
		ON CONFLICT (client_ip) DO UPDATE SET
			failures = CASE WHEN f.window_started_at <= now() - $2 * interval '1 second' THEN 1 ELSE f.failures + 1 END,
			window_started_at = CASE WHEN f.window_started_at <= now() - $2 * interval '1 second' THEN now() ELSE f.window_started_at END
		RETURNING failures`
	var n int
	if err := s.q.QueryRow(ctx, q, ip.String(), window.Seconds()).Scan(&n); err != nil {
		return 0, fmt.Errorf("record auth failure: %w", interpret(err))
	}
	return n, nil
}

// ClearAuthFailures forgets the failures of ip (after a block is placed).
func (s *Store) ClearAuthFailures(ctx context.Context, ip netip.Addr) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM auth_failures WHERE client_ip = $1::inet`, ip.String()); err != nil {
		return fmt.Errorf("clear auth failures: %w", interpret(err))
	}
	return nil
}
