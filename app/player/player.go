// Package player serves the read surfaces of the Xtream API that players use: player_api.php
// (login, categories, streams, VOD and series info, EPG), get.php (M3U playlists), xmltv.php
// (the guide), panel_api.php and enigma2.php — spec §1 and §3, with the JSON types and quirks
// of XC 2.9 that real clients depend on (§7).
//
// Every request passes access.Checker.Check (a list or login check, never a stream open) and
// the per-IP request rate limit. Lists come from entries rendered once per catalog snapshot
// (render.go), filtered by the line's bouquets; stream URLs are built from the configured public address,
// never from the request's Host header.
package player

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/epg"
)

// Deps is what the player surfaces use.
type Deps struct {
	Access  *access.Checker
	Catalog *catalog.Catalog
	Guide   *epg.Guide
	Config  config.Config
	Log     *slog.Logger
	// Now is the clock of server_info and "on air now"; nil means time.Now.
	Now func() time.Time
	// StreamContext ends at shutdown: playlist and guide writers, which outlive their
	// handler, stop with it. Nil means context.Background().
	StreamContext context.Context
	// GuideDocuments keeps xmltv.php's documents, shared with the portal's guide answers; nil
	// keeps none (every download exports its own).
	GuideDocuments *epg.Documents
	// Registerer takes the guide download counter; nil registers none.
	Registerer prometheus.Registerer
}

// Handler serves the player surfaces.
type Handler struct {
	access    *access.Checker
	catalog   *catalog.Catalog
	guide     *epg.Guide
	guideDocs *epg.Documents        // xmltv.php's documents, one per bouquet set, window and EPG version
	guideFrom [2]prometheus.Counter // xmltv.php downloads served from a kept document, exported
	log       *slog.Logger
	now       func() time.Time
	streamCtx context.Context
	proxies   []netip.Prefix
	site      site
	cons      *consCache
	downloads *downloads // get.php and xmltv.php writers running, per line and per address
	clock     serverClock
}

// site is the public address and clock the answers advertise, fixed at start.
type site struct {
	host      string // server_info.url: bare host, no scheme, no port (spec §1.3, §7 #15)
	port      string // server_info.port
	httpsPort string
	rtmpPort  string
	scheme    string // server_info.server_protocol
	tzName    string
	tz        *time.Location
	base      string // scheme://host:port, the prefix of every URL we hand out
}

func newSite(cfg config.Config) site {
	scheme := cfg.PublicScheme
	if scheme != "https" {
		scheme = "http"
	}
	host := cfg.PublicHost
	if host == "" {
		host = "localhost"
	}
	tz, tzName := cfg.Timezone, cfg.TimezoneName
	if tzName == "" {
		tzName = "UTC"
	}
	if tz == nil {
		if loc, err := time.LoadLocation(tzName); err == nil {
			tz = loc
		} else {
			tz, tzName = time.UTC, "UTC"
		}
	}
	port := strconv.Itoa(cfg.AdvertisedPort())
	return site{
		host: host, port: port, httpsPort: strconv.Itoa(cfg.PublicHTTPSPort), rtmpPort: strconv.Itoa(cfg.PublicRTMPPort),
		scheme: scheme, tzName: tzName, tz: tz,
		// Stream URLs use the advertised HTTP port with the advertised scheme: behind a TLS
		// proxy, set --public-port to the port players connect to.
		base: scheme + "://" + net.JoinHostPort(host, port),
	}
}

// New returns the handler.
func New(d Deps) *Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.StreamContext == nil {
		d.StreamContext = context.Background()
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Catalog.Attach(listsView) // each catalog refresh renders the lists before serving them
	if d.GuideDocuments == nil {
		d.GuideDocuments = epg.NewDocuments(d.Guide, epg.DocumentsOptions{})
	}
	h := &Handler{
		guideDocs: d.GuideDocuments,
		access:    d.Access, catalog: d.Catalog, guide: d.Guide, log: d.Log, now: d.Now,
		streamCtx: d.StreamContext, proxies: d.Config.TrustedProxies, site: newSite(d.Config),
		cons:      newConsCache(d.Access.ActiveConnections, consTTL, d.Access.Now),
		downloads: newDownloads(d.Config),
	}
	h.registerGuideMetrics(d.Registerer)
	return h
}

// Routes mounts the player surfaces. GET also answers HEAD; POST carries form values (spec
// §1.1: some apps POST their credentials).
func (h *Handler) Routes(r fiber.Router) {
	for _, route := range []struct {
		path    string
		surface edge.Surface
		fn      fiber.Handler
	}{
		{"/player_api.php", edge.SurfacePlayerAPI, h.playerAPI},
		// XUI's path aliases (spec §1.1). Registered before the stream routes, so a line named
		// "player_api" loses its short-form stream URLs to these; no such name should be issued.
		{"/player_api/:username/:password", edge.SurfacePlayerAPI, h.playerAPI},
		{"/player_api/:username/:password/:action", edge.SurfacePlayerAPI, h.playerAPI},
		{"/get.php", edge.SurfaceGet, h.playlist},
		{"/xmltv.php", edge.SurfaceXMLTV, h.xmltv},
		// XUI's guide aliases (spec §3.2), the same document; /gz as gzip=1. "epg", like
		// "player_api", is a username no line may take (accounts.checkLineUsername).
		{"/epg/:username/:password", edge.SurfaceXMLTV, h.xmltv},
		{"/epg/:username/:password/gz", edge.SurfaceXMLTV, h.xmltvGzip},
		{"/panel_api.php", edge.SurfacePanelAPI, h.panelAPI},
		{"/enigma2.php", edge.SurfaceEnigma2, h.enigma2},
	} {
		// The deadline bounds the check and the answer (a cold line lookup and a password hash);
		// streamed playlists and guides outlive it on StreamContext.
		mw := edge.Route(route.surface, edge.DefaultDeadline)
		r.Get(route.path, mw, route.fn)
		r.Post(route.path, mw, route.fn)
	}
}

// check runs the access check of a list or login request, within the route's deadline.
// A refused request (bad bytes, over-long values) fails as AUTH_FAILED without one: no stored
// line can match it, and none of it may reach PostgreSQL.
func (h *Handler) check(c *fiber.Ctx, req *request, surface, format string) (access.Decision, error) {
	if req.refused {
		return access.Decision{Code: access.AuthFailed}, nil
	}
	who := req.cred
	if who == nil { // a request not made by parseRequest
		who = &access.Password{Username: req.username, Password: req.password, PathAlias: req.pathAlias}
	}
	return h.access.Check(c.UserContext(), access.Request{
		Who:      who,
		ClientIP: req.clientIP, UserAgent: req.userAgent, Surface: surface, Format: format,
	})
}

// admit applies the per-IP request rate limit (429, empty body) and reads the request.
func (h *Handler) admit(c *fiber.Ctx) (request, bool) {
	ip := edge.ClientIP(c, h.proxies)
	if !h.access.AllowRequest(ip) {
		c.Status(fiber.StatusTooManyRequests)
		return request{}, false
	}
	return parseRequest(c, ip), true
}

// unavailable answers a request the check could not decide (database down, hashing
// overloaded: then with Retry-After): 503 with an empty body, never an allowed request. Logged
// once here, except an overload, which the hashing limiter logs once a minute rather than once a
// request.
func (h *Handler) unavailable(c *fiber.Ctx, surface string, err error) error {
	busy := errors.Is(err, access.ErrBusy)
	if !busy {
		h.log.ErrorContext(c.UserContext(), "player request undecided", "route", surface, "err", err)
	}
	return edge.Unavailable(c, busy)
}

// sendBody sends an answer of kind answerBody.
func sendBody(c *fiber.Ctx, a answer) error {
	c.Status(a.status)
	if a.body == nil {
		c.Response().ResetBody()
		return nil
	}
	return c.Send(a.body) // a package-level constant, never modified
}

// activeCons is user_info.active_cons (spec §1.3, §6.2), cached briefly per line.
func (h *Handler) activeCons(ctx context.Context, lineID int64) (int, error) {
	return h.cons.get(ctx, lineID)
}

// sendCopy sends b, a pooled buffer, as the body. Fiber's Send keeps the slice itself until
// the response is written, after the handler (and the pool) let go of it: copy.
func sendCopy(c *fiber.Ctx, b []byte) error {
	c.Response().SetBody(b)
	return nil
}
