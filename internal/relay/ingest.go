package relay

import (
	"io"
	"time"
)

// ingest is the writer side of a ring: it reads upstream bytes straight into the current block, keeps
// 188-byte packet alignment (resynchronising on garbage), inspects each packet once, and publishes in
// batches. Only the hub's pull goroutine uses it.
type ingest struct {
	r      *ring
	pool   *blockPool
	now    func() time.Time
	cur    *block
	seq    uint64 // sequence of cur
	wr     int    // bytes written into cur (the tail past scanned is a partial packet)
	scan   int    // bytes of cur checked and inspected, a multiple of 188
	pub    uint64 // last committed position
	pubAt  time.Time
	raps   []rap // found since the last publish
	psiNew []byte
	insp   inspector

	minPub  int
	maxWait time.Duration

	bytesIn  uint64 // total bytes taken from upstream
	packets  uint64 // valid packets accepted
	junk     uint64 // bytes skipped while resynchronising
	onCommit func(from, to uint64, raps []rap)
}

func newIngest(r *ring, pool *blockPool, now func() time.Time, minPub int, maxWait time.Duration) *ingest {
	return &ingest{r: r, pool: pool, now: now, minPub: minPub, maxWait: maxWait, raps: make([]rap, 0, 16)}
}

// space returns the writable tail of the current block, starting a new block when it is full.
func (in *ingest) space() []byte {
	if in.cur == nil || in.wr == len(in.cur.buf) {
		if in.cur != nil {
			in.flush() // the new block may only become visible after everything before it
			in.cur.filledAt = in.now()
			in.seq++
		}
		in.cur = in.pool.get()
		in.wr, in.scan = 0, 0
		in.r.push(in.cur, in.now())
	}
	return in.cur.buf[in.wr:]
}

// readFrom does one Read from r into the ring and publishes when enough is pending.
func (in *ingest) readFrom(r io.Reader) (int, error) {
	n, err := r.Read(in.space())
	if n > 0 {
		in.wr += n
		in.bytesIn += uint64(n)
		in.process()
		in.maybeFlush()
	}
	return n, err
}

// write copies p into the ring and publishes it.
func (in *ingest) write(p []byte) {
	in.bytesIn += uint64(len(p))
	for len(p) > 0 {
		n := copy(in.space(), p)
		p = p[n:]
		in.wr += n
		in.process()
	}
	in.flush()
}

// discardPartial drops an incomplete trailing packet, e.g. before switching to another source.
func (in *ingest) discardPartial() {
	in.flush()
	if in.cur != nil {
		in.wr = in.scan
	}
	in.insp.reset()
}

// process checks and inspects every complete packet past scan.
func (in *ingest) process() {
	buf := in.cur.buf
	base := in.seq * uint64(len(buf))
	for in.wr-in.scan >= packetSize {
		p := buf[in.scan : in.scan+packetSize]
		if p[0] != syncByte {
			in.resync()
			continue
		}
		in.packets++
		r, ok, psi := in.insp.packet(p, base+uint64(in.scan))
		if psi {
			in.psiNew = in.insp.psi
		}
		if ok {
			in.raps = append(in.raps, r)
		}
		in.scan += packetSize
	}
}

// resync drops bytes at scan until a sync byte that is followed by another one a packet later (or by the
// end of the data), moving the rest down. Only uncommitted bytes move.
func (in *ingest) resync() {
	buf := in.cur.buf
	i := in.scan + 1
	for ; i < in.wr; i++ {
		if buf[i] == syncByte && (i+packetSize >= in.wr || buf[i+packetSize] == syncByte) {
			break
		}
	}
	skipped := i - in.scan
	copy(buf[in.scan:], buf[i:in.wr])
	in.wr -= skipped
	in.junk += uint64(skipped)
}

// pending returns how many scanned bytes are not yet visible.
func (in *ingest) pending() int {
	if in.cur == nil {
		return 0
	}
	return int(in.seq*uint64(len(in.cur.buf)) + uint64(in.scan) - in.pub)
}

func (in *ingest) maybeFlush() {
	p := in.pending()
	if p == 0 {
		return
	}
	// A keyframe is published at once: a cold channel's first viewers wait for it (and a warm
	// one's joiners start from the newest).
	if p >= in.minPub || len(in.raps) > 0 || in.now().Sub(in.pubAt) >= in.maxWait {
		in.flush()
	}
}

// flush publishes every scanned byte (but for a PES still being scanned for a keyframe).
func (in *ingest) flush() {
	if in.cur == nil {
		return
	}
	head := in.seq*uint64(len(in.cur.buf)) + uint64(in.scan)
	if in.insp.scan.active && in.insp.pes.pos >= in.pub && in.insp.pes.pos < head {
		// A PES is being scanned for a keyframe: hold its packets back until the answer is known, so that
		// a random access point is never reported behind the committed head (the segmenter cuts there).
		head = in.insp.pes.pos
	}
	if head == in.pub && len(in.raps) == 0 && in.psiNew == nil {
		return
	}
	from := in.pub
	in.r.commit(head, in.raps, in.psiNew, in.now())
	if in.onCommit != nil {
		in.onCommit(from, head, in.raps)
	}
	in.pub, in.pubAt = head, in.now()
	in.raps, in.psiNew = in.raps[:0], nil
}

// discardPartialPacket drops an incomplete trailing packet (the end of an HLS segment must be whole).
func (in *ingest) discardPartialPacket() {
	if in.cur != nil {
		in.wr = in.scan
	}
}
