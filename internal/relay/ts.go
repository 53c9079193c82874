package relay

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/asticode/go-astits"
)

// MPEG-TS packet layout (ISO/IEC 13818-1 §2.4.3). The per-packet work on the delivery path reads only the
// 4-byte header and the adaptation-field flags by hand: that is a few loads and branches per packet, where
// a general demuxer allocates per packet (see BenchmarkInspectPacket). PAT and PMT, which change rarely, are
// parsed with go-astits.
const (
	packetSize = 188
	syncByte   = 0x47
	pidPAT     = 0x0000
	pidNull    = 0x1FFF
	noPID      = 0xFFFF
)

// pktPID returns the packet's PID.
func pktPID(p []byte) uint16 { return uint16(p[1]&0x1F)<<8 | uint16(p[2]) }

// pktPUSI reports payload_unit_start_indicator.
func pktPUSI(p []byte) bool { return p[1]&0x40 != 0 }

// pktRAI reports the adaptation field's random_access_indicator.
func pktRAI(p []byte) bool { return p[3]&0x20 != 0 && p[4] > 0 && p[5]&0x40 != 0 }

// pktPayload returns the payload of a 188-byte packet (nil when it has none or the adaptation field is bad).
func pktPayload(p []byte) []byte {
	switch p[3] & 0x30 {
	case 0x10:
		return p[4:packetSize]
	case 0x30:
		off := 5 + int(p[4])
		if off >= packetSize {
			return nil
		}
		return p[off:packetSize]
	}
	return nil
}

// pktPCR returns the 33-bit PCR base (90 kHz) when the packet carries a PCR.
func pktPCR(p []byte) (uint64, bool) {
	if p[3]&0x20 == 0 || p[4] < 7 || p[5]&0x10 == 0 {
		return 0, false
	}
	return uint64(p[6])<<25 | uint64(p[7])<<17 | uint64(p[8])<<9 | uint64(p[9])<<1 | uint64(p[10])>>7, true
}

// pesHeaderPTS returns the PTS (90 kHz, 33 bits) of a PES header at the start of payload.
func pesHeaderPTS(payload []byte) (int64, bool) {
	if len(payload) < 14 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1 || !pesHasOptionalHeader(payload[3]) {
		return 0, false
	}
	if payload[7]&0x80 == 0 {
		return 0, false
	}
	return readTimestamp(payload[9:14]), true
}

// pesHasOptionalHeader reports whether a PES stream id carries the optional header (13818-1 Table 2-21).
func pesHasOptionalHeader(streamID byte) bool {
	switch streamID {
	case 0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF:
		return false
	}
	return true
}

// readTimestamp decodes a 5-byte PES PTS/DTS field.
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&0x07)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

// writeTimestamp encodes ts into a 5-byte PES PTS/DTS field, keeping the 4-bit prefix and marker bits.
func writeTimestamp(b []byte, ts int64) {
	ts &= 1<<33 - 1
	b[0] = b[0]&0xF0 | byte(ts>>29)&0x0E | 1
	b[1] = byte(ts >> 22)
	b[2] = byte(ts>>14)&0xFE | 1
	b[3] = byte(ts >> 7)
	b[4] = byte(ts<<1) | 1
}

// ptsDelta returns b-a in 90 kHz ticks, allowing for one 33-bit wrap.
func ptsDelta(a, b int64) int64 {
	d := (b - a) & (1<<33 - 1)
	if d >= 1<<32 {
		d -= 1 << 33
	}
	return d
}

// codec is the video coding of the program's first video stream, for keyframe detection from the payload.
type codec uint8

const (
	codecNone codec = iota
	codecH264
	codecHEVC
	codecMPEG2
	codecOther // video without a payload scanner: random_access_indicator only
)

// classify maps a PMT stream type to a codec and whether it is audio.
func classify(st astits.StreamType) (c codec, audio bool) {
	switch st {
	case astits.StreamTypeH264Video:
		return codecH264, false
	case astits.StreamTypeH265Video:
		return codecHEVC, false
	case astits.StreamTypeMPEG1Video, astits.StreamTypeMPEG2Video:
		return codecMPEG2, false
	case astits.StreamTypeMPEG4Video, astits.StreamTypeCAVSVideo, astits.StreamTypeVC1Video, astits.StreamTypeDIRACVideo:
		return codecOther, false
	case astits.StreamTypeMPEG1Audio, astits.StreamTypeMPEG2Audio, astits.StreamTypeAACAudio,
		astits.StreamTypeAACLATMAudio, astits.StreamTypeAC3Audio, astits.StreamTypeEAC3Audio, astits.StreamTypeDTSAudio:
		return codecNone, true
	}
	return codecNone, false
}

// program is what the relay needs from PAT+PMT: the first program's PMT PID, its keyframe PID and codec.
type program struct {
	pmtPID     uint16
	primaryPID uint16 // video PID, or the first audio PID of a radio program; noPID when unknown
	codec      codec  // codecNone for radio
	pcrPID     uint16
}

// parsePAT returns the PMT PID of the first program in a PAT carried by pkts (whole 188-byte packets).
func parsePAT(pkts []byte) (uint16, error) {
	d, err := firstPSI(pkts, func(d *astits.DemuxerData) bool { return d.PAT != nil })
	if err != nil {
		return 0, fmt.Errorf("parse pat: %w", err)
	}
	for _, p := range d.PAT.Programs {
		if p.ProgramNumber != 0 {
			return p.ProgramMapID, nil
		}
	}
	return 0, errors.New("parse pat: no program")
}

// parsePMT parses the PMT section in pkts (whole packets on pmtPID, preceded by a PAT packet so the
// demuxer knows the PID is a PMT).
func parsePMT(pat, pmt []byte, pmtPID uint16) (program, error) {
	buf := make([]byte, 0, len(pat)+len(pmt))
	buf = append(append(buf, pat...), pmt...)
	d, err := firstPSI(buf, func(d *astits.DemuxerData) bool { return d.PMT != nil })
	if err != nil {
		return program{}, fmt.Errorf("parse pmt: %w", err)
	}
	pg := program{pmtPID: pmtPID, primaryPID: noPID, pcrPID: d.PMT.PCRPID}
	audio := uint16(noPID)
	for _, es := range d.PMT.ElementaryStreams {
		c, isAudio := classify(es.StreamType)
		if c != codecNone && pg.primaryPID == noPID {
			pg.primaryPID, pg.codec = es.ElementaryPID, c
		}
		if isAudio && audio == noPID {
			audio = es.ElementaryPID
		}
	}
	if pg.primaryPID == noPID {
		pg.primaryPID = audio // radio: every audio PES start is a random access point
	}
	return pg, nil
}

// firstPSI demuxes pkts with go-astits and returns the first data item accepted by want.
func firstPSI(pkts []byte, want func(*astits.DemuxerData) bool) (*astits.DemuxerData, error) {
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(pkts), astits.DemuxerOptPacketSize(packetSize))
	for {
		d, err := dmx.NextData()
		if err != nil {
			if errors.Is(err, astits.ErrNoMorePackets) {
				return nil, errors.New("table not found")
			}
			return nil, err
		}
		if want(d) {
			return d, nil
		}
	}
}

// nalScan finds out from the elementary stream bytes whether a video PES starts with a keyframe, for streams
// whose muxer does not set random_access_indicator. It looks at NAL unit (or MPEG-2 start code) types until
// the first slice: H.264 IDR or SPS, HEVC IRAP or VPS/SPS, MPEG-2 sequence header mark a keyframe.
type nalScan struct {
	active  bool
	codec   codec
	zeros   int  // trailing zero bytes carried over from the previous packet
	startAt bool // the previous packet ended just after a 00 00 01 start code
	param   bool // a parameter set (SPS/VPS, MPEG-2 sequence header) was seen in this access unit
	packets int  // packets scanned for this PES
}

// maxScanPackets bounds the scan: an access unit whose first slice is not within this many packets is a
// keyframe only when it carried a parameter set.
const maxScanPackets = 16

// start begins scanning a new PES of codec c.
func (s *nalScan) start(c codec) { *s = nalScan{active: true, codec: c} }

// feed scans more elementary stream bytes. done reports that the answer is known; key is the answer.
func (s *nalScan) feed(b []byte) (key, done bool) {
	s.packets++
	for i := 0; i < len(b); i++ {
		if s.startAt {
			s.startAt = false
			if key, done := s.unit(b[i]); done {
				s.active = false
				return key, true
			}
		}
		switch {
		case b[i] == 0:
			s.zeros++
		case b[i] == 1 && s.zeros >= 2:
			s.zeros = 0
			s.startAt = true
		default:
			s.zeros = 0
		}
	}
	if s.packets >= maxScanPackets {
		// Big SEI (x265 writes its settings there) can push the first slice far out; parameter sets are
		// sent with keyframes, so they decide.
		s.active = false
		return s.param, true
	}
	return false, false
}

// unit classifies the first byte after a start code.
func (s *nalScan) unit(h byte) (key, done bool) {
	switch s.codec {
	case codecH264:
		switch h & 0x1F {
		case 5:
			return true, true
		case 7:
			s.param = true
		case 1, 2:
			return s.param, true
		}
	case codecHEVC:
		switch t := h >> 1 & 0x3F; {
		case t >= 16 && t <= 21:
			return true, true
		case t == 32 || t == 33:
			s.param = true
		case t <= 9:
			return s.param, true
		}
	case codecMPEG2:
		switch h {
		case 0xB3:
			return true, true
		case 0x00:
			return false, true
		}
	default:
		return false, true
	}
	return false, false
}
