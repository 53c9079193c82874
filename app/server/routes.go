package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/player"
)

// mountSurfaces mounts every surface. Order matters: fixed routes (*.php, /live, /movie ...)
// first, the stream short form /{user}/{pass}/{id} — which matches any three-segment path —
// last.
func (s *Server) mountSurfaces(app *fiber.App) {
	// --- player surfaces (player_api.php, get.php, xmltv.php, panel_api.php, enigma2.php) ---
	player.New(player.Deps{
		Access: s.dom.access, Catalog: s.dom.catalog, Guide: s.dom.guide, Config: s.deps.Config,
		Log: s.deps.Log, Now: s.deps.Now, StreamContext: s.streamCtx,
	}).Routes(app)

	// --- admin surfaces (/api/v1, api.php) ---
	s.admin.Routes(app)

	// --- stream surfaces (/live, /movie, /series, /timeshift, /hls, play tokens, short form) ---
	s.mountStreams(app)
}
