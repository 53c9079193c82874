package edge

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xtreamd/xtreamd/internal/logx"
)

// TestMetrics_SeriesPerLabelSet: each request counts once under its route pattern, method and
// status, and its latency under its route, however often a label set repeats (the series are
// resolved once and kept); an unmatched path counts as "unmatched".
func TestMetrics_SeriesPerLabelSet(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	app := fiber.New()
	app.Use(Observe(slog.New(slog.DiscardHandler), m, AccessLogOptions{}))
	app.Get("/ok/:id", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/fail", func(c *fiber.Ctx) error { return fiber.ErrTeapot })
	for _, p := range []string{"/ok/1", "/ok/2", "/ok/3", "/fail", "/fail", "/nowhere"} {
		resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, p, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`xtreamd_http_requests_total{method="GET",route="/ok/:id",status="200"} 3`,
		`xtreamd_http_requests_total{method="GET",route="/fail",status="418"} 2`,
		`xtreamd_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`xtreamd_http_request_duration_seconds_count{route="/ok/:id"} 3`,
		`xtreamd_http_request_duration_seconds_count{route="/fail"} 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if n := strings.Count(text, "xtreamd_http_requests_total{"); n != 3 {
		t.Errorf("%d request series, want 3:\n%s", n, text)
	}
	if got := len(*m.series.Load()); got != 3 {
		t.Errorf("%d label sets kept, want 3", got)
	}
}

// TestObserve_PanicIsCountedAndLogged: a handler that panics fails its request with a 500
// (ErrPanic through the app's ErrorHandler) and the request is still counted under its route
// with status 500 and has its access line, after the one line that gives the panic and its
// stack; the next request on the app is served as usual.
func TestObserve_PanicIsCountedAndLogged(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	var logs strings.Builder
	log := logx.New(&logs, "text", slog.LevelInfo)
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error { return WriteError(c, err) }})
	app.Use(Observe(log, NewMetrics(reg), AccessLogOptions{}))
	app.Get("/boom", func(c *fiber.Ctx) error { panic("kaboom") })
	app.Get("/ok", func(c *fiber.Ctx) error { return c.SendString("ok") })
	for _, tt := range []struct {
		path   string
		status int
	}{{"/boom", 500}, {"/ok", 200}} {
		resp, err := app.Test(httptest.NewRequest(fiber.MethodGet, tt.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d", tt.path, resp.StatusCode, tt.status)
		}
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`xtreamd_http_requests_total{method="GET",route="/boom",status="500"} 1`,
		`xtreamd_http_requests_total{method="GET",route="/ok",status="200"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3 (the panic, two access lines):\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], `msg="panic in handler"`) || !strings.Contains(lines[0], "panic=kaboom") ||
		!strings.Contains(lines[0], "stack=") {
		t.Errorf("the panic's line: %s", lines[0])
	}
	if !strings.Contains(lines[1], "msg=request") || !strings.Contains(lines[1], "path=/boom status=500") {
		t.Errorf("the panicking request's access line: %s", lines[1])
	}
	if !strings.Contains(lines[2], "path=/ok status=200") {
		t.Errorf("the next request's access line: %s", lines[2])
	}
}
