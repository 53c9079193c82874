package stream

import (
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// benchRoute runs a request for uri through a bare Fiber app whose only route (pattern) calls
// parse: the cost of reading one request into its owned struct, router included.
func benchRoute(b *testing.B, pattern, uri string, hdr map[string]string, parse func(c *fiber.Ctx) bool) {
	b.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get(pattern, func(c *fiber.Ctx) error {
		if !parse(c) {
			b.Fatalf("parse(%s) refused", uri)
		}
		return status(c, fiber.StatusNoContent)
	})
	handler := app.Handler()
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(198, 51, 100, 7), Port: 4000}, nil)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod(fiber.MethodGet)
		ctx.Request.SetRequestURI(uri)
		ctx.Request.Header.Set(fiber.HeaderUserAgent, "VLC/3.0.18 LibVLC/3.0.18")
		for k, v := range hdr {
			ctx.Request.Header.Set(k, v)
		}
		handler(&ctx)
		if ctx.Response.StatusCode() != fiber.StatusNoContent {
			b.Fatalf("status = %d", ctx.Response.StatusCode())
		}
	}
}

func benchHandler() *Handler { return &Handler{d: Deps{}} }

// BenchmarkParseLive is the parse step of a live open.
func BenchmarkParseLive(b *testing.B) {
	h := benchHandler()
	benchRoute(b, "/live/:user/:pass/:file", "/live/user1/pass%201/42.ts", nil, func(c *fiber.Ctx) bool {
		id, _, ok := parseLiveFile(c.Params("file"))
		w, ok2 := parseWho(c)
		cl := h.clientOf(c)
		return ok && ok2 && id == 42 && w.user == "user1" && cl.ua != ""
	})
}

// BenchmarkParseVOD is the parse step of a movie open with a Range header.
func BenchmarkParseVOD(b *testing.B) {
	h := benchHandler()
	benchRoute(b, "/movie/:user/:pass/:file", "/movie/user1/pass1/7.mp4", map[string]string{"Range": "bytes=100-"},
		func(c *fiber.Ctx) bool {
			id, _, ok := parseVODFile(c.Params("file"))
			w, ok2 := parseWho(c)
			cl := h.clientOf(c)
			rng := rangeHeader(c)
			return ok && ok2 && id == 7 && w.pass == "pass1" && cl.ua != "" && rng != ""
		})
}

// BenchmarkParseTimeshift is the parse step of a catch-up open.
func BenchmarkParseTimeshift(b *testing.B) {
	h := benchHandler()
	h.d.Location = time.UTC
	benchRoute(b, "/timeshift/:user/:pass/:minutes/:start/:file", "/timeshift/user1/pass1/90/2024-01-31:09-05/42.ts", nil,
		func(c *fiber.Ctx) bool {
			r, ok := h.parseShift(c, c.Params("start"), c.Params("file"))
			cl := h.clientOf(c)
			rng := rangeHeader(c)
			return ok && r.id == 42 && cl.ua != "" && rng == ""
		})
}
