package store_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	var got [][16]byte
	for _, l := range live {
		got = append(got, l.ID)
	}
	if diff := cmp.Diff([][16]byte{first, second}, got); diff != "" {
		t.Fatalf("ListLiveLeases ids, oldest first (-want +got):\n%s", diff)
	}
	if l := live[1]; l.LineID != b.ID || l.StreamID != 2 || l.Container != "vod" || l.ClientIP != netip.MustParseAddr("192.0.2.1") || l.Killed {
		t.Fatalf("ListLiveLeases[1] = %+v", l)
	}
}
