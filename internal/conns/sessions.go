package conns

import (
	"context"
	"errors"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// HLS sessions. An HLS viewer holds a lease keyed by (line, stream, IP, user agent) that its
// playlist polls renew; its segments are fetched with signed links that name the session. A
// session that was killed, replaced or refused by a re-check is remembered by every instance
// (the kill NOTIFY) for SessionMemory, and its segment links are refused meanwhile.

// TouchHLS returns the HLS session of (line, stream, IP, user agent), refreshing it, or opens
// one with Acquire. Playlist polls call it; an HLS session ends HLSTTL after its last poll.
// admit runs for a renewal as for an open (the bouquet check). A poll costs at most two
// attempts: an expired row of the same key is ended inside the open's transaction, so only a
// concurrent poll of the same session can make the open conflict, and that session is then
// found and renewed.
func (m *Manager) TouchHLS(ctx context.Context, req Request, policy Policy, admit func() error) (lease *Lease, opened bool, err error) {
	req.Container = ContainerHLS
	req.OnEnd = nil
	for attempt := 0; ; attempt++ {
		row, err := m.store.FindHLSLease(ctx, req.LineID, req.StreamID, req.ClientIP, req.UserAgent)
		switch {
		case err == nil && row.Killed:
			return nil, false, ErrSessionKilled
		case err == nil:
			if lease, err := m.renewHLS(ctx, row, admit); lease != nil || err != nil {
				return lease, false, err
			}
			// It expired between the two statements: open a new one.
		case !errors.Is(err, store.ErrNotFound):
			return nil, false, err
		}
		lease, err = m.Acquire(ctx, req, policy, admit)
		if errors.Is(err, store.ErrConflict) && attempt == 0 {
			continue // a concurrent poll of the same session opened it first: use that one
		}
		return lease, err == nil, err
	}
}

// renewHLS renews a found session after admit passed; nil and no error when the session
// expired meanwhile.
func (m *Manager) renewHLS(ctx context.Context, row store.LeaseRow, admit func() error) (*Lease, error) {
	if admit != nil {
		if err := admit(); err != nil {
			return nil, err
		}
	}
	alive, err := m.store.RenewLeases(ctx, [][16]byte{row.ID}, m.opts.HLSTTL)
	if err != nil || len(alive) == 0 {
		return nil, err
	}
	return &Lease{ID: row.ID, LineID: row.LineID, StreamID: row.StreamID, Container: ContainerHLS,
		ClientIP: row.ClientIP, UserAgent: row.UserAgent, Country: row.Country, ISP: row.ISP,
		StartedAt: row.StartedAt, mgr: m, done: make(chan struct{})}, nil
}

// SessionEnded reports whether this instance knows that HLS session id was killed, replaced or
// ended within SessionMemory (a map probe: segment requests call it).
func (m *Manager) SessionEnded(id [16]byte) bool {
	m.endedMu.RLock()
	_, ok := m.ended[id]
	m.endedMu.RUnlock()
	return ok
}

// forgetSessions remembers ids as ended, until SessionMemory from now.
func (m *Manager) forgetSessions(ids [][16]byte) {
	until := time.Now().Add(m.opts.SessionMemory)
	m.endedMu.Lock()
	for _, id := range ids {
		m.ended[id] = until
	}
	m.endedMu.Unlock()
}

// pruneEnded drops the ended sessions whose memory has run out.
func (m *Manager) pruneEnded(now time.Time) {
	m.endedMu.Lock()
	defer m.endedMu.Unlock()
	for id, until := range m.ended {
		if !now.Before(until) {
			delete(m.ended, id)
		}
	}
}
