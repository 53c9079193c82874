package player

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/config"
)

// downloadStallTimeout ends a playlist or guide download whose client accepted nothing for
// this long (a client reading under about 1 KB/s for as long counts as stalled), freeing its
// download slot.
const downloadStallTimeout = 30 * time.Second

// downloads counts the heavy downloads (get.php, xmltv.php) running on this instance, per line
// and per client address: each runs a writer for as long as its client reads, so a few clients
// must not be able to hold many. Entries exist only while a download runs, so the maps are
// bounded by the downloads running.
type downloads struct {
	perLine, perIP int

	mu    sync.Mutex
	lines map[int64]int
	ips   map[netip.Prefix]int
}

func newDownloads(cfg config.Config) *downloads {
	d := &downloads{perLine: cfg.DownloadsPerLine, perIP: cfg.DownloadsPerIP,
		lines: make(map[int64]int), ips: make(map[netip.Prefix]int)}
	if d.perLine <= 0 {
		d.perLine = config.DefaultDownloadsPerLine
	}
	if d.perIP <= 0 {
		d.perIP = config.DefaultDownloadsPerIP
	}
	return d
}

// clientKey is the unit of the per-address limit: an IPv4 address, or an IPv6 /64 (one
// subscriber's network: rotating addresses inside it gains nothing).
func clientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p
	}
	return netip.PrefixFrom(ip, ip.BitLen())
}

// acquire takes a download slot of the line and of the address; release gives both back (call
// it exactly once). ok is false, and nothing is taken, when either is at its limit.
func (d *downloads) acquire(lineID int64, ip netip.Addr) (release func(), ok bool) {
	key := clientKey(ip)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lines[lineID] >= d.perLine || d.ips[key] >= d.perIP {
		return nil, false
	}
	d.lines[lineID]++
	d.ips[key]++
	var once sync.Once
	return func() { once.Do(func() { d.release(lineID, key) }) }, true
}

func (d *downloads) release(lineID int64, key netip.Prefix) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lines[lineID]--; d.lines[lineID] <= 0 {
		delete(d.lines, lineID)
	}
	if d.ips[key]--; d.ips[key] <= 0 {
		delete(d.ips, key)
	}
}

// startDownload takes the line's and the address's download slot and sets up the response for
// a long body: the connection closes after it (see stallWriter). It answers 429 with an empty
// body, and returns ok false, when a limit is reached.
func (h *Handler) startDownload(c *fiber.Ctx, lineID int64, ip netip.Addr) (release func(), conn net.Conn, ok bool) {
	release, ok = h.downloads.acquire(lineID, ip)
	if !ok {
		c.Status(fiber.StatusTooManyRequests)
		c.Response().ResetBody()
		return nil, nil, false
	}
	c.Context().SetConnectionClose()
	return release, c.Context().Conn(), true
}

// stallWriter is the writer of a long download. Before it hands data on, it gives the
// connection downloadStallTimeout to take it: a client that stops reading makes the server's
// write fail at that deadline, which ends the body stream and so the writer (and its download
// slot) instead of holding them forever. The deadline stays on the connection after the body,
// which is why such responses close their connection.
type stallWriter struct {
	w     io.Writer
	stall stallDeadline
}

func newStallWriter(w io.Writer, conn net.Conn) *stallWriter {
	return &stallWriter{w: w, stall: stallDeadline{conn: conn, timeout: downloadStallTimeout}}
}

func (s *stallWriter) Write(p []byte) (int, error) {
	s.stall.push()
	return s.w.Write(p)
}

// stallDeadline keeps a connection's write deadline timeout ahead of the data being sent.
type stallDeadline struct {
	conn    net.Conn // nil: no deadline
	timeout time.Duration
	next    time.Time // when the deadline is pushed again
}

// push moves the write deadline to timeout from now; pushing costs a timer update, so it
// happens at most 8 times per timeout.
func (s *stallDeadline) push() {
	if s.conn == nil {
		return
	}
	if now := time.Now(); !now.Before(s.next) {
		_ = s.conn.SetWriteDeadline(now.Add(s.timeout))
		s.next = now.Add(s.timeout / 8)
	}
}
