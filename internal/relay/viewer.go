package relay

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxGrab bounds how many ring slices a viewer writes per batch (one vectored write).
	maxGrab = 12
	// maxBatch bounds the bytes of one batch, so that one viewer's catch-up never holds its
	// writer (and the CPU) for long while the others wait for theirs.
	maxBatch = 512 << 10
	// joinBurst is what a viewer gets at once from its keyframe on when it joins (or skips): enough
	// for the keyframe itself at broadcast bitrates, so that a player decodes its first picture
	// without waiting for the burst budget.
	joinBurst = 256 << 10
)

// Viewer is one MPEG-TS client of a hub. Use it from one goroutine: WriteTo, then Close (Close may also be
// called from another goroutine to end a running WriteTo).
type Viewer struct {
	h       *hub
	m       *Manager
	pos     uint64 // next byte to deliver
	joinAt  time.Time
	joinPos uint64 // while waitRAP: deliver from the first keyframe at or after this position
	waitRAP bool
	needPSI bool
	skips   []time.Time
	skipped atomic.Int64 // skips over the viewer's life (skips holds only those within SkipWindow)
	bytes   atomic.Int64
	dropped atomic.Bool
	stalled atomic.Bool
	done    chan struct{}
	once    sync.Once

	// Pacing, under the ring's lock. credit is what the viewer may take without the manager's burst
	// budget: the bytes that arrived since it last looked (seen), plus joinBurst after a join or a
	// skip. A viewer that keeps up therefore always gets everything new; a backlog beyond its credit
	// (the GOP cache of a joiner) is served from the budget, drawn at most once per wake-up (gen).
	credit, seen, gen uint64
	// cohort is the group of the ring's viewers this one is woken with (ring.place).
	cohort int

	// writing is the hub clock at which the running batch's write began (0: none), read by the hub's
	// stall watchdog; dl is the writer's deadline, which the watchdog puts in the past (set once by
	// WriteTo, atomically, so a viewer's start takes no manager-wide lock).
	writing atomic.Int64
	dl      atomic.Pointer[deadliner]

	// The batch: out is one net.Buffers over the ring (a writev on a TCP connection), iov its backing
	// array, refs the blocks it holds.
	out  net.Buffers
	iov  [maxGrab + 1][]byte
	refs [maxGrab]*block
	nref int
}

// deadliner is what the stall watchdog needs of a writer: a net.Conn has it.
type deadliner interface {
	SetWriteDeadline(t time.Time) error
}

// Bytes returns the bytes delivered to the viewer so far.
func (v *Viewer) Bytes() int64 { return v.bytes.Load() }

// Skips returns how many times the viewer fell behind and skipped to the newest keyframe.
func (v *Viewer) Skips() int64 { return v.skipped.Load() }

// StreamID returns the id of the stream the viewer watches.
func (v *Viewer) StreamID() int64 { return v.h.id }

// Close releases the viewer; the hub stops after the grace period when it was the last one (unless it
// is kept, see Keep). A running WriteTo returns ErrClosed once its current Write returns. Close is
// idempotent and returns nil.
func (v *Viewer) Close() error {
	v.once.Do(func() {
		close(v.done)
		v.m.leave(v)
	})
	return nil
}

// WaitReady blocks until the stream has a keyframe to start from (nil), every source failed in the last
// round and none has delivered since (ErrUpstreamDown, even when the ring still holds a keyframe from
// before), or ctx, the viewer or the hub ends. A handler can use it to answer "stream down" before
// committing to a 200.
func (v *Viewer) WaitReady(ctx context.Context) error {
	r := v.h.ring
	for {
		r.mu.Lock()
		_, ok := r.newestRAP()
		done, down, ch := r.done, r.down, r.notify[v.cohort]
		r.mu.Unlock()
		switch {
		case done:
			return ErrClosed
		case down:
			// Before the keyframe check: what the ring still holds from before the outage is no
			// stream to start a viewer on.
			return ErrUpstreamDown
		case ok:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-v.done:
			return ErrClosed
		}
	}
}

// WriteTo delivers the stream to w until ctx ends (ctx.Err()), the viewer is closed (ErrClosed) or dropped
// (ErrViewerDropped), the hub shuts down (ErrClosed), every source has failed for Options.DownDrop
// (ErrUpstreamDown), or a Write or flush fails (that error; ErrViewerStalled
// wrapping it when the stall watchdog ended it). The first bytes are the program's PAT and PMT followed by
// the newest keyframe, all at 188-byte packet boundaries.
//
// Each wake-up's data goes out as one batch: a single net.Buffers write over the ring blocks, which is one
// writev system call when w is a *net.TCPConn (pass the connection itself, not a wrapper, or it falls back
// to a Write per block). A batch that has not been written after Options.WriteStall ends the viewer: when
// w has SetWriteDeadline (a net.Conn), the hub's watchdog sets its write deadline in the past. flush, when
// not nil, is called after each batch; for a buffered writer pass its Flush. It returns the bytes written.
func (v *Viewer) WriteTo(ctx context.Context, w io.Writer, flush func() error) (int64, error) {
	if d, ok := w.(deadliner); ok {
		v.dl.Store(&d)
	}
	var total int64
	for {
		if err := v.next(ctx); err != nil {
			return total, err
		}
		v.writing.Store(v.h.clock.Load())
		k, err := v.out.WriteTo(w)
		v.writing.Store(0)
		v.release()
		total += k
		v.bytes.Add(k)
		v.m.c.bytesOutTS.Add(uint64(k))
		if err == nil && flush != nil {
			err = flush()
		}
		if err != nil {
			if v.stalled.Load() {
				err = fmt.Errorf("%w: %w", ErrViewerStalled, err)
			}
			return total, err
		}
	}
}

// release lets go of the batch's blocks.
func (v *Viewer) release() {
	for i := 0; i < v.nref; i++ {
		v.refs[i].release()
		v.refs[i] = nil
	}
	v.nref = 0
	clear(v.iov[:])
}

// next waits for data and fills the batch (v.out, v.refs).
func (v *Viewer) next(ctx context.Context) error {
	r := v.h.ring
	for {
		select {
		case <-v.done:
			return ErrClosed
		default:
		}
		if v.dropped.Load() {
			return ErrViewerDropped
		}
		r.mu.Lock()
		if r.done {
			r.mu.Unlock()
			return ErrClosed
		}
		if r.lost {
			r.mu.Unlock()
			return ErrUpstreamDown
		}
		// Overrun: the ring no longer holds our position.
		if !v.waitRAP && v.pos < r.oldest() && !v.skip(r) {
			r.mu.Unlock()
			return ErrViewerDropped
		}
		if v.waitRAP {
			v.seekRAP(r)
		}
		if !v.waitRAP && v.take(r) {
			r.mu.Unlock()
			return nil
		}
		ch := r.notify[v.cohort]
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-v.done:
			return ErrClosed
		}
	}
}

// take fills the batch with what the viewer may have now: its credit, plus (at most once per wake-up)
// what the burst budget grants towards its backlog, at most maxBatch bytes in maxGrab ring slices. It
// reports false when there is nothing to take. Callers hold r.mu.
func (v *Viewer) take(r *ring) bool {
	if v.pos >= r.head {
		return false
	}
	avail := r.head - v.pos
	v.credit = min(v.credit+r.head-v.seen, avail)
	v.seen = r.head
	want := min(v.credit, maxBatch)
	if want < avail && want < maxBatch && v.gen != r.gen[v.cohort] {
		v.gen = r.gen[v.cohort]
		want += v.m.burst.take(min(avail, maxBatch) - want)
	}
	if want < avail {
		want -= want % packetSize // whole packets, but for the live edge
	}
	if want == 0 {
		return false
	}
	v.out = v.iov[:0]
	if v.needPSI {
		v.out = append(v.out, r.psi)
		v.needPSI = false
	}
	start, end := v.pos, v.pos+want
	for v.nref < maxGrab && v.pos < end {
		b := r.blockAt(v.pos)
		off := v.pos % r.bsize
		stop := min(r.bsize, end-(v.pos-off))
		b.refs.Add(1)
		v.refs[v.nref] = b
		v.nref++
		v.out = append(v.out, b.buf[off:stop])
		v.pos += stop - off
	}
	v.credit -= min(v.credit, v.pos-start)
	return true
}

// startAt places the viewer at pos (a keyframe, or the live edge) with a fresh join credit. Callers
// hold r.mu.
func (v *Viewer) startAt(r *ring, pos uint64) {
	v.pos, v.needPSI = pos, true
	v.credit, v.seen, v.gen = joinBurst, r.head, r.gen[v.cohort]-1
}

// seekRAP moves a waiting viewer to the first keyframe at or after joinPos, or after KeyframeWait to the
// newest data. Callers hold r.mu.
func (v *Viewer) seekRAP(r *ring) {
	if p, ok := r.newestRAP(); ok && p.pos >= v.joinPos && p.pos >= r.oldest() {
		// The newest keyframe at or after joinPos; an older one after joinPos would only add delay.
		v.waitRAP = false
		v.startAt(r, p.pos)
		return
	}
	if v.m.opts.Now().Sub(v.joinAt) >= v.m.opts.KeyframeWait && r.head > v.joinPos {
		v.waitRAP = false
		v.startAt(r, r.head)
	}
}

// skip moves an overrun viewer to the newest keyframe (or makes it wait for the next one) and applies the
// lag policy. It reports false when the viewer is dropped. Callers hold r.mu.
func (v *Viewer) skip(r *ring) bool {
	now := v.m.opts.Now()
	h := v.h
	if max := v.m.opts.MaxSkips; max >= 0 {
		kept := v.skips[:0]
		for _, t := range v.skips {
			if now.Sub(t) < v.m.opts.SkipWindow {
				kept = append(kept, t)
			}
		}
		v.skips = append(kept, now)
		if len(v.skips) > max {
			v.dropped.Store(true)
			v.m.c.drops.Add(1)
			v.m.event(Event{Type: EventViewerDrop, StreamID: h.id})
			return false
		}
	}
	v.skipped.Add(1)
	v.m.c.skips.Add(1)
	v.m.event(Event{Type: EventViewerSkip, StreamID: h.id})
	if p, ok := r.newestRAP(); ok && p.pos >= r.oldest() {
		v.startAt(r, p.pos)
		v.needPSI = false // the same program continues
		return true
	}
	v.waitRAP, v.joinPos, v.joinAt = true, r.head, now
	return true
}
