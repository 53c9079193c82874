package relay

import "bytes"

// rap is a random access point: the position of the first packet of a keyframe's PES (or of an audio PES in
// a radio program), and its PTS when the PES header has one.
type rap struct {
	pos    uint64
	pts    int64
	hasPTS bool
}

// inspector follows the program (PAT/PMT) of the stream and finds random access points. It is used only by
// the hub's writer goroutine; the work per packet is a PID compare and, on the keyframe PID, a flag test.
type inspector struct {
	prog   program
	progOK bool
	pat    []byte // the last PAT packet (owned copy)
	pmt    []byte // the PMT packets of the last complete PMT (owned copy)
	coll   []byte // PMT packets being collected
	need   int    // PMT section bytes still missing from coll
	psi    []byte // PAT+PMT packets for new viewers; replaced, never modified, when the program changes

	scan   nalScan
	pes    rap // the PES being scanned for a keyframe
	last   int64
	hasPTS bool // last is valid: the latest PTS on the primary PID

	// Keyframes flagged (random_access_indicator) before the program was known, by PID: a source
	// joined mid-stream may send its keyframe before its next PAT/PMT, and a cold channel then
	// starts from that keyframe instead of waiting a whole GOP for the next one.
	early  [8]earlyRAP
	nEarly int
}

// earlyRAP is a flagged PES start seen before the program was known.
type earlyRAP struct {
	pid uint16
	r   rap
}

// reset forgets the stream's PID layout, for a new source that may use other PIDs. psi stays until the new
// source sends its own, so viewers joining meanwhile still get a program.
func (in *inspector) reset() {
	psi := in.psi
	*in = inspector{psi: psi}
}

// packet inspects one 188-byte packet at stream position pos and returns a random access point that it
// completes. psiChanged reports a new PAT/PMT.
func (in *inspector) packet(p []byte, pos uint64) (r rap, ok, psiChanged bool) {
	pid := pktPID(p)
	if pid == pidPAT {
		return rap{}, false, in.onPAT(p)
	}
	if !in.progOK && pktPUSI(p) && pktRAI(p) {
		in.noteEarly(pid, p, pos)
	}
	if !in.progOK && in.pat == nil {
		return rap{}, false, false
	}
	if pid == in.prog.pmtPID {
		known := in.progOK
		changed := in.onPMT(p)
		if !known && in.progOK {
			r, ok = in.earlyRAP()
		}
		return r, ok, changed
	}
	if pid != in.prog.primaryPID || !in.progOK {
		return rap{}, false, false
	}
	if pktPUSI(p) {
		pl := pktPayload(p)
		pts, has := pesHeaderPTS(pl)
		if has {
			in.last, in.hasPTS = pts, true
		}
		r = rap{pos: pos, pts: pts, hasPTS: has}
		if in.prog.codec == codecNone || pktRAI(p) {
			in.scan.active = false
			return r, true, false
		}
		if in.prog.codec == codecOther || len(pl) < 9 {
			in.scan.active = false
			return rap{}, false, false
		}
		in.pes = r
		in.scan.start(in.prog.codec)
		es := 9 + int(pl[8])
		if es > len(pl) {
			es = len(pl)
		}
		if key, done := in.scan.feed(pl[es:]); done && key {
			return r, true, false
		}
		return rap{}, false, false
	}
	if in.scan.active {
		if key, done := in.scan.feed(pktPayload(p)); done && key {
			return in.pes, true, false
		}
	}
	return rap{}, false, false
}

// noteEarly records a flagged PES start of pid before the program is known (the newest per PID).
func (in *inspector) noteEarly(pid uint16, p []byte, pos uint64) {
	pts, has := pesHeaderPTS(pktPayload(p))
	e := earlyRAP{pid: pid, r: rap{pos: pos, pts: pts, hasPTS: has}}
	for i := 0; i < in.nEarly; i++ {
		if in.early[i].pid == pid {
			in.early[i] = e
			return
		}
	}
	if in.nEarly < len(in.early) {
		in.early[in.nEarly] = e
		in.nEarly++
	}
}

// earlyRAP returns the keyframe of the primary PID seen before the program was known, if any.
func (in *inspector) earlyRAP() (rap, bool) {
	for _, e := range in.early[:in.nEarly] {
		if e.pid == in.prog.primaryPID {
			if e.r.hasPTS {
				in.last, in.hasPTS = e.r.pts, true
			}
			return e.r, true
		}
	}
	return rap{}, false
}

// samePacket compares two packets ignoring the continuity counter.
func samePacket(a, b []byte) bool {
	return len(a) == len(b) && a[1] == b[1] && a[2] == b[2] && a[3]&0xF0 == b[3]&0xF0 && bytes.Equal(a[4:], b[4:])
}

func (in *inspector) onPAT(p []byte) bool {
	if !pktPUSI(p) || (in.pat != nil && samePacket(in.pat, p)) {
		return false
	}
	pmtPID, err := parsePAT(p)
	if err != nil {
		return false
	}
	in.pat = append(in.pat[:0], p...)
	if in.progOK && pmtPID == in.prog.pmtPID {
		in.psi = join(in.pat, in.pmt)
		return true
	}
	in.prog, in.progOK, in.pmt, in.coll, in.need = program{pmtPID: pmtPID, primaryPID: noPID}, false, nil, nil, 0
	return false
}

func (in *inspector) onPMT(p []byte) bool {
	pl := pktPayload(p)
	if pl == nil {
		return false
	}
	if pktPUSI(p) {
		ptr := int(pl[0])
		if 1+ptr+3 > len(pl) {
			return false
		}
		s := pl[1+ptr:]
		in.need = int(s[1]&0x0F)<<8 | int(s[2]) + 3 - len(s)
		in.coll = append(in.coll[:0], p...)
	} else if in.coll != nil && in.need > 0 {
		in.need -= len(pl)
		in.coll = append(in.coll, p...)
	} else {
		return false
	}
	if in.need > 0 {
		if len(in.coll) > 16*packetSize { // not a sane PMT
			in.coll, in.need = nil, 0
		}
		return false
	}
	if in.progOK && len(in.coll) == len(in.pmt) && samePackets(in.coll, in.pmt) {
		return false
	}
	pg, err := parsePMT(in.pat, in.coll, in.prog.pmtPID)
	if err != nil {
		return false
	}
	in.prog, in.progOK = pg, true
	in.pmt = append(in.pmt[:0], in.coll...)
	in.psi = join(in.pat, in.pmt)
	in.scan.active = false
	return true
}

func samePackets(a, b []byte) bool {
	for i := 0; i+packetSize <= len(a); i += packetSize {
		if !samePacket(a[i:i+packetSize], b[i:i+packetSize]) {
			return false
		}
	}
	return true
}

// join returns a new slice holding a then b.
func join(a, b []byte) []byte {
	out := make([]byte, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
