package device

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/token"
)

// The activation page (/activate): the viewer types the code the TV shows (or arrives with it
// from verification_uri_complete), sees which device asks, signs in with the line's username
// and password and allows it, or denies it. It is plain HTML from web/ with its own small
// stylesheet and no script, under a CSP without 'unsafe-inline'; its form carries a CSRF token
// that must match a SameSite=Strict cookie.

// surfaceActivate names the page in the client log (a failed sign-in).
const surfaceActivate = "activate"

// csrfCookie holds the page's CSRF token (double-submit: the form repeats it).
const csrfCookie = "xtreamd_activate"

// csrfBytes is the token's randomness: 256 bits, 43 base64url characters.
const csrfBytes = 32

// pageCSP allows the page its own stylesheet and form, and nothing else.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// The page's steps (pageData.Step), one template each.
const (
	stepCode   = "code"   // type the code
	stepSignIn = "signin" // see the device, sign in, allow or deny
	stepDone   = "done"   // allowed
	stepDenied = "denied" // denied
)

// pageData is what the template renders.
type pageData struct {
	Title    string
	Step     string
	Code     string // XXXX-XXXX, or what the viewer typed
	Device   deviceView
	Username string
	Error    string
	CSRF     string
}

// deviceView is the pending code's device as the viewer sees it.
type deviceView struct {
	Name    string
	Client  string
	Kind    string // "TV app" or "MAG box"
	MAC     string // masked
	Minutes int    // left before the code expires
}

func viewOf(p activation.PendingCode, now time.Time) deviceView {
	v := deviceView{Name: p.DeviceName, Client: p.ClientID, Kind: "TV app", Minutes: max(1, int(p.ExpiresAt.Sub(now).Minutes()+0.5))}
	if v.Name == "" {
		v.Name = "A device"
	}
	if p.Kind == activation.KindMAG {
		v.Kind, v.MAC = "MAG box", p.MACMasked
	}
	return v
}

// render writes the page with the security headers every answer of it carries.
func (h *Handler) render(c *fiber.Ctx, status int, d pageData) error {
	if d.Title == "" {
		d.Title = "Activate your TV"
	}
	var buf bytes.Buffer
	if err := h.page.ExecuteTemplate(&buf, "activate", d); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer") // the code may be in the URL
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(buf.Bytes())
}

// stylesheet serves the page's CSS.
func (h *Handler) stylesheet(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(h.css)
}

// csrfToken returns the request's CSRF cookie when it is well formed, else a new one, and
// (re)sets the cookie.
func (h *Handler) csrfToken(c *fiber.Ctx) string {
	tok := c.Cookies(csrfCookie)
	if !wellFormedToken(tok) {
		b := make([]byte, csrfBytes)
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
		tok = base64.RawURLEncoding.EncodeToString(b)
	} else {
		tok = string([]byte(tok)) // an owned copy
	}
	c.Cookie(&fiber.Cookie{Name: csrfCookie, Value: tok, Path: "/activate", MaxAge: int(activation.MaxCodeTTL.Seconds()),
		Secure: h.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode})
	return tok
}

func wellFormedToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(csrfBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// activatePage answers GET /activate: the code form, or with ?user_code= the device that asks
// and the sign-in form. A code that names no pending code counts as a failed login of the
// address (codes are guessed here).
func (h *Handler) activatePage(c *fiber.Ctx) error {
	ip := h.clientIP(c)
	raw := c.Query("user_code")
	if len(raw) > maxCode {
		raw = ""
	}
	d := pageData{Step: stepCode, Code: string([]byte(raw)), CSRF: h.csrfToken(c)}
	if raw == "" {
		return h.render(c, fiber.StatusOK, d)
	}
	if h.access.FloodBlocked(ip) {
		d.Error = msgTooManyAttempts
		return h.render(c, fiber.StatusTooManyRequests, d)
	}
	code, pending, status, msg := h.lookupCode(c, ip, raw)
	if msg != "" {
		d.Error = msg
		return h.render(c, status, d)
	}
	d.Step, d.Code, d.Device = stepSignIn, code.String(), viewOf(pending, h.now())
	return h.render(c, fiber.StatusOK, d)
}

// lookupCode parses and finds a pending code; a refusal is its status and message (and, for a
// code that names nothing, a counted failure).
func (h *Handler) lookupCode(c *fiber.Ctx, ip netip.Addr, raw string) (activation.UserCode, activation.PendingCode, int, string) {
	code, err := activation.ParseUserCode(raw)
	if err != nil {
		h.countFailure(c, ip)
		return code, activation.PendingCode{}, fiber.StatusBadRequest, msgBadCode
	}
	p, err := h.devices.Pending(c.UserContext(), code)
	if errors.Is(err, activation.ErrNoSuchCode) {
		h.countFailure(c, ip)
		return code, p, fiber.StatusNotFound, msgNoSuchCode
	}
	if err != nil {
		h.log.ErrorContext(c.UserContext(), "request failed", "route", "activate", "err", err)
		return code, p, fiber.StatusServiceUnavailable, msgUnavailable
	}
	return code, p, 0, ""
}

// countFailure counts a wrong code towards the address's flood limit, as a failed login.
func (h *Handler) countFailure(c *fiber.Ctx, ip netip.Addr) {
	if err := h.access.CountFailure(c.UserContext(), ip); err != nil {
		h.log.WarnContext(c.UserContext(), "counting a failed activation", "err", err)
	}
}

// submission is a parsed POST /activate.
type submission struct {
	csrf, code, action, username, password string
}

func parseSubmission(c *fiber.Ctx) (submission, bool) {
	f, ok := postForm(c)
	if !ok {
		return submission{}, false
	}
	s := submission{csrf: f.get("csrf", 64), code: f.get("user_code", maxCode), action: f.get("action", 16),
		username: f.get("username", maxUsername), password: f.get("password", maxPassword)}
	return s, f.bad == ""
}

// activateSubmit answers POST /activate: allow (sign in first) or deny the code.
func (h *Handler) activateSubmit(c *fiber.Ctx) error {
	ip := h.clientIP(c)
	s, ok := parseSubmission(c)
	d := pageData{Step: stepCode, Code: s.code, CSRF: h.csrfToken(c)}
	cookie := c.Cookies(csrfCookie)
	switch {
	case !ok:
		d.Error = msgBadForm
		return h.render(c, fiber.StatusBadRequest, d)
	case !wellFormedToken(cookie) || subtle.ConstantTimeCompare([]byte(cookie), []byte(s.csrf)) != 1:
		d.Error = msgExpiredForm
		return h.render(c, fiber.StatusForbidden, d)
	case h.access.FloodBlocked(ip):
		d.Error = msgTooManyAttempts
		return h.render(c, fiber.StatusTooManyRequests, d)
	}
	code, pending, status, msg := h.lookupCode(c, ip, s.code)
	if msg != "" {
		d.Error = msg
		return h.render(c, status, d)
	}
	d.Step, d.Code, d.Device, d.Username = stepSignIn, code.String(), viewOf(pending, h.now()), s.username
	viewer := activation.Viewer{IP: ip}
	if s.action == "deny" {
		return h.decide(c, d, h.devices.Deny(c.UserContext(), code, viewer), stepDenied)
	}
	if s.action != "approve" || s.username == "" || s.password == "" {
		d.Error = msgSignIn
		return h.render(c, fiber.StatusBadRequest, d)
	}
	dec, err := h.access.Check(c.UserContext(), access.Request{Who: access.Password{Username: s.username, Password: s.password},
		ClientIP: ip, UserAgent: userAgent(c), Surface: surfaceActivate})
	if err != nil {
		h.logUnavailable(c, err)
		d.Error = msgUnavailable
		return h.render(c, fiber.StatusServiceUnavailable, d)
	}
	if status, msg := signInRefusal(dec); msg != "" {
		d.Error = msg
		return h.render(c, status, d)
	}
	viewer.Line = dec.Line
	return h.decide(c, d, h.devices.Approve(c.UserContext(), code, viewer), stepDone)
}

// decide renders the outcome of an approval or denial.
func (h *Handler) decide(c *fiber.Ctx, d pageData, err error, done string) error {
	if err == nil {
		d.Step, d.Username = done, ""
		return h.render(c, fiber.StatusOK, d)
	}
	status, msg := decisionRefusal(err)
	if status == fiber.StatusServiceUnavailable {
		h.logUnavailable(c, err)
	}
	d.Error = msg
	return h.render(c, status, d)
}

func (h *Handler) logUnavailable(c *fiber.Ctx, err error) {
	if !errors.Is(err, access.ErrBusy) {
		h.log.ErrorContext(c.UserContext(), "request failed", "route", "activate", "err", err)
	}
}

// signInRefusal is the page's answer to a sign-in the check refused, "" when it passed: the
// one place an access code becomes the page's words. Only a line's own password may approve a
// device (a device credential signing in here would let one device make more).
func signInRefusal(d access.Decision) (int, string) {
	switch d.Code {
	case access.OK:
		if d.IssuingCredential().Kind != token.CredentialPassword {
			return fiber.StatusForbidden, msgOwnPassword
		}
		return 0, ""
	case access.AuthFailed:
		return fiber.StatusForbidden, msgWrongPassword
	case access.FloodBlocked:
		return fiber.StatusTooManyRequests, msgTooManyAttempts
	case access.UserExpired:
		return fiber.StatusForbidden, msgExpired
	case access.UserBan, access.UserDisabled:
		return fiber.StatusForbidden, msgInactive
	case access.IPBan, access.CountryDisallow, access.UserAgentBan, access.ISPLockFailed:
		return fiber.StatusForbidden, msgNotFromHere
	}
	return fiber.StatusForbidden, msgRefused // stream-open codes: a sign-in never gives them
}

// decisionRefusal is the page's answer to an approval or denial the domain refused.
func decisionRefusal(err error) (int, string) {
	switch {
	case errors.Is(err, activation.ErrNoSuchCode):
		return fiber.StatusGone, msgNoSuchCode
	case errors.Is(err, activation.ErrDeviceLimit):
		return fiber.StatusConflict, msgDeviceLimit
	case errors.Is(err, activation.ErrMACTaken):
		return fiber.StatusConflict, msgMACTaken
	case errors.Is(err, activation.ErrLineHasBox):
		return fiber.StatusConflict, msgLineHasBox
	}
	return fiber.StatusServiceUnavailable, msgUnavailable
}

// The page's messages.
const (
	msgBadCode         = "That is not a code from a TV screen: it has 8 letters, like BCDF-GHJK."
	msgNoSuchCode      = "This code is not valid (any more). Check the screen, or ask the TV for a new code."
	msgTooManyAttempts = "Too many attempts from your network. Wait a while and try again."
	msgUnavailable     = "Something went wrong on our side. Try again in a moment."
	msgBadForm         = "The form was not sent completely. Try again."
	msgExpiredForm     = "This form expired. Enter the code again."
	msgSignIn          = "Enter your username and password to allow this device."
	msgWrongPassword   = "Wrong username or password."
	msgOwnPassword     = "Sign in with your subscription's own username and password, not a device's."
	msgExpired         = "This subscription has expired."
	msgInactive        = "This subscription is not active."
	msgNotFromHere     = "This subscription cannot be signed in to from here."
	msgRefused         = "Sign-in was refused."
	msgDeviceLimit     = "Your subscription has as many devices as it may. Ask your provider to remove one."
	msgMACTaken        = "This box is registered to another subscription."
	msgLineHasBox      = "Your subscription already has a MAG box. Ask your provider to replace it."
)
