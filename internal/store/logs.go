package store

import (
	"context"
	"fmt"
	"net/netip"
)

// AddActivityBytes records the bytes a lease delivered after someone else ended it (a kill
// from another instance, an expiry sweep).
func (s *Store) AddActivityBytes(ctx context.Context, id [16]byte, bytesOut int64) error {
	const q = `UPDATE activity_log SET bytes_out = greatest(bytes_out, $2) WHERE lease_id = $1`
	if _, err := s.q.Exec(ctx, q, id, bytesOut); err != nil {
		return fmt.Errorf("activity bytes: %w", interpret(err))
	}
	return nil
}

// LogClientDenial writes a refused request to the client log.
func (s *Store) LogClientDenial(ctx context.Context, lineID *int64, username, code, surface string, ip netip.Addr, userAgent string, streamID *int64) error {
	const q = `INSERT INTO client_log (line_id, username, code, surface, client_ip, user_agent, stream_id)
		VALUES ($1, $2, $3, $4, $5::inet, $6, $7)`
	var ipArg any
	if ip.IsValid() {
		ipArg = ip.String()
	}
	if _, err := s.q.Exec(ctx, q, lineID, truncateUTF8(username, 128), code, surface, ipArg, truncateUTF8(userAgent, 512), streamID); err != nil {
		return fmt.Errorf("client log: %w", interpret(err))
	}
	return nil
}
