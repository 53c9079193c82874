package conns_test

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var (
	ipA = netip.MustParseAddr("198.51.100.1")
	ipB = netip.MustParseAddr("198.51.100.2")
)

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func openPool(t *testing.T, dsn string) *store.Store {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn+" pool_max_conns=8")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return store.New(pool)
}

// setup returns two instances (managers on separate pools) sharing one database.
func setup(t *testing.T) (st *store.Store, a, b *conns.Manager) {
	t.Helper()
	dsn := testdb.NewDSN(t)
	stA, stB := openPool(t, dsn), openPool(t, dsn)
	a = conns.New(stA, conns.Options{InstanceID: "a"}, discard())
	b = conns.New(stB, conns.Options{InstanceID: "b"}, discard())
	return stA, a, b
}

func req(line store.Line, ip netip.Addr) conns.Request {
	return conns.Request{LineID: line.ID, MaxConnections: line.MaxConnections, StreamID: 1, Container: conns.ContainerTS, ClientIP: ip, UserAgent: "VLC/3"}
}

func TestAdmit(t *testing.T) {
	t.Parallel()
	mk := func(ids ...byte) []store.LeaseRow {
		var rows []store.LeaseRow
		for i, id := range ids {
			ip := ipA
			if i%2 == 1 {
				ip = ipB
			}
			rows = append(rows, store.LeaseRow{ID: [16]byte{id}, ClientIP: ip})
		}
		return rows
	}
	tests := []struct {
		name        string
		live        []store.LeaseRow
		max         int
		ip          netip.Addr
		policy      conns.Policy
		wantOK      bool
		wantVictims int
		firstVictim byte
	}{
		{"unlimited", mk(1, 2, 3), 0, ipA, conns.PolicyRefuse, true, 0, 0},
		{"free slot", mk(1), 2, ipA, conns.PolicyRefuse, true, 0, 0},
		{"refuse when full", mk(1, 2), 2, ipA, conns.PolicyRefuse, false, 0, 0},
		{"kick oldest", mk(1, 2), 2, ipB, conns.PolicyKickOldest, true, 1, 1},
		{"kick oldest over limit", mk(1, 2, 3), 1, ipB, conns.PolicyKickOldest, true, 3, 1},
		{"replace same ip", mk(1, 2), 2, ipB, conns.PolicyReplaceSameIP, true, 1, 2},
		{"replace same ip oldest of them", mk(1, 2, 3), 3, ipA, conns.PolicyReplaceSameIP, true, 1, 1},
		{"replace refuses other ip", mk(1), 1, ipB, conns.PolicyReplaceSameIP, false, 0, 0},
	}
	for _, tt := range tests {
		victims, ok := conns.Admit(tt.live, conns.Request{MaxConnections: tt.max, ClientIP: tt.ip}, tt.policy)
		if ok != tt.wantOK || len(victims) != tt.wantVictims || (len(victims) > 0 && victims[0][0] != tt.firstVictim) {
			t.Errorf("%s: Admit = %v victims %v, want ok=%v with %d victims (first %d)", tt.name, ok, victims, tt.wantOK, tt.wantVictims, tt.firstVictim)
		}
	}
}

// TestAcquire_LimitHoldsAcrossInstances opens 200 streams at once on a 3-connection line from
// two instances with their own pools: exactly 3 get a lease.
func TestAcquire_LimitHoldsAcrossInstances(t *testing.T) {
	t.Parallel()
	st, a, b := setup(t)
	line, _ := testdb.NewLine(t, st, func(in *store.LineInput) { in.MaxConnections = 3 })
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted, refused := 0, 0
	start := make(chan struct{})
	for i := range 200 {
		m := a
		if i%2 == 1 {
			m = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ip := netip.AddrFrom4([4]byte{203, 0, 113, byte(i)})
			_, err := m.Acquire(context.Background(), req(line, ip), conns.PolicyRefuse, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				granted++
			case errors.Is(err, conns.ErrLimitReached):
				refused++
			default:
				t.Errorf("Acquire: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	n, err := a.Count(context.Background(), line.ID)
	if err != nil {
		t.Fatal(err)
	}
	if granted != 3 || refused != 197 || n != 3 {
		t.Fatalf("granted %d, refused %d, live %d; want 3, 197, 3", granted, refused, n)
	}
}

func TestAcquire_AdmitErrorTakesNoSlot(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	notInBouquet := errors.New("not in bouquet")
	_, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, func() error { return notInBouquet })
	if !errors.Is(err, notInBouquet) {
		t.Fatalf("Acquire = %v, want the admit error", err)
	}
	if n, _ := a.Count(t.Context(), line.ID); n != 0 {
		t.Fatalf("live leases after a refused admit = %d, want 0", n)
	}
	// The slot is still free.
	if _, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil); err != nil {
		t.Fatalf("Acquire after refused admit: %v", err)
	}
}

// TestLease_ExpiresAfterCrash: an instance that stops renewing (crash) frees its slots.
func TestLease_ExpiresAfterCrash(t *testing.T) {
	t.Parallel()
	st, a, b := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	if _, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(t.Context(), req(line, ipB), conns.PolicyRefuse, nil); !errors.Is(err, conns.ErrLimitReached) {
		t.Fatalf("second Acquire = %v, want ErrLimitReached", err)
	}
	// Instance a "crashes": nobody renews; its lease's time runs out.
	testdb.AgeLeases(t, st, line.ID)
	if _, err := b.Acquire(t.Context(), req(line, ipB), conns.PolicyRefuse, nil); err != nil {
		t.Fatalf("Acquire after the crashed lease expired: %v", err)
	}
	// b's sweep records the ghost as expired in the activity log.
	if err := b.Heartbeat(t.Context()); err != nil {
		t.Fatal(err)
	}
	var reason string
	if err := st.Pool().QueryRow(t.Context(), `SELECT end_reason FROM activity_log WHERE client_ip = $1::inet`, ipA.String()).Scan(&reason); err != nil || reason != conns.ReasonLeaseExpired {
		t.Fatalf("activity of the crashed lease = %q, %v; want lease_expired", reason, err)
	}
}

func TestPolicies(t *testing.T) {
	t.Parallel()
	t.Run("refuse", func(t *testing.T) {
		t.Parallel()
		st, a, _ := setup(t)
		line, _ := testdb.NewLine(t, st, nil)
		first, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil); !errors.Is(err, conns.ErrLimitReached) {
			t.Fatalf("same IP under refuse = %v, want ErrLimitReached", err)
		}
		select {
		case <-first.Done():
			t.Fatal("refused newcomer ended the first stream")
		default:
		}
	})
	t.Run("replace_same_ip", func(t *testing.T) {
		t.Parallel()
		st, a, b := setup(t)
		line, _ := testdb.NewLine(t, st, nil)
		first, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyReplaceSameIP, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Acquire(t.Context(), req(line, ipB), conns.PolicyReplaceSameIP, nil); !errors.Is(err, conns.ErrLimitReached) {
			t.Fatalf("other IP = %v, want ErrLimitReached", err)
		}
		second, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyReplaceSameIP, nil)
		if err != nil {
			t.Fatalf("same IP zapping: %v", err)
		}
		waitDone(t, first, conns.ReasonReplaced)
		if n, _ := a.Count(t.Context(), line.ID); n != 1 || second.Reason() != "" {
			t.Fatalf("after zapping: %d live, second reason %q", n, second.Reason())
		}
	})
	t.Run("kick_oldest across instances", func(t *testing.T) {
		t.Parallel()
		st, a, b := setup(t)
		line, _ := testdb.NewLine(t, st, func(in *store.LineInput) { in.MaxConnections = 2 })
		listen(t, st, a)
		oldest, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyKickOldest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyKickOldest, nil); err != nil {
			t.Fatal(err)
		}
		// A third stream on the other instance kicks the oldest, served by instance a.
		if _, err := b.Acquire(t.Context(), req(line, ipB), conns.PolicyKickOldest, nil); err != nil {
			t.Fatalf("kick_oldest newcomer: %v", err)
		}
		waitDone(t, oldest, conns.ReasonKilled)
		if n, _ := a.Count(t.Context(), line.ID); n != 2 {
			t.Fatalf("live after kick = %d, want 2", n)
		}
	})
}

// listen wires a LISTEN connection to m.OnChange, as the server does.
func listen(t *testing.T, st *store.Store, m *conns.Manager) {
	t.Helper()
	l := store.NewListener(st.Pool(), discard())
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeKill}, OnChange: m.OnChange})
	testdb.Listen(t, l)
}

func waitDone(t *testing.T, l *conns.Lease, reason string) {
	t.Helper()
	select {
	case <-l.Done():
		if l.Reason() != reason {
			t.Fatalf("lease ended with %q, want %q", l.Reason(), reason)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("lease not ended within 2s (want %s)", reason)
	}
}

// TestKill_EndsStreamOnOtherInstance: an admin kill from anywhere ends the stream within 2 s.
func TestKill_EndsStreamOnOtherInstance(t *testing.T) {
	t.Parallel()
	st, a, b := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	listen(t, st, a)
	lease, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Kill(t.Context(), lease.ID); err != nil {
		t.Fatal(err)
	}
	waitDone(t, lease, conns.ReasonKilled)
	if n, _ := a.Count(t.Context(), line.ID); n != 0 {
		t.Fatalf("live after kill = %d", n)
	}
	if err := b.Kill(t.Context(), lease.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second kill = %v, want ErrNotFound", err)
	}
	lease.AddBytes(1234)
	if err := lease.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	var reason string
	var bytes int64
	st.Pool().QueryRow(t.Context(), `SELECT end_reason, bytes_out FROM activity_log WHERE lease_id = $1`, lease.ID).Scan(&reason, &bytes)
	if reason != conns.ReasonKilled || bytes != 1234 {
		t.Fatalf("activity = %q %d bytes, want killed 1234", reason, bytes)
	}
}

func TestRelease_WritesActivityAndFreesSlot(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	r := req(line, ipA)
	r.Country, r.ISP = "DE", "Example ISP"
	lease, err := a.Acquire(t.Context(), r, conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	lease.AddBytes(4096)
	if err := lease.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := lease.Release(t.Context()); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	var username, country, reason string
	var bytes int64
	err = st.Pool().QueryRow(t.Context(), `SELECT username, country, end_reason, bytes_out FROM activity_log WHERE lease_id = $1`, lease.ID).Scan(&username, &country, &reason, &bytes)
	if err != nil || username != line.Username || country != "DE" || reason != conns.ReasonClosed || bytes != 4096 {
		t.Fatalf("activity = %q %q %q %d (%v)", username, country, reason, bytes, err)
	}
	if _, err := a.Acquire(t.Context(), r, conns.PolicyRefuse, nil); err != nil {
		t.Fatalf("slot not freed: %v", err)
	}
	if a.LocalCount() != 1 {
		t.Fatalf("LocalCount = %d, want 1", a.LocalCount())
	}
}

func TestHeartbeat_RenewsAndNoticesLostLeases(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, func(in *store.LineInput) { in.MaxConnections = 2 })
	keep, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	lost, err := a.Acquire(t.Context(), req(line, ipB), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Someone removes a lease behind the instance's back (no NOTIFY reaches it).
	testdb.MustExec(t, st, `DELETE FROM connection_leases WHERE id = $1`, lost.ID)
	if err := a.Heartbeat(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitDone(t, lost, conns.ReasonKilled)
	select {
	case <-keep.Done():
		t.Fatal("renewed lease ended")
	default:
	}
	var left float64
	st.Pool().QueryRow(t.Context(), `SELECT extract(epoch FROM expires_at - now()) FROM connection_leases WHERE id = $1`, keep.ID).Scan(&left)
	if left < 20 || left > 31 {
		t.Fatalf("renewed lease expires in %.1fs, want about 30s", left)
	}
}

func TestHLS_SessionsArePolledAndReplaced(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	r := req(line, ipA)
	first, opened, err := a.TouchHLS(t.Context(), r, conns.PolicyKickOldest, nil)
	if err != nil || !opened {
		t.Fatalf("first poll = %v opened=%v", err, opened)
	}
	again, opened, err := a.TouchHLS(t.Context(), r, conns.PolicyKickOldest, nil)
	if err != nil || opened || again.ID != first.ID {
		t.Fatalf("second poll of the same session = %v opened=%v same=%v; want the same session", err, opened, again.ID == first.ID)
	}
	// Another device starts a session on the 1-connection line: it wins (kick_oldest) ...
	other := r
	other.ClientIP, other.UserAgent = ipB, "TiviMate"
	if _, opened, err := a.TouchHLS(t.Context(), other, conns.PolicyKickOldest, nil); err != nil || !opened {
		t.Fatalf("other device = %v opened=%v", err, opened)
	}
	// ... and the first session's next poll is refused instead of kicking back.
	if _, _, err := a.TouchHLS(t.Context(), r, conns.PolicyKickOldest, nil); !errors.Is(err, conns.ErrSessionKilled) {
		t.Fatalf("poll of the replaced session = %v, want ErrSessionKilled", err)
	}
	if n, _ := a.Count(t.Context(), line.ID); n != 1 {
		t.Fatalf("live = %d, want 1", n)
	}
}

func BenchmarkAcquireRelease(b *testing.B) {
	st, m := benchManager(b, 0)
	line, _ := testdb.NewLine(b, st, func(in *store.LineInput) { in.MaxConnections = 0 })
	r := req(line, ipA)
	b.ReportAllocs()
	for b.Loop() {
		if err := openAndRelease(m, r, conns.PolicyRefuse); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcquireParallel opens and releases leases of distinct lines from many goroutines at
// once (8 per core, a 16-connection pool, as `serve` has): opens of different lines must not
// wait for each other, only for the database.
func BenchmarkAcquireParallel(b *testing.B) {
	st, m := benchManager(b, 16)
	var lines []store.Line
	for range 64 {
		line, _ := testdb.NewLine(b, st, func(in *store.LineInput) { in.MaxConnections = 1 })
		lines = append(lines, line)
	}
	var next atomic.Int64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer() // the lines' argon2id hashes are not what is measured
	b.RunParallel(func(pb *testing.PB) {
		r := req(lines[next.Add(1)%int64(len(lines))], ipA)
		for pb.Next() {
			if err := openAndRelease(m, r, conns.PolicyKickOldest); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchManager returns a store on a fresh database (a pool of maxConns connections, 0: pgxpool's
// default) and a lease manager over it.
func benchManager(b *testing.B, maxConns int32) (*store.Store, *conns.Manager) {
	cfg, err := pgxpool.ParseConfig(testdb.NewDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	st := store.New(pool)
	return st, conns.New(st, conns.Options{InstanceID: "bench"}, discard())
}

// openAndRelease is one stream's lease life: acquired, then released.
func openAndRelease(m *conns.Manager, r conns.Request, policy conns.Policy) error {
	l, err := m.Acquire(context.Background(), r, policy, nil)
	if err != nil {
		return err
	}
	return l.Release(context.Background())
}
