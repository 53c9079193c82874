package stream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/relay"
)

// live serves /live/{user}/{pass}/{id}[.ts|.m3u8].
func (h *Handler) live(c *fiber.Ctx) error {
	r, ok := h.parseLive(c)
	if !ok {
		return notFound(c)
	}
	return h.openLive(c, r)
}

// short serves the short form /{user}/{pass}/{id}[.ts|.m3u8]. It is the last route, so it sees
// every unmatched three-segment path: a non-numeric id is a plain 404.
func (h *Handler) short(c *fiber.Ctx) error { return h.live(c) }

// legacy serves XC 2.9's legacy live URLs /{id}.ch (TS) and /ch{id}.m3u8 (HLS), whose
// credentials come in the query as u=USER:p=PASS.
func (h *Handler) legacy(format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		r, ok := h.parseLegacy(c, format)
		if !ok {
			return notFound(c)
		}
		return h.openLive(c, r)
	}
}

// openLive checks a live open and serves it as TS or HLS.
func (h *Handler) openLive(c *fiber.Ctx, r liveRequest) error {
	st, ok := h.d.Catalog.Current().Stream(r.id)
	if !ok || !st.IsLive() || len(st.Sources) == 0 {
		return notFound(c)
	}
	req := r.client.request(r.who)
	req.StreamOpen, req.StreamID, req.Format = true, r.id, r.format
	if r.format == formatHLS {
		req.Container = conns.ContainerHLS
		return h.open(c, req, func(_ *edge.Open, d access.Decision) error {
			if st.DirectSource {
				return h.direct(c, st)
			}
			if _, isToken := r.who.(access.PlayToken); isToken {
				// The play token is short-lived, but an HLS player polls its playlist URL for as long
				// as it plays: hand it a session playlist of its own (every poll is checked again).
				return h.masterPlaylist(c, d, st, r.client)
			}
			return h.mediaPlaylist(c, d.Line.ID, st, d.Lease.ID, r.client)
		})
	}
	req.Container = conns.ContainerTS
	return h.open(c, req, func(o *edge.Open, d access.Decision) error { return h.serveTS(c, o, d, st, r.client) })
}

// direct answers a direct-source stream with a redirect to its first source; the relay is not
// involved, so the open's lease (if any) ends with the answer.
func (h *Handler) direct(c *fiber.Ctx, st *catalog.Stream) error {
	c.Set(fiber.HeaderLocation, st.Sources[0].URL)
	return edge.Empty(c, fiber.StatusFound)
}

// AlwaysOn returns the channels of snap that the relay keeps pulling with no viewer: live,
// flagged always on, and relayed (a direct-source channel's viewers go to its source, so we
// never pull it).
func AlwaysOn(snap *catalog.Snapshot) map[int64][]relay.Source {
	keep := map[int64][]relay.Source{}
	for _, st := range snap.LiveStreams() {
		if st.AlwaysOn && relayed(st) {
			keep[st.ID] = relaySources(st)
		}
	}
	return keep
}

// Relayed returns the streams among ids that the relay pulls when watched (live, relayed, with
// a source in snap), with their sources: what Manager.Warm may start.
func Relayed(snap *catalog.Snapshot, ids []int64) map[int64][]relay.Source {
	out := map[int64][]relay.Source{}
	for _, id := range ids {
		if st, ok := snap.Stream(id); ok && st.IsLive() && relayed(st) {
			out[id] = relaySources(st)
		}
	}
	return out
}

// relayed reports whether the relay serves st's viewers (a direct-source channel's go to its
// source, so we never pull it).
func relayed(st *catalog.Stream) bool { return !st.DirectSource && len(st.Sources) > 0 }

func relaySources(st *catalog.Stream) []relay.Source {
	out := make([]relay.Source, len(st.Sources))
	for i, s := range st.Sources {
		out[i] = relay.Source{URL: s.URL, Kind: s.Kind}
	}
	return out
}

// serveTS subscribes to the relay and streams MPEG-TS until the client leaves, the lease ends
// or the server shuts down.
func (h *Handler) serveTS(c *fiber.Ctx, o *edge.Open, d access.Decision, st *catalog.Stream, cl client) error {
	lease := d.Lease
	if h.d.Redirect.Enabled() {
		return h.redirect(c, o, lease, "/live/"+strconv.FormatInt(st.ID, 10)+".ts")
	}
	if st.DirectSource {
		return h.direct(c, st)
	}
	v, err := h.d.Relay.Subscribe(h.base, st.ID, relaySources(st))
	if err != nil {
		return edge.Empty(c, fiber.StatusServiceUnavailable)
	}
	// Answer "stream down" before committing to a 200 (the example in package relay).
	ctx, cancel := context.WithTimeout(h.base, h.d.ReadyTimeout)
	stop := onClose(lease.Done(), cancel)
	err = v.WaitReady(ctx)
	stop()
	cancel()
	if err != nil {
		_ = v.Close()
		code := fiber.StatusServiceUnavailable
		switch {
		case errors.Is(err, relay.ErrUpstreamDown):
			code = fiber.StatusBadGateway
		case isClosed(lease.Done()):
			code = fiber.StatusForbidden // killed or replaced while waiting
		}
		h.log.InfoContext(c.UserContext(), "live stream not ready", "stream_id", st.ID, "status", code, "err", err)
		return edge.Empty(c, code)
	}
	info := openInfo{lineID: d.Line.ID, streamID: st.ID, container: conns.ContainerTS, clientIP: cl.ip.String(),
		asked: askedAt(c)}
	// The stream is written on the hijacked connection: ring blocks go straight from the relay to
	// the socket, without fasthttp's body-stream pipe and chunked encoding (a copy and a goroutine
	// hand-off per write). The response is framed by closing the connection.
	c.Status(fiber.StatusOK) // for the access log and request metrics; nothing else is sent
	c.Context().HijackSetNoResponse(true)
	h.streams.Add(1)
	o.Handoff() // pumpTS owns the lease now
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
	asked     time.Time // when the client asked: see askedAt
}

// askedAt is when the client asked for the stream, as the player sees it: the connection's
// accept for the first request on a connection (a player dials for its stream), else the
// request's start.
func askedAt(c *fiber.Ctx) time.Time {
	if c.Context().ConnRequestNum() <= 1 {
		return c.Context().ConnTime()
	}
	return c.Context().Time()
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
		h.opens.Release(lease)
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

	// The relay writes each batch to the socket itself (one writev over its ring blocks), so it gets
	// the TCP connection, not fasthttp's wrapper. A client that accepts nothing for the relay's
	// WriteStall is cut by the hub's watchdog: no write deadline is renewed per batch.
	raw := socket(conn)
	var settled int64
	settle := func() error {
		if d := v.Bytes() - settled; d > 0 {
			lease.AddBytes(d)
			h.metrics.bytesTS.Add(float64(d))
			settled += d
		}
		return nil
	}
	_, err = raw.Write(tsHeader)
	// The relay's first batch (the program tables and the keyframe) follows at once on this
	// goroutine; observed here, the figure does not depend on how fast the client reads.
	h.metrics.startTS.Observe(time.Since(info.asked).Seconds())
	if err == nil {
		n, err = v.WriteTo(ctx, raw, settle)
	}
	_ = settle()
}

// socket returns the network connection under fasthttp's hijacked wrapper (which only
// intercepts Read and Close) and the server's listener wrapper (edge.ReadTimeouts),
// so that a vectored write reaches the socket as one writev.
func socket(conn net.Conn) net.Conn {
	if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok {
		if c := u.UnsafeConn(); c != nil {
			conn = c
		}
	}
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok {
		return u.NetConn()
	}
	return conn
}

func (h *Handler) logClosed(info openInfo, lease *conns.Lease, n int64, err error, start time.Time) {
	reason := lease.Reason()
	switch {
	case reason != "" && reason != conns.ReasonClosed:
	case errors.Is(err, context.Canceled) && h.base.Err() != nil:
		reason = conns.ReasonShutdown
	case errors.Is(err, relay.ErrViewerDropped), errors.Is(err, relay.ErrViewerStalled):
		reason = "too_slow"
	case errors.Is(err, errUpstreamIdle):
		reason = "upstream_idle"
	case errors.Is(err, relay.ErrUpstreamDown):
		reason = "upstream_down" // every source failed for the relay's DownDrop
	default:
		reason = "client_gone"
	}
	h.log.Info("stream closed", "line_id", info.lineID, "stream_id", info.streamID, "lease_id", lease.IDString(),
		"container", info.container, "client_ip", info.clientIP, "bytes", n, "reason", reason,
		"dur_ms", time.Since(start).Milliseconds())
}

// extendDeadline gives the client StallTimeout to accept the next read's bytes (movies and
// catch-up; live TS writers are watched by the relay instead).
func (h *Handler) extendDeadline(conn net.Conn) {
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now().Add(h.d.StallTimeout))
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
