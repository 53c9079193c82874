package conns

import (
	"context"
	"time"
)

// Run renews this instance's leases every heartbeat, stops streams whose lease vanished or could
// not be renewed in time, and sweeps leases whose instance died, until ctx ends. Then it ends
// every local lease.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.Heartbeat)
	defer t.Stop()
	overdue := time.NewTimer(m.opts.TTL)
	defer overdue.Stop()
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return nil
		case <-t.C:
			if err := m.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("lease heartbeat failed", "err", err)
			}
		case <-overdue.C:
			m.expireOverdue()
		}
		// Renewals that keep failing fast must not let a lease outlive its row: wake up at the
		// first local deadline when it comes before the next heartbeat.
		overdue.Reset(m.untilFirstDeadline(m.opts.TTL))
	}
}

// Heartbeat renews the local leases once and sweeps expired ones (Run calls it; tests may too).
// A renewal gets no longer than the first local lease has left, so a stalled pool cannot hold it
// past that lease's expiry; leases that could not be renewed in time then end here (reason
// lease_expired) before their rows expire, so no line ever has two live streams on one slot.
func (m *Manager) Heartbeat(ctx context.Context) error {
	m.mu.Lock()
	ids := make([][16]byte, 0, len(m.local))
	delivered := make([]int64, 0, len(m.local))
	for id, l := range m.local {
		ids = append(ids, id)
		delivered = append(delivered, l.Bytes())
	}
	m.mu.Unlock()
	sent := m.mono()
	rctx, cancel := context.WithTimeout(ctx, m.untilFirstDeadline(m.opts.Heartbeat))
	// The renewal carries the delivered bytes: the admin's connection list and the dashboard's
	// "bandwidth now" read them.
	alive, err := m.store.RenewLeasesCounting(rctx, ids, delivered, m.opts.TTL)
	cancel()
	if err != nil {
		m.expireOverdue()
		return err
	}
	m.renewed(ids, alive, sent)
	m.pruneEnded(time.Now())
	sctx, cancel := context.WithTimeout(ctx, m.untilFirstDeadline(m.opts.Heartbeat))
	defer cancel()
	return m.sweep(sctx)
}

// renewed records a successful renewal sent at sent, and stops the streams whose lease was not
// among the alive ones (killed or replaced while this instance missed the NOTIFY).
func (m *Manager) renewed(ids, alive [][16]byte, sent int64) {
	keep := make(map[[16]byte]bool, len(alive))
	for _, id := range alive {
		keep[id] = true
	}
	var lost []*Lease
	m.mu.Lock()
	for _, id := range ids {
		l := m.local[id]
		switch {
		case l == nil:
		case keep[id]:
			l.renewed.Store(sent)
		default:
			lost = append(lost, l)
			delete(m.local, id)
		}
	}
	m.mu.Unlock()
	for _, l := range lost {
		l.end(ReasonKilled)
	}
}

// margin is how long before its row's expiry a lease that could not be renewed ends.
func (m *Manager) margin() time.Duration { return m.opts.TTL / 10 }

// untilFirstDeadline is the time until the first local lease must end unless renewed (at most
// limit; never below a millisecond).
func (m *Manager) untilFirstDeadline(limit time.Duration) time.Duration {
	now := m.mono()
	first := now + int64(limit)
	m.mu.Lock()
	for _, l := range m.local {
		first = min(first, l.renewed.Load()+int64(m.opts.TTL-m.margin()))
	}
	m.mu.Unlock()
	return max(time.Duration(first-now), time.Millisecond)
}

// expireOverdue ends the local leases whose last renewal is too old: their rows expire within
// the margin, and another instance may give their slot away then.
func (m *Manager) expireOverdue() {
	deadline := m.mono() - int64(m.opts.TTL-m.margin())
	var overdue []*Lease
	m.mu.Lock()
	for id, l := range m.local {
		if l.renewed.Load() <= deadline {
			overdue = append(overdue, l)
			delete(m.local, id)
		}
	}
	m.mu.Unlock()
	for _, l := range overdue {
		l.end(ReasonLeaseExpired)
	}
	if len(overdue) > 0 {
		m.log.Warn("leases not renewed in time: streams ended", "leases", len(overdue))
	}
}

func (m *Manager) sweep(ctx context.Context) error {
	expired, err := m.store.ExpiredLeaseIDs(ctx, 1000)
	if err != nil || len(expired) == 0 {
		return err
	}
	_, err = m.store.EndLeases(ctx, expired, nil, ReasonLeaseExpired)
	return err
}

// shutdown ends every local lease (recorded as shutdown).
func (m *Manager) shutdown() {
	m.mu.Lock()
	leases := make([]*Lease, 0, len(m.local))
	ids := make([][16]byte, 0, len(m.local))
	bytes := make([]int64, 0, len(m.local))
	for id, l := range m.local {
		leases = append(leases, l)
		ids = append(ids, id)
		bytes = append(bytes, l.Bytes())
	}
	m.local = map[[16]byte]*Lease{}
	m.mu.Unlock()
	for _, l := range leases {
		l.released.Store(true)
		l.end(ReasonShutdown)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.store.EndLeases(ctx, ids, bytes, ReasonShutdown); err != nil {
		m.log.Warn("ending leases at shutdown", "err", err, "leases", len(ids))
	}
}
