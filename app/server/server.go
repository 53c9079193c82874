// Package server builds xtreamd's HTTP server: the Fiber app with its middleware order, the
// surfaces mounted on it, health and metrics endpoints, and the start/shutdown sequence.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Deps is everything the HTTP server needs, built by cmd/xtreamd (or a test).
type Deps struct {
	Config   config.Config
	Log      *slog.Logger
	Store    *store.Store
	Registry *prometheus.Registry // a fresh registry per server: tests build many
}

// Server is the HTTP side of one xtreamd process.
type Server struct {
	deps    Deps
	app     *fiber.App
	metrics *fiber.App // only with a separate --metrics-listen

	// streamCtx ends when shutdown starts, so long-running stream writers (which outlive
	// their handler) stop instead of holding the shutdown for its whole timeout.
	streamCtx     context.Context
	cancelStreams context.CancelFunc
}

// New builds the server and its routes. Nothing listens until Serve.
func New(d Deps) *Server {
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	s := &Server{deps: d}
	s.streamCtx, s.cancelStreams = context.WithCancel(context.Background())
	d.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if d.Store != nil {
		d.Registry.MustRegister(newPoolCollector(d.Store))
	}
	s.app = s.newApp()
	if d.Config.MetricsListen != "" {
		s.metrics = fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
		s.metrics.Get("/metrics", s.metricsHandler())
	}
	return s
}

// App returns the Fiber app (tests drive it with app.Test).
func (s *Server) App() *fiber.App { return s.app }

func (s *Server) newApp() *fiber.App {
	d := s.deps
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		// Dual stack: Fiber's default is tcp4 only.
		Network: fiber.NetworkTCP,
		// ReadTimeout bounds slow request senders; there is deliberately no WriteTimeout,
		// which would cut every long stream.
		ReadTimeout:  30 * time.Second,
		IdleTimeout:  120 * time.Second,
		BodyLimit:    1 << 20,
		ErrorHandler: s.errorHandler,
		AppName:      "xtreamd",
		// Values read from requests are copied explicitly where kept (parse functions).
		Immutable: false,
	})
	quiet := func(path string) bool { return path == "/healthz" || path == "/readyz" || path == "/metrics" }
	app.Use(edge.Recover(d.Log))
	app.Use(edge.RequestID())
	app.Use(edge.NewMetrics(d.Registry).Handler())
	app.Use(edge.AccessLog(d.Log, edge.AccessLogOptions{Proxies: d.Config.TrustedProxies, Quiet: quiet}))

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/readyz", s.readyz)
	if d.Config.MetricsListen == "" {
		app.Get("/metrics", s.metricsHandler())
	}
	return app
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
}

// readyz answers 200 when the database answers and every migration is applied.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.deps.Store == nil {
		return c.Status(fiber.StatusServiceUnavailable).SendString("no database")
	}
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

// errorHandler answers errors no surface turned into its own format: fiber's own (404, 405,
// 413 ...) with their status, anything else as a logged 500 without detail.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code != fiber.StatusInternalServerError {
		return c.Status(fe.Code).SendString(fe.Message)
	}
	if !errors.Is(err, edge.ErrPanic) {
		s.deps.Log.ErrorContext(c.UserContext(), "request failed", "path", logx.RedactPath(c.Path()), "err", err)
	}
	return c.Status(fiber.StatusInternalServerError).SendString("internal error")
}

// StreamContext ends when shutdown begins; stream writers select on it.
func (s *Server) StreamContext() context.Context { return s.streamCtx }

// Serve answers on ln (and the metrics listener, if configured) until ctx ends, then shuts
// down gracefully: stop accepting, end open streams, wait up to the shutdown timeout for the
// rest.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 2)
	go func() { errc <- s.app.Listener(ln) }()
	var mln net.Listener
	if s.metrics != nil {
		var err error
		mln, err = net.Listen("tcp", s.deps.Config.MetricsListen)
		if err != nil {
			_ = s.app.Shutdown()
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
	s.cancelStreams()
	return s.shutdown()
}

func (s *Server) shutdown() error {
	timeout := s.deps.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	var errs []error
	if err := s.app.ShutdownWithTimeout(timeout); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	if s.metrics != nil {
		if err := s.metrics.ShutdownWithTimeout(timeout); err != nil {
			errs = append(errs, fmt.Errorf("metrics shutdown: %w", err))
		}
	}
	return errors.Join(errs...)
}
