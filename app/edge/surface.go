package edge

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
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
		ctx, cancel := context.WithTimeout(c.UserContext(), deadline)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

// SurfaceOf is the surface of the route that answered c, "" when the request matched none
// (or matched a route mounted without Route: health, metrics).
func SurfaceOf(c *fiber.Ctx) Surface {
	s, _ := c.Locals(surfaceKey{}).(Surface)
	return s
}
