package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/app/partner"
	"github.com/xtreamd/xtreamd/app/player"
	"github.com/xtreamd/xtreamd/app/portal"
)

// mountSurfaces mounts every surface. Order matters: fixed routes (*.php, /live, /movie ...)
// first, the stream short form /{user}/{pass}/{id} — which matches any three-segment path —
// last.
func (s *Server) mountSurfaces(app *fiber.App) {
	// --- player surfaces (player_api.php, get.php, xmltv.php, panel_api.php, enigma2.php) ---
	player.New(player.Deps{
		Access: s.dom.access, Catalog: s.dom.catalog, Guide: s.dom.guide, Config: s.deps.Config,
		Log: s.deps.Log, Now: s.deps.Now, StreamContext: s.streamCtx, Registerer: s.deps.Registry,
		GuideDocuments: s.dom.guideDocs,
	}).Routes(app)

	// --- admin surfaces (/api/v1, api.php) ---
	s.admin.Routes(app)

	// --- MAG portal (portal.php, load.php, /c/): before the streams, whose short form would
	// take /stalker_portal/c/{file} ---
	s.portal.Routes(app)

	// --- second-screen activation (/oauth/device/*, /oauth/token, /activate, /api/v2 profiles):
	// before the streams, whose short form has the shape of /oauth/device/code ---
	s.device.Routes(app)

	// --- partner backends (/o/client/*, /api/v2/{partner}/…): before the streams, whose short
	// form would take /o/client/token ---
	partner.New(partner.Deps{
		Access: s.dom.access, Partners: s.dom.partners, Catalog: s.dom.catalog, BaseURL: s.deps.Config.PublicBaseURL(),
		Proxies: s.deps.Config.TrustedProxies, Log: s.deps.Log,
	}).Routes(app)

	// --- stream surfaces (/live, /movie, /series, /timeshift, /hls, play tokens, short form) ---
	s.mountStreams(app)
}

// newDevice builds the second-screen activation surface; its /api/v2 profile routes
// authenticate partners with the partner clients' access tokens.
func newDevice(d Deps, dom *domain) (*device.Handler, error) {
	return device.New(device.Deps{Devices: dom.activation, Access: dom.access, Partners: dom.partners, Config: d.Config,
		Log: d.Log, Now: d.Now})
}

// newPortal builds the MAG portal surface (built before the app, since a configured client
// directory that cannot be opened fails the start).
func newPortal(d Deps, dom *domain) (*portal.Handler, error) {
	return portal.New(portal.Deps{
		Access: dom.access, Catalog: dom.catalog, Guide: dom.guide, GuideDocuments: dom.guideDocs, Devices: dom.devices,
		Tokens: dom.tokens, Config: d.Config, Log: d.Log, Now: d.Now,
	})
}
