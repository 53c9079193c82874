package edge

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Format is how a surface shapes an answer that is not its normal one: an error of ours, or one
// of Fiber's own (413, 404 ...).
type Format uint8

// The formats.
const (
	// FormatText is a plain-text message: routes without a surface (health, unmatched paths).
	FormatText Format = iota
	// FormatEmpty is the status with an empty body. Xtream players (player_api.php, get.php ...)
	// and video players (stream URLs) take nothing else (spec §1.2, §2.2, §7 #19).
	FormatEmpty
	// FormatPortal is the Stalker envelope {"js": …} (spec §5.2).
	FormatPortal
	// FormatProblem is RFC 9457 application/problem+json, for the REST API.
	FormatProblem
)

// FormatOf is the error format of a surface.
func FormatOf(s Surface) Format {
	switch s {
	case SurfacePlayerAPI, SurfaceGet, SurfaceXMLTV, SurfacePanelAPI, SurfaceEnigma2, SurfaceStream:
		return FormatEmpty
	case SurfacePortal:
		return FormatPortal
	case SurfaceAPI, SurfacePartner:
		return FormatProblem
	}
	// SurfaceAdmin: api.php's JSON and the web page's HTML come with app/admin.
	return FormatText
}

// internalMessage is all a client learns of a fault of ours (C9: never err.Error()).
const internalMessage = "internal error"

// ErrorStatus is the status and client-safe message of an error a handler returned: a
// *fiber.Error (other than 500) keeps its own, anything else is 500 "internal error".
func ErrorStatus(err error) (int, string) {
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code != fiber.StatusInternalServerError {
		return fe.Code, fe.Message
	}
	return fiber.StatusInternalServerError, internalMessage
}

// WriteError answers err in the format of the surface that served c (see Route). It is the app's
// ErrorHandler's answer; logging the error is the caller's job.
func WriteError(c *fiber.Ctx, err error) error {
	status, msg := ErrorStatus(err)
	switch FormatOf(SurfaceOf(c)) {
	case FormatEmpty:
		return Empty(c, status)
	case FormatPortal:
		return WritePortal(c, status, portalError{Error: msg})
	case FormatProblem:
		p := Problem{Status: status, Title: http.StatusText(status)}
		if status != fiber.StatusInternalServerError {
			p.Detail = msg
		}
		return WriteProblem(c, p)
	}
	return c.Status(status).SendString(msg)
}

// Empty answers status with an empty body.
func Empty(c *fiber.Ctx, status int) error {
	c.Status(status)
	c.Response().ResetBody()
	return nil
}

// Unavailable answers a request whose check could not decide with 503 and an empty body. When
// busy (the password-hashing queue was full for its whole bound: access.ErrBusy) it adds
// Retry-After: 1, the clear "try again in a second" of a login shed under load, which players
// and HTTP clients honour instead of retrying at once or giving up.
func Unavailable(c *fiber.Ctx, busy bool) error {
	if busy {
		c.Set(fiber.HeaderRetryAfter, "1")
	}
	return Empty(c, fiber.StatusServiceUnavailable)
}

// portalError is the js payload of a failed portal call: the "error" member the Stalker client
// reads (spec §5.4).
type portalError struct {
	Error string `json:"error"`
}

// WritePortal answers status with the Stalker envelope {"js": js} as application/json (spec
// §5.2; XC's text/javascript is not needed by any client).
func WritePortal(c *fiber.Ctx, status int, js any) error {
	b, err := json.Marshal(struct {
		JS any `json:"js"`
	}{js})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(b)
}

// Problem is an RFC 9457 problem detail. Type is a URI naming the problem ("" is about:blank,
// whose Title is the status text); Field names the request member at fault, when there is one.
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

// MIMEProblem is the media type of a problem detail.
const MIMEProblem = "application/problem+json"

// WriteProblem answers p as application/problem+json with p.Status (500 when unset).
func WriteProblem(c *fiber.Ctx, p Problem) error {
	if p.Status == 0 {
		p.Status = fiber.StatusInternalServerError
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, MIMEProblem)
	return c.Status(p.Status).Send(b)
}

// WriteNoStore answers v as JSON with status, marked so that no cache keeps it: the answers of
// OAuth token endpoints (RFC 6749 §5.1, §5.2) and of others that hand out credentials.
func WriteNoStore(c *fiber.Ctx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderPragma, "no-cache")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(b)
}

// BearerToken is the token of the request's "Authorization: Bearer <token>" (RFC 6750 §2.1;
// the scheme in any case), copied out of the request; ok false when there is none, or it is
// longer than max bytes.
func BearerToken(c *fiber.Ctx, max int) (string, bool) {
	scheme, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > max {
		return "", false
	}
	return strings.Clone(tok), true
}
