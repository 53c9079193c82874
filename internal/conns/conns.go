// Package conns keeps the per-line connection limit across every instance with leases in
// PostgreSQL: a viewer holds a lease for the life of its stream; leases are renewed by a
// heartbeat and expire when their instance stops renewing them, so a crashed instance leaves
// no ghost connections. Decisions for one line are serialised by a transaction-level advisory
// lock (count, decide, insert), so the limit holds with any number of instances. A lease is
// never renewed once its time ran out, and an instance that cannot renew ends its streams
// before their rows expire (heartbeat.go); ended HLS sessions are known on every instance, so
// their segment links stop with them (sessions.go).
package conns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Policy says what happens when a line at its connection limit opens another stream.
type Policy string

// The connection policies (DESIGN §2).
const (
	// PolicyRefuse refuses the new stream (USER_ALREADY_CONNECTED).
	PolicyRefuse Policy = "refuse"
	// PolicyReplaceSameIP lets a new stream from an IP that already holds slots of the line
	// replace the oldest of them (channel zapping); other IPs are refused.
	PolicyReplaceSameIP Policy = "replace_same_ip"
	// PolicyKickOldest ends the line's oldest streams: the newest request wins (XC 2.9).
	PolicyKickOldest Policy = "kick_oldest"
)

// ParsePolicy reads a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case PolicyRefuse, PolicyReplaceSameIP, PolicyKickOldest:
		return p, nil
	}
	return "", fmt.Errorf("unknown connection policy %q (want refuse, replace_same_ip or kick_oldest)", s)
}

// Containers of a lease.
const (
	ContainerTS        = "ts"
	ContainerHLS       = "hls"
	ContainerVOD       = "vod"
	ContainerTimeshift = "timeshift"
)

// End reasons written to the activity log. A re-check that refuses an open stream ends it with
// a reason of its own (package access: banned, expired, password_changed ...).
const (
	ReasonClosed   = "closed"   // the viewer went away or the stream ended
	ReasonKilled   = "killed"   // an admin killed it
	ReasonReplaced = "replaced" // a newer stream of the line took its slot
	// ReasonLeaseExpired: the lease's time ran out: its instance stopped renewing it (crash), or
	// could not renew it in time (database unreachable). Not the line's expiry ("expired").
	ReasonLeaseExpired = "lease_expired"
	ReasonShutdown     = "shutdown" // this instance shut down
)

// ErrLimitReached means the line has no free slot under the policy.
var ErrLimitReached = errors.New("conns: connection limit reached")

// ErrSessionKilled means an HLS session was killed or replaced: its player must stop (403).
var ErrSessionKilled = errors.New("conns: session killed")

// Request describes a stream open.
type Request struct {
	LineID         int64
	MaxConnections int // 0: unlimited
	StreamID       int64
	Container      string
	ClientIP       netip.Addr
	UserAgent      string
	Country        string
	ISP            string
	// Full says the caller knows the line holds MaxConnections live leases already (streams it
	// serves itself, e.g. a viewer zapping): the open goes straight to the policy's transaction
	// instead of first trying the one-round-trip open of a line with room. It is only a hint: the
	// decision is the same either way.
	Full bool
	// OnEnd (nil: none) runs once when the lease of a stream served here ends, whatever ended it
	// (released, killed, replaced, ended, lost, shutdown), after Done is closed. It runs on the
	// goroutine that ended the lease and must be quick. HLS sessions never call it.
	OnEnd func(*Lease)
}

// Options configure a Manager.
type Options struct {
	InstanceID string
	// TTL is how long a lease lives without renewal (default 30 s).
	TTL time.Duration
	// Heartbeat is the renewal interval (default 10 s); keep it well under TTL.
	Heartbeat time.Duration
	// HLSTTL is how long an HLS session lives without a playlist poll (default 60 s).
	HLSTTL time.Duration
	// SessionMemory is how long this instance remembers an ended HLS session, refusing its
	// segment links (default 3 min). Keep it above the segment links' lifetime plus
	// token.Leeway, so no link of an ended session outlives the memory.
	SessionMemory time.Duration
}

// Manager acquires, renews and releases this instance's leases.
type Manager struct {
	store *store.Store
	opts  Options
	log   *slog.Logger
	epoch time.Time // the origin of Lease.renewed (monotonic)

	mu    sync.Mutex
	local map[[16]byte]*Lease // leases of streams served by this instance

	endedMu sync.RWMutex
	ended   map[[16]byte]time.Time // ended HLS sessions (and killed leases): when they are forgotten
}

// New returns a Manager; call Run to keep its leases alive.
func New(st *store.Store, opts Options, log *slog.Logger) *Manager {
	if opts.TTL <= 0 {
		opts.TTL = 30 * time.Second
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 10 * time.Second
	}
	if opts.HLSTTL <= 0 {
		opts.HLSTTL = 60 * time.Second
	}
	if opts.SessionMemory <= 0 {
		opts.SessionMemory = 3 * time.Minute
	}
	if opts.InstanceID == "" {
		opts.InstanceID = "xtreamd"
	}
	return &Manager{store: st, opts: opts, log: log, epoch: time.Now(), local: map[[16]byte]*Lease{}, ended: map[[16]byte]time.Time{}}
}

// InstanceID names this instance in the leases it holds (the configured one, else "xtreamd").
func (m *Manager) InstanceID() string { return m.opts.InstanceID }

// Lease is one viewer's slot. Done is closed when the lease ends for a reason other than the
// viewer leaving (killed, replaced, ended by a re-check, lease expired, shutdown): the stream
// must stop then. Its exported fields are what the stream was admitted with and never change.
type Lease struct {
	ID        [16]byte
	LineID    int64
	StreamID  int64
	Container string
	ClientIP  netip.Addr
	UserAgent string
	Country   string
	ISP       string
	StartedAt time.Time

	mgr      *Manager
	bytes    atomic.Int64
	done     chan struct{}
	doneOnce sync.Once
	reason   atomic.Value // string
	released atomic.Bool
	onEnd    func(*Lease)
	// renewed is the monotonic time (since the manager's epoch) just before the last
	// successful renewal was sent: the database's expiry is at least TTL after it.
	renewed atomic.Int64
}

// IDString is the lease id in canonical UUID form.
func (l *Lease) IDString() string { return uuid.UUID(l.ID).String() }

// Done is closed when the stream must stop.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Ended reports whether Done is closed.
func (l *Lease) Ended() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// Reason is why Done was closed ("" while it is open).
func (l *Lease) Reason() string {
	r, _ := l.reason.Load().(string)
	return r
}

// AddBytes counts bytes delivered to the viewer (for the activity log).
func (l *Lease) AddBytes(n int64) { l.bytes.Add(n) }

// Bytes returns the bytes delivered so far.
func (l *Lease) Bytes() int64 { return l.bytes.Load() }

func (l *Lease) end(reason string) {
	l.doneOnce.Do(func() {
		l.reason.Store(reason)
		close(l.done)
		if l.onEnd != nil {
			l.onEnd(l)
		}
	})
}

// Release ends the lease because the viewer went away; it is idempotent. It uses its own
// bounded context, since it usually runs after the request context is gone. A lease that
// ended for another reason first keeps that reason.
func (l *Lease) Release(ctx context.Context) error {
	if !l.released.CompareAndSwap(false, true) {
		return nil
	}
	m := l.mgr
	m.mu.Lock()
	delete(m.local, l.ID)
	m.mu.Unlock()
	l.end(ReasonClosed)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	gone, err := m.store.EndLeases(ctx, [][16]byte{l.ID}, []int64{l.Bytes()}, l.Reason())
	if err != nil {
		return fmt.Errorf("release lease: %w", err)
	}
	if len(gone) == 0 && l.Bytes() > 0 {
		// Someone else ended it (kill, replacement, sweep): add what we delivered.
		if err := m.store.AddActivityBytes(ctx, l.ID, l.Bytes()); err != nil {
			return fmt.Errorf("release lease: %w", err)
		}
	}
	return nil
}

// Admit decides under policy whether a new stream of req may open next to the line's live
// leases (oldest first), and which of them it replaces. It is pure: the caller holds the line
// lock.
func Admit(live []store.LeaseRow, req Request, policy Policy) (victims [][16]byte, ok bool) {
	if req.MaxConnections <= 0 || len(live) < req.MaxConnections {
		return nil, true
	}
	need := len(live) - req.MaxConnections + 1
	switch policy {
	case PolicyKickOldest:
		for _, l := range live[:need] {
			victims = append(victims, l.ID)
		}
		return victims, true
	case PolicyReplaceSameIP:
		for _, l := range live {
			if l.ClientIP == req.ClientIP {
				victims = append(victims, l.ID)
				if len(victims) == need {
					return victims, true
				}
			}
		}
		return nil, false
	default:
		return nil, false
	}
}

// Acquire opens a lease for req under policy. admit, if not nil, is the check that follows the
// limit's (the bouquet check): when it returns an error no slot is taken and that error is
// returned, unless the line was full, which is ErrLimitReached whatever admit says. It must be
// a pure check without side effects: it may run twice, before the one-round-trip open of a
// line with room, and again inside the decision's transaction after the limit check passed.
//
// A TS, VOD or catch-up stream on a line with room, the case of nearly every open, is one
// round trip (store.InsertLeaseIfRoom). A full line (one more round trip, unless req.Full says
// so first), and every HLS session (whose open also ends an expired row of the same key), is
// decided in a transaction under the line's lock: count, Admit under policy, end the victims,
// insert.
func (m *Manager) Acquire(ctx context.Context, req Request, policy Policy, admit func() error) (*Lease, error) {
	lease := &Lease{
		ID: uuid.New(), LineID: req.LineID, StreamID: req.StreamID, Container: req.Container,
		ClientIP: req.ClientIP, UserAgent: req.UserAgent, Country: req.Country, ISP: req.ISP,
		mgr: m, done: make(chan struct{}), onEnd: req.OnEnd,
	}
	ttl := m.opts.TTL
	if req.Container == ContainerHLS {
		ttl = m.opts.HLSTTL
	}
	row := store.LeaseRow{
		ID: lease.ID, LineID: req.LineID, StreamID: req.StreamID, InstanceID: m.opts.InstanceID,
		Container: req.Container, ClientIP: req.ClientIP, UserAgent: req.UserAgent,
		Country: req.Country, ISP: req.ISP,
	}
	// Before the statements: the row's expiry (database time) is at least TTL after this.
	lease.renewed.Store(m.mono())
	if req.Container != ContainerHLS && !req.Full && (admit == nil || admit() == nil) {
		started, ok, err := m.store.InsertLeaseIfRoom(ctx, row, ttl, req.MaxConnections)
		if err != nil {
			return nil, fmt.Errorf("acquire lease: %w", err)
		}
		if ok {
			lease.StartedAt = started
			m.remember(nil, lease)
			return lease, nil
		}
	}
	victims, err := m.decide(ctx, req, policy, admit, &row, ttl)
	if err != nil {
		return nil, fmt.Errorf("acquire lease: %w", err)
	}
	lease.StartedAt = row.StartedAt
	m.remember(victims, lease)
	return lease, nil
}

// decide is a lease open in one transaction under the line's lock: it counts the line's live
// leases, admits row under policy, ends the leases it replaces (returned) and inserts row, setting
// row.StartedAt. A refusal (ErrLimitReached, or admit's error) rolls it back: no slot is taken.
func (m *Manager) decide(ctx context.Context, req Request, policy Policy, admit func() error, row *store.LeaseRow, ttl time.Duration) ([][16]byte, error) {
	var victims [][16]byte
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockLineForOpen(ctx, req.LineID); err != nil {
			return err
		}
		live, err := tx.LiveLeases(ctx, req.LineID)
		if err != nil {
			return err
		}
		var ok bool
		victims, ok = Admit(live, req, policy)
		if !ok {
			return ErrLimitReached
		}
		if admit != nil {
			if err := admit(); err != nil {
				return err
			}
		}
		if err := m.endVictims(ctx, tx, live, victims); err != nil {
			return err
		}
		if req.Container == ContainerHLS {
			// An expired session of the same key that the sweep has not removed yet would make
			// the insert conflict (and the poll retry until the sweep): end it here.
			if err := tx.EndExpiredHLSSession(ctx, req.LineID, req.StreamID, req.ClientIP, req.UserAgent, ReasonLeaseExpired); err != nil {
				return err
			}
		}
		row.StartedAt, err = tx.InsertLease(ctx, *row, ttl)
		return err
	})
	return victims, err
}

// remember stops the replaced leases served here at once (other instances learn it from the
// NOTIFY) and keeps a new stream's lease for the heartbeat.
func (m *Manager) remember(victims [][16]byte, lease *Lease) {
	var replaced []*Lease
	m.mu.Lock()
	for _, v := range victims {
		if l := m.local[v]; l != nil {
			delete(m.local, v)
			replaced = append(replaced, l)
		}
	}
	if lease.Container != ContainerHLS {
		m.local[lease.ID] = lease
	}
	m.mu.Unlock()
	for _, l := range replaced {
		l.end(ReasonReplaced)
	}
	if len(victims) > 0 {
		m.forgetSessions(victims)
	}
}

// endVictims ends replaced leases: streams are deleted, sessions marked, so their next poll is
// refused rather than reopening a session that would replace the new one in turn. Every
// instance is told by NOTIFY (a session's segment links stop there too).
func (m *Manager) endVictims(ctx context.Context, tx *store.Store, live []store.LeaseRow, victims [][16]byte) error {
	if len(victims) == 0 {
		return nil
	}
	container := make(map[[16]byte]string, len(live))
	for _, l := range live {
		container[l.ID] = l.Container
	}
	var streams, sessions [][16]byte
	for _, v := range victims {
		if container[v] == ContainerHLS {
			sessions = append(sessions, v)
		} else {
			streams = append(streams, v)
		}
	}
	if err := tx.MarkLeasesKilled(ctx, sessions, m.opts.HLSTTL); err != nil {
		return err
	}
	if _, err := tx.EndLeases(ctx, streams, nil, ReasonReplaced); err != nil {
		return err
	}
	return notifyKills(ctx, tx, victims)
}

func notifyKills(ctx context.Context, tx *store.Store, ids [][16]byte) error {
	for _, id := range ids {
		if err := tx.Notify(ctx, store.KillLease(id)); err != nil {
			return err
		}
	}
	return nil
}

// End ends leases that may no longer play (a re-check refused them), with reason: streams
// served here stop at once (Done closes), HLS sessions (the leases TouchHLS returned) are
// remembered as ended, and then, in one transaction, the rows go to the activity log with
// reason and every instance is told of the sessions, whose segment links stop there too. A
// lease whose row is already gone (its line was deleted) is recorded from what this instance
// knows. The writers still Release their lease, which adds the bytes they delivered.
func (m *Manager) End(ctx context.Context, leases []*Lease, reason string) error {
	if len(leases) == 0 {
		return nil
	}
	ids := make([][16]byte, 0, len(leases))
	var sessions [][16]byte
	var streams []*Lease
	m.mu.Lock()
	for _, l := range leases {
		ids = append(ids, l.ID)
		if l.Container == ContainerHLS {
			sessions = append(sessions, l.ID)
			continue
		}
		delete(m.local, l.ID)
		streams = append(streams, l)
	}
	m.mu.Unlock()
	for _, l := range streams {
		l.end(reason)
	}
	m.forgetSessions(sessions)
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		gone, err := tx.EndLeases(ctx, ids, nil, reason)
		if err != nil {
			return err
		}
		if err := tx.RecordEndedLeases(ctx, missing(leases, gone), nil, reason); err != nil {
			return err
		}
		return notifyKills(ctx, tx, sessions)
	})
	if err != nil {
		return fmt.Errorf("end leases (%s): %w", reason, err)
	}
	return nil
}

// missing returns the rows of the leases whose ids are not in gone.
func missing(leases []*Lease, gone [][16]byte) []store.LeaseRow {
	if len(gone) == len(leases) {
		return nil
	}
	found := make(map[[16]byte]bool, len(gone))
	for _, id := range gone {
		found[id] = true
	}
	var out []store.LeaseRow
	for _, l := range leases {
		if !found[l.ID] {
			out = append(out, store.LeaseRow{ID: l.ID, LineID: l.LineID, StreamID: l.StreamID, Container: l.Container,
				ClientIP: l.ClientIP, UserAgent: l.UserAgent, Country: l.Country, ISP: l.ISP, StartedAt: l.StartedAt})
		}
	}
	return out
}

// Kill ends a lease wherever it is served: its row goes (recorded as killed) and the instance
// serving it stops the stream on the NOTIFY (within a second), or at its next heartbeat. An
// HLS session is marked instead: its next playlist poll is refused, and its segment links at
// once on every instance.
func (m *Manager) Kill(ctx context.Context, id [16]byte) error {
	session := false
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		row, err := m.kill(ctx, tx, id)
		session = row.Container == ContainerHLS
		return err
	})
	if err != nil {
		return fmt.Errorf("kill lease %s: %w", uuid.UUID(id), err)
	}
	if session {
		m.forgetSessions([][16]byte{id})
	}
	return nil
}

// kill ends lease id on tx (Kill's transaction, or an admin's kill with its audit entry) and
// returns the row it ended.
func (m *Manager) kill(ctx context.Context, tx *store.Store, id [16]byte) (store.LeaseRow, error) {
	row, err := tx.LeaseByID(ctx, id)
	if err != nil {
		return store.LeaseRow{}, err
	}
	if row.Container == ContainerHLS {
		// Marked, not deleted: its next poll is refused; the NOTIFY stops its segment links
		// on every instance.
		if err := tx.MarkLeasesKilled(ctx, [][16]byte{id}, m.opts.HLSTTL); err != nil {
			return store.LeaseRow{}, err
		}
		return row, tx.Notify(ctx, store.KillLease(id))
	}
	gone, err := tx.EndLeases(ctx, [][16]byte{id}, nil, ReasonKilled)
	if err != nil {
		return store.LeaseRow{}, err
	}
	if len(gone) == 0 {
		return store.LeaseRow{}, store.ErrNotFound
	}
	return row, tx.Notify(ctx, store.KillLease(id))
}

// Count returns the number of live connections of a line (user_info.active_cons).
func (m *Manager) Count(ctx context.Context, lineID int64) (int, error) {
	return m.store.CountLiveLeases(ctx, lineID)
}

// OnChange handles a change from store.Listener (subscribed to kills): a killed lease's stream
// stops if it is served here, and a killed session's segment links are refused from now on.
func (m *Manager) OnChange(ch store.Change) {
	if ch.Kind != store.ChangeKill {
		return
	}
	id := ch.LeaseID
	m.forgetSessions([][16]byte{id})
	m.mu.Lock()
	l := m.local[id]
	delete(m.local, id)
	m.mu.Unlock()
	if l != nil {
		l.end(ReasonKilled)
	}
}

// LocalCount is the number of leases served by this instance.
func (m *Manager) LocalCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.local)
}

// mono is the monotonic time since the manager's epoch.
func (m *Manager) mono() int64 { return int64(time.Since(m.epoch)) }

// HLSTTL is how long an HLS session lives without a playlist poll.
func (m *Manager) HLSTTL() time.Duration { return m.opts.HLSTTL }
