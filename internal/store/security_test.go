package store_test

import (
	"net/netip"
	"testing"
)

func TestBlockIP_Unblock(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	network := netip.MustParsePrefix("192.0.2.0/24")
	if err := st.BlockIP(ctx, network, "admin", "abuse", nil); err != nil {
		t.Fatal(err)
	}
	lists, err := st.LoadSecurityLists(ctx)
	if err != nil || len(lists.BlockedIPs) != 1 || lists.BlockedIPs[0].Network != network || lists.BlockedIPs[0].Reason != "abuse" {
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
