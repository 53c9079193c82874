package device

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	activation "github.com/xtreamd/xtreamd/internal/device"
)

// The error codes of the OAuth endpoints: RFC 6749 §5.2's and RFC 8628 §3.5's.
const (
	errInvalidRequest         = "invalid_request"
	errInvalidGrant           = "invalid_grant"
	errUnsupportedGrantType   = "unsupported_grant_type"
	errAuthorizationPending   = "authorization_pending"
	errSlowDown               = "slow_down"
	errAccessDenied           = "access_denied"
	errExpiredToken           = "expired_token"
	errTemporarilyUnavailable = "temporarily_unavailable"
)

// oauthError is an OAuth error answer. Interval is ours: after slow_down, the interval the
// device must now keep (RFC 8628 lets the client add 5 s itself; saying it costs nothing).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	Interval    int    `json:"interval,omitempty"`
}

// pollError is the answer of each poll outcome but Issued (RFC 8628 §3.5): the one place an
// outcome becomes a wire error.
func pollError(o activation.Outcome) oauthError {
	switch o {
	case activation.Pending:
		return oauthError{Error: errAuthorizationPending, Description: "the viewer has not approved the code yet"}
	case activation.SlowDown:
		return oauthError{Error: errSlowDown, Description: "polled sooner than the interval; the interval grew by 5 seconds"}
	case activation.Expired:
		return oauthError{Error: errExpiredToken, Description: "the code expired: ask for a new one"}
	case activation.Denied:
		return oauthError{Error: errAccessDenied, Description: "the viewer denied the request"}
	}
	return oauthError{Error: errInvalidGrant, Description: "unknown, used or superseded device code, or another client's"}
}

// writeOAuthError answers an OAuth error (RFC 6749 §5.2; RFC 8628 §3.5), never cached.
func writeOAuthError(c *fiber.Ctx, status int, e oauthError) error {
	return edge.WriteNoStore(c, status, e)
}

// badParam explains a refused parameter.
func badParam(name string) string {
	if name == "content-type" {
		return "the body must be application/x-www-form-urlencoded"
	}
	return name + ": repeated, too long or not text"
}

// unavailable answers an OAuth request that could not be decided (the database, the hashing
// queue): 503 temporarily_unavailable, logged once here (a hashing overload is logged by the
// limiter already).
func (h *Handler) unavailable(c *fiber.Ctx, what string, err error) error {
	if !errors.Is(err, access.ErrBusy) {
		h.log.ErrorContext(c.UserContext(), "request failed", "route", what, "err", err)
	}
	c.Set(fiber.HeaderRetryAfter, "5")
	return writeOAuthError(c, fiber.StatusServiceUnavailable, oauthError{Error: errTemporarilyUnavailable, Description: "try again shortly"})
}
