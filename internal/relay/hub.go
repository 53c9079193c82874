package relay

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// hub is one live stream: the upstream pull (one goroutine), its ring, the HLS window, and a supervisor
// goroutine that stops it all when it has been idle past the grace period.
type hub struct {
	m     *Manager
	id    int64
	srcs  atomic.Pointer[[]Source]
	ring  *ring
	ing   *ingest
	win   *hlsWindow
	seg   *segmenter
	poked chan struct{}

	// Guarded by m.mu.
	users    int
	leftAt   time.Time
	hlsAt    time.Time
	sessions map[string]time.Time
	viewers  map[*Viewer]struct{}
	kept     bool      // always on (Manager.Keep): never idle
	warmTill time.Time // warmed (Manager.Warm): not idle before this
	viewed   bool      // a TS viewer subscribed at least once (Manager.Watched)

	// clock counts the stall watchdog's ticks (from 1); a viewer stamps its write with it, so the byte
	// path reads no clock and arms no timer of its own.
	clock atomic.Int64

	hlsDemand atomic.Int64 // unix nanoseconds of the last HLS request, read by the writer
}

func newHub(m *Manager, id int64, srcs []Source) *hub {
	o := &m.opts
	now := o.Now()
	h := &hub{
		m:        m,
		id:       id,
		ring:     newRing(o.BlockPackets*packetSize, o.RingBlocks, o.RingKeep),
		poked:    make(chan struct{}, 1),
		leftAt:   now,
		sessions: make(map[string]time.Time),
		viewers:  make(map[*Viewer]struct{}),
	}
	h.clock.Store(1)
	// A wake-up never waits for more than a quarter of the ring, or viewers of a small ring would be
	// overrun between two of them.
	h.ring.wakeBytes = uint64(min(o.WakeBytes, o.RingBlocks*o.BlockPackets*packetSize/4))
	h.ring.wakeEvery = o.WakeInterval
	h.srcs.Store(&srcs)
	h.ing = newIngest(h.ring, m.pool, o.Now, o.PublishBytes, o.PublishInterval)
	// Sequence numbers start from the clock so that they keep growing across hub restarts (segments are
	// longer than a second), and clients polling across a restart never see them go back.
	h.win = newHLSWindow(uint64(now.Unix()), o.WindowSegments, o.SegmentTarget)
	h.seg = newSegmenter(h.win, h.ring, &h.ing.insp, o.SegmentTarget, o.MaxSegmentBytes)
	h.ing.onCommit = h.onCommit
	return h
}

func (h *hub) sources() []Source { return *h.srcs.Load() }

// poke wakes the supervisor to re-check idleness.
func (h *hub) poke() {
	select {
	case h.poked <- struct{}{}:
	default:
	}
}

// onCommit feeds newly published bytes to the in-process segmenter while HLS clients are watching.
func (h *hub) onCommit(from, to uint64, raps []rap) {
	now := h.m.opts.Now()
	want := now.Sub(time.Unix(0, h.hlsDemand.Load())) < h.m.opts.HLSIdle
	switch {
	case want && !h.seg.active && !h.seg.passthrough:
		h.seg.activate()
	case want && h.seg.active:
		h.seg.commit(from, to, raps)
	case !want && h.seg.active:
		h.seg.deactivate()
	}
}

// run supervises the hub until it is idle past the grace period or ctx ends.
func (h *hub) run(ctx context.Context) {
	defer h.m.wg.Done()
	m := h.m
	pctx, cancel := context.WithCancel(ctx)
	pulled := make(chan struct{})
	go func() {
		defer close(pulled)
		h.pull(pctx)
	}()
	m.event(Event{Type: EventHubStart, StreamID: h.id})
	m.opts.Logger.Info("relay hub start", "stream_id", h.id)

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	tick, stall := h.watchdog()
	defer tick.Stop()
	for stop := false; !stop; {
		m.mu.Lock()
		until := m.idleDeadline(h)
		now := m.opts.Now()
		if !until.IsZero() && !now.Before(until) {
			delete(m.hubs, h.id)
			m.mu.Unlock()
			break
		}
		m.mu.Unlock()
		if !until.IsZero() {
			timer.Reset(until.Sub(now))
		}
		select {
		case <-ctx.Done():
			m.mu.Lock()
			if m.hubs[h.id] == h {
				delete(m.hubs, h.id)
			}
			m.mu.Unlock()
			stop = true
		case <-h.poked:
		case <-timer.C:
		case <-tick.C:
			h.unblockStalled(stall)
		}
		timer.Stop()
	}
	cancel()
	<-pulled
	h.ring.close()
	h.win.close()
	m.c.hubs.Add(-1)
	m.event(Event{Type: EventHubStop, StreamID: h.id})
	m.opts.Logger.Info("relay hub stop", "stream_id", h.id)
}

// watchdog returns the stall watchdog's ticker and how many of its ticks a write may take. With
// WriteStall off it never ticks.
func (h *hub) watchdog() (*time.Ticker, int64) {
	stall := h.m.opts.WriteStall
	if stall <= 0 {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t, 0
	}
	every := min(time.Second, max(stall/4, 10*time.Millisecond))
	return time.NewTicker(every), int64((stall + every - 1) / every)
}

// unblockStalled advances the hub clock and ends the writes that have been running for more than
// stall ticks: their viewer's writer gets a write deadline in the past, so the blocked write returns
// and WriteTo ends with ErrViewerStalled.
func (h *hub) unblockStalled(stall int64) {
	now := h.clock.Add(1)
	var stuck []deadliner
	h.m.mu.Lock()
	for v := range h.viewers {
		if at := v.writing.Load(); at != 0 && now-at > stall && !v.stalled.Load() {
			if d := v.dl.Load(); d != nil {
				v.stalled.Store(true)
				stuck = append(stuck, *d)
			}
		}
	}
	h.m.mu.Unlock()
	if len(stuck) == 0 {
		return
	}
	// Counted before the writes are ended, so whoever sees a write end with ErrViewerStalled
	// sees it counted too.
	h.m.c.stalls.Add(uint64(len(stuck)))
	for _, d := range stuck {
		_ = d.SetWriteDeadline(time.Now()) // the wall clock, which the network poller uses
	}
	h.m.opts.Logger.Warn("relay viewers stalled", "stream_id", h.id, "viewers", len(stuck))
}

// pull reads the sources in order until ctx ends, failing over and backing off.
func (h *hub) pull(ctx context.Context) {
	m := h.m
	o := &m.opts
	backoff := o.BackoffMin
	idx := 0
	var downSince time.Time // when the current outage's first round failed; zero while a source delivers
	for ctx.Err() == nil {
		srcs := h.sources()
		if idx >= len(srcs) {
			h.ring.setDown(true)
			if downSince.IsZero() {
				downSince = o.Now()
			}
			if !sleepCtx(ctx, backoff) {
				return
			}
			if o.DownDrop > 0 && o.Now().Sub(downSince) >= o.DownDrop {
				h.ring.setLost()
			}
			backoff = min(2*backoff, o.BackoffMax)
			idx = 0
			if len(srcs) > 1 {
				m.c.failovers.Add(1)
				m.event(Event{Type: EventFailover, StreamID: h.id, Source: 0})
			}
			continue
		}
		src := srcs[idx]
		start := o.Now()
		opened, err := h.pullSource(ctx, idx, src)
		if ctx.Err() != nil {
			return
		}
		if opened {
			downSince = time.Time{}
		}
		m.c.upstreamFailures.Add(1)
		m.event(Event{Type: EventUpstreamFail, StreamID: h.id, Source: idx, Err: err})
		o.Logger.Warn("relay upstream failed", "stream_id", h.id, "source", idx, "kind", src.ResolvedKind(),
			"err", err)
		if opened && o.Now().Sub(start) >= o.HealthyAfter {
			idx, backoff = 0, o.BackoffMin // a healthy source hiccuped: start over at the preferred one
		} else {
			idx++
		}
		if idx < len(srcs) && len(srcs) > 1 {
			m.c.failovers.Add(1)
			m.event(Event{Type: EventFailover, StreamID: h.id, Source: idx})
		}
	}
}

// pullSource reads one source until it fails. opened reports that it delivered data.
func (h *hub) pullSource(ctx context.Context, idx int, src Source) (opened bool, err error) {
	h.ing.discardPartial()
	kind := src.ResolvedKind()
	h.seg.setPassthrough(kind == KindHLS)
	up := &upstream{h: h, idx: idx}
	defer up.close()
	switch kind {
	case KindHLS:
		err = h.pullHLS(ctx, src.URL, up)
	case KindFile:
		err = h.pullFile(ctx, src.URL, up)
	default:
		err = h.pullTS(ctx, src.URL, up)
	}
	if err == nil {
		err = errors.New("source ended")
	}
	return up.opened, fmt.Errorf("source %d (%s): %w", idx, kind, err)
}

// upstream tracks one source connection for the gauges and events.
type upstream struct {
	h      *hub
	idx    int
	opened bool
}

// open records the first data from the source.
func (u *upstream) open() {
	if u.opened {
		return
	}
	u.opened = true
	u.h.m.c.upstreamOpen.Add(1)
	u.h.ring.setDown(false)
	u.h.m.event(Event{Type: EventUpstreamOpen, StreamID: u.h.id, Source: u.idx})
}

func (u *upstream) close() {
	if u.opened {
		u.h.m.c.upstreamOpen.Add(-1)
	}
}

// sleepCtx waits d or until ctx ends; it reports whether the full wait elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
