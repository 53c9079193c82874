package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/relay"
	"github.com/xtreamd/xtreamd/internal/token"
)

// live serves /live/{user}/{pass}/{id}[.ts|.m3u8].
func (h *Handler) live(c *fiber.Ctx) error {
	id, format, ok := parseLiveFile(c.Params("file"))
	if !ok {
		return notFound(c)
	}
	w, ok := parseWho(c)
	if !ok {
		return notFound(c)
	}
	return h.openLive(c, w, id, format)
}

// short serves the short form /{user}/{pass}/{id}[.ts|.m3u8]. It is the last route, so it sees
// every unmatched three-segment path: a non-numeric id is a plain 404.
func (h *Handler) short(c *fiber.Ctx) error { return h.live(c) }

// openLive checks a live open and serves it as TS or HLS.
func (h *Handler) openLive(c *fiber.Ctx, w who, id int64, format string) error {
	st, ok := h.d.Catalog.Current().Stream(id)
	if !ok || !st.IsLive() || len(st.Sources) == 0 {
		return notFound(c)
	}
	cl := h.clientOf(c)
	req := w.request(cl, token.KindLive)
	req.StreamOpen, req.StreamID, req.Format = true, id, format
	if format == formatHLS {
		req.Container = conns.ContainerHLS
		d, ok := h.check(c, req)
		if !ok {
			h.metrics.opened(conns.ContainerHLS, c.Response().StatusCode())
			return nil
		}
		if st.DirectSource {
			return h.direct(c, nil, st)
		}
		if w.playToken != "" {
			// The play token is short-lived, but an HLS player polls its playlist URL for as long as
			// it plays: hand it a session playlist of its own (every poll is checked again).
			return h.masterPlaylist(c, d, st, cl)
		}
		return h.mediaPlaylist(c, d.Line.ID, st, d.Lease.ID, cl)
	}
	req.Container = conns.ContainerTS
	d, ok := h.check(c, req)
	if !ok {
		h.metrics.opened(conns.ContainerTS, c.Response().StatusCode())
		return nil
	}
	return h.serveTS(c, d, st)
}

// direct answers a direct-source stream with a redirect to its first source; the relay is not
// involved, so no lease is held.
func (h *Handler) direct(c *fiber.Ctx, lease *conns.Lease, st *catalog.Stream) error {
	h.releaseLease(lease)
	c.Set(fiber.HeaderLocation, st.Sources[0].URL)
	return status(c, fiber.StatusFound)
}

func relaySources(st *catalog.Stream) []relay.Source {
	out := make([]relay.Source, len(st.Sources))
	for i, s := range st.Sources {
		out[i] = relay.Source{URL: s.URL, Kind: s.Kind}
	}
	return out
}

// serveTS subscribes to the relay and streams MPEG-TS until the client leaves, the lease ends
// or the server shuts down.
func (h *Handler) serveTS(c *fiber.Ctx, d access.Decision, st *catalog.Stream) error {
	lease := d.Lease
	if h.d.Redirect.Enabled() {
		return h.redirect(c, lease, "/live/"+strconv.FormatInt(st.ID, 10)+".ts", conns.ContainerTS)
	}
	if st.DirectSource {
		return h.direct(c, lease, st)
	}
	v, err := h.d.Relay.Subscribe(h.base, st.ID, relaySources(st))
	if err != nil {
		h.releaseLease(lease)
		h.metrics.opened(conns.ContainerTS, fiber.StatusServiceUnavailable)
		return status(c, fiber.StatusServiceUnavailable)
	}
	// Answer "stream down" before committing to a 200 (the example in package relay).
	ctx, cancel := context.WithTimeout(h.base, h.d.ReadyTimeout)
	stop := onClose(lease.Done(), cancel)
	err = v.WaitReady(ctx)
	stop()
	cancel()
	if err != nil {
		_ = v.Close()
		h.releaseLease(lease)
		code := fiber.StatusServiceUnavailable
		switch {
		case errors.Is(err, relay.ErrUpstreamDown):
			code = fiber.StatusBadGateway
		case isClosed(lease.Done()):
			code = fiber.StatusForbidden // killed or replaced while waiting
		}
		h.log.InfoContext(c.UserContext(), "live stream not ready", "stream_id", st.ID, "status", code, "err", err)
		h.metrics.opened(conns.ContainerTS, code)
		return status(c, code)
	}
	h.metrics.opened(conns.ContainerTS, fiber.StatusOK)
	info := openInfo{lineID: d.Line.ID, streamID: st.ID, container: conns.ContainerTS, clientIP: h.clientOf(c).ip.String()}
	// The stream is written on the hijacked connection: ring blocks go straight from the relay to
	// the socket, without fasthttp's body-stream pipe and chunked encoding (a copy and a goroutine
	// hand-off per write). The response is framed by closing the connection.
	c.Status(fiber.StatusOK) // for the access log and request metrics; nothing else is sent
	c.Context().HijackSetNoResponse(true)
	h.streams.Add(1)
	// Runs after this handler returned, in its own goroutine: nothing of c may be used there.
	c.Context().Hijack(func(conn net.Conn) { h.pumpTS(conn, v, lease, info) })
	return nil
}

// tsHeader is the response head of a live TS stream; the body runs until the connection closes.
var tsHeader = []byte("HTTP/1.1 200 OK\r\nContent-Type: video/mp2t\r\nCache-Control: no-store\r\n" +
	"Connection: close\r\nServer: xtreamd\r\n\r\n")

// openInfo is what a stream writer logs, copied out of the request.
type openInfo struct {
	lineID    int64
	streamID  int64
	container string
	clientIP  string
}

// pumpTS writes a live TS response on its hijacked connection. It owns the viewer and the lease:
// both are released when it returns, whatever ended it; fasthttp closes the connection then.
func (h *Handler) pumpTS(conn net.Conn, v *relay.Viewer, lease *conns.Lease, info openInfo) {
	defer h.streams.Done()
	start := time.Now()
	h.metrics.ts.Add(1)
	ctx, cancel := context.WithCancel(h.base)
	var (
		n   int64
		err error
	)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
			h.log.Error("panic in stream writer", "stream_id", info.streamID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
		cancel()
		_ = v.Close()
		h.releaseLease(lease)
		h.metrics.ts.Add(-1)
		h.logClosed(info, lease, n, err, start)
	}()
	stopWatch := onClose(lease.Done(), cancel)
	defer stopWatch()
	// A kill or shutdown must also end a write blocked on a client that stopped reading. Once
	// this function returns, fasthttp recycles conn: the unblocker must be finished by then.
	var mu sync.Mutex
	returned := false
	stopUnblock := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !returned {
			unblock(conn)
		}
	})
	defer func() {
		stopUnblock()
		mu.Lock()
		returned = true
		mu.Unlock()
	}()

	cw := &countWriter{w: conn}
	flush := func() error {
		cw.settle(lease, h.metrics.bytesTS.Add)
		h.extendDeadline(conn)
		return nil
	}
	h.extendDeadline(conn)
	if _, err = conn.Write(tsHeader); err == nil {
		n, err = v.WriteTo(ctx, cw, flush)
	}
	cw.settle(lease, h.metrics.bytesTS.Add)
}

func (h *Handler) logClosed(info openInfo, lease *conns.Lease, n int64, err error, start time.Time) {
	reason := lease.Reason()
	switch {
	case reason != "" && reason != conns.ReasonClosed:
	case errors.Is(err, context.Canceled) && h.base.Err() != nil:
		reason = conns.ReasonShutdown
	case errors.Is(err, relay.ErrViewerDropped):
		reason = "too_slow"
	default:
		reason = "client_gone"
	}
	h.log.Info("stream closed", "line_id", info.lineID, "stream_id", info.streamID, "lease_id", lease.IDString(),
		"container", info.container, "client_ip", info.clientIP, "bytes", n, "reason", reason,
		"dur_ms", time.Since(start).Milliseconds())
}

// extendDeadline gives the client StallTimeout to accept the next batch; a client that accepts
// nothing for that long is gone even if its TCP connection is not.
func (h *Handler) extendDeadline(conn net.Conn) {
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now().Add(h.d.StallTimeout))
	}
}

// countWriter counts bytes written; settle hands them to the lease and the metric once per
// batch rather than per write.
type countWriter struct {
	w       io.Writer
	pending int64
}

func (cw *countWriter) Write(p []byte) (int, error) {
	n, err := cw.w.Write(p)
	cw.pending += int64(n)
	return n, err
}

func (cw *countWriter) settle(lease *conns.Lease, add func(float64)) {
	if cw.pending > 0 {
		lease.AddBytes(cw.pending)
		add(float64(cw.pending))
		cw.pending = 0
	}
}

// onClose runs f when ch closes, until stop is called.
func onClose(ch <-chan struct{}, f func()) (stop func()) {
	quit := make(chan struct{})
	go func() {
		select {
		case <-ch:
			f()
		case <-quit:
		}
	}()
	return func() { close(quit) }
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
