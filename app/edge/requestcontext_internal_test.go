package edge

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestRequestContext_IDAndDeadlineInOneAllocation: behind Observe, Route's deadline context
// lives in the request context's own room and is its child: the handler sees the request id
// the response carries and the route's deadline, the context ends with the handler, and the
// whole request costs one allocation. A second Route on the same request gets a context of
// its own, bounded by both deadlines.
func TestRequestContext_IDAndDeadlineInOneAllocation(t *testing.T) {
	log := logx.New(io.Discard, "text", slog.LevelWarn) // no access line: its pooled buffer is not the subject
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(Observe(log, nil, AccessLogOptions{}))
	var handlerCtx context.Context
	var inRoom, nestedOwn bool
	check := func(c *fiber.Ctx) error {
		handlerCtx = c.UserContext()
		dc, ok := handlerCtx.(*deadlineContext)
		if ok {
			rc, isRC := dc.parent.(*requestContext)
			inRoom = isRC && dc == &rc.bound
			if pdc, nested := dc.parent.(*deadlineContext); nested {
				if prc, ok := pdc.parent.(*requestContext); ok {
					nestedOwn = pdc == &prc.bound
				}
			}
		}
		return c.SendString("ok")
	}
	app.Get("/p", Route(SurfacePlayerAPI, time.Minute), check)
	app.Get("/nested", Route(SurfacePlayerAPI, time.Minute), Route(SurfaceStream, time.Second), check)
	h := app.Handler()
	var fctx fasthttp.RequestCtx
	fctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}, nil)
	serve := func(path string) {
		fctx.Request.Reset()
		fctx.ResetUserValues()
		fctx.Response.Reset()
		fctx.Request.SetRequestURI(path)
		fctx.Request.Header.SetMethod(fiber.MethodGet)
		h(&fctx)
	}

	serve("/p")
	if !inRoom {
		t.Fatalf("the handler's context is %T, not the deadline context in the request context's room", handlerCtx)
	}
	if got, want := logx.RequestID(handlerCtx), string(fctx.Response.Header.Peek(HeaderRequestID)); got == "" || got != want {
		t.Errorf("request id in the context %q, in the response %q", got, want)
	}
	if dl, ok := handlerCtx.Deadline(); !ok || time.Until(dl) <= 0 || time.Until(dl) > time.Minute {
		t.Errorf("deadline %v %v, want within a minute", dl, ok)
	}
	if handlerCtx.Err() == nil {
		t.Error("the context did not end with the handler")
	}

	serve("/nested")
	if !nestedOwn {
		t.Errorf("nested Route: the outer deadline context is not in the request context's room")
	}
	if dl, ok := handlerCtx.Deadline(); !ok || time.Until(dl) > time.Second {
		t.Errorf("nested Route: deadline %v %v, want the inner second", dl, ok)
	}
	if logx.RequestID(handlerCtx) == "" {
		t.Error("nested Route: request id lost")
	}

	if testkit.RaceDetector { // it allocates where a plain build does not
		return
	}
	if n := testing.AllocsPerRun(200, func() { serve("/p") }); n != 1 {
		t.Errorf("a request through Observe and Route allocates %v times, want 1 (the request context)", n)
	}
}
