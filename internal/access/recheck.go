package access

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/token"
)

// End reasons of streams a re-check refused, as the activity log records them, besides the
// codes' own (Code.EndReason: banned, expired, ip_ban ...).
const (
	ReasonDeleted         = "deleted"          // the line was deleted
	ReasonPasswordChanged = "password_changed" // the password it was opened (or its link issued) with changed
	ReasonDeviceChanged   = "device_changed"   // the MAG portal session it was opened under ended
	ReasonDeviceRevoked   = "device_revoked"   // the device credential it was opened with was revoked
	ReasonPartnerRevoked  = "partner_revoked"  // the partner whose token opened it may no longer act for the line
	ReasonLoggedOut       = "logged_out"       // the media session it was opened under was revoked (a partner's logout)
)

// recheckTimeout bounds one pass of re-checks (a line read, the ends).
const recheckTimeout = 10 * time.Second

// recheckQueue collects what must be decided again; one worker drains it, so a burst of
// changes costs one pass.
type recheckQueue struct {
	mu       sync.Mutex
	lines    map[int64]struct{}
	sessions map[[16]byte]struct{} // revoked media sessions whose streams end
	every    bool                  // every registered stream, against the lines as last read
	reread   bool                  // every registered line, read again first
	kick     chan struct{}
}

func newRecheckQueue() *recheckQueue {
	return &recheckQueue{lines: map[int64]struct{}{}, sessions: map[[16]byte]struct{}{}, kick: make(chan struct{}, 1)}
}

func (q *recheckQueue) add(fn func()) {
	q.mu.Lock()
	fn()
	q.mu.Unlock()
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

func (q *recheckQueue) line(id int64)            { q.add(func() { q.lines[id] = struct{}{} }) }
func (q *recheckQueue) session(id [16]byte)      { q.add(func() { q.sessions[id] = struct{}{} }) }
func (q *recheckQueue) all()                     { q.add(func() { q.every = true }) }
func (q *recheckQueue) rereadAll()               { q.add(func() { q.reread = true }) }
func (q *recheckQueue) takeSessions() [][16]byte { return takeKeys(&q.mu, q.sessions) }

func (q *recheckQueue) take() (lines []int64, every, reread bool) {
	lines = takeKeys(&q.mu, q.lines)
	q.mu.Lock()
	defer q.mu.Unlock()
	every, reread = q.every, q.reread
	q.every, q.reread = false, false
	return lines, every, reread
}

// takeKeys empties m (under mu) and returns what it held.
func takeKeys[K comparable](mu *sync.Mutex, m map[K]struct{}) []K {
	mu.Lock()
	defer mu.Unlock()
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	clear(m)
	return out
}

// changed counts a change that may refuse open streams; an open that was decided before it
// re-checks its line once registered (see admitted).
func (c *Checker) changed() { c.changes.Add(1) }

// EntitlementsChanged is called once the catalog snapshot behind Deps.Entitled was replaced:
// the bouquet step of every open stream is decided again.
func (c *Checker) EntitlementsChanged() {
	c.rules.Add(1)
	c.changed()
	c.queue.all()
}

// admitted registers a stream open that passed every step (an HLS poll refreshes its session).
// When something changed since the check began, the line is decided again at once: the change's
// re-check may have run before this stream was registered.
func (c *Checker) admitted(r Request, d Decision, ip netip.Addr, epoch uint64) {
	l := d.Lease
	now := c.now()
	if l.Container != conns.ContainerHLS || !c.reg.touch(l.LineID, l.ID, now) {
		a := &admission{lease: l, streamID: r.StreamID, format: r.Format, ip: ip, ua: r.UserAgent, cred: d.cred, seen: now}
		if d.cred == (token.Credential{}) {
			a.hash = d.Line.PasswordHash
		}
		if k := d.PlayClaims.Kind; d.cred.Kind == token.CredentialPartner && k != token.KindSession && k != token.KindSegment {
			a.session = d.PlayClaims.SessionID // a session link's is its lease's, not the media session
		}
		c.reg.add(d.Line, a)
		// It may have ended before it was registered (its OnEnd found nothing to remove).
		if l.Container != conns.ContainerHLS && l.Ended() {
			c.reg.remove(l)
		}
	}
	if c.changes.Load() != epoch {
		c.queue.line(l.LineID)
	}
}

// runRechecks drains the queue until ctx ends; after a failed pass it waits a second (the
// database is probably down) and tries again.
func (c *Checker) runRechecks(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.queue.kick:
		}
		err := c.endRevokedSessions(ctx)
		if err == nil {
			err = c.recheckPending(ctx)
		}
		if err != nil && ctx.Err() == nil {
			c.d.Log.Warn("re-checking open streams", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// endRevokedSessions ends the registered streams of the media sessions revoked since the last
// pass; on a failure the sessions go back into the queue.
func (c *Checker) endRevokedSessions(ctx context.Context) error {
	ids := c.queue.takeSessions()
	if len(ids) == 0 {
		return nil
	}
	revoked := make(map[[16]byte]bool, len(ids))
	for _, id := range ids {
		revoked[id] = true
	}
	var leases []*conns.Lease
	for _, t := range c.reg.targets(nil, time.Time{}) {
		if t.adm.session != [16]byte{} && revoked[t.adm.session] {
			leases = append(leases, t.adm.lease)
		}
	}
	if len(leases) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, recheckTimeout)
	defer cancel()
	if err := c.d.Conns.End(ctx, leases, ReasonLoggedOut); err != nil {
		for _, id := range ids {
			c.queue.session(id)
		}
		return err
	}
	for _, l := range leases {
		c.d.Log.Info("open stream ended by a logout", "line_id", l.LineID, "lease_id", l.IDString(), "stream_id", l.StreamID)
	}
	return nil
}

// recheckPending runs one pass over what the queue holds. On a failure, the lines it could
// not decide go back into the queue.
func (c *Checker) recheckPending(ctx context.Context) error {
	lines, every, reread := c.queue.take()
	ctx, cancel := context.WithTimeout(ctx, recheckTimeout)
	defer cancel()
	if reread {
		lines = c.reg.lineIDs()
	}
	if err := c.reread(ctx, lines); err != nil {
		for _, id := range lines {
			c.queue.line(id)
		}
		return err
	}
	sel := lines
	if every || reread {
		sel = nil
	} else if len(lines) == 0 {
		return nil
	}
	// A credential can only have changed with its line (a password or a device change notifies
	// line:<id>): only the lines just read have theirs compared again.
	fresh := make(map[int64]bool, len(lines))
	for _, id := range lines {
		fresh[id] = true
	}
	sec := c.sec.Load()
	now := c.now()
	ends := map[string][]*conns.Lease{}
	var failed error
	for _, t := range c.reg.targets(sel, now.Add(-c.d.Conns.HLSTTL())) {
		if t.adm.lease.Container == conns.ContainerHLS && c.d.Conns.SessionEnded(t.adm.lease.ID) {
			continue
		}
		reason, err := c.recheck(ctx, sec, t, fresh[t.lineID], now)
		if err != nil {
			failed = err
			c.queue.line(t.lineID)
			continue
		}
		if reason != "" {
			ends[reason] = append(ends[reason], t.adm.lease)
		}
	}
	for reason, leases := range ends {
		if err := c.d.Conns.End(ctx, leases, reason); err != nil {
			failed = err
		}
		for _, l := range leases {
			c.d.Log.Info("open stream refused by a re-check", "line_id", l.LineID, "lease_id", l.IDString(),
				"container", l.Container, "stream_id", l.StreamID, "reason", reason)
		}
	}
	return failed
}

// reread reads the lines with registered streams among ids, fresh, into the registry (a line
// gone is recorded as deleted).
func (c *Checker) reread(ctx context.Context, ids []int64) error {
	known := ids[:0:0]
	for _, id := range ids {
		if c.reg.has(id) {
			known = append(known, id)
		}
	}
	if len(known) == 0 {
		return nil
	}
	rows, err := c.d.Store.LinesByID(ctx, known)
	if err != nil {
		return err
	}
	found := make(map[int64]*Line, len(rows))
	for i := range rows {
		found[rows[i].ID] = &rows[i]
	}
	for _, id := range known {
		c.reg.setLine(id, found[id]) // nil: deleted
	}
	return nil
}

// recheck decides a registered stream again: its line (deleted?), its credential (when the
// line was just read), then steps 2–8, the format and step 10 in memory. It returns the end
// reason, "" when it may go on.
func (c *Checker) recheck(ctx context.Context, sec *security, t target, fresh bool, now time.Time) (string, error) {
	line, a := t.line, t.adm
	switch {
	case line == nil:
		return ReasonDeleted, nil
	case a.hash != "" && a.hash != line.PasswordHash:
		return ReasonPasswordChanged, nil
	case fresh && a.cred != (token.Credential{}):
		ok, err := c.credentialHolds(ctx, line, a.cred)
		if err != nil {
			return "", err
		}
		if !ok && a.cred.Kind == token.CredentialPortal {
			return ReasonDeviceChanged, nil
		}
		if !ok && a.cred.Kind == token.CredentialDevice {
			return ReasonDeviceRevoked, nil
		}
		if !ok && a.cred.Kind == token.CredentialPartner {
			return ReasonPartnerRevoked, nil
		}
		if !ok {
			return ReasonPasswordChanged, nil
		}
	}
	if sec == nil {
		return "", errNotLoaded
	}
	return c.stateSteps(sec, line, a, now).EndReason(), nil
}

// stateSteps are the steps an open stream answers to for as long as it plays: 2–8, the format
// and 10, as check runs them, without writing anything (an ISP lock with no ISP recorded yet
// records it at the next open, not here).
func (c *Checker) stateSteps(sec *security, line *Line, a *admission, now time.Time) Code {
	if code := lineStatus(line, now); code != OK {
		return code
	}
	if code := ipAllowed(sec, line, a.ip, now); code != OK {
		return code
	}
	if code, _ := c.countryAllowed(sec, line, a.ip); code != OK {
		return code
	}
	if code := userAgentAllowed(sec, line, a.ua); code != OK {
		return code
	}
	isp, have := c.lookupISP(sec, line, a.ip, true)
	if code, _ := ispDecision(sec, line, isp, have); code != OK {
		return code
	}
	if code := formatAllowed(line, a.format); code != OK {
		return code
	}
	return c.inBouquet(line, a.streamID)
}

// RegisteredStreams is the number of open streams and HLS sessions registered for re-checks on
// this instance (xtreamd_access_registered_streams).
func (c *Checker) RegisteredStreams() int { return c.reg.count() }

// SegmentAllowed reports whether a segment of HLS session id of line lineID may be served, in
// memory: the session did not end (killed, replaced or refused by a re-check, on any instance),
// and the line, when this instance has it cached, is not expired, banned or disabled.
func (c *Checker) SegmentAllowed(lineID int64, session [16]byte) bool {
	if c.d.Conns.SessionEnded(session) {
		return false
	}
	if line := c.lines.peekID(lineID); line != nil && lineStatus(line, c.now()) != OK {
		return false
	}
	return true
}
