// Package device is the HTTP side of second-screen activation (issue 15; seed 001's
// authentication phase by code, RFC 8628's device authorization grant) and of the partner
// profiles that follow from it:
//
//	POST /oauth/device/code      a TV app or MAG box asks for a code (RFC 8628 §3.1–3.2)
//	POST /oauth/token            it polls with the device code (§3.4–3.5) until it gets its
//	                             credential, once
//	POST /oauth/device/logout    a device signs its own credential out (seed 001 phase E)
//	GET, POST /activate          the viewer's page on a phone: enter the code, sign in, allow
//	GET /api/v2/{partner}/profiles[/code/{code}], DELETE /api/v2/{partner}/profiles
//	                             a partner backend polls for a code's outcome, lists a
//	                             device's profiles, logs a device out (seed 001 steps 2, 4, 7)
//
// The OAuth endpoints answer RFC 6749 §5.2 / RFC 8628 §3.5 JSON errors, /api/v2 RFC 9457
// problems, /activate HTML. Signing in on /activate is access.Check with the line's password,
// so the flood limit and the ten steps apply as on every login; the decisions are
// internal/device's.
package device

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/config"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/web"
)

// Deps is what the surface is built from (app/server wires it).
type Deps struct {
	Devices *activation.Service
	Access  *access.Checker
	// Partners are the partner clients whose access tokens the /api/v2 profile routes take;
	// nil: no partner can authenticate there (every request is answered 401).
	Partners *partner.Service
	Config   config.Config
	Log      *slog.Logger
	Now      func() time.Time // the page's "expires in" clock; nil: time.Now
}

// Handler serves the routes.
type Handler struct {
	devices  *activation.Service
	access   *access.Checker
	partners *partner.Service
	log      *slog.Logger
	proxies  []netip.Prefix
	base     string // the advertised scheme://host:port of the verification URI
	secure   bool   // the page is served over https: its cookie is Secure
	page     *template.Template
	css      []byte
	now      func() time.Time
}

// New builds the surface; it fails only if the embedded page does not parse.
func New(d Deps) (*Handler, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	page, err := template.ParseFS(web.FS, "templates/activate.html")
	if err != nil {
		return nil, fmt.Errorf("activation page: %w", err)
	}
	css, err := web.FS.ReadFile("static/activate.css")
	if err != nil {
		return nil, fmt.Errorf("activation page: %w", err)
	}
	return &Handler{devices: d.Devices, access: d.Access, partners: d.Partners, log: d.Log,
		proxies: d.Config.TrustedProxies, base: d.Config.PublicBaseURL(), secure: d.Config.PublicScheme == "https",
		page: page, css: css, now: d.Now}, nil
}

// Routes mounts the surface.
func (h *Handler) Routes(r fiber.Router) {
	mw := edge.Route(edge.SurfacePartner, edge.DefaultDeadline)
	r.Post("/oauth/device/code", mw, h.deviceCode)
	r.Post("/oauth/token", mw, h.token)
	r.Post("/oauth/device/logout", mw, h.logout)
	r.Get("/activate", mw, h.activatePage)
	r.Post("/activate", mw, h.activateSubmit)
	r.Get("/activate/activate.css", mw, h.stylesheet)
	r.Get("/api/v2/:partner/profiles", mw, h.profiles)
	r.Delete("/api/v2/:partner/profiles", mw, h.logoutProfiles)
	r.Get("/api/v2/:partner/profiles/code/:code", mw, h.profileByCode)
}

func (h *Handler) clientIP(c *fiber.Ctx) netip.Addr { return edge.ClientIP(c, h.proxies) }

// userAgent is the request's User-Agent made storable (it reaches the client log).
func userAgent(c *fiber.Ctx) string {
	return input.Sanitize(string(c.Request().Header.UserAgent()), 512)
}

// form is a form-encoded body (RFC 6749 §3.2 wants application/x-www-form-urlencoded, and
// the page posts one) read by one parse function: each parameter at most once (§3.1), text,
// within its bound. Values are copies: fasthttp reuses its buffers.
type form struct {
	args *fasthttp.Args
	bad  string // the first refused parameter, "" when none
}

// postForm returns the request's form, ok false when the body is not form-encoded.
func postForm(c *fiber.Ctx) (form, bool) {
	ct := c.Request().Header.ContentType()
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	if !strings.EqualFold(string(bytes.TrimSpace(ct)), fiber.MIMEApplicationForm) {
		return form{}, false
	}
	return form{args: c.Request().PostArgs()}, true
}

// get returns parameter key ("" when absent), refusing it when repeated, longer than max
// bytes or not text.
func (f *form) get(key string, max int) string {
	vals := f.args.PeekMulti(key)
	switch {
	case len(vals) == 0:
		return ""
	case len(vals) > 1:
		f.refuse(key)
		return ""
	}
	v := string(vals[0]) // a copy
	if !input.Text(v, max) {
		f.refuse(key)
		return ""
	}
	return v
}

func (f *form) refuse(key string) {
	if f.bad == "" {
		f.bad = key
	}
}
