package admin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The browser login: a password step and, for an admin with a second factor, a code step.
// Both are guarded like every other login (guardLogin: the per-IP rate, blocks and the flood
// lockout shared with players and the API). The session cookie is HttpOnly, SameSite=Strict
// and Secure whenever the browser came over https (directly or through a trusted proxy);
// every login gets a new token, so a token planted before the login is worth nothing. Before
// the login, the form's CSRF token is a double-submit of a random cookie.

const (
	preLoginCookie  = "xtreamd_login" // the login form's CSRF token
	challengeCookie = "xtreamd_mfa"   // the second step's challenge
	csrfField       = "_csrf"
	csrfHeader      = "X-CSRF-Token"
)

// loginData is the login page's data.
type loginData struct {
	Username string
	Next     string
	CodeStep bool // the password was right: now the code
}

// cookieName is the session cookie's name: with the __Host- prefix over https, which browsers
// accept only Secure, for the whole host and from this host alone.
func (a *API) cookieName(c *fiber.Ctx) string {
	if a.secure(c) {
		return "__Host-xtreamd_admin"
	}
	return "xtreamd_admin"
}

// setCookie sets (maxAge > 0), or with maxAge < 0 deletes, one of the web page's cookies.
func (a *API) setCookie(c *fiber.Ctx, name, value string, maxAge int) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/admin", HTTPOnly: true, Secure: a.secure(c),
		SameSite: fiber.CookieSameSiteStrictMode, MaxAge: maxAge}
	if strings.HasPrefix(name, "__Host-") {
		ck.Path = "/"
	}
	if maxAge < 0 {
		ck.Value, ck.Expires = "", time.Unix(1, 0)
	}
	c.Cookie(ck)
}

// csrfOK checks a change's CSRF token (the form's _csrf, or a script's X-CSRF-Token header)
// against want, and that the browser sent it from this origin.
func (a *API) csrfOK(c *fiber.Ctx, want string) bool {
	if !a.sameOrigin(c) || want == "" {
		return false
	}
	got := c.Get(csrfHeader)
	if got == "" {
		got = c.FormValue(csrfField)
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin refuses a change a browser says came from another site (Sec-Fetch-Site, Origin):
// SameSite=Strict cookies and the CSRF token already stop it, this costs nothing more.
func (a *API) sameOrigin(c *fiber.Ctx) bool {
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || origin == "null" {
		return origin == ""
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, string(c.Request().Host()))
}

func isUnauthenticated(err error) bool { return errors.Is(err, accounts.ErrUnauthenticated) }

// safeNext is where to go after the login: a path of the web page only (never another host).
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/admin/") || strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(next, "/admin//") ||
		len(next) > 1024 {
		return "/admin/"
	}
	return next
}

// preLoginToken is the login form's CSRF token: the pre-login cookie's, set when missing.
func (a *API) preLoginToken(c *fiber.Ctx) string {
	if tok := c.Cookies(preLoginCookie); len(tok) == 43 {
		return strings.Clone(tok)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	a.setCookie(c, preLoginCookie, tok, 3600)
	return tok
}

func (a *API) loginPage(c *fiber.Ctx) error {
	if tok := c.Cookies(a.cookieName(c)); tok != "" {
		if _, err := a.d.Sessions.VerifyWeb(c.UserContext(), strings.Clone(tok), a.clientIP(c)); err == nil {
			return c.Redirect("/admin/", fiber.StatusSeeOther)
		}
	}
	v := &view{Title: "Log in", CSRF: a.preLoginToken(c), Data: loginData{Next: safeNext(clip(c.Query("next"), 1024))}}
	return a.render(c, "login", v)
}

// loginForm reads the login step's form, copied and capped.
func loginForm(c *fiber.Ctx) (username, password, code, next string) {
	return clip(c.FormValue("username"), 64), clip(c.FormValue("password"), 1024), clip(c.FormValue("code"), 64),
		safeNext(clip(c.FormValue("next"), 1024))
}

func (a *API) loginSubmit(c *fiber.Ctx) error {
	username, password, _, next := loginForm(c)
	v := &view{Title: "Log in", CSRF: a.preLoginToken(c), Data: loginData{Username: username, Next: next}}
	if !a.csrfOK(c, c.Cookies(preLoginCookie)) {
		v.Status, v.Error = fiber.StatusForbidden, "The login form expired. Please try again."
		return a.render(c, "login", v)
	}
	if !input.Text(username, 64) || username == "" || password == "" {
		v.Status, v.Error = fiber.StatusBadRequest, "Enter your username and password."
		return a.render(c, "login", v)
	}
	ip := a.clientIP(c)
	var res accounts.WebLogin
	err := a.guardLogin(c.UserContext(), ip, func() error {
		var err error
		res, err = a.d.Sessions.LoginWeb(c.UserContext(), username, password, accounts.Client{IP: ip,
			UserAgent: clip(c.Get(fiber.HeaderUserAgent), 512)})
		return err
	})
	if err != nil {
		return a.loginRefused(c, v, err)
	}
	if res.Challenge != "" {
		a.setCookie(c, challengeCookie, res.Challenge.Reveal(), int(5*time.Minute/time.Second))
		v.Data = loginData{Username: username, Next: next, CodeStep: true}
		return a.render(c, "login", v)
	}
	return a.loggedIn(c, res, next)
}

func (a *API) codeSubmit(c *fiber.Ctx) error {
	_, _, code, next := loginForm(c)
	v := &view{Title: "Log in", CSRF: a.preLoginToken(c), Data: loginData{Next: next, CodeStep: true}}
	challenge := strings.Clone(c.Cookies(challengeCookie))
	if !a.csrfOK(c, c.Cookies(preLoginCookie)) || challenge == "" {
		v.Status, v.Error = fiber.StatusForbidden, "The login expired. Please log in again."
		v.Data = loginData{Next: next}
		return a.render(c, "login", v)
	}
	ip := a.clientIP(c)
	var res accounts.WebLogin
	err := a.guardLogin(c.UserContext(), ip, func() error {
		var err error
		res, err = a.d.Sessions.LoginWebCode(c.UserContext(), challenge, code, accounts.Client{IP: ip,
			UserAgent: clip(c.Get(fiber.HeaderUserAgent), 512)})
		return err
	})
	if err != nil {
		return a.loginRefused(c, v, err)
	}
	a.setCookie(c, challengeCookie, "", -1)
	return a.loggedIn(c, res, next)
}

// loginRefused shows the login form again with why: a wrong password or code (401), too
// many attempts (429 with Retry-After).
func (a *API) loginRefused(c *fiber.Ctx, v *view, err error) error {
	var ap *apiProblem
	switch {
	case errors.As(err, &ap) && ap.Status == fiber.StatusTooManyRequests:
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(ap.retryAfter))
		v.Status, v.Error = ap.Status, "Too many attempts from this address. Try again later."
	case errors.Is(err, accounts.ErrSecondFactor):
		v.Status, v.Error = fiber.StatusUnauthorized, "Enter the code of your authenticator app."
	case isUnauthenticated(err):
		v.Status, v.Error = fiber.StatusUnauthorized, "Wrong username or password."
		if d, ok := v.Data.(loginData); ok && d.CodeStep {
			v.Error = "Wrong or already used code."
		}
	default:
		return err
	}
	return a.render(c, "login", v)
}

// loggedIn sets the new login's cookie and goes on.
func (a *API) loggedIn(c *fiber.Ctx, res accounts.WebLogin, next string) error {
	a.setCookie(c, a.cookieName(c), res.Token.Reveal(), 0)
	a.setCookie(c, preLoginCookie, "", -1)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (a *API) logoutSubmit(w *webCall) error {
	token := strings.Clone(w.c.Cookies(a.cookieName(w.c)))
	if err := a.d.Sessions.LogoutWeb(w.c.UserContext(), token, w.p.Principal); err != nil {
		return err
	}
	a.setCookie(w.c, a.cookieName(w.c), "", -1)
	return w.c.Redirect("/admin/login", fiber.StatusSeeOther)
}
