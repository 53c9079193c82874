package store

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaseLockNamespace is the first key of the per-line advisory lock that serialises lease
// decisions for one line across every instance.
const leaseLockNamespace = 0x78740001 // "xt" 0001

// LeaseRow is one open viewer connection.
type LeaseRow struct {
	ID         [16]byte
	LineID     int64
	StreamID   int64
	InstanceID string
	Container  string // ts, hls, vod, timeshift
	ClientIP   netip.Addr
	UserAgent  string
	Country    string
	ISP        string
	StartedAt  time.Time
	ExpiresAt  time.Time
	Killed     bool // an HLS session marked killed: its next poll is refused
}

// lockLineQuery takes the per-line transaction-level advisory lock.
const lockLineQuery = `SELECT pg_advisory_xact_lock($1::int4, ($2::bigint % 2147483647)::int4)`

// lockLineForOpenQuery is lockLineQuery for a lease open: it also makes the transaction's commit
// asynchronous (synchronous_commit off for this transaction only). A viewer's first byte waits
// for the open's commit; a synchronous one waits for the WAL flush to disk, which is ~0.1 ms
// on an idle disk but seconds when a shared disk stalls, and then every open in flight holds
// its pool connection meanwhile and the joins behind them wait for the pool. The row is
// visible to every other instance's decisions as soon as it commits either way, so the limit
// holds as before; what a database crash can lose is the opens of its last moment (up to
// three wal_writer_delay), whose streams go uncounted until their instance's next heartbeat
// finds their rows gone and ends them, as when a lease expires; the players reconnect.
// Renewals, ends and kills (the activity log) stay synchronous: a lost renewal would leave an
// instance trusting a later expiry than the row's.
const lockLineForOpenQuery = `SELECT pg_advisory_xact_lock($1::int4, ($2::bigint % 2147483647)::int4),
	set_config('synchronous_commit', 'off', true)`

// LockLine takes the per-line transaction-level advisory lock (held until the transaction
// ends). Call it inside InTx before reading and changing a line's leases.
func (s *Store) LockLine(ctx context.Context, lineID int64) error {
	if _, err := s.q.Exec(ctx, lockLineQuery, leaseLockNamespace, lineID); err != nil {
		return fmt.Errorf("lock line %d: %w", lineID, interpret(err))
	}
	return nil
}

// LockLineForOpen is LockLine for a transaction that opens a lease: the transaction also
// commits without waiting for its WAL to reach the disk (lockLineForOpenQuery says why).
func (s *Store) LockLineForOpen(ctx context.Context, lineID int64) error {
	if _, err := s.q.Exec(ctx, lockLineForOpenQuery, leaseLockNamespace, lineID); err != nil {
		return fmt.Errorf("lock line %d: %w", lineID, interpret(err))
	}
	return nil
}

const leaseColumns = `id, line_id, stream_id, instance_id, container, host(client_ip), user_agent, country, isp,
	started_at, expires_at, kill_requested_at IS NOT NULL`

func scanLease(row pgx.CollectableRow) (LeaseRow, error) {
	var l LeaseRow
	var ip string
	err := row.Scan(&l.ID, &l.LineID, &l.StreamID, &l.InstanceID, &l.Container, &ip, &l.UserAgent, &l.Country, &l.ISP, &l.StartedAt, &l.ExpiresAt, &l.Killed)
	if err != nil {
		return l, err
	}
	l.ClientIP, err = netip.ParseAddr(ip)
	return l, err
}

// LiveLeases returns the unexpired, unkilled leases of a line, oldest first.
func (s *Store) LiveLeases(ctx context.Context, lineID int64) ([]LeaseRow, error) {
	const q = `SELECT ` + leaseColumns + ` FROM connection_leases
		WHERE line_id = $1 AND expires_at > now() AND kill_requested_at IS NULL ORDER BY started_at, id`
	rows, _ := s.q.Query(ctx, q, lineID)
	out, err := pgx.CollectRows(rows, scanLease)
	if err != nil {
		return nil, fmt.Errorf("live leases of line %d: %w", lineID, interpret(err))
	}
	return out, nil
}

// InsertLease stores a new lease expiring ttl from now (database time) and returns its start.
func (s *Store) InsertLease(ctx context.Context, l LeaseRow, ttl time.Duration) (time.Time, error) {
	const q = `INSERT INTO connection_leases (id, line_id, stream_id, instance_id, container, client_ip,
		user_agent, country, isp, expires_at)
	VALUES ($1, $2, $3, $4, $5, $6::inet, $7, $8, $9, now() + $10 * interval '1 second')
	RETURNING started_at`
	var started time.Time
	err := s.q.QueryRow(ctx, q, l.ID, l.LineID, l.StreamID, l.InstanceID, l.Container, l.ClientIP.String(),
		truncateUTF8(l.UserAgent, 512), l.Country, truncateUTF8(l.ISP, 256), ttl.Seconds()).Scan(&started)
	if err != nil {
		return time.Time{}, fmt.Errorf("insert lease: %w", interpret(err))
	}
	return started, nil
}

// InsertLeaseIfRoom opens lease l in one round trip when its line has room: under the line's
// advisory lock it inserts l (expiring ttl from now) if maxConns <= 0 or the line holds fewer
// than maxConns live leases (unexpired, unkilled: LiveLeases's rows), and returns its start.
// ok is false, and nothing is written, when the line is full: the caller then decides under its
// connection policy in a transaction of its own (LockLineForOpen, LiveLeases, ...).
//
// The lock and the insert are one pipeline with one Sync, so PostgreSQL runs them as one
// implicit transaction (inside s's transaction, if s is one): the lock is held until the insert
// commits, and the insert's snapshot, taken after the lock was granted, sees every lease that
// the line's earlier decisions committed. A join storm then costs one round trip per open
// instead of five (BEGIN, lock, count, insert, COMMIT), each of which waits for a backend to be
// scheduled on a busy machine. Its commit does not wait for the disk (lockLineForOpenQuery).
func (s *Store) InsertLeaseIfRoom(ctx context.Context, l LeaseRow, ttl time.Duration, maxConns int) (started time.Time, ok bool, err error) {
	const q = `INSERT INTO connection_leases (id, line_id, stream_id, instance_id, container, client_ip,
		user_agent, country, isp, expires_at)
	SELECT $1, $2, $3, $4, $5, $6::inet, $7, $8, $9, now() + $10 * interval '1 second'
	WHERE $11::int <= 0 OR (SELECT count(*) FROM connection_leases
		WHERE line_id = $2 AND expires_at > now() AND kill_requested_at IS NULL) < $11::int
	RETURNING started_at`
	b := &pgx.Batch{}
	b.Queue(lockLineForOpenQuery, leaseLockNamespace, l.LineID)
	b.Queue(q, l.ID, l.LineID, l.StreamID, l.InstanceID, l.Container, l.ClientIP.String(),
		truncateUTF8(l.UserAgent, 512), l.Country, truncateUTF8(l.ISP, 256), ttl.Seconds(), maxConns)
	br := s.q.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&started)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("insert lease of line %d if room: %w", l.LineID, interpret(err))
	}
	return started, true, nil
}

// endLeasesActivity is the tail of the statements that end leases: the rows of the CTE gone go to
// the activity log, with the bytes of the CTE b and the reason of the CTE r (a session marked
// killed keeps "killed"). It returns the ids that were still there.
const endLeasesActivity = `
	INSERT INTO activity_log (lease_id, line_id, username, stream_id, container, client_ip, country, isp,
		user_agent, started_at, ended_at, bytes_out, end_reason)
	SELECT g.id, g.line_id, coalesce(l.username, ''), g.stream_id, g.container, g.client_ip, g.country, g.isp,
		g.user_agent, g.started_at, greatest(now(), g.started_at), coalesce(b.bytes_out, 0),
		CASE WHEN g.kill_requested_at IS NOT NULL THEN 'killed' ELSE (SELECT reason FROM r) END
	FROM gone g LEFT JOIN lines l ON l.id = g.line_id LEFT JOIN b ON b.id = g.id
	ON CONFLICT (lease_id) DO NOTHING
	RETURNING lease_id`

// EndLeases deletes leases and records each in the activity log with reason (and bytes for
// the ones this instance knew). It returns the ids that were still there.
func (s *Store) EndLeases(ctx context.Context, ids [][16]byte, bytesOut []int64, reason string) ([][16]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	const q = `WITH gone AS (
		DELETE FROM connection_leases WHERE id = ANY($1) RETURNING *
	), b AS (
		SELECT * FROM unnest($1::uuid[], $2::bigint[]) AS b(id, bytes_out)
	), r AS (SELECT $3::text AS reason)` + endLeasesActivity
	if bytesOut == nil {
		bytesOut = make([]int64, len(ids))
	}
	return collect(ctx, s, "end leases", pgx.RowTo[[16]byte], q, ids, bytesOut, reason)
}

// EndExpiredHLSSession ends the expired (or killed and expired) session row of (line, stream,
// ip, user agent) that the sweep has not removed yet, recording it with reason, so that a new
// session of the same key can be inserted in the same transaction instead of conflicting with it.
func (s *Store) EndExpiredHLSSession(ctx context.Context, lineID, streamID int64, ip netip.Addr, userAgent, reason string) error {
	const q = `WITH gone AS (
		DELETE FROM connection_leases
		WHERE container = 'hls' AND line_id = $1 AND stream_id = $2 AND client_ip = $3::inet
		  AND md5(user_agent) = md5($4) AND expires_at <= now()
		RETURNING *
	), b AS (
		SELECT NULL::uuid AS id, 0::bigint AS bytes_out WHERE false
	), r AS (SELECT $5::text AS reason)` + endLeasesActivity
	rows, _ := s.q.Query(ctx, q, lineID, streamID, ip.String(), truncateUTF8(userAgent, 512), reason)
	if _, err := pgx.CollectRows(rows, pgx.RowTo[[16]byte]); err != nil {
		return fmt.Errorf("end expired hls session: %w", interpret(err))
	}
	return nil
}

// MarkLeasesKilled frees the slots of HLS sessions without forgetting them: they stay, marked,
// for keep, so the session's next playlist poll can be refused instead of reopening it.
func (s *Store) MarkLeasesKilled(ctx context.Context, ids [][16]byte, keep time.Duration) error {
	if len(ids) == 0 {
		return nil
	}
	const q = `UPDATE connection_leases SET kill_requested_at = now(),
		expires_at = greatest(now() + $2 * interval '1 second', started_at + interval '1 microsecond')
		WHERE id = ANY($1) AND kill_requested_at IS NULL`
	if _, err := s.q.Exec(ctx, q, ids, keep.Seconds()); err != nil {
		return fmt.Errorf("mark leases killed: %w", interpret(err))
	}
	return nil
}

// RenewLeases extends the given leases by ttl and returns the ids that are still live. An
// expired lease is never revived, even before the sweep removed it: its slot may already be
// someone else's (another instance counts only unexpired leases).
func (s *Store) RenewLeases(ctx context.Context, ids [][16]byte, ttl time.Duration) ([][16]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	const q = `UPDATE connection_leases SET expires_at = now() + $2 * interval '1 second', renewed_at = now()
		WHERE id = ANY($1) AND kill_requested_at IS NULL AND expires_at > now() RETURNING id`
	return collect(ctx, s, "renew leases", pgx.RowTo[[16]byte], q, ids, ttl.Seconds())
}

// ExpiredLeaseIDs returns up to limit leases whose time is up (their instance stopped renewing).
func (s *Store) ExpiredLeaseIDs(ctx context.Context, limit int) ([][16]byte, error) {
	const q = `SELECT id FROM connection_leases WHERE expires_at <= now() ORDER BY expires_at LIMIT $1`
	return collect(ctx, s, "expired leases", pgx.RowTo[[16]byte], q, limit)
}

// FindHLSLease returns the live HLS session lease of (line, stream, ip, user agent).
func (s *Store) FindHLSLease(ctx context.Context, lineID, streamID int64, ip netip.Addr, userAgent string) (LeaseRow, error) {
	const q = `SELECT ` + leaseColumns + ` FROM connection_leases
		WHERE container = 'hls' AND line_id = $1 AND stream_id = $2 AND client_ip = $3::inet
		  AND md5(user_agent) = md5($4) AND expires_at > now()`
	rows, _ := s.q.Query(ctx, q, lineID, streamID, ip.String(), truncateUTF8(userAgent, 512))
	l, err := pgx.CollectExactlyOneRow(rows, scanLease)
	if err != nil {
		return LeaseRow{}, fmt.Errorf("hls lease: %w", interpret(err))
	}
	return l, nil
}

// LeaseByID returns one lease, whatever its state.
func (s *Store) LeaseByID(ctx context.Context, id [16]byte) (LeaseRow, error) {
	rows, _ := s.q.Query(ctx, `SELECT `+leaseColumns+` FROM connection_leases WHERE id = $1`, id)
	l, err := pgx.CollectExactlyOneRow(rows, scanLease)
	if err != nil {
		return LeaseRow{}, fmt.Errorf("lease: %w", interpret(err))
	}
	return l, nil
}

// CountLiveLeases returns the number of unexpired leases of a line (active_cons).
func (s *Store) CountLiveLeases(ctx context.Context, lineID int64) (int, error) {
	var n int
	const q = `SELECT count(*) FROM connection_leases WHERE line_id = $1 AND expires_at > now() AND kill_requested_at IS NULL`
	if err := s.q.QueryRow(ctx, q, lineID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count leases: %w", interpret(err))
	}
	return n, nil
}

// ListLiveLeases returns every unexpired lease (admin view), oldest first.
func (s *Store) ListLiveLeases(ctx context.Context) ([]LeaseRow, error) {
	rows, _ := s.q.Query(ctx, `SELECT `+leaseColumns+` FROM connection_leases
		WHERE expires_at > now() AND kill_requested_at IS NULL ORDER BY started_at`)
	out, err := pgx.CollectRows(rows, scanLease)
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", interpret(err))
	}
	return out, nil
}

// RecordEndedLeases writes the activity of leases whose rows are already gone (a deleted line's
// leases go with it) from what the instance serving them knew, with reason. A lease already in
// the activity log is left as it is; the line id is kept only while the line exists.
func (s *Store) RecordEndedLeases(ctx context.Context, rows []LeaseRow, bytesOut []int64, reason string) error {
	if len(rows) == 0 {
		return nil
	}
	ids, lines, streams := make([][16]byte, len(rows)), make([]int64, len(rows)), make([]int64, len(rows))
	containers, ips, uas := make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	countries, isps, started := make([]string, len(rows)), make([]string, len(rows)), make([]time.Time, len(rows))
	for i, r := range rows {
		ids[i], lines[i], streams[i], containers[i] = r.ID, r.LineID, r.StreamID, r.Container
		ips[i], uas[i], countries[i], isps[i] = r.ClientIP.String(), truncateUTF8(r.UserAgent, 512), r.Country, truncateUTF8(r.ISP, 256)
		started[i] = r.StartedAt
	}
	if bytesOut == nil {
		bytesOut = make([]int64, len(rows))
	}
	const q = `INSERT INTO activity_log (lease_id, line_id, username, stream_id, container, client_ip, country, isp,
		user_agent, started_at, ended_at, bytes_out, end_reason)
	SELECT r.id, l.id, coalesce(l.username, ''), r.stream_id, r.container, r.ip::inet, r.country, r.isp, r.ua,
		r.started, greatest(now(), r.started), r.bytes_out, $11
	FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::timestamptz[], $10::bigint[]) AS r(id, line_id, stream_id, container, ip, ua, country, isp, started, bytes_out)
	LEFT JOIN lines l ON l.id = r.line_id
	ON CONFLICT (lease_id) DO NOTHING`
	_, err := s.q.Exec(ctx, q, ids, lines, streams, containers, ips, uas, countries, isps, started, bytesOut, reason)
	if err != nil {
		return fmt.Errorf("record ended leases: %w", interpret(err))
	}
	return nil
}
