package stream

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/token"
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
		return edge.Empty(c, fiber.StatusNoContent)
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
		r, ok := h.parseLive(c)
		sinkLive = r
		return ok && r.id == 42 && r.client.ua != ""
	})
}

// BenchmarkParseVOD is the parse step of a movie open with a Range header.
func BenchmarkParseVOD(b *testing.B) {
	h := benchHandler()
	benchRoute(b, "/movie/:user/:pass/:file", "/movie/user1/pass1/7.mp4", map[string]string{"Range": "bytes=100-"},
		func(c *fiber.Ctx) bool {
			r, ok := h.parseVOD(c, token.KindVOD)
			sinkVOD = r
			return ok && r.id == 7 && r.client.ua != "" && r.rng != ""
		})
}

// BenchmarkParseTimeshift is the parse step of a catch-up open.
func BenchmarkParseTimeshift(b *testing.B) {
	h := benchHandler()
	h.d.Location = time.UTC
	benchRoute(b, "/timeshift/:user/:pass/:minutes/:start/:file", "/timeshift/user1/pass1/90/2024-01-31:09-05/42.ts", nil,
		func(c *fiber.Ctx) bool {
			r, refuse := h.parseShift(c, shiftPath)
			sinkShift = r
			return refuse == 0 && r.id == 42 && r.client.ua != "" && r.rng == ""
		})
}

// Sinks make the parsed values escape as they do in production (into the access check).
var (
	sinkLive  liveRequest
	sinkVOD   vodRequest
	sinkShift shiftRequest
)

// endless is an upstream body that never ends and costs nothing to read.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

// benchProxyRead reads 32 KiB at a time from r, as fasthttp copies a body stream.
func benchProxyRead(b *testing.B, r io.Reader) {
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProxyBodyRead is one read of a proxied movie or catch-up body through the upstream
// idle timer (idleReader: a timer reset and stop per read).
func BenchmarkProxyBodyRead(b *testing.B) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	benchProxyRead(b, newIdleReader(ctx, endless{}, cancel, 30*time.Second, func(int64) {}))
}

// BenchmarkProxyBodyReadBare is the same-run baseline: the upstream body read directly, as
// before the idle timeout.
func BenchmarkProxyBodyReadBare(b *testing.B) { benchProxyRead(b, endless{}) }
