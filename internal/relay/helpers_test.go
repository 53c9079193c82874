package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asticode/go-astits"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// waitLimit bounds every wait in these tests: long enough for a loaded CI box, short enough to fail fast.
const waitLimit = 20 * time.Second

// clip returns a testdata clip (see testdata/ts/README.md).
func clip(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ts", name))
	if err != nil {
		t.Fatalf("read clip: %v", err)
	}
	return b
}

// tsOrigin is a test upstream serving a clip as an endless paced live MPEG-TS stream. It counts
// connections and knows how many are open.
type tsOrigin struct {
	*httptest.Server
	conns  atomic.Int64 // requests served so far
	open   atomic.Int64 // requests in progress
	closed chan struct{}
}

// newTSOrigin serves data looped and restamped (so it is one continuous stream), speed times faster than
// real time, in 7-packet writes.
func newTSOrigin(t testing.TB, data []byte, speed int) *tsOrigin {
	t.Helper()
	f, err := newLoopFile(data, 2_000_000)
	if err != nil {
		t.Fatal(err)
	}
	o := &tsOrigin{closed: make(chan struct{}, 1024)}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.conns.Add(1)
		o.open.Add(1)
		defer func() {
			o.open.Add(-1)
			o.closed <- struct{}{}
		}()
		w.Header().Set("Content-Type", "video/mp2t")
		serveLoop(r.Context(), w, f, speed)
	}))
	t.Cleanup(o.Close)
	return o
}

// serveLoop writes f looped until ctx ends or a write fails, paced by the file's duration.
func serveLoop(ctx context.Context, w io.Writer, f *loopFile, speed int) {
	rc := http.NewResponseController(w.(http.ResponseWriter))
	var rs restamper
	buf := make([]byte, 7*packetSize)
	start := time.Now()
	perPacket := time.Duration(f.dur90k) * time.Second / 90000 / time.Duration(f.packets) / time.Duration(speed)
	sent := 0
	for loop := int64(0); ; loop++ {
		rs.offset = loop * f.dur90k
		for i := 0; i+len(buf) <= len(f.data); i += len(buf) {
			copy(buf, f.data[i:i+len(buf)])
			for j := 0; j < len(buf); j += packetSize {
				rs.packet(buf[j : j+packetSize])
			}
			if _, err := w.Write(buf); err != nil {
				return
			}
			if rc.Flush() != nil {
				return
			}
			sent += 7
			if d := time.Until(start.Add(time.Duration(sent) * perPacket)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
		}
	}
}

// events collects a Manager's events.
type events struct {
	ch chan Event
}

func newEvents() *events { return &events{ch: make(chan Event, 4096)} }

func (e *events) hook(ev Event) {
	select {
	case e.ch <- ev:
	default:
	}
}

// wait returns the next event of type typ (skipping others), failing the test after waitLimit.
func (e *events) wait(t *testing.T, typ EventType) Event {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		select {
		case ev := <-e.ch:
			if ev.Type == typ {
				return ev
			}
		case <-timer.C:
			t.Fatalf("no %v event within %v", typ, waitLimit)
			return Event{}
		}
	}
}

// newTestManager returns a Manager with fast test timings, closed at cleanup.
func newTestManager(t testing.TB, o Options) *Manager {
	t.Helper()
	if o.Grace == 0 {
		o.Grace = 100 * time.Millisecond
	}
	if o.BackoffMin == 0 {
		o.BackoffMin = 20 * time.Millisecond
	}
	if o.BackoffMax == 0 {
		o.BackoffMax = 100 * time.Millisecond
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 2 * time.Second
	}
	m, err := NewManager(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// capture is an io.Writer that keeps what it gets and signals when it holds at least want bytes.
type capture struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want int
	full chan struct{}
	once sync.Once
}

func newCapture(want int) *capture { return &capture{want: want, full: make(chan struct{})} }

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.buf.Write(p)
	n := c.buf.Len()
	c.mu.Unlock()
	if n >= c.want {
		c.once.Do(func() { close(c.full) })
	}
	return len(p), nil
}

func (c *capture) bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes())
}

// watch runs v.WriteTo into a fresh capture until ctx ends; it returns the capture and a channel with
// WriteTo's error.
func watch(ctx context.Context, v *Viewer, want int) (*capture, chan error) {
	c := newCapture(want)
	errc := make(chan error, 1)
	go func() {
		_, err := v.WriteTo(ctx, c, nil)
		errc <- err
	}()
	return c, errc
}

// waitFull waits until c holds its wanted bytes.
func waitFull(t *testing.T, c *capture) {
	t.Helper()
	select {
	case <-c.full:
	case <-time.After(waitLimit):
		t.Fatalf("capture has %d bytes after %v, want %d", len(c.bytes()), waitLimit, c.want)
	}
}

// checkStart verifies that b starts at a packet boundary with PAT, then PMT, then a keyframe on the video
// PID, using the go-astits demuxer.
func checkStart(t *testing.T, b []byte) {
	t.Helper()
	if len(b) < 3*packetSize || len(b)%packetSize != 0 {
		t.Fatalf("received %d bytes, want a whole number (>= 3) of packets", len(b))
	}
	if b[0] != syncByte || pktPID(b) != pidPAT {
		t.Fatalf("first packet PID = %#x, want PAT", pktPID(b))
	}
	dmx := astits.NewDemuxer(context.Background(), bytes.NewReader(b), astits.DemuxerOptPacketSize(packetSize))
	var video uint16 = noPID
	first := true
	for {
		d, err := dmx.NextData()
		if errors.Is(err, astits.ErrNoMorePackets) {
			t.Fatal("no video PES found")
		}
		if err != nil {
			t.Fatalf("demux: %v", err)
		}
		switch {
		case first:
			if d.PAT == nil {
				t.Fatalf("first table is not a PAT: %+v", d)
			}
			first = false
		case d.PMT != nil:
			for _, es := range d.PMT.ElementaryStreams {
				if c, _ := classify(es.StreamType); c != codecNone && video == noPID {
					video = es.ElementaryPID
				}
			}
		case d.PES != nil && d.PID == video:
			if video == noPID {
				t.Fatal("PES before PMT")
			}
			af := d.FirstPacket.AdaptationField
			if af == nil || !af.RandomAccessIndicator {
				t.Fatalf("first video PES is not a random access point")
			}
			var s nalScan
			s.start(codecH264)
			if key, _ := s.feed(d.PES.Data); !key {
				t.Fatalf("first video PES has no IDR/SPS")
			}
			return
		}
	}
}

// needTool skips the test when an external tool is missing (CI installs ffmpeg, which has ffprobe).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (apt-get install ffmpeg): skipping the real-client check", name)
	}
	return p
}
