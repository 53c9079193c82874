package store_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestAuthFailures_CountPerNetwork: a counter per network, created once, restarted when its
// window is over.
func TestAuthFailures_CountPerNetwork(t *testing.T) {
	t.Parallel()
	st, ctx := newStore(t), t.Context()
	v6 := netip.MustParsePrefix("2001:db8:1:2::/64")
	type got struct {
		Failures int
		Created  bool
	}
	var seen []got
	for _, p := range []netip.Prefix{v6, v6, netip.MustParsePrefix("2001:db8:1:2::99/64"), netip.MustParsePrefix("192.0.2.1/32")} {
		n, created, err := st.RecordAuthFailure(ctx, p, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, got{n, created})
	}
	want := []got{{1, true}, {2, false}, {3, false}, {1, true}} // host bits are masked: one /64
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("RecordAuthFailure results (-want +got):\n%s", diff)
	}
	testdb.MustExec(t, st, `UPDATE auth_failures SET window_started_at = now() - interval '2 minutes'`)
	if n, created, err := st.RecordAuthFailure(ctx, v6, time.Minute); err != nil || n != 1 || created {
		t.Errorf("RecordAuthFailure after the window = %d, %v, %v; want a new window of 1 on the same counter", n, created, err)
	}
	if err := st.ClearAuthFailures(ctx, v6); err != nil {
		t.Fatal(err)
	}
	if n, err := st.AuthFailureCounters(ctx); err != nil || n != 1 {
		t.Errorf("AuthFailureCounters after clearing the /64 = %d, %v; want 1", n, err)
	}
}

// TestTrimAuthFailures: expired windows go, then everything beyond the bound but the most
// advanced counters (most failures, then the newest window).
func TestTrimAuthFailures(t *testing.T) {
	t.Parallel()
	st, ctx := newStore(t), t.Context()
	for _, row := range []struct {
		network  string
		failures int
		age      string
	}{
		{"192.0.2.1", 9, "2 minutes"}, // most failures, but its window is over
		{"192.0.2.2", 7, "10 seconds"},
		{"192.0.2.3", 1, "5 seconds"},
		{"192.0.2.4", 1, "1 second"}, // the newest of the one-off failures
		{"2001:db8::/64", 4, "30 seconds"},
	} {
		testdb.MustExec(t, st, `INSERT INTO auth_failures (client_ip, failures, window_started_at)
			VALUES ($1::inet, $2, now() - $3::interval)`, row.network, row.failures, row.age)
	}
	deleted, err := st.TrimAuthFailures(ctx, time.Minute, 3)
	if err != nil || deleted != 2 {
		t.Fatalf("TrimAuthFailures = %d, %v; want 2 deleted", deleted, err)
	}
	rows, err := st.Pool().Query(ctx, `SELECT host(client_ip) FROM auth_failures ORDER BY client_ip`)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"192.0.2.2", "192.0.2.4", "2001:db8::"}, kept); diff != "" {
		t.Errorf("counters kept (-want +got):\n%s", diff)
	}
}
