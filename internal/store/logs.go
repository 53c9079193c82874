package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"
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

// ClientLogEntry is one refused request of client_log.
type ClientLogEntry struct {
	ID        int64       `db:"id"`
	At        time.Time   `db:"at"`
	LineID    *int64      `db:"line_id"`
	Username  string      `db:"username"`
	Code      string      `db:"code"`
	Surface   string      `db:"surface"`
	ClientIP  *netip.Addr `db:"client_ip"`
	UserAgent string      `db:"user_agent"`
	StreamID  *int64      `db:"stream_id"`
}

// ClientLogFilter selects client log entries; zero fields match everything. Entries come
// newest first; BeforeID pages (entries with a smaller id), Limit caps the page.
type ClientLogFilter struct {
	LineID   int64
	Code     string
	Surface  string
	Network  netip.Prefix
	Since    time.Time // at or after
	Until    time.Time // before
	Owners   []int64   // only lines of these owners; nil: every entry, with or without a line
	BeforeID int64
	Limit    int
}

// SearchClientLog returns the refused requests f selects, newest first.
func (s *Store) SearchClientLog(ctx context.Context, f ClientLogFilter) ([]ClientLogEntry, error) {
	var lq listQuery
	where := lq.filter([]filterCond{
		{f.LineID != 0, "c.line_id = %s", f.LineID},
		{f.Code != "", "c.code = %s", f.Code},
		{f.Surface != "", "c.surface = %s", f.Surface},
		{f.Network.IsValid(), "c.client_ip <<= %s::cidr", f.Network.Masked().String()},
		{!f.Since.IsZero(), "c.at >= %s", f.Since},
		{!f.Until.IsZero(), "c.at < %s", f.Until},
		{f.Owners != nil, "c.line_id IN (SELECT id FROM lines WHERE owner_admin_id = ANY(%s))", f.Owners},
		{f.BeforeID != 0, "c.id < %s", f.BeforeID},
	})
	q := `SELECT c.id, c.at, c.line_id, c.username, c.code, c.surface, c.client_ip, c.user_agent, c.stream_id
		FROM client_log c` + where + ` ORDER BY c.id DESC LIMIT ` + lq.arg(clampLimit(f.Limit))
	return many[ClientLogEntry](ctx, s, "search client log", q, lq.args...)
}
