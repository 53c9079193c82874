package conns_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// roundTrips counts what a pool sends: single statements (BEGIN and COMMIT included) and
// pipelined batches, each of which is one round trip.
type roundTrips struct{ queries, batches atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	r.queries.Add(1)
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.batches.Add(1)
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (r *roundTrips) total() int64 { return r.queries.Swap(0) + r.batches.Swap(0) }

// batchesSince returns the batches since the last total, and resets the count.
func (r *roundTrips) batchesSince() int64 { r.queries.Store(0); return r.batches.Swap(0) }

// TestAcquire_RoundTrips: a stream open on a line with room is one round trip (a join storm's
// opens queue for one backend wake-up each, not five); a full line is decided in the policy's
// transaction, where the limit still wins over the admit check.
func TestAcquire_RoundTrips(t *testing.T) {
	t.Parallel()
	trips := &roundTrips{}
	st, m := tracedManager(t, trips)
	line, _ := testdb.NewLine(t, st, func(in *store.LineInput) { in.MaxConnections = 1 })
	admitted := 0
	admit := func() error { admitted++; return nil }

	// Warm the pool's connection (and pgx's statement cache) with an open that is released.
	warm, err := m.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := warm.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	trips.total()

	first, err := m.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, admit)
	if err != nil {
		t.Fatal(err)
	}
	if n := trips.total(); n != 1 || admitted != 1 || first.StartedAt.IsZero() {
		t.Errorf("open with room: %d round trips, admit ran %d times, started %v; want 1, 1, set", n, admitted, first.StartedAt)
	}
	if got, _ := m.Count(t.Context(), line.ID); got != 1 {
		t.Fatalf("live leases = %d, want 1", got)
	}
	trips.total()

	// A zap from a stream the caller serves (Full) goes straight to the policy's transaction.
	zap := req(line, ipA)
	zap.Full = true
	zapped, err := m.Acquire(t.Context(), zap, conns.PolicyReplaceSameIP, nil)
	if err != nil {
		t.Fatalf("zap under replace_same_ip: %v", err)
	}
	if n := trips.batchesSince(); n != 0 || first.Reason() != conns.ReasonReplaced {
		t.Errorf("zap with Full: %d one-round-trip attempts, first ended %q; want 0, replaced", n, first.Reason())
	}
	first = zapped

	notInBouquet := errors.New("not in bouquet")
	_, err = m.Acquire(t.Context(), req(line, ipB), conns.PolicyRefuse, func() error { return notInBouquet })
	if !errors.Is(err, conns.ErrLimitReached) {
		t.Errorf("full line with a failing admit = %v, want ErrLimitReached (step 9 before step 10)", err)
	}
	admitted = 0
	second, err := m.Acquire(t.Context(), req(line, ipB), conns.PolicyKickOldest, admit)
	if err != nil || admitted != 2 {
		t.Fatalf("kick_oldest on a full line = %v, admit ran %d times; want a lease, 2", err, admitted)
	}
	if first.Reason() != conns.ReasonReplaced || second.StartedAt.IsZero() {
		t.Errorf("after kick_oldest: first ended %q, second started %v; want replaced, set", first.Reason(), second.StartedAt)
	}
	if got, _ := m.Count(t.Context(), line.ID); got != 1 {
		t.Errorf("live leases after kick_oldest = %d, want 1", got)
	}
}
