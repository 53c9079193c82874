package relay

import (
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
	first    uint64        // sequence number of the oldest block held
	head     uint64        // committed position: bytes [first*bsize, head) are readable
	raps     []rap         // random access points in the ring, oldest first
	psi      []byte        // PAT+PMT for new viewers (immutable)
	notify   chan struct{} // closed and replaced at every wake-up
	gen      uint64        // wake-ups so far: a viewer takes the shared burst budget once per wake-up
	done     bool
	down     bool // every source failed in the last round and nothing has been delivered since
	keep     time.Duration

	// Viewers are woken once wakeBytes are new since the last wake-up or wakeEvery has passed (checked
	// at each commit), not at every commit: each wake-up costs every viewer a scheduling round and a
	// write, so waking less often means fewer, larger writes. Zero wakes at every commit.
	wakeBytes uint64
	wakeEvery time.Duration
	wokeHead  uint64
	wokeAt    time.Time
}

func newRing(bsize, nblocks int, keep time.Duration) *ring {
	return &ring{bsize: uint64(bsize), blocks: make([]*block, nblocks), notify: make(chan struct{}), keep: keep}
}

// wakeLocked wakes every waiting viewer. Callers hold mu; the returned channel must be closed after
// unlocking.
func (r *ring) wakeLocked() chan struct{} {
	ch := r.notify
	r.notify = make(chan struct{})
	r.gen++
	return ch
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

// commit makes bytes up to head readable and records new random access points. It wakes the viewers
// when enough is new (wakeBytes, wakeEvery), and at once for the first keyframe (viewers and handlers
// wait for it to start) or a new program.
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
	if !first && psi == nil && head-r.wokeHead < r.wakeBytes && now.Sub(r.wokeAt) < r.wakeEvery {
		r.mu.Unlock()
		return
	}
	r.wokeHead, r.wokeAt = head, now
	ch := r.wakeLocked()
	r.mu.Unlock()
	close(ch)
}

// setDown records whether the upstream is down and wakes viewers waiting for it.
func (r *ring) setDown(down bool) {
	r.mu.Lock()
	if r.down == down {
		r.mu.Unlock()
		return
	}
	r.down = down
	ch := r.wakeLocked()
	r.mu.Unlock()
	close(ch)
}

// close releases every block and wakes the viewers for good.
func (r *ring) close() {
	r.mu.Lock()
	for r.n > 0 {
		r.dropOldest()
	}
	r.raps = nil
	r.done = true
	ch := r.wakeLocked()
	r.mu.Unlock()
	close(ch)
}
