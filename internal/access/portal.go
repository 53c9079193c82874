package access

import (
	"context"
	"fmt"
	"net/netip"
)

// The MAG portal's two questions that are not a Check: a handshake authenticates nothing yet
// (it starts the session the later calls authenticate with), and create_link hands out a link
// without opening the stream.

// Blocked reports whether requests from ip are refused before any check: the address is
// blocked for a failed-login flood or is in the global blocked list. The portal asks before a
// handshake, so a blocked MAC scanner cannot even replace the sessions of the boxes it guessed.
func (c *Checker) Blocked(ip netip.Addr) bool {
	sec := c.sec.Load()
	if sec == nil {
		return false
	}
	ip, now := ip.Unmap(), c.now()
	return sec.flood.contains(ip, now) || sec.blocked.contains(ip, now)
}

// HasFreeSlot reports whether a stream of line opened from ip now would be admitted by step 9
// under the connection policy, without taking a slot: create_link answers "limit" instead of
// a link the stream route would refuse. It decides on the line's live leases as they are now;
// the open itself decides again under the line's lock.
func (c *Checker) HasFreeSlot(ctx context.Context, line *Line, ip netip.Addr) (bool, error) {
	code, err := c.slotFree(ctx, line, ip.Unmap(), c.Settings().ConnectionPolicy)
	if err != nil {
		return false, fmt.Errorf("access: free slot: %w", err)
	}
	return code == OK, nil
}
