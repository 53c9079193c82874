package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"
)

// The auth_failures table counts failed logins per network: the unit a flood block covers (an
// IPv4 /32, an IPv6 /64), stored in the client_ip column as an inet with that netmask. Its
// rows are bounded by TrimAuthFailures.

// RecordAuthFailure counts a failed login from network in a window of the given length (a new
// window starts when the old one is over). It returns the failures counted in the current
// window and whether this failure created the network's counter (a new row, which the caller
// counts towards its next trim). One statement, so every instance counts together.
func (s *Store) RecordAuthFailure(ctx context.Context, network netip.Prefix, window time.Duration) (failures int, created bool, err error) {
	const q = `INSERT INTO auth_failures AS f (client_ip) VALUES ($1::inet)
		ON CONFLICT (client_ip) DO UPDATE SET
			failures = CASE WHEN f.window_started_at <= now() - $2 * interval '1 second' THEN 1 ELSE f.failures + 1 END,
			window_started_at = CASE WHEN f.window_started_at <= now() - $2 * interval '1 second' THEN now() ELSE f.window_started_at END
		RETURNING failures, xmax = 0`
	if err := s.q.QueryRow(ctx, q, network.Masked().String(), window.Seconds()).Scan(&failures, &created); err != nil {
		return 0, false, fmt.Errorf("record auth failure: %w", interpret(err))
	}
	return failures, created, nil
}

// ClearAuthFailures forgets the failures of network (after a block is placed).
func (s *Store) ClearAuthFailures(ctx context.Context, network netip.Prefix) error {
	if _, err := s.q.Exec(ctx, `DELETE FROM auth_failures WHERE client_ip = $1::inet`, network.Masked().String()); err != nil {
		return fmt.Errorf("clear auth failures: %w", interpret(err))
	}
	return nil
}

// TrimAuthFailures deletes the counters whose window is over, then every counter beyond the
// max most advanced ones (most failures first, then the newest window): a spray of one-off
// failures from distinct networks only ever pushes out its own kind, never a counter that is
// close to a block. It returns how many counters it deleted.
func (s *Store) TrimAuthFailures(ctx context.Context, window time.Duration, max int) (int64, error) {
	const expired = `DELETE FROM auth_failures WHERE window_started_at <= now() - $1 * interval '1 second'`
	tag, err := s.q.Exec(ctx, expired, window.Seconds())
	if err != nil {
		return 0, fmt.Errorf("trim auth failures: %w", interpret(err))
	}
	const beyond = `DELETE FROM auth_failures WHERE client_ip IN (
		SELECT client_ip FROM auth_failures ORDER BY failures DESC, window_started_at DESC OFFSET $1)`
	tag2, err := s.q.Exec(ctx, beyond, max)
	if err != nil {
		return 0, fmt.Errorf("trim auth failures: %w", interpret(err))
	}
	return tag.RowsAffected() + tag2.RowsAffected(), nil
}

// AuthFailureCounters is the number of failed-login counters (rows of auth_failures).
func (s *Store) AuthFailureCounters(ctx context.Context) (int, error) {
	var n int
	if err := s.q.QueryRow(ctx, `SELECT count(*) FROM auth_failures`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count auth failures: %w", interpret(err))
	}
	return n, nil
}
