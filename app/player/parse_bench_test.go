package player

import (
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// BenchmarkParseRequest is the parse step of every player request (a player_api list call
// with credentials, an action and a category), through a bare Fiber app as the routes run it.
func BenchmarkParseRequest(b *testing.B) {
	app := fiber.New()
	var sink request
	app.Get("/player_api.php", func(c *fiber.Ctx) error {
		sink = parseRequest(c, netip.MustParseAddr("192.0.2.1"))
		return nil
	})
	h := app.Handler()
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI("/player_api.php?username=alice&password=secret-password&action=get_live_streams&category_id=12")
	fctx.Request.Header.SetUserAgent("IPTVSmartersPro/3.1.5 (Linux; Android 11)")
	b.ReportAllocs()
	for b.Loop() {
		h(&fctx)
	}
	_ = sink
}
