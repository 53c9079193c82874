// Package edge is the kit every surface is built with: panic recovery, request ids, the
// redacting access log and request metrics in one middleware (Observe); the client address
// behind trusted proxies; per route, the surface's name and a deadline (Route); each surface's error format (WriteError:
// empty bodies for players, the portal's {"js": …} envelope, RFC 9457 problems for the REST
// API); Opens, which records every stream open's outcome and releases its lease exactly
// once; and gzip for large answers (AcceptsGzip, GzipWriter, GzipCache: compressed answers kept
// with their catalog snapshot).
package edge

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/stripe"
)

// HeaderRequestID carries the request id in and out.
const HeaderRequestID = "X-Request-Id"

// headerRequestID is HeaderRequestID as bytes, in canonical form.
var headerRequestID = []byte(HeaderRequestID)

// ErrPanic is what a request whose handler panicked fails with (Observe recovers the panic and
// logs it with its stack, once): a 500 without detail.
var ErrPanic = fiber.NewError(fiber.StatusInternalServerError, "internal error")

// Observe is the bookkeeping of every request in one middleware, which must be the first:
// before the handler, its request id; after it, its metrics and its access-log line; around
// it, panic recovery, so a handler that panics fails the request with ErrPanic (the app's
// ErrorHandler answers 500) and the request is still counted and logged, with status 500.
// One middleware rather than two: each middleware mounted with Use is a route of its own that
// Fiber finds again on every request (a map lookup and a walk of the routes). One clock read
// serves the metrics and the line: the start is fasthttp's own reading of the request's
// arrival (RequestCtx.Time), the end is read once (a context without a start, built outside a
// server, logs dur_ms 0). m nil records no metrics.
func Observe(log *slog.Logger, m *Metrics, opts AccessLogOptions) fiber.Handler {
	ids := newRequestIDs()
	return func(c *fiber.Ctx) error {
		ids.assign(c)
		err := nextRecovering(c, log)
		status := c.Response().StatusCode()
		if fe, ok := err.(*fiber.Error); ok {
			status = fe.Code
		} else if err != nil {
			status = fiber.StatusInternalServerError
		}
		end := time.Now()
		var dur time.Duration
		if start := c.Context().Time(); !start.IsZero() {
			dur = end.Sub(start)
		}
		if m != nil {
			m.record(c, status, dur)
		}
		accessLine(c, log, &opts, status, end, dur)
		return err
	}
}

// nextRecovering runs the rest of the request's handlers, turning a panic into ErrPanic after
// logging it with its stack.
func nextRecovering(c *fiber.Ctx, log *slog.Logger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			log.ErrorContext(c.UserContext(), "panic in handler", "route", logx.RedactPath(c.Path()),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = ErrPanic
		}
	}()
	return c.Next()
}

// RequestStart is when fasthttp began the request (it reads the clock for that anyway); a
// request context built outside a server (RequestCtx.Init in benchmarks) has none, and then
// it is now.
func RequestStart(c *fiber.Ctx) time.Time {
	if t := c.Context().Time(); !t.IsZero() {
		return t
	}
	return time.Now()
}

// requestIDs gives every request an id (the caller's X-Request-Id when it is sane), echoes it
// in the response and puts it into the request's context for log lines. A fresh id is 24 hex
// digits: a random prefix drawn once per handler, then a counter — unique per process and
// across restarts without a random read per request (an id correlates log lines; it
// proves nothing, so it need not be unpredictable).
type requestIDs struct {
	prefix [12]byte
	seq    atomic.Uint64
}

func newRequestIDs() *requestIDs {
	ids := &requestIDs{}
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	hex.Encode(ids.prefix[:], raw[:])
	return ids
}

func (ids *requestIDs) assign(c *fiber.Ctx) {
	var fresh [24]byte
	in := c.Request().Header.Peek(HeaderRequestID)
	if !saneID(in) {
		newID(&fresh, ids.prefix, ids.seq.Add(1))
		in = fresh[:]
	}
	// The context keeps its own copy of the id; the header gets another.
	rc := new(requestContext)
	id := rc.Init(c.UserContext(), in)
	c.Response().Header.SetCanonical(headerRequestID, utils.UnsafeBytes(id)) // copies
	c.SetUserContext(rc)
}

func saneID(s []byte) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.') {
			return false
		}
	}
	return true
}

// newID writes prefix followed by n in 12 hex digits (it wraps after 2⁴⁸ requests).
func newID(b *[24]byte, prefix [12]byte, n uint64) {
	copy(b[:], prefix[:])
	for i := 23; i >= 12; i-- {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
}

const hexDigits = "0123456789abcdef"

// AccessLogOptions tune the access log.
type AccessLogOptions struct {
	Proxies []netip.Prefix
	// Quiet reports routes logged at debug level only (HLS segments, health probes).
	Quiet func(path string) bool
}

// accessLine writes the request's access-log line: method, path, status, dur_ms, client_ip,
// user_agent and query, then the request id. The path and query are redacted
// (logx.AppendRedactedPath, AppendRedactedQuery) and clipped (maxLoggedPath, maxLoggedQuery);
// headers and cookies are never logged. With a logger from logx.New the line is appended
// straight into a pooled buffer (logx.NewLine), the same bytes slog would write at a fraction
// of the cost; any other logger gets it through slog.
func accessLine(c *fiber.Ctx, log *slog.Logger, opts *AccessLogOptions, status int, now time.Time, dur time.Duration) {
	path := c.Path()
	level := slog.LevelInfo
	if opts.Quiet != nil && opts.Quiet(path) {
		level = slog.LevelDebug
	}
	ctx := c.UserContext()
	// The query is read in place: it is copied into the line before the handler returns.
	query := utils.UnsafeString(c.Request().URI().QueryString())
	if l := logx.NewLine(ctx, log, level, now, "request"); l != nil {
		l.String("method", c.Method())
		l.Bytes("path", clippedBytes(logx.AppendRedactedPath(l.Scratch(), path), maxLoggedPath))
		l.Int("status", int64(status))
		l.Int("dur_ms", dur.Milliseconds())
		l.Addr("client_ip", ClientIP(c, opts.Proxies))
		// Header.UserAgent is fasthttp's own field (Peek would look the name up); read in place.
		l.String("user_agent", clipped(utils.UnsafeString(c.Request().Header.UserAgent()), maxLoggedUserAgent))
		if query != "" {
			l.Bytes("query", clippedBytes(logx.AppendRedactedQuery(l.Scratch(), query), maxLoggedQuery))
		}
		l.Write(ctx)
		return
	}
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", c.Method()),
		slog.String("path", clipped(logx.RedactPath(path), maxLoggedPath)),
		slog.Int("status", status),
		slog.Int64("dur_ms", dur.Milliseconds()),
		slog.String("client_ip", ClientIP(c, opts.Proxies).String()),
		slog.String("user_agent", clipped(c.Get(fiber.HeaderUserAgent), maxLoggedUserAgent)),
	}
	if query != "" {
		attrs = append(attrs, slog.String("query", clipped(logx.RedactQuery(query), maxLoggedQuery)))
	}
	log.LogAttrs(ctx, level, "request", attrs...)
}

// How much of a request's path, query and User-Agent its access line keeps: enough for any
// request a player or the API makes, while a request line near fasthttp's 4 KB limit (garbage
// or a probe) cannot make every line it sends a 4 KB line.
const (
	maxLoggedPath      = 1024
	maxLoggedQuery     = 1024
	maxLoggedUserAgent = 256
)

// clipped cuts a logged value at n bytes (on a UTF-8 boundary) and marks the cut.
func clipped(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return input.Truncate(s, n) + "…"
}

// clippedBytes is clipped for a value in a buffer: cut in place, "…" appended.
func clippedBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return append(b[:len(input.Truncate(utils.UnsafeString(b), n))], "…"...)
}

// Metrics counts requests and observes their latency by route pattern (which never holds a
// credential) and status.
type Metrics struct {
	// Striped (internal/stripe): every request updates both, from every core.
	requests *stripe.CounterVec
	latency  *stripe.HistogramVec

	// series holds the children already resolved, so a request costs one map lookup rather
	// than WithLabelValues' label hashing, strconv.Itoa of the status and the vectors' locks.
	// It is copied on write: only a label set not seen before (a few dozen route, method and
	// status combinations in all) takes mu and copies it.
	series atomic.Pointer[map[seriesKey]series]
	mu     sync.Mutex
}

// seriesKey is one label set of the request counter: the route by its identity (nil for a
// request no route matched), so finding a series hashes no strings but the method.
type seriesKey struct {
	route  *fiber.Route
	method string
	status int
}

// series is a label set's resolved children.
type series struct {
	requests *stripe.Counter
	latency  *stripe.Histogram
}

// maxSeries bounds the resolved label sets: the route is a pattern and the method and status
// come from fixed sets, so this is never reached; if it were, the rest resolve per request.
const maxSeries = 4096

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: stripe.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: stripe.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xtreamd_http_request_duration_seconds", Help: "Time to answer an HTTP request (whole stream for streams), by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10, 60, 600},
		}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// record counts the answered request and observes its latency.
func (m *Metrics) record(c *fiber.Ctx, status int, dur time.Duration) {
	// Middleware registered with Use has the pattern "/": a request that matched no real
	// route ends there.
	r := c.Route()
	if r != nil && r.Path == "/" && c.Path() != "/" {
		r = nil
	}
	ser := m.seriesOf(seriesKey{r, c.Method(), status})
	ser.requests.Inc()
	ser.latency.ObserveDuration(dur)
}

// seriesOf returns the children of k, resolving and keeping them the first time.
func (m *Metrics) seriesOf(k seriesKey) series {
	if p := m.series.Load(); p != nil {
		if ser, ok := (*p)[k]; ok {
			return ser
		}
	}
	// Fiber's method is a string the app keeps, but clone it: a key must never point into a
	// request's buffer.
	k.method = strings.Clone(k.method)
	route := "unmatched"
	if k.route != nil {
		route = k.route.Path
	}
	ser := series{
		requests: m.requests.WithLabelValues(route, k.method, strconv.Itoa(k.status)),
		latency:  m.latency.WithLabelValues(route),
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := m.series.Load()
	if old != nil && len(*old) >= maxSeries {
		return ser
	}
	next := map[seriesKey]series{k: ser}
	if old != nil {
		maps.Copy(next, *old)
	}
	m.series.Store(&next)
	return ser
}

// ClientIP is the address of the client: the TCP peer, unless the peer is a trusted proxy;
// then the right-most address of X-Forwarded-For that is not itself a trusted proxy, else
// X-Real-IP. IPv4-mapped IPv6 addresses are unmapped.
func ClientIP(c *fiber.Ctx, proxies []netip.Prefix) netip.Addr {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	peer = peer.Unmap()
	if len(proxies) == 0 || !contains(proxies, peer) {
		return peer
	}
	if xff := c.Get(fiber.HeaderXForwardedFor); xff != "" {
		parts := strings.Split(xff, ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, ok := ForwardedAddr(parts[i])
			if !ok {
				break // a garbled hop: trust nothing further left
			}
			if !contains(proxies, a) {
				return a
			}
		}
	}
	if a, ok := ForwardedAddr(c.Get("X-Real-Ip")); ok {
		return a
	}
	return peer
}

// ForwardedAddr parses one X-Forwarded-For hop or an X-Real-IP value (spaces around it
// ignored), IPv4-mapped IPv6 as IPv4. An address with a zone ("fe80::1%eth0") is garbled: a
// zone names an interface of the machine that wrote it, no proxy forwards one, and
// PostgreSQL's inet refuses it, so a client address carrying one would be checked but never
// recorded (the refused-requests log, the connections).
func ForwardedAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
