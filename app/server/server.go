// Package server builds xtreamd's HTTP server: the Fiber app with its middleware order, the
// surfaces mounted on it, health and metrics endpoints, and the start/shutdown sequence.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/app/admin"
	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/app/portal"
	"github.com/xtreamd/xtreamd/app/stream"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
	"github.com/xtreamd/xtreamd/internal/clock"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/panel"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Deps is what the server is built from, by cmd/xtreamd (or a test): configuration, an open
// store and a logger. The server builds the domain (checker, leases, GeoIP ...) itself, so
// tests get exactly the production wiring.
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Registry *prometheus.Registry // a fresh registry per server: tests build many
	// Now is the clock of the player surfaces and the programme guide ("on air now",
	// server_info.time_now); nil means CheckClock. Tests pass a fixed clock for golden answers.
	Now func() time.Time
	// CheckClock is the clock of the security check and its caches (expiry, bans, TTLs, rate
	// limits, floods); nil means a clock.Coarse: within a millisecond of time.Now and a
	// fiftieth of its cost, which a login pays a dozen times.
	CheckClock func() time.Time
	// HashVerify is the password verification that runs in a hashing slot; nil is argon2id
	// (credential.Verify). Tests hold the slots with it for as long as they need.
	HashVerify func(encodedHash, password string) (bool, error)
	// LogSink is the asynchronous writer under Log, if any (cmd/xtreamd serve): its dropped
	// lines are exported as xtreamd_log_lines_dropped_total, and Serve flushes it at stop.
	LogSink *logx.Writer
}

// Server is one xtreamd process's HTTP side and the domain behind it.
type Server struct {
	deps    Deps
	dom     *domain
	app     *fiber.App
	metrics *fiber.App // only with a separate --metrics-listen

	admin    *admin.API      // /api/v1 and api.php
	redirect stream.Redirect // redirect mode of the stream surface (zero: off)
	streams  *stream.Handler // the stream surface: shutdown waits for its live writers
	portal   *portal.Handler // the MAG portal
	device   *device.Handler // second-screen activation and partner profiles

	// streamCtx ends when shutdown starts, so long-running stream writers (which outlive
	// their handler) stop instead of holding the shutdown for its whole timeout.
	streamCtx     context.Context
	cancelStreams context.CancelFunc

	connClock func() time.Time // the read deadlines' clock (edge.ReadTimeouts)
}

// New builds the domain, loads what the first request needs (security lists ...) and mounts
// every route. Nothing listens until Serve.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	// One coarse clock for the connections' read deadlines and, unless a test fixes it, the
	// check: a test's fixed CheckClock must not stop the deadlines from advancing.
	coarse := clock.New()
	if d.CheckClock == nil {
		d.CheckClock = coarse.Now
	}
	if d.Now == nil {
		d.Now = d.CheckClock
	}
	s := &Server{deps: d, connClock: coarse.Now}
	s.streamCtx, s.cancelStreams = context.WithCancel(context.Background())
	d.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newPoolCollector(d.Store),
	)
	if d.LogSink != nil {
		d.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xtreamd_log_lines_dropped_total",
			Help: "Log lines (access log included) dropped because the log output could not keep up.",
		}, func() float64 { return float64(d.LogSink.Dropped()) }))
	}
	dom, err := buildDomain(ctx, d)
	if err != nil {
		s.cancelStreams()
		return nil, err
	}
	s.dom = dom
	dom.guideDocs = newGuideDocuments(d, dom.guide, s.streamCtx)
	if s.redirect, err = streamRedirect(d.Config); err != nil {
		s.cancelStreams()
		return nil, err
	}
	if s.portal, err = newPortal(d, dom); err != nil {
		s.cancelStreams()
		return nil, err
	}
	if s.device, err = newDevice(d, dom); err != nil {
		s.cancelStreams()
		return nil, err
	}
	s.admin, err = admin.New(admin.Deps{Accounts: dom.accounts, Sessions: dom.sessions, Conns: dom.conns, Catalog: dom.catalog,
		Access: dom.access, Store: d.Store, Config: d.Config, Log: d.Log,
		Editor: editor.New(d.Store), EPG: epg.NewSources(d.Store), Security: panel.NewSecurity(d.Store, d.Now),
		Settings: panel.NewConfig(d.Store), Overview: panel.NewOverview(d.Store), Imports: dom.imports, Partners: dom.partners,
		Activation: dom.activation})
	if err != nil {
		s.cancelStreams()
		return nil, err
	}
	s.app = s.newApp()
	if d.Config.MetricsListen != "" {
		s.metrics = fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
		s.metrics.Get("/metrics", s.metricsHandler())
	}
	return s, nil
}

// App returns the Fiber app (tests drive it with app.Test).
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) newApp() *fiber.App {
	d := s.deps
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		// Dual stack: Fiber's default is tcp4 only.
		Network: fiber.NetworkTCP,
		// No ReadTimeout or IdleTimeout here: Serve's listener times the reads itself
		// (edge.ReadTimeouts: readTimeout for a slow request sender and for an idle
		// keep-alive connection), from a coarse clock instead of fasthttp's two time.Now per
		// request. There is deliberately no WriteTimeout, which would cut every long stream.
		BodyLimit:    1 << 20,
		ErrorHandler: s.errorHandler,
		AppName:      "xtreamd",
		// Values read from requests are copied explicitly where kept (parse functions).
		Immutable: false,
	})
	// What the HTTP parser refuses never reaches a route, the access log or the HTTP metrics:
	// this counter is where an operator sees broken clients and smuggling attempts.
	refusals := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xtreamd_http_parse_refusals_total",
		Help: "Requests the HTTP parser refused before any route, by the status answered (400 malformed, 408, 413, 431).",
	}, []string{"status"})
	d.Registry.MustRegister(refusals)
	refuse := app.Server().ErrorHandler // Fiber's answer to what the HTTP parser refused
	app.Server().ErrorHandler = func(fctx *fasthttp.RequestCtx, err error) {
		status, answer := parseRefusal(err)
		refusals.WithLabelValues(strconv.Itoa(status)).Inc()
		refuse(fctx, answer)
	}
	// And no error of the parser's quotes the request at all (Fiber discards fasthttp's own
	// log; this keeps it so should that change).
	app.Server().SecureErrorLogMessage = true
	quiet := func(path string) bool {
		// HLS segments come every few seconds per viewer: debug level only.
		return path == "/healthz" || path == "/readyz" || path == "/metrics" || strings.HasPrefix(path, "/hls/")
	}
	app.Use(edge.Observe(d.Log, edge.NewMetrics(d.Registry), edge.AccessLogOptions{Proxies: d.Config.TrustedProxies, Quiet: quiet}))

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", s.readyz)
	if d.Config.MetricsListen == "" {
		app.Get("/metrics", s.metricsHandler())
	}
	s.mountSurfaces(app)
	return app
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
}

// readyz answers 200 when the database answers and every migration is applied.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		s.deps.Log.WarnContext(ctx, "readiness: database unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unreachable")
	}
	ok, err := s.deps.Store.SchemaCurrent(ctx)
	if err != nil || !ok {
		return c.Status(fiber.StatusServiceUnavailable).SendString("migrations pending")
	}
	return c.SendString("ok")
}

// errorHandler answers errors a handler returned, in the format of the route's surface
// (edge.WriteError: an empty body for players and streams, the portal envelope, a problem for
// the REST API, plain text where no surface answered): fiber's own (404, 405, 413 ...) with
// their status, anything else as a 500 without detail, logged once here.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	if status, _ := edge.ErrorStatus(err); status == fiber.StatusInternalServerError && !errors.Is(err, edge.ErrPanic) {
		s.deps.Log.ErrorContext(c.UserContext(), "request failed", "path", logx.RedactPath(c.Path()),
			"surface", string(edge.SurfaceOf(c)), "err", err)
	}
	if edge.SurfaceOf(c) == "" && strings.HasPrefix(c.Path(), "/api/v1/") {
		// Refused before any route ran (a body over the server's limit ...): still the API's
		// format.
		status, msg := edge.ErrorStatus(err)
		return edge.WriteProblem(c, edge.Problem{Status: status, Detail: msg})
	}
	return edge.WriteError(c, err)
}

// errMalformedRequest is the answer (400) to a request the HTTP parser refused.
var errMalformedRequest = errors.New("malformed HTTP request")

// parseRefusal is what the client is told of err, the HTTP parser's reason for refusing a
// request before any route ran: a malformed or ambiguous head or chunked body (a NUL or a lone
// CR in a header, two Content-Lengths, a chunk extension with a line feed: the shapes request
// smuggling through a proxy uses; TestServe_RefusesAmbiguousFraming). fasthttp's text quotes
// the request's bytes, a password in its query or a token in its headers included, so every
// such refusal is told as errMalformedRequest. The errors Fiber answers with a status and text
// of its own (headers too large 431, body too large 413, timeouts 408) pass as they are. status
// is the answer's, as Fiber's serverErrorHandler maps them.
func parseRefusal(err error) (status int, answer error) {
	var small *fasthttp.ErrSmallBuffer
	var netErr net.Error
	switch {
	case errors.As(err, &small):
		return fiber.StatusRequestHeaderFieldsTooLarge, err
	case errors.As(err, &netErr) && netErr.Timeout():
		return fiber.StatusRequestTimeout, err
	case errors.As(err, &netErr):
		return fiber.StatusBadGateway, err
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return fiber.StatusRequestEntityTooLarge, err
	case errors.Is(err, fasthttp.ErrGetOnly):
		return fiber.StatusMethodNotAllowed, err
	case strings.Contains(err.Error(), "timeout"):
		return fiber.StatusRequestTimeout, err
	}
	return fiber.StatusBadRequest, errMalformedRequest
}

// StreamContext ends when shutdown begins; stream writers select on it.
func (s *Server) StreamContext() context.Context { return s.streamCtx }

// readTimeout is the server's read and idle timeout; deadlineSlack how much earlier than that
// a connection may time out so that consecutive requests on it set a read deadline once a
// second, not twice each.
const (
	readTimeout   = 30 * time.Second
	deadlineSlack = time.Second
)

// listenerWait bounds how long Serve waits for the change listener before answering anyway.
const listenerWait = 10 * time.Second

// Serve answers on ln (and the metrics listener, if configured) and runs the background
// workers until ctx ends, then shuts down in order: note the channels being watched for the
// next instance (warm.go), stop accepting, end open streams, wait up to the shutdown timeout
// for the rest, then stop the workers (which end this instance's leases) and the LISTEN
// connection. It starts by pulling the channels the previous instance noted.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.flushLog() // last: after the access lines of the final requests and the workers' lines
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	workers := s.dom.startWorkers(workerCtx)
	s.keepAlwaysOn()
	s.warmFromPrevious()
	defer func() {
		stopWorkers()
		if err := workers.Wait(); err != nil {
			s.deps.Log.Warn("background worker", "err", err)
		}
	}()
	// Answer only once changes reach this instance: a request served before the LISTEN is in
	// place could act on a ban, a revoked login or a kill made meanwhile elsewhere. The
	// database being down does not hold the start up for long: the caches' TTLs then heal.
	select {
	case <-s.dom.listener.Ready():
	case <-time.After(listenerWait):
		s.deps.Log.Warn("serving before the change listener is ready", "waited", listenerWait)
	case <-ctx.Done():
	}
	if ctx.Err() != nil {
		// Stopped before serving: the listener is closed here, since a Listener started now
		// could begin after the shutdown below and keep accepting.
		_ = ln.Close()
		s.cancelStreams()
		return s.shutdown()
	}

	errc := make(chan error, 2)
	go func() { errc <- s.app.Listener(edge.ReadTimeouts(ln, readTimeout, deadlineSlack, s.connClock)) }()
	if s.metrics != nil {
		mln, err := net.Listen("tcp", s.deps.Config.MetricsListen)
		if err != nil {
			s.cancelStreams()
			_ = s.shutdown()
			return fmt.Errorf("metrics listen: %w", err)
		}
		go func() { errc <- s.metrics.Listener(mln) }()
	}
	select {
	case err := <-errc:
		s.cancelStreams()
		_ = s.shutdown()
		if err != nil {
			return fmt.Errorf("http server: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	s.deps.Log.Info("shutting down", "timeout", s.deps.Config.ShutdownTimeout)
	s.saveWarm() // while the streams still run
	s.cancelStreams()
	return s.shutdown()
}

// flushLog writes out the log lines still pending in Deps.LogSink.
func (s *Server) flushLog() {
	if s.deps.LogSink != nil {
		s.deps.LogSink.Flush()
	}
}

func (s *Server) shutdown() error {
	timeout := s.deps.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var errs []error
	start := time.Now()
	if err := s.app.ShutdownWithTimeout(timeout); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	// Live TS writers run on hijacked connections, which the HTTP shutdown does not count: wait
	// for them (they end with the stream context) before the workers end their leases.
	if s.streams != nil {
		ctx, cancel := context.WithTimeout(context.Background(), max(time.Second, timeout-time.Since(start)))
		if err := s.streams.Wait(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stream shutdown: %w", err))
		}
		cancel()
	}
	if s.metrics != nil {
		if err := s.metrics.ShutdownWithTimeout(timeout); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
		}
	}
	return errors.Join(errs...)
}
