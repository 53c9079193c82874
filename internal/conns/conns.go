// Package conns keeps the per-line connection limit across every instance with leases in
// PostgreSQL: a viewer holds a lease for the life of its stream; leases are renewed by a
// heartbeat and expire when their instance stops renewing them, so a crashed instance leaves
// no ghost connections. Decisions for one line are serialised by a transaction-level advisory
// lock (count, decide, insert), so the limit holds with any number of instances.
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

// End reasons written to the activity log.
const (
	ReasonClosed   = "closed"   // the viewer went away or the stream ended
	ReasonKilled   = "killed"   // an admin killed it
	ReasonReplaced = "replaced" // a newer stream of the line took its slot
	ReasonExpired  = "expired"  // its instance stopped renewing it
	ReasonShutdown = "shutdown" // this instance shut down
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
}

// Manager acquires, renews and releases this instance's leases.
type Manager struct {
	store *store.Store
	opts  Options
	log   *slog.Logger

	mu    sync.Mutex
	local map[[16]byte]*Lease // leases of streams served by this instance
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
	if opts.InstanceID == "" {
		opts.InstanceID = "xtreamd"
	}
	return &Manager{store: st, opts: opts, log: log, local: map[[16]byte]*Lease{}}
}

// Lease is one viewer's slot. Done is closed when the lease ends for a reason other than the
// viewer leaving (killed, replaced, expired, shutdown): the stream must stop then.
type Lease struct {
	ID        [16]byte
	LineID    int64
	StreamID  int64
	Container string
	ClientIP  netip.Addr
	StartedAt time.Time

	mgr      *Manager
	bytes    atomic.Int64
	done     chan struct{}
	doneOnce sync.Once
	reason   atomic.Value // string
	released atomic.Bool
}

// IDString is the lease id in canonical UUID form.
func (l *Lease) IDString() string { return uuid.UUID(l.ID).String() }

// Done is closed when the stream must stop.
func (l *Lease) Done() <-chan struct{} { return l.done }

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
	})
}

// Release ends the lease because the viewer went away; it is idempotent. It uses its own
// bounded context, since it usually runs after the request context is gone.
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
	gone, err := m.store.EndLeases(ctx, [][16]byte{l.ID}, []int64{l.Bytes()}, ReasonClosed)
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

// Acquire opens a lease for req under policy. admit, if not nil, runs inside the decision's
// transaction after the limit check passed and before the lease is written: when it returns
// an error the transaction rolls back, no slot is taken and that error is returned (the
// bouquet check uses this, so a refused stream never holds a slot). A full line is
// ErrLimitReached.
func (m *Manager) Acquire(ctx context.Context, req Request, policy Policy, admit func() error) (*Lease, error) {
	lease := &Lease{
		ID: uuid.New(), LineID: req.LineID, StreamID: req.StreamID, Container: req.Container,
		ClientIP: req.ClientIP, mgr: m, done: make(chan struct{}),
	}
	ttl := m.opts.TTL
	if req.Container == ContainerHLS {
		ttl = m.opts.HLSTTL
	}
	var victims [][16]byte
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockLine(ctx, req.LineID); err != nil {
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
		lease.StartedAt, err = tx.InsertLease(ctx, store.LeaseRow{
			ID: lease.ID, LineID: req.LineID, StreamID: req.StreamID, InstanceID: m.opts.InstanceID,
			Container: req.Container, ClientIP: req.ClientIP, UserAgent: req.UserAgent,
			Country: req.Country, ISP: req.ISP,
		}, ttl)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("acquire lease: %w", err)
	}
	m.mu.Lock()
	// Replaced leases served here stop at once; other instances learn it from the NOTIFY.
	for _, v := range victims {
		if l := m.local[v]; l != nil {
			delete(m.local, v)
			l.end(ReasonReplaced)
		}
	}
	if req.Container != ContainerHLS {
		m.local[lease.ID] = lease
	}
	m.mu.Unlock()
	return lease, nil
}

// endVictims ends replaced leases: streams are deleted (and told by NOTIFY); HLS sessions are
// marked, so their next poll is refused rather than reopening a session that would replace
// the new one in turn.
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
	for _, v := range streams {
		if err := tx.Notify(ctx, store.KillLease(v)); err != nil {
			return err
		}
	}
	return nil
}

// TouchHLS returns the HLS session of (line, stream, IP, user agent), refreshing it, or opens
// one with Acquire. Playlist polls call it; an HLS session ends HLSTTL after its last poll.
func (m *Manager) TouchHLS(ctx context.Context, req Request, policy Policy, admit func() error) (lease *Lease, opened bool, err error) {
	req.Container = ContainerHLS
	row, err := m.store.FindHLSLease(ctx, req.LineID, req.StreamID, req.ClientIP, req.UserAgent)
	if err == nil && row.Killed {
		return nil, false, ErrSessionKilled
	}
	if err == nil {
		alive, err := m.store.RenewLeases(ctx, [][16]byte{row.ID}, m.opts.HLSTTL)
		if err != nil {
			return nil, false, err
		}
		if len(alive) == 1 {
			return &Lease{ID: row.ID, LineID: row.LineID, StreamID: row.StreamID, Container: ContainerHLS,
				ClientIP: row.ClientIP, StartedAt: row.StartedAt, mgr: m, done: make(chan struct{})}, false, nil
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	lease, err = m.Acquire(ctx, req, policy, admit)
	if err != nil && errors.Is(err, store.ErrConflict) {
		// A concurrent poll of the same session opened it first: use that one.
		return m.TouchHLS(ctx, req, policy, admit)
	}
	return lease, err == nil, err
}

// Kill ends a lease wherever it is served: its row goes (recorded as killed) and the instance
// serving it stops the stream on the NOTIFY (within a second), or at its next heartbeat. An
// HLS session is marked instead, and its next playlist poll is refused.
func (m *Manager) Kill(ctx context.Context, id [16]byte) error {
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		_, err := m.kill(ctx, tx, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("kill lease %s: %w", uuid.UUID(id), err)
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
		return row, tx.MarkLeasesKilled(ctx, [][16]byte{id}, m.opts.HLSTTL)
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
// stops if it is served here.
func (m *Manager) OnChange(ch store.Change) {
	if ch.Kind != store.ChangeKill {
		return
	}
	id := ch.LeaseID
	m.mu.Lock()
	l := m.local[id]
	delete(m.local, id)
	m.mu.Unlock()
	if l != nil {
		l.end(ReasonKilled)
	}
}

// Run renews this instance's leases every heartbeat, stops streams whose lease vanished, and
// sweeps leases whose instance died, until ctx ends. Then it ends every local lease.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return nil
		case <-t.C:
			if err := m.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("lease heartbeat failed", "err", err)
			}
		}
	}
}

// Heartbeat renews the local leases once and sweeps expired ones (Run calls it; tests may too).
func (m *Manager) Heartbeat(ctx context.Context) error {
	m.mu.Lock()
	ids := make([][16]byte, 0, len(m.local))
	delivered := make([]int64, 0, len(m.local))
	for id, l := range m.local {
		ids = append(ids, id)
		delivered = append(delivered, l.Bytes())
	}
	m.mu.Unlock()
	// The renewal carries the delivered bytes: the admin's connection list and the dashboard's
	// "bandwidth now" read them.
	alive, err := m.store.RenewLeasesCounting(ctx, ids, delivered, m.opts.TTL)
	if err != nil {
		return err
	}
	if len(alive) < len(ids) {
		keep := make(map[[16]byte]bool, len(alive))
		for _, id := range alive {
			keep[id] = true
		}
		var lost []*Lease
		m.mu.Lock()
		for _, id := range ids {
			if !keep[id] {
				if l := m.local[id]; l != nil {
					lost = append(lost, l)
					delete(m.local, id)
				}
			}
		}
		m.mu.Unlock()
		for _, l := range lost {
			l.end(ReasonKilled)
		}
	}
	return m.sweep(ctx)
}

func (m *Manager) sweep(ctx context.Context) error {
	expired, err := m.store.ExpiredLeaseIDs(ctx, 1000)
	if err != nil || len(expired) == 0 {
		return err
	}
	_, err = m.store.EndLeases(ctx, expired, nil, ReasonExpired)
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

// LocalCount is the number of leases served by this instance.
func (m *Manager) LocalCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.local)
}
