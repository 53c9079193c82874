package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"
)

// filePath returns the local path of a file source: file:///abs/path, file://localhost/abs/path or a path.
func filePath(src string) (string, error) {
	if !strings.HasPrefix(strings.ToLower(src), "file:") {
		return src, nil
	}
	u, err := url.Parse(src)
	if err != nil {
		return "", fmt.Errorf("file url: %w", err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("file url %q: remote host", src)
	}
	return u.Path, nil
}

// loopFile is a TS file prepared for looping as a live channel.
type loopFile struct {
	data    []byte // whole packets
	pcrPID  uint16 // noPID when the file has no PCR
	pcr0    uint64 // first PCR (90 kHz base)
	dur90k  int64  // length of one loop in 90 kHz ticks
	packets int
}

// loadLoopFile reads and checks a TS file through open and measures its duration from its PCRs
// (or from bitrate).
func loadLoopFile(open func(string) (*os.File, error), path string, maxBytes, bitrate int64) (*loopFile, error) {
	if open == nil {
		return nil, ErrFileSourcesOff
	}
	f, err := open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if st.Size() > maxBytes {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d allowed", path, st.Size(), maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxBytes))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return newLoopFile(data, bitrate)
}

func newLoopFile(data []byte, bitrate int64) (*loopFile, error) {
	start := -1
	for i := 0; i+packetSize < len(data); i++ {
		if data[i] == syncByte && data[i+packetSize] == syncByte {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, errors.New("not mpeg-ts")
	}
	data = data[start:]
	data = data[:len(data)/packetSize*packetSize]
	f := &loopFile{data: data, pcrPID: noPID, packets: len(data) / packetSize}
	var last uint64
	n := 0
	for i := 0; i < len(data); i += packetSize {
		p := data[i : i+packetSize]
		if p[0] != syncByte {
			return nil, fmt.Errorf("lost sync at byte %d", start+i)
		}
		pid := pktPID(p)
		if f.pcrPID != noPID && pid != f.pcrPID {
			continue
		}
		if pcr, ok := pktPCR(p); ok {
			if f.pcrPID == noPID {
				f.pcrPID, f.pcr0 = pid, pcr
			}
			last = pcr
			n++
		}
	}
	span := int64((last - f.pcr0) & (1<<33 - 1))
	if n >= 2 && span > 0 {
		f.dur90k = span + span/int64(n-1) // one more PCR interval: the loop restarts where the next PCR would be
	} else {
		f.pcrPID = noPID
		f.dur90k = int64(len(data)) * 8 * 90000 / bitrate
	}
	if f.dur90k <= 0 {
		f.dur90k = 1
	}
	return f, nil
}

// restamper rewrites timestamps and continuity counters of a looped file so that the output is one
// continuous stream: loop k adds k times the loop length to every PCR, PTS and DTS.
type restamper struct {
	cc     [8192]uint8 // next continuity counter + 1 per PID (0: not seen yet)
	offset int64       // 90 kHz ticks added to timestamps
}

// packet rewrites p (a private copy) in place.
func (rs *restamper) packet(p []byte) {
	pid := pktPID(p)
	if p[3]&0x10 != 0 { // has payload: the counter advances
		if c := rs.cc[pid]; c != 0 {
			p[3] = p[3]&0xF0 | (c-1)&0x0F
		}
		rs.cc[pid] = (p[3]&0x0F+1)&0x0F + 1
	}
	if rs.offset == 0 {
		return
	}
	if pcr, ok := pktPCR(p); ok {
		v := (pcr + uint64(rs.offset)) & (1<<33 - 1)
		p[6], p[7], p[8], p[9] = byte(v>>25), byte(v>>17), byte(v>>9), byte(v>>1)
		p[10] = p[10]&0x7F | byte(v<<7)
	}
	if !pktPUSI(p) {
		return
	}
	pl := pktPayload(p)
	if len(pl) < 19 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 || !pesHasOptionalHeader(pl[3]) {
		return
	}
	switch pl[7] >> 6 {
	case 2:
		writeTimestamp(pl[9:14], readTimestamp(pl[9:14])+rs.offset)
	case 3:
		writeTimestamp(pl[9:14], readTimestamp(pl[9:14])+rs.offset)
		writeTimestamp(pl[14:19], readTimestamp(pl[14:19])+rs.offset)
	}
}

// pullFile loops a local TS file forever as a live channel, paced in real time by its PCR (or by
// FileBitrate when it has none).
func (h *hub) pullFile(ctx context.Context, src string, up *upstream) error {
	o := &h.m.opts
	path, err := filePath(src)
	if err != nil {
		return err
	}
	f, err := loadLoopFile(o.OpenFile, path, o.MaxFileBytes, o.FileBitrate)
	if err != nil {
		return fmt.Errorf("file source: %w", err)
	}
	const batchPackets = 64
	batch := make([]byte, 0, batchPackets*packetSize)
	var rs restamper
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	wait := func(due time.Duration) bool {
		d := due - time.Since(start)
		if d <= 2*time.Millisecond {
			return true
		}
		timer.Reset(d)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
	emit := func() {
		if len(batch) > 0 {
			h.ing.write(batch)
			h.m.c.bytesIn.Add(uint64(len(batch)))
			up.open()
			batch = batch[:0]
		}
	}
	bytePace := f.pcrPID == noPID
	for loop := int64(0); ; loop++ {
		rs.offset = loop * f.dur90k
		for i := 0; i < len(f.data); i += packetSize {
			p := f.data[i : i+packetSize]
			var due time.Duration
			paced := false
			if bytePace {
				if i%(batchPackets*packetSize) == 0 {
					ticks := loop*f.dur90k + int64(i)*8*90000/o.FileBitrate
					due, paced = time.Duration(ticks)*time.Second/90000, true
				}
			} else if pktPID(p) == f.pcrPID {
				if pcr, ok := pktPCR(p); ok {
					ticks := int64((pcr-f.pcr0)&(1<<33-1)) + loop*f.dur90k
					due, paced = time.Duration(ticks)*time.Second/90000, true
				}
			}
			if paced || len(batch) == cap(batch) {
				emit()
				if paced && !wait(due) {
					return ctx.Err()
				}
			}
			batch = append(batch, p...)
			rs.packet(batch[len(batch)-packetSize:])
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
