package conns_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestRenew_NeverRevivesExpiredLease: a lease whose time ran out before the heartbeat (the sweep
// has not removed it yet) stays expired, and its stream stops; its slot is free for others.
func TestRenew_NeverRevivesExpiredLease(t *testing.T) {
	t.Parallel()
	st, a, b := setup(t)
	line, _ := testdb.NewLine(t, st, nil) // one connection
	l, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	testdb.AgeLeases(t, st, line.ID)
	if alive, err := st.RenewLeases(t.Context(), [][16]byte{l.ID}, time.Minute); err != nil || len(alive) != 0 {
		t.Fatalf("RenewLeases(expired) = %d alive, %v; want none", len(alive), err)
	}
	if err := a.Heartbeat(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Done():
	default:
		t.Fatal("the stream of an expired lease is still open after the heartbeat")
	}
	if _, err := b.Acquire(t.Context(), req(line, ipB), conns.PolicyRefuse, nil); err != nil {
		t.Fatalf("Acquire on the freed slot: %v", err)
	}
	if n, _ := a.Count(t.Context(), line.ID); n != 1 {
		t.Fatalf("live leases = %d, want 1", n)
	}
}

// TestRenew_StalledPoolEndsStreamBeforeItsRowExpires: an instance whose pool is stuck cannot
// renew; its stream ends (lease_expired) while its row is still unexpired, so by the time
// another instance may take the slot, nothing is playing on it any more.
func TestRenew_StalledPoolEndsStreamBeforeItsRowExpires(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn+" pool_max_conns=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	observer := openPool(t, dsn)
	const ttl = 2 * time.Second
	a := conns.New(store.New(pool), conns.Options{InstanceID: "a", TTL: ttl, Heartbeat: 400 * time.Millisecond}, discard())
	line, _ := testdb.NewLine(t, observer, nil)
	l, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	testdb.Go(t, a.Run)
	// Stall the pool: its only connection is taken and never given back until the lease ended.
	held, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Done():
	case <-time.After(4 * ttl):
		held.Release()
		t.Fatal("the lease of a stalled instance never ended")
	}
	var left float64
	err = observer.Pool().QueryRow(t.Context(), `SELECT extract(epoch FROM expires_at - now()) FROM connection_leases WHERE id = $1`, l.ID).Scan(&left)
	held.Release()
	if err != nil {
		t.Fatal(err)
	}
	if l.Reason() != conns.ReasonLeaseExpired || left <= 0 {
		t.Fatalf("ended with %q, %.3fs before its row expired; want lease_expired while the row is unexpired", l.Reason(), left)
	}
}

// queryCounter counts the statements a pool sends whose SQL contains match.
type queryCounter struct {
	match string
	n     atomic.Int64
}

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if strings.Contains(d.SQL, q.match) {
		q.n.Add(1)
	}
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// tracedManager returns a store on a fresh database whose pool reports to tracer, and a lease
// manager over it.
func tracedManager(t *testing.T, tracer pgx.QueryTracer) (*store.Store, *conns.Manager) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(testdb.NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	return st, conns.New(st, conns.Options{InstanceID: "a"}, discard())
}

// TestHLS_ExpiredRowPollIsOneRoundTrip: a session whose row expired but was not swept yet is
// replaced by the next poll in one attempt (the expired row is recorded and removed inside the
// open's transaction), instead of the poll conflicting with it until the sweep.
func TestHLS_ExpiredRowPollIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	finds := &queryCounter{match: "md5(user_agent) = md5($4) AND expires_at > now()"}
	st, m := tracedManager(t, finds)
	line, _ := testdb.NewLine(t, st, nil)
	r := req(line, ipA)
	first, _, err := m.TouchHLS(t.Context(), r, conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	testdb.AgeLeases(t, st, line.ID)
	finds.n.Store(0)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	next, opened, err := m.TouchHLS(ctx, r, conns.PolicyRefuse, nil)
	if err != nil || !opened || next.ID == first.ID {
		t.Fatalf("poll after the session expired = %v, opened %v; want a new session", err, opened)
	}
	if n := finds.n.Load(); n != 1 {
		t.Errorf("session look-ups for one poll = %d, want 1", n)
	}
	if got := endReason(t, st, first.ID); got != conns.ReasonLeaseExpired {
		t.Errorf("activity of the expired session = %q, want lease_expired", got)
	}
}

// endReason is the activity log's end reason of lease id ("" without a row).
func endReason(t *testing.T, st *store.Store, id [16]byte) string {
	t.Helper()
	var reason string
	_ = st.Pool().QueryRow(t.Context(), `SELECT end_reason FROM activity_log WHERE lease_id = $1`, id).Scan(&reason)
	return reason
}

// TestHLS_RenewalRunsAdmit: a poll of an existing session runs the bouquet check too, and a
// refusal leaves the session unrenewed.
func TestHLS_RenewalRunsAdmit(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	r := req(line, ipA)
	if _, _, err := a.TouchHLS(t.Context(), r, conns.PolicyRefuse, nil); err != nil {
		t.Fatal(err)
	}
	refused := errors.New("not in bouquet")
	if _, _, err := a.TouchHLS(t.Context(), r, conns.PolicyRefuse, func() error { return refused }); !errors.Is(err, refused) {
		t.Fatalf("renewal with a refusing admit = %v, want its error", err)
	}
}

// TestHLS_EndedSessionsAreKnownEverywhere: a killed, a replaced and an ended session are known
// as ended on every instance (their segment links are refused there).
func TestHLS_EndedSessionsAreKnownEverywhere(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	stA, stB := openPool(t, dsn), openPool(t, dsn)
	a := conns.New(stA, conns.Options{InstanceID: "a"}, discard())
	b := conns.New(stB, conns.Options{InstanceID: "b"}, discard())
	lb := store.NewListener(stB.Pool(), discard())
	lb.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeKill}, OnChange: b.OnChange})
	testdb.Listen(t, lb)
	line, _ := testdb.NewLine(t, stA, nil)
	r := req(line, ipA)
	killed, _, err := a.TouchHLS(t.Context(), r, conns.PolicyReplaceSameIP, nil)
	must(t, err)
	must(t, a.Kill(t.Context(), killed.ID))
	r.StreamID = 2
	replaced, _, err := a.TouchHLS(t.Context(), r, conns.PolicyReplaceSameIP, nil)
	must(t, err)
	r.StreamID = 3
	ended, _, err := a.TouchHLS(t.Context(), r, conns.PolicyReplaceSameIP, nil) // replaces stream 2's session
	must(t, err)
	must(t, a.End(t.Context(), []*conns.Lease{ended}, "banned"))
	for _, id := range [][16]byte{killed.ID, replaced.ID, ended.ID} {
		if !a.SessionEnded(id) {
			t.Errorf("instance a: session %x not known as ended", id[:4])
		}
		testdb.Eventually(t, 10*time.Second, "instance b knows the session ended", func() bool { return b.SessionEnded(id) })
	}
	if got := endReason(t, stA, ended.ID); got != "banned" {
		t.Errorf("activity of the ended session = %q, want banned", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
