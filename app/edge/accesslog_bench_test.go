package edge

import (
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// BenchmarkAccessLog drives a Fiber app with Observe (request id and access log) in front of a handler
// answering fixed bytes, in process (no sockets), so the difference between "on" and "off"
// is what one access-log line costs: redaction, formatting and the write ("slog": the same
// line through slog's handler, as before logx.Line).
//
//	go test ./app/edge/ -run '^$' -bench AccessLog -benchmem
func BenchmarkAccessLog(b *testing.B) {
	for _, tt := range []struct {
		name  string
		level slog.Level
	}{{"off", slog.LevelWarn}, {"on", slog.LevelInfo}, {"slog", slog.LevelInfo}} {
		b.Run(tt.name, func(b *testing.B) {
			log := logx.New(io.Discard, "text", tt.level)
			if tt.name == "slog" { // the line through slog, as the access log wrote it before logx.Line
				log = slog.New(slog.NewTextHandler(io.Discard, nil))
			}
			app := fiber.New(fiber.Config{DisableStartupMessage: true})
			app.Use(Observe(log, nil, AccessLogOptions{}))
			body := []byte(`{"user_info":{"auth":1}}`)
			app.Get("/player_api.php", func(c *fiber.Ctx) error { return c.Send(body) })
			h := app.Handler()
			var ctx fasthttp.RequestCtx
			ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
			b.ReportAllocs()
			cpu0 := testkit.ProcessCPU()
			for b.Loop() {
				ctx.Request.Reset()
				ctx.ResetUserValues() // the server does this per request: fiber keeps the user context there
				ctx.Response.Reset()
				ctx.Request.SetRequestURI("/player_api.php?username=bench&password=bench-pass")
				ctx.Request.Header.SetMethod("GET")
				ctx.Request.Header.SetUserAgent("IPTVSmartersPro/3.1.5 (Linux; Android 11)")
				h(&ctx)
			}
			// The machine is shared: CPU time per request is steadier than wall time.
			b.ReportMetric(float64(testkit.ProcessCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
