// Package stream is the streaming surface: the URLs players open to watch (spec §2). Live
// channels as MPEG-TS (/live/{user}/{pass}/{id}.ts, the short form /{user}/{pass}/{id}) and HLS
// (.m3u8 with signed /hls/{token}/{seq}.ts segments), movies and episodes (/movie, /series, with
// Range), catch-up (/timeshift, /streaming/timeshift.php) and play-token links (?play_token=,
// /play/{token}).
//
// Each route family has one parse step (request.go) that copies what the handler needs into an
// owned struct. Every open runs the access check (access.Checker) first, inside edge.Opens,
// which records its outcome once and releases its lease on every path unless a writer took it
// over; a denial is an empty body with the status of statusFor.
//
// Live delivery comes from the relay; a TS viewer holds a connection lease for as long as its
// response runs. Its writer runs on the hijacked connection (the body is framed by closing it)
// and ends on the first write error (the client left), when the lease is killed or replaced,
// when the client accepts nothing for the relay's WriteStall, or at shutdown; movies, episodes and
// catch-up use a fasthttp body stream with a Content-Length.
package stream

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
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

// Deps is what the surface uses. Access, Catalog and Relay are required.
type Deps struct {
	Access  *access.Checker
	Catalog *catalog.Catalog
	Relay   *relay.Manager
	// Tokens signs HLS segment tokens (and verifies /play links). nil: a random per-process
	// keyring, so segment links work on this instance only (production always configures one).
	Tokens *token.Keyring
	Log    *slog.Logger
	// Registerer receives the stream metrics (never the global registry).
	Registerer prometheus.Registerer
	// Base ends when the server shuts down: stream writers outlive their handler and stop on it.
	Base context.Context
	// Proxies are the trusted reverse proxies (client IP from X-Forwarded-For).
	Proxies []netip.Prefix
	// Location is the panel time zone, in which timeshift start times are read (default UTC).
	Location *time.Location
	// Redirect, when enabled, answers stream opens with a 302 to a signed edge URL.
	Redirect Redirect
	// HTTPClient fetches http(s) VOD and catch-up upstreams (default: relay.NewHTTPClient, no
	// compression, HTTP/1.1, PrivateRedirects).
	HTTPClient *http.Client
	Now        func() time.Time

	// PrivateRedirects lets the default HTTPClient follow redirects to loopback, private and
	// link-local addresses (relay.HTTPOptions.PrivateRedirects).
	PrivateRedirects bool
	// Files opens the local files of movies, episodes and catch-up recordings: only from the
	// media directories, never from the data directory. nil serves no local file.
	Files *source.Files
	// UpstreamIdle ends a proxied movie, episode or catch-up body whose upstream sent nothing
	// for this long while the body waited for it (default 30 s).
	UpstreamIdle time.Duration

	// ReadyTimeout bounds the wait for a live stream's first keyframe or HLS segment (default 10 s).
	ReadyTimeout time.Duration
	// StallTimeout ends a movie, episode or catch-up response whose client accepted no data for
	// this long (default 30 s). Live TS writers end on the relay's WriteStall instead.
	StallTimeout time.Duration
	// SegmentTTL is the lifetime of the segment links in a playlist (default 2 min).
	SegmentTTL time.Duration
	// SessionTTL is the lifetime of the session playlist link handed to play-token HLS players
	// (default 12 h; every poll still runs the full check).
	SessionTTL time.Duration
}

// Handler serves the stream routes.
type Handler struct {
	d       Deps
	tokens  *token.Keyring
	log     *slog.Logger
	now     func() time.Time
	base    context.Context
	client  *http.Client
	metrics *metrics
	opens   *edge.Opens // every open's outcome and lease
	// streams counts live TS writers on hijacked connections, which the HTTP server's shutdown
	// does not wait for (Wait does).
	streams sync.WaitGroup
}

// Wait blocks until every live TS writer has ended (they end when Base does) or ctx ends.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New builds the surface and registers its metrics.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Base == nil {
		d.Base = context.Background()
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.ReadyTimeout <= 0 {
		d.ReadyTimeout = 10 * time.Second
	}
	if d.StallTimeout <= 0 {
		d.StallTimeout = 30 * time.Second
	}
	if d.SegmentTTL <= 0 {
		d.SegmentTTL = 2 * time.Minute
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = 12 * time.Hour
	}
	if d.HTTPClient == nil {
		d.HTTPClient = relay.NewHTTPClient(vodHTTPOptions(d.PrivateRedirects))
	}
	if d.UpstreamIdle <= 0 {
		d.UpstreamIdle = 30 * time.Second
	}
	h := &Handler{d: d, tokens: d.Tokens, log: d.Log, now: d.Now, base: d.Base, client: d.HTTPClient}
	if h.tokens == nil {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		h.tokens, _ = token.NewKeyring(secret, 1) // 32 bytes: cannot fail
		d.Log.Warn("no token secret: HLS segment links are signed with a per-process key")
	}
	h.metrics = newMetrics(d.Registerer, d.Relay)
	h.opens = edge.NewOpens(h.metrics.opens, d.Log)
	return h
}

// Routes mounts the stream routes. Mount them after every other surface: the short form
// /{user}/{pass}/{id} matches any three-segment path. Every method is routed: GET and POST open
// the stream; HEAD and anything else are answered 200 with an empty body (spec §2.1, §7 #17).
// The route deadline bounds the check and the answer; writers run on Base.
func (h *Handler) Routes(r fiber.Router) {
	mw := edge.Route(edge.SurfaceStream, edge.DefaultDeadline)
	r.All("/live/:user/:pass/:file", mw, h.gate(h.live))
	r.All("/movie/:user/:pass/:file", mw, h.gate(h.movie))
	r.All("/series/:user/:pass/:file", mw, h.gate(h.series))
	r.All("/timeshift/:user/:pass/:minutes/:start/:file", mw, h.gate(h.timeshift))
	r.All("/timeshifts/:user/:pass/:minutes/:id/:file", mw, h.gate(h.timeshifts))
	r.All("/streaming/timeshift.php", mw, h.gate(h.timeshiftPHP))
	r.All("/hls/:token/:file", mw, h.gate(h.hls))
	r.All("/play/:token", mw, h.gate(h.play))
	// XC 2.9's legacy live URLs, the credentials in the query as u=USER:p=PASS (spec §2.1).
	r.All("/:file.ch", mw, h.gate(h.legacy(formatTS)))
	r.All("/ch:file.m3u8", mw, h.gate(h.legacy(formatHLS)))
	r.All("/:user/:pass/:file", mw, h.gate(h.short))
}

// gate answers methods other than GET and POST without opening anything; HEAD on a movie or
// episode also reports its size when the caller may open it (see head). GET, POST and HEAD
// first pass the per-client stream-open rate limit (429, empty body), except /hls/ links:
// segments and session polls continue an open that passed it.
func (h *Handler) gate(next fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		method := c.Method()
		if method != fiber.MethodGet && method != fiber.MethodPost && method != fiber.MethodHead {
			return edge.Empty(c, fiber.StatusOK)
		}
		if !strings.HasPrefix(c.Path(), "/hls/") && !h.d.Access.AllowStreamOpen(edge.ClientIP(c, h.d.Proxies)) {
			return edge.Empty(c, fiber.StatusTooManyRequests)
		}
		if method == fiber.MethodHead {
			return h.head(c)
		}
		return next(c)
	}
}

func notFound(c *fiber.Ctx) error { return edge.Empty(c, fiber.StatusNotFound) }

// unblock makes a write blocked on conn fail now (a killed stream whose client stopped reading).
func unblock(conn net.Conn) {
	if conn != nil {
		_ = conn.SetWriteDeadline(time.Now())
	}
}

// metrics are the surface's own series; the relay registers its own beside them.
type metrics struct {
	rm       *relay.Manager
	desc     *prometheus.Desc
	bytesOut *prometheus.CounterVec
	opens    *prometheus.CounterVec // outcomes, recorded by edge.Opens

	startTS prometheus.Histogram // a live TS viewer's wait from asking to the start of its response

	ts, vod, timeshift                      atomic.Int64 // open responses
	bytesTS, bytesHLS, bytesVOD, bytesShift prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, rm *relay.Manager) *metrics {
	m := &metrics{
		rm: rm,
		desc: prometheus.NewDesc("xtreamd_stream_viewers",
			"Open stream responses by container; hls counts the sessions the relay saw within its idle window.",
			[]string{"container"}, nil),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_stream_bytes_out_total", Help: "Bytes delivered to players by container.",
		}, []string{"container"}),
		opens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_stream_opens_total", Help: "Stream requests answered, by container and HTTP status.",
		}, []string{"container", "status"}),
		// The server's share of a player's time to first byte: the check, the lease, the relay's
		// join, up to the response head, which the first video batch follows at once.
		startTS: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "xtreamd_stream_ts_start_seconds",
			Help:    "Live TS opens: time from the connection's accept (or the request's start on a reused connection) to the response head written, just before the first video batch.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .075, .1, .25, .5, 1, 2.5, 10},
		}),
	}
	m.bytesTS = m.bytesOut.WithLabelValues(conns.ContainerTS)
	m.bytesHLS = m.bytesOut.WithLabelValues(conns.ContainerHLS)
	m.bytesVOD = m.bytesOut.WithLabelValues(conns.ContainerVOD)
	m.bytesShift = m.bytesOut.WithLabelValues(conns.ContainerTimeshift)
	if reg == nil {
		return m
	}
	reg.MustRegister(m, m.bytesOut, m.opens, m.startTS,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xtreamd_relay_upstream_connections",
			Help: "Upstream connections of the relay delivering data (the value of xtreamd_relay_upstream_open).",
		}, func() float64 { return float64(rm.Stats().UpstreamOpen) }))
	return m
}

// Describe implements prometheus.Collector for xtreamd_stream_viewers.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.desc }

// Collect implements prometheus.Collector for xtreamd_stream_viewers.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	g := func(v int64, container string) {
		ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, float64(v), container)
	}
	g(m.ts.Load(), conns.ContainerTS)
	g(m.rm.Stats().ViewersHLS, conns.ContainerHLS)
	g(m.vod.Load(), conns.ContainerVOD)
	g(m.timeshift.Load(), conns.ContainerTimeshift)
}
