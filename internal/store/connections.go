package store

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The admin side of connection_leases and activity_log (005_connections, 012): the live
// connections list with its filters, the delivery counters the heartbeat writes, the activity
// search and the dashboard's counts.

// Connection is a live lease as the admin sees it: the lease, its line's username and what it
// has delivered (as of the serving instance's last heartbeat).
type Connection struct {
	LeaseRow
	Username       string
	BytesOut       int64
	BytesPerSecond int64
}

// ConnectionFilter selects live connections; zero fields match everything. Connections come
// newest first; AfterStarted/AfterID (the last row of the previous page) page them.
type ConnectionFilter struct {
	LineID    int64
	StreamID  int64
	Network   netip.Prefix // client addresses inside this network (a single IP is a /32 or /128)
	Country   string
	Container string
	Since     time.Time // started at or after
	Owners    []int64   // only lines of these owners (a reseller's subtree); nil: every line

	AfterStarted time.Time
	AfterID      [16]byte
	Limit        int
}

// SearchConnections returns one page of the unexpired, unkilled leases f selects.
func (s *Store) SearchConnections(ctx context.Context, f ConnectionFilter) ([]Connection, error) {
	lq := listQuery{where: []string{"c.expires_at > now()", "c.kill_requested_at IS NULL"}}
	if f.LineID != 0 {
		lq.cond("c.line_id = %s", f.LineID)
	}
	if f.StreamID != 0 {
		lq.cond("c.stream_id = %s", f.StreamID)
	}
	if f.Network.IsValid() {
		lq.cond("c.client_ip <<= %s::cidr", f.Network.Masked().String())
	}
	if f.Country != "" {
		lq.cond("c.country = %s", f.Country)
	}
	if f.Container != "" {
		lq.cond("c.container = %s", f.Container)
	}
	if !f.Since.IsZero() {
		lq.cond("c.started_at >= %s", f.Since)
	}
	if f.Owners != nil {
		lq.cond("l.owner_admin_id = ANY(%s)", f.Owners)
	}
	if !f.AfterStarted.IsZero() {
		lq.cond("(c.started_at, c.id) < (%s, %s)", f.AfterStarted, f.AfterID)
	}
	q := `SELECT c.id, c.line_id, c.stream_id, c.instance_id, c.container, host(c.client_ip), c.user_agent, c.country,
		c.isp, c.started_at, c.expires_at, c.kill_requested_at IS NOT NULL, l.username, c.bytes_out, c.bytes_per_second
		FROM connection_leases c JOIN lines l ON l.id = c.line_id WHERE ` + strings.Join(lq.where, " AND ") +
		` ORDER BY c.started_at DESC, c.id DESC LIMIT ` + lq.arg(clampLimit(f.Limit))
	rows, _ := s.q.Query(ctx, q, lq.args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Connection, error) {
		var c Connection
		var ip string
		err := row.Scan(&c.ID, &c.LineID, &c.StreamID, &c.InstanceID, &c.Container, &ip, &c.UserAgent, &c.Country,
			&c.ISP, &c.StartedAt, &c.ExpiresAt, &c.Killed, &c.Username, &c.BytesOut, &c.BytesPerSecond)
		if err != nil {
			return c, err
		}
		c.ClientIP, err = netip.ParseAddr(ip)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("search connections: %w", interpret(err))
	}
	return out, nil
}

// LiveLeaseIDsOfLine returns the ids of a line's unexpired, unkilled leases.
func (s *Store) LiveLeaseIDsOfLine(ctx context.Context, lineID int64) ([][16]byte, error) {
	const q = `SELECT id FROM connection_leases WHERE line_id = $1 AND expires_at > now() AND kill_requested_at IS NULL
		ORDER BY started_at`
	rows, _ := s.q.Query(ctx, q, lineID)
	out, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte])
	if err != nil {
		return nil, fmt.Errorf("leases of line %d: %w", lineID, interpret(err))
	}
	return out, nil
}

// RenewLeasesCounting is RenewLeases (extend the leases by ttl, return the ids that still
// are live; an expired one is never revived) that also records what each lease has delivered so far (bytesOut[i] for ids[i]) and
// its rate since the previous heartbeat (since its start for the first), for the admin's
// connection list and the dashboard: one statement, one new row version per lease per
// heartbeat. A count never goes down.
func (s *Store) RenewLeasesCounting(ctx context.Context, ids [][16]byte, bytesOut []int64, ttl time.Duration) ([][16]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	const q = `UPDATE connection_leases c SET expires_at = now() + $3 * interval '1 second', renewed_at = now(),
		bytes_per_second = greatest(0, (b.bytes - c.bytes_out)
			/ greatest(extract(epoch FROM now() - coalesce(c.bytes_at, c.started_at)), 0.001))::bigint,
		bytes_out = greatest(c.bytes_out, b.bytes), bytes_at = now()
		FROM unnest($1::uuid[], $2::bigint[]) AS b(id, bytes)
		WHERE c.id = b.id AND c.kill_requested_at IS NULL AND c.expires_at > now()
		RETURNING c.id`
	return collect(ctx, s, "renew leases", pgx.RowTo[[16]byte], q, ids, bytesOut, ttl.Seconds())
}

// ActivityEntry is one ended connection of activity_log.
type ActivityEntry struct {
	ID        int64      `db:"id"`
	LeaseID   [16]byte   `db:"lease_id"`
	LineID    *int64     `db:"line_id"`
	Username  string     `db:"username"`
	StreamID  *int64     `db:"stream_id"`
	Container string     `db:"container"`
	ClientIP  netip.Addr `db:"client_ip"`
	Country   string     `db:"country"`
	ISP       string     `db:"isp"`
	UserAgent string     `db:"user_agent"`
	StartedAt time.Time  `db:"started_at"`
	EndedAt   time.Time  `db:"ended_at"`
	BytesOut  int64      `db:"bytes_out"`
	EndReason string     `db:"end_reason"`
}

// ActivityFilter selects activity entries; zero fields match everything. Entries come newest
// first; BeforeID pages (entries with a smaller id), Limit caps the page.
type ActivityFilter struct {
	LineID    int64
	StreamID  int64
	Network   netip.Prefix
	Country   string
	Container string
	Reason    string
	Since     time.Time // started at or after
	Until     time.Time // started before
	Owners    []int64   // only lines of these owners; nil: every line
	BeforeID  int64
	Limit     int
}

// SearchActivity returns the activity entries f selects, newest first.
func (s *Store) SearchActivity(ctx context.Context, f ActivityFilter) ([]ActivityEntry, error) {
	var lq listQuery
	where := lq.filter([]filterCond{
		{f.LineID != 0, "a.line_id = %s", f.LineID},
		{f.StreamID != 0, "a.stream_id = %s", f.StreamID},
		{f.Network.IsValid(), "a.client_ip <<= %s::cidr", f.Network.Masked().String()},
		{f.Country != "", "a.country = %s", f.Country},
		{f.Container != "", "a.container = %s", f.Container},
		{f.Reason != "", "a.end_reason = %s", f.Reason},
		{!f.Since.IsZero(), "a.started_at >= %s", f.Since},
		{!f.Until.IsZero(), "a.started_at < %s", f.Until},
		{f.Owners != nil, "a.line_id IN (SELECT id FROM lines WHERE owner_admin_id = ANY(%s))", f.Owners},
		{f.BeforeID != 0, "a.id < %s", f.BeforeID},
	})
	q := `SELECT a.id, a.lease_id, a.line_id, a.username, a.stream_id, a.container, a.client_ip, a.country, a.isp,
		a.user_agent, a.started_at, a.ended_at, a.bytes_out, a.end_reason FROM activity_log a` + where +
		` ORDER BY a.id DESC LIMIT ` + lq.arg(clampLimit(f.Limit))
	return many[ActivityEntry](ctx, s, "search activity", q, lq.args...)
}

// Dashboard is the panel's overview at one moment.
type Dashboard struct {
	Lines          LineCounts
	Connections    int   // live connections
	LinesOnline    int   // lines with at least one live connection
	BytesPerSecond int64 // delivery rate of every live connection, as of their last heartbeats
	TopStreams     []StreamViewers
}

// LineCounts counts lines by state. Active lines are neither expired, banned nor disabled;
// Trial counts the active trial lines.
type LineCounts struct {
	Total, Active, Expired, Banned, Disabled, Trial int
}

// StreamViewers is a stream and its number of live connections.
type StreamViewers struct {
	StreamID       int64
	Name           string // "" when the stream is gone
	Viewers        int
	BytesPerSecond int64
}

// dashboardSQL are DashboardCounts' statements: over every line, or (owned) over the lines of
// the owners in $1. Two texts rather than one "$1 IS NULL OR ..." condition, so that each gets
// the plan it needs (a prepared statement's generic plan could use no owner index).
func dashboardSQL(owned bool) (lines, conns, top string) {
	leases, limit := "true", "$1"
	if owned {
		leases, limit = "c.line_id IN (SELECT id FROM lines WHERE owner_admin_id = ANY($1))", "$2"
	}
	// Over every line: one count per question, each over the index that answers it (the
	// partial indexes of banned, disabled and trial lines, the expiry index, an index-only scan
	// for the total), a third cheaper than one pass of six FILTERs over the table. Over a
	// reseller's lines the one pass over its owner index is the cheaper one.
	// (BenchmarkDashboardCounts, BenchmarkDashboardCounts_Reseller)
	lines = `SELECT
		(SELECT count(*) FROM lines),
		(SELECT count(*) FROM lines WHERE banned OR disabled OR exp_date <= now()),
		(SELECT count(*) FROM lines WHERE exp_date <= now()),
		(SELECT count(*) FROM lines WHERE banned),
		(SELECT count(*) FROM lines WHERE disabled),
		(SELECT count(*) FROM lines WHERE is_trial AND NOT banned AND NOT disabled AND (exp_date IS NULL OR exp_date > now()))`
	if owned {
		lines = `SELECT count(*), count(*) FILTER (WHERE banned OR disabled OR exp_date <= now()),
			count(*) FILTER (WHERE exp_date <= now()), count(*) FILTER (WHERE banned), count(*) FILTER (WHERE disabled),
			count(*) FILTER (WHERE is_trial AND NOT banned AND NOT disabled AND (exp_date IS NULL OR exp_date > now()))
			FROM lines WHERE owner_admin_id = ANY($1)`
	}
	live := `FROM connection_leases c WHERE c.expires_at > now() AND c.kill_requested_at IS NULL AND ` + leases
	conns = `SELECT count(*), count(DISTINCT c.line_id), coalesce(sum(c.bytes_per_second), 0)::bigint ` + live
	top = `SELECT t.stream_id, coalesce(s.name, ''), t.viewers, t.rate FROM (
			SELECT c.stream_id, count(*) AS viewers, coalesce(sum(c.bytes_per_second), 0)::bigint AS rate ` + live + `
			GROUP BY c.stream_id ORDER BY viewers DESC, c.stream_id LIMIT ` + limit + `) t
		LEFT JOIN streams s ON s.id = t.stream_id ORDER BY t.viewers DESC, t.stream_id`
	return lines, conns, top
}

// DashboardCounts counts lines by state (active: neither expired, banned nor disabled) and the
// live connections (top: how many of the most watched streams). owners (non-nil) counts only
// those owners' lines and their connections.
func (s *Store) DashboardCounts(ctx context.Context, owners []int64, top int) (Dashboard, error) {
	qLines, qConns, qTop := dashboardSQL(owners != nil)
	args, topArgs := []any{}, []any{top}
	if owners != nil {
		args, topArgs = []any{owners}, []any{owners, top}
	}
	var d Dashboard
	err := s.readOnly(ctx, func(q querier) error {
		b := &pgx.Batch{}
		b.Queue(qLines, args...).QueryRow(func(row pgx.Row) error {
			var inactive int
			err := row.Scan(&d.Lines.Total, &inactive, &d.Lines.Expired, &d.Lines.Banned, &d.Lines.Disabled, &d.Lines.Trial)
			d.Lines.Active = d.Lines.Total - inactive
			return err
		})
		b.Queue(qConns, args...).QueryRow(func(row pgx.Row) error {
			return row.Scan(&d.Connections, &d.LinesOnline, &d.BytesPerSecond)
		})
		b.Queue(qTop, topArgs...).Query(func(rows pgx.Rows) error {
			var err error
			d.TopStreams, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (StreamViewers, error) {
				var v StreamViewers
				err := row.Scan(&v.StreamID, &v.Name, &v.Viewers, &v.BytesPerSecond)
				return v, err
			})
			return err
		})
		return q.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return Dashboard{}, fmt.Errorf("dashboard: %w", interpret(err))
	}
	return d, nil
}
