package stream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/relay"
	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/token"
)

// contentTypes maps container extensions to media types (spec §2.5).
var contentTypes = map[string]string{
	"mp4": "video/mp4", "m4v": "video/x-m4v", "mkv": "video/x-matroska", "webm": "video/webm",
	"ts": "video/mp2t", "m2ts": "video/mp2t", "avi": "video/x-msvideo", "mov": "video/quicktime",
	"flv": "video/x-flv", "wmv": "video/x-ms-wmv", "mpg": "video/mpeg", "mpeg": "video/mpeg",
	"3gp": "video/3gpp", "ogv": "video/ogg", "mp3": "audio/mpeg", "aac": "audio/aac", "m4a": "audio/mp4",
}

func contentType(ext string) string {
	if t, ok := contentTypes[strings.ToLower(ext)]; ok {
		return t
	}
	return "application/octet-stream"
}

// movie serves /movie/{user}/{pass}/{id}.{ext}.
func (h *Handler) movie(c *fiber.Ctx) error { return h.vodRoute(c, token.KindVOD) }

// series serves /series/{user}/{pass}/{episode id}.{ext}.
func (h *Handler) series(c *fiber.Ctx) error { return h.vodRoute(c, token.KindSeries) }

func (h *Handler) vodRoute(c *fiber.Ctx, kind token.Kind) error {
	r, ok := h.parseVOD(c, kind)
	if !ok {
		return notFound(c)
	}
	return h.openVOD(c, r)
}

// vodStream finds a movie (KindVOD) or an episode (KindSeries).
func (h *Handler) vodStream(id int64, kind token.Kind) (*catalog.Stream, bool) {
	snap := h.d.Catalog.Current()
	var (
		st *catalog.Stream
		ok bool
	)
	if kind == token.KindSeries {
		st, ok = snap.Episode(id)
	} else {
		st, ok = snap.Movie(id)
	}
	return st, ok && len(st.Sources) > 0
}

// openVOD checks and serves a movie or an episode; the lease lives as long as the response.
func (h *Handler) openVOD(c *fiber.Ctx, r vodRequest) error {
	st, ok := h.vodStream(r.id, r.kind)
	if !ok {
		return notFound(c)
	}
	ext := r.ext
	if st.ContainerExtension != "" {
		ext = st.ContainerExtension
	}
	req := r.client.request(r.who)
	req.StreamOpen, req.StreamID, req.Container = true, r.id, conns.ContainerVOD
	return h.open(c, req, func(o *edge.Open, d access.Decision) error {
		if h.d.Redirect.Enabled() {
			root := "/movie/"
			if r.kind == token.KindSeries {
				root = "/series/"
			}
			return h.redirect(c, o, d.Lease, root+strconv.FormatInt(r.id, 10)+"."+ext)
		}
		if st.DirectSource {
			return h.direct(c, st)
		}
		urls := make([]string, len(st.Sources))
		for i, s := range st.Sources {
			urls[i] = s.URL
		}
		return h.serveSource(c, o, d, urls, contentType(ext), r.rng, conns.ContainerVOD)
	})
}

// serveSource serves the first source that answers: a local file (file:// URL or absolute
// path, opened through Deps.Files: media directories only) or an http(s) URL, passing Range
// through. Nothing is read into memory whole. A source that source.Check refuses (a row
// written before the check, or a catch-up template that expanded badly) is skipped.
func (h *Handler) serveSource(c *fiber.Ctx, o *edge.Open, d access.Decision, urls []string, ctype, rng, container string) error {
	for _, u := range urls {
		var done bool
		if p, ok := source.Local(u); ok {
			done = h.serveFile(c, o, d, p, ctype, rng, container)
		} else if source.IsHTTP(u) {
			done = h.serveHTTP(c, o, d, u, ctype, rng, container)
		} else {
			h.log.Warn("vod source refused", "stream_id", d.Lease.StreamID, "source", source.Redact(u),
				"err", source.Check(u))
		}
		if done {
			return nil
		}
	}
	return edge.Empty(c, fiber.StatusBadGateway)
}

// serveFile answers from a local file. It reports false when the file cannot be served (the
// caller tries the next source).
func (h *Handler) serveFile(c *fiber.Ctx, o *edge.Open, d access.Decision, path, ctype, rng, container string) bool {
	f, err := h.d.Files.Open(path)
	if err != nil {
		msg := "vod file unavailable"
		if errors.Is(err, source.ErrOutside) || errors.Is(err, source.ErrNotRegular) {
			msg = "vod file refused"
		}
		h.log.Warn(msg, "stream_id", d.Lease.StreamID, "err", err)
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return false
	}
	size := fi.Size()
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderContentType, ctype)
	r, kind := parseRange(rng, size)
	length := size
	switch kind {
	case rangeUnsatisfiable:
		f.Close()
		c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(size, 10))
		_ = edge.Empty(c, fiber.StatusRequestedRangeNotSatisfiable)
		return true
	case rangeOK:
		if _, err := f.Seek(r.start, io.SeekStart); err != nil {
			f.Close()
			return false
		}
		length = r.length()
		c.Set(fiber.HeaderContentRange, "bytes "+strconv.FormatInt(r.start, 10)+"-"+strconv.FormatInt(r.end, 10)+"/"+strconv.FormatInt(size, 10))
		c.Status(fiber.StatusPartialContent)
	default:
		c.Status(fiber.StatusOK)
	}
	h.startBody(c, o, d, f, f, nil, length, container)
	return true
}

// serveHTTP proxies an http(s) source, passing Range through. It reports false when the
// upstream failed before answering usefully (the caller tries the next source). The upstream
// request ends with the lease (a kill), at shutdown, and when the upstream sends nothing for
// UpstreamIdle while the body waits for it.
func (h *Handler) serveHTTP(c *fiber.Ctx, o *edge.Open, d access.Decision, u, ctype, rng, container string) bool {
	ctx, cancel := context.WithCancelCause(h.base)
	stop := onClose(d.Lease.Done(), func() { cancel(errStreamEnded) })
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		stop()
		cancel(nil)
		return false
	}
	req.Header.Set("User-Agent", "xtreamd/1")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := h.client.Do(req)
	stop()
	if err != nil {
		cancel(nil)
		h.log.Warn("vod upstream unavailable", "stream_id", d.Lease.StreamID, "err", relay.UpstreamError(err))
		return false
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		cancel(nil)
		if cr := resp.Header.Get("Content-Range"); cr != "" {
			c.Set(fiber.HeaderContentRange, cr)
		}
		_ = edge.Empty(c, fiber.StatusRequestedRangeNotSatisfiable)
		return true
	default:
		resp.Body.Close()
		cancel(nil)
		h.log.Warn("vod upstream refused", "stream_id", d.Lease.StreamID, "upstream_status", resp.StatusCode)
		return false
	}
	c.Status(resp.StatusCode)
	c.Set(fiber.HeaderContentType, ctype)
	if ar := resp.Header.Get("Accept-Ranges"); ar != "" {
		c.Set(fiber.HeaderAcceptRanges, ar)
	}
	if cr := resp.Header.Get("Content-Range"); cr != "" && resp.StatusCode == http.StatusPartialContent {
		c.Set(fiber.HeaderContentRange, cr)
	}
	up := newIdleReader(ctx, resp.Body, cancel, h.d.UpstreamIdle, func(n int64) {
		h.log.Warn("vod upstream idle: nothing received, ending the response", "stream_id", d.Lease.StreamID,
			"lease_id", d.Lease.IDString(), "idle", h.d.UpstreamIdle.String(), "bytes", n)
	})
	h.startBody(c, o, d, up, closeBoth{resp.Body, cancel}, func() { cancel(errStreamEnded) }, resp.ContentLength, container)
	return true
}

// errUpstreamIdle ends a proxied body whose upstream sent nothing for UpstreamIdle.
var errUpstreamIdle = errors.New("stream: upstream idle")

// idleReader reads a proxied upstream body and cancels its request (cause errUpstreamIdle)
// when one read has waited for the upstream for idle (at most 1.5 × idle): only the time spent
// waiting counts, not the time fasthttp spends writing to a slow client between reads. A read
// costs two atomic adds (no clock: reading it costs more than the rest here); a timer looks
// every idle/2 whether the same read is still pending.
type idleReader struct {
	ctx    context.Context
	r      io.Reader
	cancel context.CancelCauseFunc
	every  time.Duration // idle/2
	seq    atomic.Uint64 // odd while a read is pending; each read adds 2
	timer  *time.Timer
	n      int64         // bytes read
	log    func(n int64) // says why the body ended

	seen    uint64 // the timer's own: the pending read's seq at the last looks
	strikes int    // how many looks in a row saw it
}

func newIdleReader(ctx context.Context, r io.Reader, cancel context.CancelCauseFunc, idle time.Duration, log func(int64)) *idleReader {
	ir := &idleReader{ctx: ctx, r: r, cancel: cancel, every: max(idle/2, time.Millisecond), log: log}
	ir.timer = time.AfterFunc(ir.every, ir.check)
	return ir
}

// check ends the request when three looks in a row (two intervals, idle) saw the same read
// pending. It stops once the request has ended (the body's Close cancels it).
func (ir *idleReader) check() {
	if ir.ctx.Err() != nil {
		return
	}
	switch s := ir.seq.Load(); {
	case s%2 == 0:
		ir.strikes = 0
	case s == ir.seen:
		ir.strikes++
	default:
		ir.seen, ir.strikes = s, 1
	}
	if ir.strikes >= 3 {
		ir.cancel(errUpstreamIdle)
		return
	}
	ir.timer.Reset(ir.every)
}

func (ir *idleReader) Read(p []byte) (int, error) {
	ir.seq.Add(1)
	n, err := ir.r.Read(p)
	ir.seq.Add(1)
	ir.n += int64(n)
	if err != nil && errors.Is(context.Cause(ir.ctx), errUpstreamIdle) {
		ir.log(ir.n)
		return n, errUpstreamIdle
	}
	return n, err
}

type closeBoth struct {
	c      io.Closer
	cancel context.CancelCauseFunc
}

func (cb closeBoth) Close() error {
	err := cb.c.Close()
	cb.cancel(nil)
	return err
}

// startBody hands fasthttp a body of length bytes (-1: unknown, sent chunked), and with it the
// open's lease. fasthttp reads the body after the handler returns and always closes it, which
// ends the lease. abort (nil for a file) cancels a proxied body's upstream request: a kill or
// shutdown must also end a read blocked on a silent upstream, not only a blocked write.
func (h *Handler) startBody(c *fiber.Ctx, o *edge.Open, d access.Decision, r io.Reader, closer io.Closer, abort func(), length int64, container string) {
	if length >= 0 {
		// fasthttp copies the stream to its end: it must hold exactly length bytes.
		r = io.LimitReader(r, length)
	}
	b := &leasedBody{
		h: h, r: r, closer: closer, abort: abort, lease: d.Lease, conn: c.Context().Conn(), start: time.Now(),
		info: openInfo{lineID: d.Line.ID, streamID: d.Lease.StreamID, container: container, clientIP: d.Lease.ClientIP.String()},
	}
	b.gauge, b.bytes = &h.metrics.vod, h.metrics.bytesVOD
	if container == conns.ContainerTimeshift {
		b.gauge, b.bytes = &h.metrics.timeshift, h.metrics.bytesShift
	}
	b.gauge.Add(1)
	// A kill or shutdown ends the body even while a write is blocked on a silent client.
	b.quit = make(chan struct{})
	go func() {
		select {
		case <-d.Lease.Done():
		case <-h.base.Done():
		case <-b.quit:
			return
		}
		// Close (which releases the lease, closing Done) may be running: once it has, the
		// connection belongs to the next request and must not be touched.
		b.mu.Lock()
		defer b.mu.Unlock()
		if !b.closed {
			b.stopped.Store(true)
			unblock(b.conn)
			if b.abort != nil {
				b.abort() // a read blocked on a silent upstream returns now
			}
		}
	}()
	o.Handoff()
	c.Context().SetBodyStream(b, int(length))
}

// leasedBody is a response body that counts what it delivers, stops when its lease ends or the
// server shuts down, and releases the lease when fasthttp closes it.
type leasedBody struct {
	h       *Handler
	r       io.Reader
	closer  io.Closer
	lease   *conns.Lease
	conn    net.Conn
	info    openInfo
	start   time.Time
	gauge   *atomic.Int64
	bytes   prometheus.Counter
	n       int64
	stopped atomic.Bool
	abort   func() // cancels the upstream request of a proxied body (nil for a file)
	ended   error  // why a read ended the body, for the close log
	quit    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	closed  bool
}

var errStreamEnded = errors.New("stream: ended by kill or shutdown")

// Read reads the next part of the body. The write deadline is pushed before the stop check, so
// a kill's unblock (which follows its stop flag) always wins over the push.
func (b *leasedBody) Read(p []byte) (int, error) {
	b.h.extendDeadline(b.conn)
	if b.stopped.Load() {
		return 0, errStreamEnded
	}
	n, err := b.r.Read(p)
	b.count(int64(n))
	if errors.Is(err, errUpstreamIdle) {
		b.ended = err // fasthttp reads and closes on one goroutine
	}
	return n, err
}

// count records n bytes delivered: the body's own count, the lease's and the metric's.
func (b *leasedBody) count(n int64) {
	if n > 0 {
		b.n += n
		b.lease.AddBytes(n)
		b.bytes.Add(float64(n))
	}
}

// WriteTo is how fasthttp copies the body (io.CopyBuffer prefers it). A local file goes by
// sendFile. Anything else is read up to copyChunk at a time, and each read goes to w, the
// connection's writer, whole. Without it fasthttp's writer would take the body through its
// own 4 KB buffer: one write syscall and one deadline push per 4 KB of a movie.
func (b *leasedBody) WriteTo(w io.Writer) (int64, error) {
	if lr, ok := b.r.(*io.LimitedReader); ok {
		if _, isFile := lr.R.(*os.File); isFile {
			if bw, ok := w.(*bufio.Writer); ok {
				return b.sendFile(bw, lr)
			}
		}
	}
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	var written int64
	for {
		n, err := b.Read(*bufp)
		if n > 0 {
			m, werr := w.Write((*bufp)[:n])
			written += int64(m)
			if werr != nil {
				return written, werr
			}
		}
		if err == io.EOF {
			return written, nil
		}
		if err != nil {
			return written, err
		}
	}
}

// sendFile is WriteTo for a local file (lr: the file, limited to the response's length): the
// bytes go from the file to the socket in the kernel (sendfile(2), through
// bufio.Writer.ReadFrom and the connection's ReadFrom), copyChunk at a time, so that between
// two parts the write deadline is pushed and a kill or shutdown is seen, as Read does.
func (b *leasedBody) sendFile(w *bufio.Writer, lr *io.LimitedReader) (int64, error) {
	// bufio.Writer.ReadFrom hands the copy to the connection only while its buffer is empty:
	// the headers (and anything before them) go first.
	if err := w.Flush(); err != nil {
		return 0, err
	}
	part := &io.LimitedReader{R: lr.R}
	var written int64
	for lr.N > 0 {
		b.h.extendDeadline(b.conn)
		if b.stopped.Load() {
			return written, errStreamEnded
		}
		part.N = min(lr.N, copyChunk)
		n, err := w.ReadFrom(part)
		lr.N -= n
		written += n
		b.count(n)
		if err != nil {
			return written, err
		}
		if n == 0 { // the file ended before the length it had when opened: as a read at EOF
			return written, nil
		}
	}
	return written, nil
}

// copyChunk is the size of WriteTo's reads and writes; copyBufs pools their buffers.
const copyChunk = 64 << 10

var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyChunk); return &b }}

// Close is called by fasthttp once the body was sent (or the send failed).
func (b *leasedBody) Close() error {
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.quit)
		err := b.closer.Close()
		if b.conn != nil && !b.stopped.Load() {
			_ = b.conn.SetWriteDeadline(time.Time{}) // the connection may serve the next request
		}
		b.h.opens.Release(b.lease)
		b.gauge.Add(-1)
		if b.ended != nil {
			err = b.ended
		}
		b.h.logClosed(b.info, b.lease, b.n, err, b.start)
	})
	return nil
}

// head answers HEAD on a route: 200 with an empty body; for a movie or an episode the caller may
// open, also its type, Accept-Ranges and (for a local file) its length. The check is a probe:
// steps 1 to 8 and the bouquet, without taking a slot.
func (h *Handler) head(c *fiber.Ctx) error {
	c.Status(fiber.StatusOK)
	var kind token.Kind
	switch r := c.Route(); {
	case r != nil && strings.HasPrefix(r.Path, "/movie/"):
		kind = token.KindVOD
	case r != nil && strings.HasPrefix(r.Path, "/series/"):
		kind = token.KindSeries
	default:
		return nil
	}
	r, ok := h.parseVOD(c, kind)
	if !ok {
		return nil
	}
	st, ok := h.vodStream(r.id, kind)
	if !ok {
		return nil
	}
	req := r.client.request(r.who)
	req.Probe, req.StreamID = true, r.id
	if d, err := h.d.Access.Check(c.UserContext(), req); err != nil || d.Code != access.OK {
		return nil
	}
	ext := r.ext
	if st.ContainerExtension != "" {
		ext = st.ContainerExtension
	}
	c.Set(fiber.HeaderContentType, contentType(ext))
	if p, ok := source.Local(st.Sources[0].URL); ok {
		if fi, err := h.d.Files.Stat(p); err == nil {
			c.Set(fiber.HeaderAcceptRanges, "bytes")
			c.Response().Header.SetContentLength(int(fi.Size()))
		}
	}
	return nil
}

// vodHTTPOptions are the upstream client settings of the VOD and catch-up proxy: media is
// compressed already (and a gzip-encoded answer would break Range), and a transfer keeps its
// own TCP connection (HTTP/1.1).
func vodHTTPOptions(privateRedirects bool) relay.HTTPOptions {
	return relay.HTTPOptions{
		ConnectTimeout: 10 * time.Second, HeaderTimeout: 15 * time.Second, MaxIdleConnsPerHost: 16, DisableCompression: true,
		PrivateRedirects: privateRedirects,
	}
}
