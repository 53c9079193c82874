package stream

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
)

// statusFor is the one place an access code becomes a stream status (spec §2.2, §7 #19): 405
// for an output format the line may not use, 406 for a stream outside its bouquets, 403 for a
// killed or replaced HLS session, 401 for every other denial. OK is 200.
func statusFor(code access.Code) int {
	switch code {
	case access.OK:
		return fiber.StatusOK
	case access.FormatDisallowed:
		return fiber.StatusMethodNotAllowed
	case access.NotInBouquet:
		return fiber.StatusNotAcceptable
	case access.SessionEnded:
		return fiber.StatusForbidden
	}
	return fiber.StatusUnauthorized
}

// check runs the access check and, unless it passed, answers the request: the denial's status
// with an empty body, or 503 when the check could not decide (database down). ok reports
// whether the caller goes on.
func (h *Handler) check(c *fiber.Ctx, r access.Request) (access.Decision, bool) {
	d, err := h.d.Access.Check(c.UserContext(), r)
	if err != nil {
		h.log.WarnContext(c.UserContext(), "stream check failed", "stream_id", r.StreamID, "err", err)
		_ = status(c, fiber.StatusServiceUnavailable)
		return access.Decision{}, false
	}
	if d.Code != access.OK {
		_ = status(c, statusFor(d.Code))
		return d, false
	}
	return d, true
}
