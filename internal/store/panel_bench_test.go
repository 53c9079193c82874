package store_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// benchPanel fills a database with 100,000 lines (a tenth expired, some banned, disabled or
// trial, a fifth owned by one reseller) and 2,000 live connections over 200 streams: the
// dashboard's size of the benchmark.
func benchPanel(b *testing.B) (*store.Store, int64) {
	b.Helper()
	st := store.New(testdb.New(b))
	ctx := b.Context()
	var reseller int64
	if err := st.Pool().QueryRow(ctx, `INSERT INTO admins (username, password_hash, role) VALUES ('res', '$argon2id$x', 'reseller')
		RETURNING id`).Scan(&reseller); err != nil {
		b.Fatal(err)
	}
	testdb.MustExec(b, st, `INSERT INTO lines (username, password_hash, exp_date, banned, disabled, is_trial, owner_admin_id)
		SELECT 'u' || g, '$argon2id$x',
			CASE WHEN g % 10 = 0 THEN now() - interval '1 day' WHEN g % 3 = 0 THEN NULL ELSE now() + interval '30 days' END,
			g % 97 = 0, g % 89 = 0, g % 13 = 0, CASE WHEN g % 5 = 0 THEN $1::bigint END
		FROM generate_series(1, 100000) g`, reseller)
	testdb.MustExec(b, st, `INSERT INTO connection_leases (id, line_id, stream_id, instance_id, container, client_ip,
			expires_at, bytes_per_second)
		SELECT gen_random_uuid(), l.id, 1 + l.id % 200, 'bench', 'ts', '192.0.2.1', now() + interval '1 hour', 1000000
		FROM lines l WHERE l.id % 50 = 0 AND l.id <= 100000`)
	// As autovacuum leaves a table after a bulk load: statistics, and the visibility map that
	// lets the counts run as index-only scans.
	testdb.MustExec(b, st, `VACUUM ANALYZE lines`)
	testdb.MustExec(b, st, `VACUUM ANALYZE connection_leases`)
	return st, reseller
}

// BenchmarkDashboardCounts is GET /api/v1/dashboard's database work (one read-only
// transaction, one batch): lines by state, live connections, lines online, bandwidth and the
// top ten streams, over 100,000 lines and 2,000 live connections. Compare with
// BenchmarkDashboardCounts_RoundTripBaseline (an empty query on the same pool).
func BenchmarkDashboardCounts(b *testing.B) {
	st, _ := benchPanel(b)
	d, err := st.DashboardCounts(b.Context(), nil, 10)
	if err != nil || d.Lines.Total != 100000 || d.Connections != 2000 {
		b.Fatalf("dashboard = %+v, %v", d.Lines, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.DashboardCounts(b.Context(), nil, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDashboardCounts_Reseller is the same for a reseller owning 20,000 of the lines.
func BenchmarkDashboardCounts_Reseller(b *testing.B) {
	st, reseller := benchPanel(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.DashboardCounts(b.Context(), []int64{reseller}, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDashboardCounts_RoundTripBaseline is one SELECT 1 on the same kind of pool: the
// floor every database answer pays.
func BenchmarkDashboardCounts_RoundTripBaseline(b *testing.B) {
	st := store.New(testdb.New(b))
	b.ReportAllocs()
	for b.Loop() {
		if err := st.Ping(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

// benchLeases inserts n live leases and returns their ids.
func benchLeases(b *testing.B, n int) (*store.Store, [][16]byte) {
	b.Helper()
	st := store.New(testdb.New(b))
	line, _ := testdb.NewLine(b, st, nil)
	ids := make([][16]byte, n)
	for i := range ids {
		ids[i] = [16]byte{0: byte(i >> 8), 1: byte(i), 15: 1}
		if _, err := st.InsertLease(b.Context(), store.LeaseRow{ID: ids[i], LineID: line.ID, StreamID: 1, InstanceID: "bench",
			Container: "ts", ClientIP: netip.MustParseAddr("192.0.2.1")}, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	return st, ids
}

// BenchmarkRenewLeasesCounting_1000 is one heartbeat of an instance serving 1,000 viewers,
// renewing their leases and recording what each delivered; BenchmarkRenewLeases_1000 is the
// renewal alone (the heartbeat before the counters).
func BenchmarkRenewLeasesCounting_1000(b *testing.B) {
	st, ids := benchLeases(b, 1000)
	delivered := make([]int64, len(ids))
	b.ReportAllocs()
	for b.Loop() {
		for i := range delivered {
			delivered[i] += 188 * 7
		}
		if _, err := st.RenewLeasesCounting(b.Context(), ids, delivered, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenewLeases_1000 is the baseline of BenchmarkRenewLeasesCounting_1000.
func BenchmarkRenewLeases_1000(b *testing.B) {
	st, ids := benchLeases(b, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.RenewLeases(b.Context(), ids, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
