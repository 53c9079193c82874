package edge

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
