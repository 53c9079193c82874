package relay

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"
)

// segment is one finished HLS segment. data is immutable once the segment is in a window.
type segment struct {
	seq  uint64
	dur  time.Duration
	data []byte
	disc bool // a discontinuity precedes this segment
}

// hlsWindow is the sliding window of a hub's HLS segments, shared by the in-process segmenter and the HLS
// pass-through. It keeps a few more segments than it lists, for clients that fetch late.
type hlsWindow struct {
	mu       sync.Mutex
	segs     []segment
	next     uint64
	disc     bool   // the next segment follows a discontinuity
	discBase uint64 // discontinuities that left the kept window
	list     int
	keep     int
	target   time.Duration
	notify   chan struct{}
	done     bool
}

func newHLSWindow(first uint64, list int, target time.Duration) *hlsWindow {
	return &hlsWindow{next: first, list: list, keep: list + 3, target: target, notify: make(chan struct{})}
}

// markDiscontinuity flags the next segment as following a discontinuity (source switch, segmenter restart).
func (w *hlsWindow) markDiscontinuity() {
	w.mu.Lock()
	if len(w.segs) > 0 {
		w.disc = true
	}
	w.mu.Unlock()
}

// add appends a finished segment and wakes waiting playlist requests.
func (w *hlsWindow) add(data []byte, dur time.Duration) {
	w.mu.Lock()
	w.segs = append(w.segs, segment{seq: w.next, dur: dur, data: data, disc: w.disc})
	w.next++
	w.disc = false
	for len(w.segs) > w.keep {
		if w.segs[0].disc {
			w.discBase++
		}
		w.segs[0] = segment{}
		w.segs = w.segs[1:]
	}
	ch := w.notify
	w.notify = make(chan struct{})
	w.mu.Unlock()
	close(ch)
}

// reset forgets every segment (numbering goes on), e.g. when HLS output stops being cut.
func (w *hlsWindow) reset() {
	w.mu.Lock()
	for _, s := range w.segs {
		if s.disc {
			w.discBase++
		}
	}
	w.segs = nil
	w.disc = false
	w.mu.Unlock()
}

func (w *hlsWindow) close() {
	w.mu.Lock()
	w.done = true
	ch := w.notify
	w.notify = make(chan struct{})
	w.mu.Unlock()
	close(ch)
}

// get returns the data of segment seq.
func (w *hlsWindow) get(seq uint64) ([]byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.segs) == 0 || seq < w.segs[0].seq || seq >= w.next {
		return nil, false
	}
	s := w.segs[seq-w.segs[0].seq]
	return s.data, s.data != nil
}

// playlist waits until the window has a segment and renders the live media playlist.
func (w *hlsWindow) playlist(ctx context.Context, segmentURL func(seq uint64) string) ([]byte, error) {
	for {
		w.mu.Lock()
		if w.done {
			w.mu.Unlock()
			return nil, ErrClosed
		}
		if len(w.segs) > 0 {
			first := max(0, len(w.segs)-w.list)
			disc := w.discBase
			for _, s := range w.segs[:first] {
				if s.disc {
					disc++
				}
			}
			out := renderMediaPlaylist(w.segs[first:], disc, w.target, segmentURL)
			w.mu.Unlock()
			return out, nil
		}
		ch := w.notify
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", ErrPlaylistNotReady, ctx.Err())
		}
	}
}

// renderMediaPlaylist writes an HLS live media playlist (RFC 8216, version 3) for segs.
func renderMediaPlaylist(segs []segment, discSeq uint64, target time.Duration, segmentURL func(uint64) string) []byte {
	td := int(math.Ceil(target.Seconds()))
	for _, s := range segs {
		// EXTINF rounded to the nearest integer must not exceed the target duration (RFC 8216 §4.3.3.1).
		if d := int(math.Round(s.dur.Seconds())); d > td {
			td = d
		}
	}
	b := make([]byte, 0, 128+len(segs)*96)
	b = append(b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:"...)
	b = strconv.AppendInt(b, int64(td), 10)
	b = append(b, "\n#EXT-X-MEDIA-SEQUENCE:"...)
	if len(segs) > 0 {
		b = strconv.AppendUint(b, segs[0].seq, 10)
	} else {
		b = append(b, '0')
	}
	b = append(b, '\n')
	if discSeq > 0 {
		b = append(b, "#EXT-X-DISCONTINUITY-SEQUENCE:"...)
		b = strconv.AppendUint(b, discSeq, 10)
		b = append(b, '\n')
	}
	for _, s := range segs {
		if s.disc {
			b = append(b, "#EXT-X-DISCONTINUITY\n"...)
		}
		b = append(b, "#EXTINF:"...)
		b = strconv.AppendFloat(b, s.dur.Seconds(), 'f', 3, 64)
		b = append(b, ",\n"...)
		b = append(b, segmentURL(s.seq)...)
		b = append(b, '\n')
	}
	return b
}

// segmenter cuts the ring's bytes into HLS segments at keyframes, for TS sources, while HLS clients watch.
// It runs on the hub's writer goroutine (ingest's commit hook) and reads committed ring bytes without locks:
// only that goroutine recycles blocks.
type segmenter struct {
	win      *hlsWindow
	r        *ring
	insp     *inspector
	target   int64 // 90 kHz ticks
	maxBytes int

	active      bool
	passthrough bool // the source is HLS: the window is fed with upstream segments instead
	started     bool
	cur         []byte
	pos         uint64 // ring position appended to cur so far
	startPTS    int64
	hasStart    bool
	lastSize    int
	floor       uint64 // history before this position belongs to an earlier source
}

func newSegmenter(w *hlsWindow, r *ring, insp *inspector, target time.Duration, maxBytes int) *segmenter {
	return &segmenter{win: w, r: r, insp: insp, target: int64(target.Seconds() * 90000), maxBytes: maxBytes}
}

// setPassthrough switches between cutting (TS sources) and upstream segments (HLS sources). Any switch of
// source is a discontinuity.
func (s *segmenter) setPassthrough(on bool) {
	s.started, s.cur = false, nil
	s.passthrough = on
	if on {
		s.active = false
	}
	s.r.mu.Lock()
	s.floor = s.r.head
	s.r.mu.Unlock()
	s.win.markDiscontinuity()
}

// activate starts cutting from the oldest keyframe still in the ring, so that the first playlist is ready
// at once from the history the ring holds.
func (s *segmenter) activate() {
	s.active, s.started, s.cur = true, false, nil
	s.r.mu.Lock()
	raps := make([]rap, 0, len(s.r.raps))
	for _, p := range s.r.raps {
		if p.pos >= s.floor {
			raps = append(raps, p)
		}
	}
	head := s.r.head
	s.r.mu.Unlock()
	if len(raps) == 0 {
		s.pos = head
		return
	}
	s.pos = raps[0].pos
	s.commit(raps[0].pos, head, raps)
}

func (s *segmenter) deactivate() {
	s.active, s.started, s.cur = false, false, nil
	s.win.reset()
}

// commit takes the bytes [from, to) just published and the keyframes in them.
func (s *segmenter) commit(from, to uint64, raps []rap) {
	for _, p := range raps {
		if p.pos < s.pos {
			continue
		}
		if !s.started {
			s.begin(p)
			continue
		}
		if p.hasPTS && s.hasStart && ptsDelta(s.startPTS, p.pts) >= s.target {
			s.appendRange(s.pos, p.pos)
			s.finish(ptsDelta(s.startPTS, p.pts))
			s.begin(p)
		}
	}
	if !s.started {
		s.pos = to
		return
	}
	s.appendRange(s.pos, to)
	if len(s.cur) > s.maxBytes {
		// No keyframe for far too long: cut anyway rather than grow without bound.
		d := s.target
		if s.hasStart && s.insp.hasPTS {
			d = max(ptsDelta(s.startPTS, s.insp.last), 1)
		}
		s.finish(d)
		s.started = false
	}
}

// begin starts a new segment at keyframe p, with the program tables first.
func (s *segmenter) begin(p rap) {
	s.started, s.pos = true, p.pos
	s.startPTS, s.hasStart = p.pts, p.hasPTS
	size := s.lastSize + s.lastSize/4
	if size < 64<<10 {
		size = 64 << 10
	}
	s.cur = make([]byte, 0, size)
	s.cur = append(s.cur, s.insp.psi...)
}

// finish hands the current segment to the window.
func (s *segmenter) finish(dur90k int64) {
	s.lastSize = len(s.cur)
	s.win.add(s.cur, time.Duration(dur90k)*time.Second/90000)
	s.cur = nil
}

// appendRange copies committed ring bytes [a, b) into the current segment.
func (s *segmenter) appendRange(a, b uint64) {
	r := s.r
	if a < r.oldest() {
		a = r.oldest() // cannot happen while segments are shorter than the ring; stay safe if they are not
	}
	for a < b {
		blk := r.blockAt(a)
		off := a % r.bsize
		end := min(r.bsize, b-(a-off))
		s.cur = append(s.cur, blk.buf[off:end]...)
		a += end - off
	}
	s.pos = b
}

// touchHLS records an HLS request of session on h. Callers hold m.mu.
func (m *Manager) touchHLS(h *hub, session string) {
	now := m.opts.Now()
	h.hlsAt = now
	h.hlsDemand.Store(now.UnixNano())
	if session != "" {
		h.sessions[session] = now
	}
	if len(h.sessions) > 64 {
		for k, t := range h.sessions {
			if now.Sub(t) >= m.opts.HLSIdle {
				delete(h.sessions, k)
			}
		}
	}
}

// Playlist returns the live media playlist of a stream for an HLS client, starting the hub when needed.
// session identifies the client (e.g. its connection lease) for the viewer gauge; segmentURL builds the URI
// of a segment from its sequence number (the caller signs it). The first request waits (bounded by ctx)
// until a segment is ready; on timeout the error wraps ErrPlaylistNotReady.
func (m *Manager) Playlist(ctx context.Context, streamID int64, sources []Source, session string,
	segmentURL func(seq uint64) string) ([]byte, error) {
	if len(sources) == 0 {
		return nil, fmt.Errorf("relay: playlist %d: %w", streamID, ErrNoSources)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("relay: playlist %d: %w", streamID, ErrClosed)
	}
	h := m.hubLocked(streamID, sources)
	m.touchHLS(h, session)
	m.mu.Unlock()
	h.poke()
	if h.ring.isLost() { // its TS viewers were ended too (Options.DownDrop)
		return nil, fmt.Errorf("relay: playlist %d: %w", streamID, ErrUpstreamDown)
	}
	// A segmenter starts on the next commit; with a silent upstream, nothing would be cut anyway.
	out, err := h.win.playlist(ctx, segmentURL)
	if err != nil {
		return nil, fmt.Errorf("relay: playlist %d: %w", streamID, err)
	}
	return out, nil
}

// Segment returns the bytes of segment seq of a stream (immutable: do not modify them), and keeps the
// session watching. It returns ErrSegmentNotFound when the stream has no hub or the segment is not in the
// window.
func (m *Manager) Segment(streamID int64, seq uint64, session string) ([]byte, error) {
	m.mu.Lock()
	h, ok := m.hubs[streamID]
	if ok {
		m.touchHLS(h, session)
	}
	m.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("relay: segment %d/%d: %w", streamID, seq, ErrSegmentNotFound)
	}
	data, ok := h.win.get(seq)
	if !ok {
		return nil, fmt.Errorf("relay: segment %d/%d: %w", streamID, seq, ErrSegmentNotFound)
	}
	m.c.bytesOutHLS.Add(uint64(len(data)))
	return data, nil
}
