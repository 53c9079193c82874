package stream

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
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
// with an empty body, or 503 when the check could not decide (database down; hashing
// overloaded, with Retry-After). ok reports whether the caller goes on.
func (h *Handler) check(c *fiber.Ctx, r access.Request) (access.Decision, bool) {
	d, err := h.d.Access.Check(c.UserContext(), r)
	if err != nil {
		busy := errors.Is(err, access.ErrBusy)
		if !busy { // an overload is logged once by the hashing limiter
			h.log.WarnContext(c.UserContext(), "stream check failed", "stream_id", r.StreamID, "err", err)
		}
		_ = edge.Unavailable(c, busy)
		return access.Decision{}, false
	}
	if d.Code != access.OK {
		_ = edge.Empty(c, statusFor(d.Code))
		return d, false
	}
	return d, true
}

// open is every stream open (r.StreamOpen): the check, then serve with the decision, as one
// edge.Opens run, so the outcome is recorded and the lease released on every path. serve hands
// the lease to its writer with o.Handoff. An HLS lease is not held: it belongs to the session,
// which ends by itself when its polls stop.
func (h *Handler) open(c *fiber.Ctx, r access.Request, serve func(o *edge.Open, d access.Decision) error) error {
	return h.opens.Run(c, r.Container, func(o *edge.Open) error {
		d, ok := h.check(c, r)
		if !ok {
			return nil
		}
		if d.Lease != nil && r.Container != conns.ContainerHLS {
			o.Hold(d.Lease)
		}
		return serve(o, d)
	})
}
