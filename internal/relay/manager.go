package relay

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Manager is the registry of hubs, one per live stream id. It owns every hub goroutine: Close (or the end of
// Run's context) stops them all and waits for them.
type Manager struct {
	opts   Options
	c      counters
	pool   *blockPool
	burst  *budget // the backlog bytes viewers may get beyond the live rate (burst.go)
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	ownClient bool // the HTTP client is ours: Close drops its idle connections

	mu     sync.Mutex
	hubs   map[int64]*hub
	kept   map[int64][]Source // always-on streams (Keep)
	closed bool
}

// NewManager returns a Manager ready for Subscribe. When opts.Registerer is set, the relay metrics are
// registered on it (an error means a duplicate registration).
func NewManager(opts Options) (*Manager, error) {
	own := opts.HTTPClient == nil
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		opts:   opts,
		pool:   newBlockPool(opts.BlockPackets*packetSize, 256),
		burst:  newBudget(opts.BurstRate, opts.Now),
		ctx:    ctx,
		cancel: cancel,
		hubs:   make(map[int64]*hub),

		ownClient: own,
	}
	if opts.Registerer != nil {
		if err := m.register(opts.Registerer); err != nil {
			cancel()
			return nil, fmt.Errorf("relay: register metrics: %w", err)
		}
	}
	return m, nil
}

// Run blocks until ctx ends, then closes the manager. It returns nil: hubs report their trouble as events,
// logs and metrics, not as a fatal error.
func (m *Manager) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-m.ctx.Done():
	}
	return m.Close()
}

// Close stops every hub, ends every viewer's WriteTo with ErrClosed and waits for the hub goroutines.
// It is idempotent and returns nil.
func (m *Manager) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	if m.ownClient {
		m.opts.HTTPClient.CloseIdleConnections()
	}
	return nil
}

// Subscribe adds a TS viewer to the stream's hub, starting the hub (and its upstream pull from sources) when
// it is the first. When the hub already runs with other sources, they replace the old list at the next
// reconnect. The viewer starts at the newest keyframe in memory, or waits for the next one. The caller must
// Close the viewer.
func (m *Manager) Subscribe(ctx context.Context, streamID int64, sources []Source) (*Viewer, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("relay: subscribe %d: %w", streamID, ErrNoSources)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("relay: subscribe %d: %w", streamID, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("relay: subscribe %d: %w", streamID, ErrClosed)
	}
	// One short hold of the manager's lock per open (no I/O under it): a join storm's opens
	// queue only for the map updates, never behind one another's keyframe wait or write.
	h := m.hubLocked(streamID, sources)
	h.users++
	h.viewed = true
	v := &Viewer{h: h, m: m, joinAt: m.opts.Now(), done: make(chan struct{})}
	h.viewers[v] = struct{}{}
	m.mu.Unlock()
	m.c.viewersTS.Add(1)

	r := h.ring
	r.mu.Lock()
	r.place(v)
	if p, ok := r.newestRAP(); ok && p.pos >= r.oldest() {
		v.startAt(r, p.pos)
	} else {
		v.waitRAP, v.joinPos = true, r.head
	}
	r.mu.Unlock()
	return v, nil
}

// hubLocked returns the running hub of streamID, creating and starting it when needed. Callers hold m.mu.
func (m *Manager) hubLocked(streamID int64, sources []Source) *hub {
	srcs := slices.Clone(sources)
	if h, ok := m.hubs[streamID]; ok {
		if old := h.sources(); !slices.Equal(old, srcs) {
			h.srcs.Store(&srcs)
		}
		return h
	}
	h := newHub(m, streamID, srcs)
	_, h.kept = m.kept[streamID]
	m.hubs[streamID] = h
	m.c.hubs.Add(1)
	m.wg.Add(1)
	go h.run(m.ctx)
	return h
}

// Keep sets the streams whose upstream is pulled whether anyone watches or not (always-on
// channels, whose first viewer starts from the GOP cache instead of waiting for a connect and a
// keyframe), replacing the previous set. Each listed stream's hub starts now, or keeps running
// and takes the sources given at its next reconnect; a stream no longer listed stops once it has
// had no viewer for the grace period, counted from this call. Keep(nil) keeps none; after Close
// it does nothing.
func (m *Manager) Keep(streams map[int64][]Source) {
	now := m.opts.Now()
	var released []*hub
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	for id := range m.kept {
		if _, still := streams[id]; still {
			continue
		}
		if h := m.hubs[id]; h != nil && h.kept {
			h.kept, h.leftAt = false, now
			released = append(released, h)
		}
	}
	m.kept = make(map[int64][]Source, len(streams))
	for id, srcs := range streams {
		if len(srcs) == 0 {
			continue
		}
		m.kept[id] = slices.Clone(srcs)
		m.hubLocked(id, srcs).kept = true
	}
	m.mu.Unlock()
	for _, h := range released {
		h.poke() // its supervisor re-checks idleness
	}
}

// Warm starts pulling streams that viewers are about to ask for (the channels watched when this
// instance's predecessor shut down, whose players reconnect within seconds of a restart), so
// their first viewers start from the GOP cache instead of waiting for a connect and the next
// keyframe. A stream already running is left as it is; one nobody joins stops hold after this
// call, or after the grace period if that is longer. After Close it does nothing.
func (m *Manager) Warm(streams map[int64][]Source, hold time.Duration) {
	till := m.opts.Now().Add(hold)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	for id, srcs := range streams {
		if _, running := m.hubs[id]; running || len(srcs) == 0 {
			continue
		}
		m.hubLocked(id, srcs).warmTill = till
	}
}

// leave records that viewer v has gone.
func (m *Manager) leave(v *Viewer) {
	h := v.h
	m.mu.Lock()
	h.users--
	h.leftAt = m.opts.Now()
	delete(h.viewers, v)
	m.mu.Unlock()
	m.c.viewersTS.Add(-1)
	h.poke()
}

// event reports e to the OnEvent hook.
func (m *Manager) event(e Event) {
	if m.opts.OnEvent != nil {
		m.opts.OnEvent(e)
	}
}

// Streams returns the ids of the streams whose hubs are running, in ascending order.
func (m *Manager) Streams() []int64 {
	m.mu.Lock()
	ids := make([]int64, 0, len(m.hubs))
	for id := range m.hubs {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	return ids
}

// Watched returns, in ascending order, the streams that someone watches, or watched within the
// grace period (a TS viewer) or HLSIdle (an HLS session): the channels the players of a
// restarting instance will ask for again. A stream pulled only because it is kept or warmed is
// not among them, so a warmed channel nobody came back to is not warmed again and again.
func (m *Manager) Watched() []int64 {
	now := m.opts.Now()
	var ids []int64
	m.mu.Lock()
	for id, h := range m.hubs {
		if h.users > 0 || h.viewed && now.Before(h.leftAt.Add(m.opts.Grace)) || now.Before(h.hlsAt.Add(m.opts.HLSIdle)) {
			ids = append(ids, id)
		}
	}
	m.mu.Unlock()
	slices.Sort(ids)
	return ids
}

// idleDeadline returns when h may stop (zero when it has viewers or is kept). Callers hold m.mu.
func (m *Manager) idleDeadline(h *hub) time.Time {
	if h.users > 0 || h.kept {
		return time.Time{}
	}
	until := h.leftAt.Add(m.opts.Grace)
	if t := h.hlsAt.Add(m.opts.HLSIdle); t.After(until) {
		until = t
	}
	if h.warmTill.After(until) {
		until = h.warmTill
	}
	return until
}
