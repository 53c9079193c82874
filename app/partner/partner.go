// Package partner is the surface of partner backends (seeds 000, 001, 002): an operator's own
// storefront or app server that authorizes its viewers server to server.
//
//   - POST /o/client/register: dynamic client registration (RFC 7591), guarded by an initial
//     access token and the partner_registration setting.
//   - POST /o/client/token: the client-credentials grant (RFC 6749 §4.4), client authentication
//     by HTTP Basic or the form (§2.3.1), answering a short-lived HS256 access token.
//   - POST /o/client/revoke: revocation of an access token (RFC 7009).
//   - Under /api/v2/{partner}/ with that token as a Bearer: decisions/preauthorize and
//     decisions/authorize (seed 001 phases C–D), tokens (seed 000's media tokens) and logout
//     (seed 001 phase E).
//
// The /o/ endpoints answer errors as their RFCs say (OAuth error JSON); /api/v2 answers RFC
// 9457 problems. Every decision is internal/access's Check (the PartnerLine identity) with the
// viewer's address from the partner's X-Forwarded-For and the device from AP-Device-Identifier
// and X-Device-Info; a denial is a value, mapped to its code and message in one function
// (deny.go). Permits are cached (internal/partner.Permits), denials never; a partner whose
// denials exceed its bound is answered 429 before any check runs.
package partner

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// Deps is what the surface uses (app/server wires it).
type Deps struct {
	Access   *access.Checker
	Partners *partner.Service
	Catalog  *catalog.Catalog
	// BaseURL prefixes the playback URLs handed out (the advertised scheme, host and port).
	BaseURL string
	// Proxies are the trusted reverse proxies in front of the panel.
	Proxies []netip.Prefix
	Log     *slog.Logger
	Now     func() time.Time
}

// Handler serves the partner routes.
type Handler struct {
	d   Deps
	log *slog.Logger
	now func() time.Time
}

// New returns the surface.
func New(d Deps) *Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Handler{d: d, log: d.Log, now: d.Now}
}

// maxBody bounds every request body: a preauthorization of 100 resources is a few kB.
const maxBody = 64 << 10

// Routes mounts the surface. Mount it before the stream routes, whose short form
// /{user}/{pass}/{id} would take /o/client/token.
func (h *Handler) Routes(r fiber.Router) {
	mw := edge.Route(edge.SurfacePartner, edge.DefaultDeadline)
	r.Post("/o/client/register", mw, h.register)
	r.Post("/o/client/token", mw, h.token)
	r.Post("/o/client/revoke", mw, h.revoke)
	// Per route, not a group's middleware: other /api/v2/{partner}/ routes (the profiles of
	// second-screen logins) belong to another surface.
	r.Post("/api/v2/:partner/decisions/preauthorize", mw, h.bearer(partner.ScopeDecisions, h.preauthorize))
	r.Post("/api/v2/:partner/decisions/authorize", mw, h.bearer(partner.ScopeDecisions, h.authorize))
	r.Post("/api/v2/:partner/tokens", mw, h.bearer(partner.ScopeMediaTokens, h.mediaToken))
	r.Post("/api/v2/:partner/logout", mw, h.bearer(partner.ScopeLogout, h.logout))
}
