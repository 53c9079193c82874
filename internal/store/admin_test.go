// Nothing but the admin API to come calls ListLiveLeases (its live-connection list) and
// UnblockIP: these tests keep them working meanwhile.

package store_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestListLiveLeases_LeavesOutKilledAndExpired(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	insert := func(lineID int64, n byte, container string) [16]byte {
		t.Helper()
		id := [16]byte{15: n}
		_, err := st.InsertLease(ctx, store.LeaseRow{ID: id, LineID: lineID, StreamID: int64(n), InstanceID: "test",
			Container: container, ClientIP: netip.MustParseAddr("192.0.2.1"), UserAgent: "ua"}, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a, _ := testdb.NewLine(t, st, nil)
	b, _ := testdb.NewLine(t, st, nil)
	crashed, _ := testdb.NewLine(t, st, nil)
	first := insert(a.ID, 1, "ts")
	second := insert(b.ID, 2, "vod")
	killed := insert(a.ID, 3, "hls")
	insert(crashed.ID, 4, "ts")
	if err := st.MarkLeasesKilled(ctx, [][16]byte{killed}, time.Minute); err != nil {
		t.Fatal(err)
	}
	testdb.AgeLeases(t, st, crashed.ID)

	live, err := st.ListLiveLeases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || live[0].ID != first || live[1].ID != second {
		t.Fatalf("ListLiveLeases = %+v, want leases %x and %x, oldest first", live, first, second)
	}
	if l := live[1]; l.LineID != b.ID || l.StreamID != 2 || l.Container != "vod" ||
		l.ClientIP != netip.MustParseAddr("192.0.2.1") || l.Killed {
		t.Fatalf("ListLiveLeases[1] = %+v", l)
	}
}

func TestBlockIP_Unblock(t *testing.T) {
	t.Parallel()
	st, ctx := newStore(t), t.Context()
	network := netip.MustParsePrefix("192.0.2.0/24")
	if err := st.BlockIP(ctx, network, "admin", "abuse", nil); err != nil {
		t.Fatal(err)
	}
	lists, err := st.LoadSecurityLists(ctx)
	if err != nil || len(lists.BlockedIPs) != 1 || lists.BlockedIPs[0].Network != network ||
		lists.BlockedIPs[0].Reason != "abuse" {
		t.Fatalf("LoadSecurityLists after BlockIP = %+v, %v", lists.BlockedIPs, err)
	}
	if err := st.UnblockIP(ctx, network); err != nil {
		t.Fatal(err)
	}
	after, err := st.LoadSecurityLists(ctx)
	if err != nil || len(after.BlockedIPs) != 0 {
		t.Fatalf("LoadSecurityLists after UnblockIP = %+v, %v, want no block", after.BlockedIPs, err)
	}
	if after.Version <= lists.Version {
		t.Fatalf("security version %d → %d: UnblockIP must bump it (other instances reload)", lists.Version, after.Version)
	}
}
