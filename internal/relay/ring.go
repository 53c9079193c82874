package relay

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// block is one fixed-size piece of the ring. The writer fills it front to back; bytes below the ring's
// committed position are immutable and read by viewers without locks, while the writer appends above it.
// refs counts the ring's own reference plus every viewer writing from the block at the moment; the buffer
// returns to the pool only when all have let go, so a viewer stuck in a slow Write never sees its bytes
// overwritten.
type block struct {
	buf      []byte
	refs     atomic.Int32
	filledAt time.Time // when the writer filled it (zero while filling)
	pool     *blockPool
}

func (b *block) release() {
	if b.refs.Add(-1) == 0 {
		b.pool.put(b)
	}
}

// blockPool recycles block buffers across the hubs of a Manager. It holds at most cap(ch) idle blocks.
type blockPool struct {
	size int
	ch   chan *block
}

func newBlockPool(size, idle int) *blockPool {
	return &blockPool{size: size, ch: make(chan *block, idle)}
}

func (p *blockPool) get() *block {
	select {
	case b := <-p.ch:
		b.refs.Store(1)
		b.filledAt = time.Time{}
		return b
	default:
		b := &block{buf: make([]byte, p.size), pool: p}
		b.refs.Store(1)
		return b
	}
}

func (p *blockPool) put(b *block) {
	select {
	case p.ch <- b:
	default: // enough idle blocks: let the GC have it
	}
}

// maxRAPs bounds the keyframe index of a ring (older entries are forgotten first).
const maxRAPs = 256

// ring is the shared packet store of one hub. mu guards every field; it is held only for bookkeeping, never
// while bytes are copied to a viewer.
type ring struct {
	mu       sync.Mutex
	bsize    uint64   // bytes per block, a multiple of 188
	blocks   []*block // circular; blocks[(start+i)%len] has sequence first+i
	start, n int
	first    uint64 // sequence number of the oldest block held
	head     uint64 // committed position: bytes [first*bsize, head) are readable
	raps     []rap  // random access points in the ring, oldest first
	psi      []byte // PAT+PMT for new viewers (immutable)
	// notify[c] is closed and replaced at every wake-up of cohort c; gen[c] counts them (a viewer
	// takes the shared burst budget once per wake-up of its cohort).
	notify [wakeCohorts]chan struct{}
	gen    [wakeCohorts]uint64
	joins  uint64 // viewers placed so far: the next one's cohort is joins % wakeCohorts
	done   bool
	down   bool // every source failed in the last round and nothing has been delivered since
	lost   bool // down for longer than Options.DownDrop: viewers end (cleared with down)
	keep   time.Duration

	// Each viewer is woken once about wakeBytes are new since its last wake-up or wakeEvery has
	// passed (checked at each commit), not at every commit: each wake-up costs every viewer woken a
	// scheduling round and a write, so waking less often means fewer, larger writes. Zero wakes at
	// every commit. The cohorts are woken in turn, one per wakeBytes/wakeCohorts new or
	// wakeEvery/wakeCohorts passed (see due), so each is woken once per period.
	wakeBytes uint64
	wakeEvery time.Duration
	wokeHead  uint64    // where the last turn's period began
	wokeAt    time.Time // when it began
	turn      uint64    // cohort turns so far: the next cohort woken is turn % wakeCohorts
}

// wakeCohorts is how many groups a ring's viewers are woken in, one after the other: the
// viewers of one cohort are woken together, the cohorts about a 1/wakeCohorts of the wake-up
// period apart. Waking a thousand viewers at once queued a thousand goroutines, each with a write of
// 100 KB to make, in front of every goroutine the network poller readied meanwhile: a joiner's
// accept, its request, its lease's answer from the database each waited for the whole round
// (tens of milliseconds on two cores) at every wake-up, ten times a second. In eight cohorts the
// run queue holds an eighth of them, and the same bytes go out in the same number of writes.
const wakeCohorts = 8

func newRing(bsize, nblocks int, keep time.Duration) *ring {
	r := &ring{bsize: uint64(bsize), blocks: make([]*block, nblocks), keep: keep}
	for c := range r.notify {
		r.notify[c] = make(chan struct{})
	}
	return r
}

// wakes is the channels of the cohorts a wake-up wakes, to be closed after unlocking (a channel
// may stand for several cohorts, see wakeAllLocked).
type wakes [wakeCohorts]chan struct{}

// close wakes the viewers waiting on ws, closing each channel once.
func (ws *wakes) close() {
	for i, ch := range ws {
		if ch != nil && !slices.Contains(ws[:i], ch) {
			close(ch)
		}
	}
}

// wakeLocked wakes cohort c's waiting viewers. Callers hold mu and close ws after unlocking.
func (r *ring) wakeLocked(ws *wakes, c int) {
	ws[c] = r.notify[c]
	r.notify[c] = make(chan struct{})
	r.gen[c]++
}

// wakeAllLocked wakes every waiting viewer. Callers hold mu; the returned channels must be
// closed after unlocking. When every commit wakes everyone (wakeBytes or wakeEvery below a turn,
// see due), the cohorts share one channel: one allocation per wake-up, not one per cohort; in
// turns each cohort needs its own.
func (r *ring) wakeAllLocked() wakes {
	var ws wakes
	if r.wakeBytes/wakeCohorts == 0 || r.wakeEvery/wakeCohorts <= 0 {
		ch := make(chan struct{})
		for c := range r.notify {
			ws[c], r.notify[c] = r.notify[c], ch
			r.gen[c]++
		}
		return ws
	}
	for c := range r.notify {
		r.wakeLocked(&ws, c)
	}
	return ws
}

// due returns how many cohorts' turns have come at head and now: one per wakeBytes/wakeCohorts
// new since the last turn or wakeEvery/wakeCohorts passed, at most all of them; and it moves the
// start of the next turn on by as much. Callers hold mu.
func (r *ring) due(head uint64, now time.Time) int {
	step, every := r.wakeBytes/wakeCohorts, r.wakeEvery/wakeCohorts
	if step == 0 || every <= 0 {
		r.wokeHead, r.wokeAt = head, now
		return wakeCohorts
	}
	nb, nt := (head-min(head, r.wokeHead))/step, now.Sub(r.wokeAt)/every
	n := max(int(min(nb, wakeCohorts)), int(min(nt, wakeCohorts)))
	switch {
	case n <= 0:
		return 0
	case n >= wakeCohorts:
		r.wokeHead, r.wokeAt = head, now
		return wakeCohorts
	case n == int(nb):
		r.wokeHead += uint64(n) * step
		r.wokeAt = now
	default:
		r.wokeHead = head
		r.wokeAt = r.wokeAt.Add(time.Duration(n) * every)
	}
	return n
}

// place puts a new viewer in the next cohort, round robin. Callers hold mu.
func (r *ring) place(v *Viewer) {
	v.cohort = int(r.joins % wakeCohorts)
	r.joins++
}

// oldest returns the oldest readable position. Callers hold mu.
func (r *ring) oldest() uint64 { return r.first * r.bsize }

// blockAt returns the block holding pos, which must be in [oldest, head]. Callers hold mu.
func (r *ring) blockAt(pos uint64) *block {
	i := int(pos/r.bsize - r.first)
	return r.blocks[(r.start+i)%len(r.blocks)]
}

// newestRAP returns the newest random access point. Callers hold mu.
func (r *ring) newestRAP() (rap, bool) {
	if len(r.raps) == 0 {
		return rap{}, false
	}
	return r.raps[len(r.raps)-1], true
}

// push appends a new block after the newest one (its sequence follows), dropping old blocks: the oldest when
// the ring is full, and those wholly older than keep and before the newest keyframe. Called by the writer.
func (r *ring) push(b *block, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == len(r.blocks) {
		r.dropOldest()
	}
	for r.n > 1 {
		old := r.blocks[r.start]
		end := (r.first + 1) * r.bsize
		nr, ok := r.newestRAP()
		if old.filledAt.IsZero() || now.Sub(old.filledAt) < r.keep || !ok || nr.pos < end {
			break
		}
		r.dropOldest()
	}
	if r.n == 0 {
		// The first block of the ring (or after a reset) starts at the committed position.
		r.first = r.head / r.bsize
	}
	r.blocks[(r.start+r.n)%len(r.blocks)] = b
	r.n++
}

func (r *ring) dropOldest() {
	b := r.blocks[r.start]
	r.blocks[r.start] = nil
	r.start = (r.start + 1) % len(r.blocks)
	r.n--
	r.first++
	b.release()
	lo := r.oldest()
	i := 0
	for i < len(r.raps) && r.raps[i].pos < lo {
		i++
	}
	if i > 0 {
		r.raps = append(r.raps[:0], r.raps[i:]...)
	}
}

// commit makes bytes up to head readable and records new random access points. It wakes each cohort
// of viewers when enough is new for it (wakeBytes, wakeEvery), and every viewer at once for the
// first keyframe (viewers and handlers wait for it to start) or a new program.
func (r *ring) commit(head uint64, raps []rap, psi []byte, now time.Time) {
	r.mu.Lock()
	first := len(r.raps) == 0 && len(raps) > 0
	r.head = head
	for _, p := range raps {
		if len(r.raps) == maxRAPs {
			r.raps = append(r.raps[:0], r.raps[1:]...)
		}
		r.raps = append(r.raps, p)
	}
	if psi != nil {
		r.psi = psi
	}
	n := wakeCohorts
	if first || psi != nil {
		r.wokeHead, r.wokeAt = head, now
	} else {
		n = r.due(head, now)
	}
	var ws wakes
	if n == wakeCohorts {
		ws = r.wakeAllLocked()
	} else {
		for range n {
			r.wakeLocked(&ws, int(r.turn%wakeCohorts))
			r.turn++
		}
	}
	r.mu.Unlock()
	ws.close()
}

// setDown records whether the upstream is down and wakes viewers waiting for it.
func (r *ring) setDown(down bool) {
	r.mu.Lock()
	if r.down == down {
		r.mu.Unlock()
		return
	}
	r.down = down
	if !down {
		r.lost = false
	}
	ws := r.wakeAllLocked()
	r.mu.Unlock()
	ws.close()
}

// setLost ends the viewers of a ring whose upstream has stayed down too long (Options.DownDrop):
// they return ErrUpstreamDown. Data arriving again (setDown(false)) clears it for new viewers.
func (r *ring) setLost() {
	r.mu.Lock()
	if r.lost || !r.down {
		r.mu.Unlock()
		return
	}
	r.lost = true
	ws := r.wakeAllLocked()
	r.mu.Unlock()
	ws.close()
}

// isLost reports setLost's state.
func (r *ring) isLost() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

// close releases every block and wakes the viewers for good.
func (r *ring) close() {
	r.mu.Lock()
	for r.n > 0 {
		r.dropOldest()
	}
	r.raps = nil
	r.done = true
	ws := r.wakeAllLocked()
	r.mu.Unlock()
	ws.close()
}
