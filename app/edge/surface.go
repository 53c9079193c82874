package edge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/logx"
)

// Surface names a family of routes. It labels logs, metrics and access.Request.Surface (the
// client log's "surface" column), and picks the format of the surface's error answers.
type Surface string

// The surfaces. The player ones keep the names the client log has always used.
const (
	SurfacePlayerAPI Surface = "player_api" // player_api.php and XUI's /player_api/… aliases
	SurfaceGet       Surface = "get"        // get.php playlists
	SurfaceXMLTV     Surface = "xmltv"      // xmltv.php
	SurfacePanelAPI  Surface = "panel_api"  // panel_api.php
	SurfaceEnigma2   Surface = "enigma2"    // enigma2.php
	SurfaceStream    Surface = "stream"     // /live, /movie, /series, timeshift, /hls, /play, short form
	SurfacePortal    Surface = "portal"     // the MAG portal (portal.php, load.php)
	SurfaceAdmin     Surface = "admin"      // api.php and the web pages
	SurfaceAPI       Surface = "api"        // the REST API, /api/v1
	SurfacePartner   Surface = "partner"    // partner and device authorization
)

// DefaultDeadline bounds the check and answer phase of a route: a cold line lookup and a
// password hash under load fit well within it.
const DefaultDeadline = 15 * time.Second

// surfaceKey is the c.Locals key of the route's surface.
type surfaceKey struct{}

// Route is the first handler of every route of a surface: it records the surface for the
// error handler (WriteError) and bounds the request's context (c.UserContext) by deadline
// (0: no deadline) for the check and the answer. A response writer that outlives the handler
// (a stream, a streamed playlist) must not use that context: it ends when the handler returns.
// It uses the server's shutdown context instead.
func Route(s Surface, deadline time.Duration) fiber.Handler {
	var local any = s // converted once: storing it per request allocates nothing
	if deadline <= 0 {
		return func(c *fiber.Ctx) error {
			c.Locals(surfaceKey{}, local)
			return c.Next()
		}
	}
	return func(c *fiber.Ctx) error {
		c.Locals(surfaceKey{}, local)
		ctx := boundContext(c.UserContext(), RequestStart(c).Add(deadline))
		defer ctx.end()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

// requestContext is a request's context as Observe makes it, carrying the request id, with
// room for the deadlineContext that Route derives from it: a request's id and its deadline in
// one allocation (two were the largest share of what a login allocated). The deadline
// context is a child like any other: its parent is the requestContext, which it never changes.
type requestContext struct {
	logx.RequestIDContext
	bound    deadlineContext
	boundSet bool // bound is in use
}

// boundContext is newDeadlineContext(parent, deadline), in parent's own room when parent is
// a requestContext whose room is free.
func boundContext(parent context.Context, deadline time.Time) *deadlineContext {
	rc, ok := parent.(*requestContext)
	if !ok || rc.boundSet {
		return newDeadlineContext(parent, deadline)
	}
	rc.boundSet = true
	rc.bound.init(parent, deadline)
	return &rc.bound
}

// deadlineContext is context.WithDeadline that arms its timer only when something waits on
// it. Every I/O call that honours a context asks for Done (pgx, net.Dialer, the relay) or
// derives a context from it, and from then on this is a real context.WithDeadline; a request
// answered from caches (a login with a verified credential, a list) never does, and so costs
// no timer and one allocation instead of four. Deadline always reports the deadline, and Err
// reports it as passed once it has, whether or not the timer was ever armed.
type deadlineContext struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	inner  atomic.Pointer[context.Context] // context.WithDeadline(parent, deadline), once armed
	cancel context.CancelFunc
	ended  error // set by end while unarmed (errEnded until Err decides): what Err reports from then on
}

func newDeadlineContext(parent context.Context, deadline time.Time) *deadlineContext {
	c := new(deadlineContext)
	c.init(parent, deadline)
	return c
}

// init sets up a new (zero) c.
func (c *deadlineContext) init(parent context.Context, deadline time.Time) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.parent, c.deadline = parent, deadline
}

func (c *deadlineContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done arms the timer the first time it is asked for.
func (c *deadlineContext) Done() <-chan struct{} {
	if ctx := c.armedOrLock(); ctx != nil {
		return ctx.Done()
	}
	defer c.mu.Unlock()
	if c.ended != nil {
		return closedChan
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	c.cancel = cancel
	c.inner.Store(&ctx)
	return ctx.Done()
}

func (c *deadlineContext) Err() error {
	if ctx := c.armedOrLock(); ctx != nil {
		return ctx.Err()
	}
	defer c.mu.Unlock()
	if c.ended == errEnded {
		if c.ended = c.unarmedErr(); c.ended == nil {
			c.ended = context.Canceled
		}
	}
	if c.ended != nil {
		return c.ended
	}
	return c.unarmedErr()
}

// armedOrLock returns the armed context, or nil with c.mu held (then it stays unarmed until
// the caller unlocks).
func (c *deadlineContext) armedOrLock() context.Context {
	if p := c.inner.Load(); p != nil {
		return *p
	}
	c.mu.Lock()
	if p := c.inner.Load(); p != nil {
		c.mu.Unlock()
		return *p
	}
	return nil
}

// unarmedErr is what context.WithDeadline's Err would say now: the parent's error, else
// DeadlineExceeded once the deadline has passed.
func (c *deadlineContext) unarmedErr() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// Value asks the armed context first, so context.Cause and the context package's own
// cancellation tree see it as the context.WithDeadline it is.
func (c *deadlineContext) Value(key any) any {
	if p := c.inner.Load(); p != nil {
		return (*p).Value(key)
	}
	return c.parent.Value(key)
}

// end is the cancel function: when the handler returns, the context is done. Unarmed, whether
// it ended by its deadline or by end is decided when Err is first asked (rarely: nothing
// waited on it), so a request answered from caches reads no clock here.
func (c *deadlineContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
		return
	}
	c.ended = errEnded
}

// errEnded marks an unarmed context that end ended, its error not yet decided.
var errEnded = errors.New("edge: context ended")

// closedChan is Done of a context that ended before anything waited on it.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// SurfaceOf is the surface of the route that answered c, "" when the request matched none
// (or matched a route mounted without Route: health, metrics).
func SurfaceOf(c *fiber.Ctx) Surface {
	s, _ := c.Locals(surfaceKey{}).(Surface)
	return s
}
