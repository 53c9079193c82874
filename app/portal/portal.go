// Package portal is the MAG / Stalker portal (spec §5): the JSON API that MAG set-top boxes
// (through the Stalker JavaScript client they load from /c/), headless Stalker clients such as
// stalkerhek and EStalker, and OTT players with Stalker support speak, on /portal.php,
// /c/portal.php, /server/load.php and /stalker_portal/server/load.php, answering in the
// {"js": …} envelope; and /c/ (also /stalker_portal/c/), which serves the operator's client
// bundle or the minimal files headless clients discover the API from.
//
// A box identifies by MAC (cookie, or the mac parameter). stb/handshake starts a session
// (internal/mag: a token bound to the MAC, kept hashed, expiring unless used; a token the
// client offers is adopted). Every other call runs the one access check for the device's line
// (access.PortalSession) and maps its outcome in deny.go; create_link hands out a play-token
// URL the stream routes accept only for that line, stream and client address, for a short time.
//
// Channel lists come from the catalog snapshot: each channel is rendered in the Stalker shape
// once per snapshot, each line's lineup (its channels in bouquet order, their numbers) once per
// snapshot and bouquet set (render.go), so get_all_channels of 10,000 channels is a loop of
// appends.
package portal

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Deps is what the portal uses; every member but Log and Now is required.
type Deps struct {
	Access  *access.Checker
	Catalog *catalog.Catalog
	Guide   *epg.Guide
	// GuideDocuments keeps itv/get_epg_info answers, shared with xmltv.php's documents; nil
	// keeps none.
	GuideDocuments *epg.Documents
	Devices        *mag.Devices
	// Tokens signs the play tokens of create_link; the stream routes verify them with the same
	// keyring.
	Tokens *token.Keyring
	Config config.Config
	Log    *slog.Logger
	Now    func() time.Time
}

// Handshake rate per client address: boxes handshake when they start, so a burst of ten (a
// household's boxes after a power cut) and one a second after that is plenty; a MAC scanner
// meets it long before the flood block.
const (
	handshakeRate  = 1.0
	handshakeBurst = 10
)

// Handler serves the portal.
type Handler struct {
	access     *access.Checker
	catalog    *catalog.Catalog
	guide      *epg.Guide
	guideDocs  *epg.Documents
	devices    *mag.Devices
	tokens     *token.Keyring
	log        *slog.Logger
	now        func() time.Time
	proxies    []netip.Prefix
	base       string         // scheme://host:port of every link handed out
	tz         *time.Location // the panel's zone: catch-up start times
	zones      *zoneCache
	handshakes *access.RateLimiter // bounded by --rate-limit-clients, as the checker's
	files      *clientFiles
	actions    map[string]handler
}

// New returns the handler. It fails when the configured client directory cannot be opened.
func New(d Deps) (*Handler, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	files, err := newClientFiles(d.Config.PortalClientDir)
	if err != nil {
		return nil, err
	}
	tz := d.Config.Timezone
	if tz == nil {
		tz = time.UTC
	}
	d.Catalog.Attach(channelsView) // each refresh renders the channels before serving them
	if d.GuideDocuments == nil {
		d.GuideDocuments = epg.NewDocuments(d.Guide, epg.DocumentsOptions{}) // keeps none
	}
	return &Handler{
		access: d.Access, catalog: d.Catalog, guide: d.Guide, guideDocs: d.GuideDocuments, devices: d.Devices, tokens: d.Tokens,
		log: d.Log, now: d.Now, proxies: d.Config.TrustedProxies, base: d.Config.PublicBaseURL(), tz: tz,
		zones: newZoneCache(tz), handshakes: access.NewRateLimiter(d.Now, d.Config.RateLimitClients), files: files, actions: actionTable(),
	}, nil
}

// Routes mounts the portal. Mount it before the stream routes: /stalker_portal/c/{file} has
// the shape of their short form.
func (h *Handler) Routes(r fiber.Router) {
	mw := edge.Route(edge.SurfacePortal, edge.DefaultDeadline)
	for _, p := range apiPaths {
		r.Get(p, mw, h.api)
		r.Post(p, mw, h.api)
	}
	for _, prefix := range []string{"/c", "/stalker_portal/c"} {
		r.Get(prefix, mw, h.files.serve) // /c and /c/: routing ignores a trailing slash
		r.Get(prefix+"/*", mw, h.files.serve)
	}
}

// apiPaths are the paths of the API (spec §5.1): XC's, XUI's and Ministra's.
var apiPaths = []string{"/portal.php", "/c/portal.php", "/server/load.php", "/stalker_portal/server/load.php"}

// call is one authenticated portal call on its way through an action.
type call struct {
	c    *fiber.Ctx
	ctx  context.Context
	req  *request
	line *access.Line
	code access.Code      // OK, or the refusal a tolerant or profile action still answers
	cred token.Credential // what a play token issued for this call carries
	dev  *mag.Device
	ent  *catalog.Entitlement
}

// entitlement is the line's share of the current catalog, resolved once per call.
func (k *call) entitlement(h *Handler) *catalog.Entitlement {
	if k.ent == nil {
		k.ent = h.catalog.Current().Entitlement(k.line.BouquetIDs)
	}
	return k.ent
}

// api serves every portal call: admission, the one parse, the handshake or the check, then
// the action.
func (h *Handler) api(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store, no-cache, must-revalidate")
	ip := edge.ClientIP(c, h.proxies)
	if !h.access.AllowRequest(ip) {
		return writeError(c, fiber.StatusTooManyRequests, "too many requests")
	}
	req := readRequest(c, ip)
	if req.bad {
		return writeError(c, fiber.StatusBadRequest, "bad request")
	}
	if req.typ == "stb" && req.action == "handshake" {
		return h.handshake(c, &req)
	}
	act, ok := h.actions[req.typ+"/"+req.action]
	if !ok {
		act = unknownAction
	}
	ctx := c.UserContext()
	d, err := h.access.Check(ctx, h.accessRequest(&req))
	if err != nil {
		return h.unavailable(c, err)
	}
	a := answerFor(d.Code, act.class)
	switch a.kind {
	case answerAuthFailed:
		return sendText(c, authFailedBody)
	case answerAccessDenied:
		return sendText(c, accessDeniedBody)
	case answerLinkError:
		return writeJS(c, itvLink{Error: a.err})
	}
	dev, err := h.devices.Lookup(ctx, req.mac)
	if errors.Is(err, mag.ErrUnknownDevice) { // unbound since the check
		return sendText(c, authFailedBody)
	}
	if err != nil {
		return h.unavailable(c, err)
	}
	k := &call{c: c, ctx: ctx, req: &req, line: d.Line, code: d.Code, cred: d.IssuingCredential(), dev: &dev}
	if !dev.Verified && !act.unverified {
		// A locked device's session opens nothing until get_profile or do_auth proved the ids.
		return sendText(c, authFailedBody)
	}
	if err := h.devices.Touch(ctx, &dev); err != nil {
		h.log.WarnContext(ctx, "renewing a portal session", "mac", req.mac, "err", err)
	}
	if a.kind == answerBlocked {
		return h.sendProfile(k, blockMessage(d.Code))
	}
	if err := act.fn(h, k); err != nil {
		return h.unavailable(c, err)
	}
	return nil
}

// accessRequest is the check of a portal call: the device's session, or no identity at all
// for a request without a usable MAC (which fails step 1 and counts as a failed login).
func (h *Handler) accessRequest(req *request) access.Request {
	r := access.Request{ClientIP: req.clientIP, UserAgent: req.userAgent, Surface: string(edge.SurfacePortal)}
	if req.macState == macOK {
		r.Who = access.PortalSession{MAC: req.mac, Token: req.token}
	}
	return r
}

// failedLogin counts a refused device authentication (an unknown MAC at handshake, a failed
// device lock) through the one entry point: a session without a token fails step 1 there.
func (h *Handler) failedLogin(ctx context.Context, req *request) {
	r := h.accessRequest(req)
	if req.macState == macOK {
		r.Who = access.PortalSession{MAC: req.mac}
	}
	if _, err := h.access.Check(ctx, r); err != nil {
		h.log.WarnContext(ctx, "counting a failed portal login", "err", err)
	}
}

// unavailable answers a call the check or the database could not decide: 503 in the portal's
// envelope, never an allowed request. Logged once here.
func (h *Handler) unavailable(c *fiber.Ctx, err error) error {
	h.log.ErrorContext(c.UserContext(), "portal request undecided", "route", "portal", "err", err)
	return writeError(c, fiber.StatusServiceUnavailable, "unavailable")
}

// handler is one action: its refusal class, whether a locked device's unverified session
// may run it (the calls of the start-up sequence), and what it does.
type handler struct {
	class      class
	unverified bool
	fn         func(h *Handler, k *call) error
}

// unknownAction is the answer to an action or module the portal does not know, after the
// check: Ministra's {"js":false}, never an error page (spec §5).
var unknownAction = handler{class: classContent, fn: func(_ *Handler, k *call) error { return writeJS(k.c, false) }}

// zoneCache keeps the time zones boxes name in their timezone cookie (only real ones under
// their clean names, so it is bounded by the zone database).
type zoneCache struct {
	def   *time.Location
	zones sync.Map // name → *time.Location
}

func newZoneCache(def *time.Location) *zoneCache { return &zoneCache{def: def} }

// of returns the zone called name, or the panel's zone for "" and unknown names.
func (z *zoneCache) of(name string) *time.Location {
	// The zone database opens "Europe//Paris" and "./Europe/Paris" as Paris: each spelling
	// would be one more entry here (and one more kept get_epg_info document), so only the
	// clean name is a zone.
	if name == "" || len(name) > 64 || strings.Contains(name, "..") || path.Clean(name) != name {
		return z.def
	}
	if loc, ok := z.zones.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return z.def
	}
	z.zones.Store(name, loc)
	return loc
}
