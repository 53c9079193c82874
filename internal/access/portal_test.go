package access_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	if err := f.st.SetSetting(ctx, "flood_auth_failures", 3); err != nil {
		t.Fatal(err)
	}
	if err := f.st.BlockIP(ctx, netip.MustParsePrefix("203.0.113.16/28"), "admin", "test", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if f.checker.Blocked(ipDE) || !f.checker.Blocked(netip.MustParseAddr("203.0.113.17")) {
		t.Fatal("Blocked does not follow the blocked list")
	}
	if !f.checker.Blocked(netip.MustParseAddr("::ffff:203.0.113.17")) {
		t.Fatal("Blocked misses an IPv4-mapped address")
	}
	// Three failed logins flood-block the address.
	for range 3 {
		f.check(t, access.Request{Who: access.PortalSession{MAC: mustMAC(t, "00:1A:79:00:00:99")}, ClientIP: ipDE, UserAgent: testUA})
	}
	if !f.checker.Blocked(ipDE) || f.checker.Blocked(ipUnknown) {
		t.Fatalf("after a flood: Blocked(flooder) = %v, Blocked(other) = %v", f.checker.Blocked(ipDE), f.checker.Blocked(ipUnknown))
	}
}

func TestHasFreeSlot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	one, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 1 })
	unlimited, _ := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	free := func(line store.Line, ip netip.Addr) bool {
		t.Helper()
		ok, err := f.checker.HasFreeSlot(ctx, &line, ip)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !free(one, ipDE) || !free(unlimited, ipDE) {
		t.Fatal("an idle line has no free slot")
	}
	if d := f.check(t, open(one, pw, ipDE, streamInBouquet)); d.Code != access.OK {
		t.Fatalf("open = %v", d.Code)
	}
	// replace_same_ip (the default): the viewer's own address may zap, another may not.
	if !free(one, ipDE) || free(one, ipDE2) {
		t.Fatalf("full line: same IP %v, other IP %v; want true, false", free(one, ipDE), free(one, ipDE2))
	}
	if err := f.st.SetSetting(ctx, "connection_policy", "kick_oldest"); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if !free(one, ipDE2) {
		t.Fatal("kick_oldest: a full line has no free slot")
	}
}
