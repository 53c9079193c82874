package admin

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/accounts"
)

// The admin web page at /admin/: server-rendered pages (html/template from web/templates,
// embedded), a few lines of plain JavaScript and one stylesheet (web/static, served under
// content-hashed URLs), behind a browser login.
//
// How a page is built (read this before adding one):
//   - A page family is a file web_<family>.go with a method returning its []webRoute, listed
//     in webResources(), and a template file web/templates/pages/<page>.html defining
//     "content" (and any partials a script fetches, rendered with renderPartial). Every
//     template gets a view (web_render.go): the caller, the CSRF token, the page's Data, the
//     posted form and the field errors.
//   - A webRoute names its method, path (under /admin), the roles that may open it (nil:
//     every role) and its handler, a func(*webCall) error. Every route needs a login; every
//     non-GET route also needs the form's CSRF token (checked before the handler runs).
//   - Reads and writes go through the REST API's own operations (webRun / webSubmit in
//     web_form.go): the same permission check, strict decoding, rules, domain call and audit
//     entry as /api/v1, with the form's fields named as the operation's JSON members (nested:
//     sources[0].url). A refusal comes back as the problem the API would answer; renderForm
//     shows a field's error next to the field it names.
//   - A nav entry (webNav) shows only when its page is mounted and the caller's role may
//     open it.
//   - Never template.HTML from data: html/template escapes every value in its context, and
//     the Content-Security-Policy (webHeaders) allows no inline script or style at all.

// webRoute is one route of the web page.
type webRoute struct {
	Method  string // fiber.MethodGet or fiber.MethodPost
	Path    string // under /admin: "/lines/:id"
	Roles   []accounts.Role
	Handler func(w *webCall) error
}

// webCall is one request to a web page, as its handler sees it.
type webCall struct {
	c  *fiber.Ctx
	a  *API
	p  accounts.WebPrincipal
	ip netip.Addr
	ua string
}

// Principal is the caller.
func (w *webCall) Principal() accounts.Principal { return w.p.Principal }

// webResources lists every page family's routes. A new family adds its list here.
func (a *API) webResources() [][]webRoute {
	return [][]webRoute{
		a.webDashboardRoutes(),
		a.webLineRoutes(),
		a.webConnectionRoutes(),
		a.webAccountRoutes(),
		a.webSelfRoutes(),
		a.webCatalogRoutes(),
		a.webPanelRoutes(),
	}
}

// navItem is an entry of the navigation.
type navItem struct {
	Label string
	Path  string // under /admin
	Roles []accounts.Role
}

var staff = []accounts.Role{accounts.RoleAdmin, accounts.RoleViewer}

// webNav is the navigation, in order. An entry shows once a GET route of its path is
// mounted (so pages still to come cost nothing here) and the caller's role may open it.
var webNav = []navItem{
	{Label: "Dashboard", Path: "/"},
	{Label: "Lines", Path: "/lines"},
	{Label: "Connections", Path: "/connections"},
	{Label: "MAG devices", Path: "/devices"},
	{Label: "Bouquets", Path: "/bouquets", Roles: staff},
	{Label: "Categories", Path: "/categories", Roles: staff},
	{Label: "Live streams", Path: "/streams", Roles: staff},
	{Label: "Movies", Path: "/vod", Roles: staff},
	{Label: "Series", Path: "/series", Roles: staff},
	{Label: "EPG sources", Path: "/epg", Roles: staff},
	{Label: "Imports", Path: "/imports", Roles: staff},
	{Label: "Security", Path: "/security", Roles: staff},
	{Label: "Settings", Path: "/settings", Roles: staff},
	{Label: "Activity", Path: "/activity"},
	{Label: "Audit log", Path: "/audit", Roles: staff},
	{Label: "Accounts", Path: "/accounts"},
	{Label: "Packages", Path: "/packages"},
	{Label: "My account", Path: "/account"},
}

// webRoutes mounts /admin: the static files and the login first, then every page behind the
// login check (and the CSRF check for every change). Each route carries the surface and the
// headers itself rather than a group catching all of /admin/: a path no page has falls
// through to the other surfaces (a line named admin keeps its short-form URL
// /admin/{password}/{id}).
func (a *API) webRoutes(app fiber.Router) {
	chain := []fiber.Handler{edge.Route(edge.SurfaceAdmin, edge.DefaultDeadline), a.webHeaders}
	add := func(method, path string, h fiber.Handler) {
		app.Add(method, "/admin"+path, append(slices.Clone(chain), h)...)
	}
	add(fiber.MethodGet, "/static/:name", a.static)
	add(fiber.MethodGet, "/login", a.loginPage)
	add(fiber.MethodPost, "/login", a.loginSubmit)
	add(fiber.MethodPost, "/login/code", a.codeSubmit)
	add(fiber.MethodPost, "/logout", a.authed(nil, true, a.logoutSubmit))
	mounted := map[string]bool{}
	for _, routes := range a.webResources() {
		for _, r := range routes {
			change := r.Method != fiber.MethodGet
			add(r.Method, r.Path, a.authed(r.Roles, change, r.Handler))
			if !change {
				mounted[r.Path] = true
			}
		}
	}
	for _, n := range webNav {
		if mounted[n.Path] {
			a.nav = append(a.nav, n)
		}
	}
}

// navFor is the navigation role may see.
func (a *API) navFor(role accounts.Role) []navItem {
	out := make([]navItem, 0, len(a.nav))
	for _, n := range a.nav {
		if len(n.Roles) == 0 || slices.Contains(n.Roles, role) {
			out = append(out, n)
		}
	}
	return out
}

// contentSecurityPolicy allows only this origin's files: no inline script or style (not even
// style attributes), no plugins, no framing, forms posting only here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// webHeaders sets the security headers of every answer under /admin.
func (a *API) webHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if a.secure(c) {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	start := time.Now()
	err := c.Next()
	// The server's share of a page's time, for the browser's Performance API (the figures
	// in the web tests); it says nothing about the data.
	c.Set("Server-Timing", fmt.Sprintf("app;dur=%.2f", float64(time.Since(start).Microseconds())/1000))
	return err
}

// secure reports whether the browser reached us over https: directly, through a trusted proxy
// that says so (X-Forwarded-Proto), or as the configured public scheme says.
func (a *API) secure(c *fiber.Ctx) bool {
	if c.Context().IsTLS() || a.d.Config.PublicScheme == "https" {
		return true
	}
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return inPrefixes(a.d.Config.TrustedProxies, peer.Unmap()) &&
		strings.EqualFold(strings.TrimSpace(c.Get(fiber.HeaderXForwardedProto)), "https")
}

func inPrefixes(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// authed wraps a page handler: a live browser login is required (else to the login page),
// the role must be one of roles (nil: any), and a change must carry the login's CSRF token and
// come from this origin.
func (a *API) authed(roles []accounts.Role, change bool, h func(*webCall) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		w := &webCall{c: c, a: a, ip: a.clientIP(c), ua: clip(c.Get(fiber.HeaderUserAgent), 512)}
		token := c.Cookies(a.cookieName(c))
		var err error
		if token != "" {
			w.p, err = a.d.Sessions.VerifyWeb(c.UserContext(), strings.Clone(token), w.ip)
		}
		if token == "" || err != nil {
			if token != "" && !isUnauthenticated(err) {
				return err
			}
			return a.toLogin(c)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		if change && !a.csrfOK(c, w.p.CSRF) {
			return a.webFail(c, fiber.StatusForbidden, "This form has expired or did not come from this panel. Reload the page and try again.")
		}
		if len(roles) > 0 && !slices.Contains(roles, w.p.Role) {
			return a.webFail(c, fiber.StatusForbidden, "Your account may not open this page.")
		}
		return h(w)
	}
}

// toLogin sends a browser without a login to the login page (and back here after it); a
// script's fetch gets a bare 401 and reloads.
func (a *API) toLogin(c *fiber.Ctx) error {
	if c.Get("X-Requested-With") == "fetch" {
		return edge.Empty(c, fiber.StatusUnauthorized)
	}
	next := ""
	if c.Method() == fiber.MethodGet {
		next = "?next=" + urlQueryEscape(string(c.Request().URI().RequestURI()))
	}
	return c.Redirect("/admin/login"+next, fiber.StatusSeeOther)
}
