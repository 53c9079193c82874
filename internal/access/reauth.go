package access

import (
	"net/netip"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Re-authorization of open streams. Every stream this instance serves (a live TS writer, a
// movie, episode or catch-up body, a redirect-mode lease) and every HLS session that polled it
// is registered at open with what it was admitted with, indexed by line. A change re-decides
// only the streams it can affect, in memory, and ends the ones the check would now refuse:
//
//   - line:<id> (the line, its bouquets or its device changed): the line is read once, fresh,
//     and its streams go through steps 2–8, the format and step 10 again, and their credential
//     is compared (a stream opened with the old password ends); a deleted line ends them all;
//   - the security lists or the settings (after their reload), and a new catalog snapshot:
//     every registered stream is decided again against the line as last read;
//   - the line's exp_date: a timer per line with registered streams fires then;
//   - a reconnect of the listener (notifications lost): every registered line is read again.
//
// The cost is per change and per stream of the changed line; opening and closing a stream
// adds one map insert and one delete. Other instances receive the same NOTIFY and re-decide
// their own streams.

// admission is what an open stream was admitted with.
type admission struct {
	// lease is the stream's lease; for an HLS session, the lease TouchHLS returned.
	lease    *conns.Lease
	streamID int64
	format   string
	ip       netip.Addr
	ua       string
	// hash is the password hash a password-admitted stream matched; cred the issuing
	// credential of one admitted by a portal session or a play token.
	hash string
	cred token.Credential
	// session is the media session of a stream a partner's token opened (zero otherwise): a
	// logout of the session ends it.
	session [16]byte
	// seen is an HLS session's last poll on this instance (it is forgotten HLSTTL later).
	seen time.Time
}

// lineStreams are the registered streams of one line.
type lineStreams struct {
	line    *Line // as last read: at an admission or a re-check; nil once deleted
	streams map[[16]byte]*admission
	timer   *time.Timer // fires at the line's exp_date
	exp     time.Time
}

// registry holds the registered streams by line.
type registry struct {
	expire func(lineID int64) // what the exp_date timer calls
	now    func() time.Time   // the checker's clock, which step 2 reads too

	mu    sync.Mutex
	lines map[int64]*lineStreams
}

func newRegistry(expire func(int64), now func() time.Time) *registry {
	return &registry{expire: expire, now: now, lines: map[int64]*lineStreams{}}
}

// add registers a stream of line (or refreshes an HLS session's last poll). A line already
// known keeps the newer of its two states.
func (g *registry) add(line *Line, a *admission) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ls := g.lines[line.ID]
	if ls == nil {
		ls = &lineStreams{streams: map[[16]byte]*admission{}}
		g.lines[line.ID] = ls
	}
	if ls.line == nil || !line.UpdatedAt.Before(ls.line.UpdatedAt) {
		ls.line = line
	}
	ls.streams[a.lease.ID] = a
	g.armLocked(line.ID, ls)
}

// touch refreshes the last poll of a registered HLS session; false when it is not registered.
func (g *registry) touch(lineID int64, id [16]byte, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ls := g.lines[lineID]; ls != nil {
		if a := ls.streams[id]; a != nil {
			a.seen = now
			return true
		}
	}
	return false
}

// remove forgets a stream (its lease ended); the line goes with its last stream.
func (g *registry) remove(l *conns.Lease) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.removeLocked(l.LineID, l.ID)
}

func (g *registry) removeLocked(lineID int64, id [16]byte) {
	ls := g.lines[lineID]
	if ls == nil {
		return
	}
	delete(ls.streams, id)
	if len(ls.streams) == 0 {
		if ls.timer != nil {
			ls.timer.Stop()
		}
		delete(g.lines, lineID)
	}
}

// setLine records a line as just read (nil: deleted) and re-arms its expiry timer.
func (g *registry) setLine(id int64, line *Line) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ls := g.lines[id]; ls != nil {
		ls.line = line
		g.armLocked(id, ls)
	}
}

// armLocked sets the line's timer to its exp_date (or stops it when there is none).
func (g *registry) armLocked(id int64, ls *lineStreams) {
	if ls.line == nil || ls.line.ExpDate == nil {
		if ls.timer != nil {
			ls.timer.Stop()
			ls.timer = nil
		}
		return
	}
	exp := *ls.line.ExpDate
	if ls.timer != nil && exp.Equal(ls.exp) {
		return
	}
	if ls.timer != nil {
		ls.timer.Stop()
	}
	ls.exp = exp
	ls.timer = time.AfterFunc(exp.Sub(g.now()), func() { g.fire(id, exp) })
}

// fire hands the line to expire once the registry's clock has reached exp, re-arming the timer
// until it has. The clock is the check's (a clock.Coarse in production): it may lag the timer
// by a tick, more when the machine is saturated, and a re-check that reads it before exp
// finds the line still valid and would never look again.
func (g *registry) fire(id int64, exp time.Time) {
	left := exp.Sub(g.now())
	if left <= 0 {
		g.expire(id)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ls := g.lines[id]; ls != nil && ls.exp.Equal(exp) && ls.line != nil && ls.line.ExpDate != nil {
		ls.timer = time.AfterFunc(max(left, time.Millisecond), func() { g.fire(id, exp) })
	}
}

// has reports whether any stream of the line is registered.
func (g *registry) has(lineID int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.lines[lineID] != nil
}

// streamsOf is the number of the line's registered streams and sessions: leases this instance
// holds, so at least that many of the line's leases are live.
func (g *registry) streamsOf(lineID int64) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ls := g.lines[lineID]; ls != nil {
		return len(ls.streams)
	}
	return 0
}

// count is the number of registered streams and sessions.
func (g *registry) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, ls := range g.lines {
		n += len(ls.streams)
	}
	return n
}

// linesWhere lists the lines with a registered stream that keep says to.
func (g *registry) linesWhere(keep func(*admission) bool) []int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []int64
	for id, ls := range g.lines {
		for _, a := range ls.streams {
			if keep(a) {
				ids = append(ids, id)
				break
			}
		}
	}
	return ids
}

// lineIDs lists the lines with registered streams.
func (g *registry) lineIDs() []int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	ids := make([]int64, 0, len(g.lines))
	for id := range g.lines {
		ids = append(ids, id)
	}
	return ids
}

// target is one registered stream to decide again, with its line as last read.
type target struct {
	lineID int64
	line   *Line
	adm    *admission
}

// targets lists the registered streams of the given lines (nil: of every line), leaving out
// HLS sessions not polled here since before stale.
func (g *registry) targets(lines []int64, stale time.Time) []target {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []target
	add := func(id int64, ls *lineStreams) {
		for _, a := range ls.streams {
			if a.lease.Container != conns.ContainerHLS || a.seen.After(stale) {
				out = append(out, target{lineID: id, line: ls.line, adm: a})
			}
		}
	}
	if lines == nil {
		for id, ls := range g.lines {
			add(id, ls)
		}
		return out
	}
	for _, id := range lines {
		if ls := g.lines[id]; ls != nil {
			add(id, ls)
		}
	}
	return out
}

// prune forgets the HLS sessions not polled here since before stale, or ended on any instance.
func (g *registry) prune(stale time.Time, ended func([16]byte) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for lineID, ls := range g.lines {
		for id, a := range ls.streams {
			if a.lease.Container == conns.ContainerHLS && (!a.seen.After(stale) || ended(id)) {
				g.removeLocked(lineID, id)
			}
		}
	}
}
