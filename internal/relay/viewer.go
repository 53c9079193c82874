package relay

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// maxGrab bounds how many ring blocks a viewer takes per wake-up (each is one Write).
const maxGrab = 8

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
	bytes   atomic.Int64
	dropped atomic.Bool
	done    chan struct{}
	once    sync.Once

	grab [maxGrab][]byte
	refs [maxGrab]*block
}

// Bytes returns the bytes delivered to the viewer so far.
func (v *Viewer) Bytes() int64 { return v.bytes.Load() }

// StreamID returns the id of the stream the viewer watches.
func (v *Viewer) StreamID() int64 { return v.h.id }

// Close releases the viewer; the hub stops after the grace period when it was the last one. A running
// WriteTo returns ErrClosed once its current Write returns. Close is idempotent and returns nil.
func (v *Viewer) Close() error {
	v.once.Do(func() {
		close(v.done)
		v.m.leave(v.h)
	})
	return nil
}

// WaitReady blocks until the stream has a keyframe to start from (nil), every source failed in the last
// round while the stream has never delivered (ErrUpstreamDown), or ctx, the viewer or the hub ends. A
// handler can use it to answer "stream down" before committing to a 200.
func (v *Viewer) WaitReady(ctx context.Context) error {
	r := v.h.ring
	for {
		r.mu.Lock()
		_, ok := r.newestRAP()
		done, down, ch := r.done, r.down, r.notify
		r.mu.Unlock()
		switch {
		case ok:
			return nil
		case done:
			return ErrClosed
		case down:
			return ErrUpstreamDown
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
// (ErrViewerDropped), the hub shuts down (ErrClosed), or a Write or flush fails (that error). The first bytes
// are the program's PAT and PMT followed by the newest keyframe, all at 188-byte packet boundaries. flush,
// when not nil, is called after each batch of writes: for a fasthttp body stream writer pass
// bufio.Writer.Flush, which is also where a client disconnect shows up. It returns the bytes written.
func (v *Viewer) WriteTo(ctx context.Context, w io.Writer, flush func() error) (int64, error) {
	var total int64
	for {
		psi, n, err := v.next(ctx)
		if err != nil {
			return total, err
		}
		if psi != nil {
			k, err := w.Write(psi)
			total += int64(k)
			v.count(k)
			if err != nil {
				v.releaseGrab(n)
				return total, err
			}
		}
		for i := 0; i < n; i++ {
			k, err := w.Write(v.grab[i])
			total += int64(k)
			v.count(k)
			if err != nil {
				v.releaseGrab(n)
				return total, err
			}
		}
		v.releaseGrab(n)
		if flush != nil {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
}

func (v *Viewer) count(k int) {
	v.bytes.Add(int64(k))
	v.m.c.bytesOutTS.Add(uint64(k))
}

func (v *Viewer) releaseGrab(n int) {
	for i := 0; i < n; i++ {
		v.refs[i].release()
		v.refs[i], v.grab[i] = nil, nil
	}
}

// next waits for data and takes references to up to maxGrab ring slices into v.grab. psi is set when the
// program tables must go first.
func (v *Viewer) next(ctx context.Context) (psi []byte, n int, err error) {
	r := v.h.ring
	for {
		select {
		case <-v.done:
			return nil, 0, ErrClosed
		default:
		}
		if v.dropped.Load() {
			return nil, 0, ErrViewerDropped
		}
		r.mu.Lock()
		if r.done {
			r.mu.Unlock()
			return nil, 0, ErrClosed
		}
		if !v.waitRAP && v.pos < r.oldest() {
			// Overrun: the ring no longer holds our position.
			if !v.skip(r) {
				r.mu.Unlock()
				return nil, 0, ErrViewerDropped
			}
		}
		if v.waitRAP {
			v.seekRAP(r)
		}
		if !v.waitRAP && v.pos < r.head {
			if v.needPSI {
				psi, v.needPSI = r.psi, false
			}
			for n < maxGrab && v.pos < r.head {
				b := r.blockAt(v.pos)
				off := v.pos % r.bsize
				end := r.bsize
				if bs := v.pos - off; r.head-bs < end {
					end = r.head - bs
				}
				b.refs.Add(1)
				v.refs[n], v.grab[n] = b, b.buf[off:end]
				v.pos += end - off
				n++
			}
			r.mu.Unlock()
			return psi, n, nil
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-v.done:
			return nil, 0, ErrClosed
		}
	}
}

// seekRAP moves a waiting viewer to the first keyframe at or after joinPos, or after KeyframeWait to the
// newest data. Callers hold r.mu.
func (v *Viewer) seekRAP(r *ring) {
	if p, ok := r.newestRAP(); ok && p.pos >= v.joinPos && p.pos >= r.oldest() {
		// The newest keyframe at or after joinPos; an older one after joinPos would only add delay.
		v.pos, v.waitRAP, v.needPSI = p.pos, false, true
		return
	}
	if v.m.opts.Now().Sub(v.joinAt) >= v.m.opts.KeyframeWait && r.head > v.joinPos {
		v.pos, v.waitRAP, v.needPSI = r.head, false, true
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
	v.m.c.skips.Add(1)
	v.m.event(Event{Type: EventViewerSkip, StreamID: h.id})
	if p, ok := r.newestRAP(); ok && p.pos >= r.oldest() {
		v.pos = p.pos
		return true
	}
	v.waitRAP, v.joinPos, v.joinAt = true, r.head, now
	return true
}
