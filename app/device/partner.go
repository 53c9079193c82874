package device

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// An authenticated partner of the profile routes: a partner client's client_credentials access
// token (internal/partner) with the profiles scope, from one of its networks, on its own path.
// Its client id is the one its devices' codes were asked for with (POST /oauth/device/code
// client_id=…): the codes and credentials those made are the ones it sees.

// maxBearer bounds the token looked at (partner.Verify bounds it again).
const maxBearer = 8192

// authPartner is an authenticated partner and what it may act for.
type authPartner struct {
	partner.Principal
	holds func(partnerID int64, line *access.Line) bool
}

// mayActFor reports whether the partner may act for line (its bouquets and lines scope), as
// the decisions ask too.
func (p authPartner) mayActFor(line *access.Line) bool { return p.holds(p.PartnerID, line) }

// partner authenticates what every profile route presents: the bearer token, the caller's
// address, the path's partner. ok false: the request was refused, and answered (err is the
// answer's).
func (h *Handler) partner(c *fiber.Ctx) (authPartner, bool, error) {
	tok, ok := edge.BearerToken(c, maxBearer)
	if !ok || h.partners == nil {
		return authPartner{}, false, writeProblem(c, fiber.StatusUnauthorized, problemUnauthorized, "a Bearer access token from /o/client/token is required", "")
	}
	ip := h.clientIP(c)
	pr, err := h.partners.Verify(tok, ip)
	switch {
	case errors.Is(err, partner.ErrAddress):
		h.log.WarnContext(c.UserContext(), "partner call from outside its networks", "client_ip", ip.String(), "err", err)
		return authPartner{}, false, writeProblem(c, fiber.StatusForbidden, problemForbidden, "this client may not call from "+ip.String(), "")
	case err != nil:
		h.log.InfoContext(c.UserContext(), "partner token refused", "client_ip", ip.String(), "err", err)
		return authPartner{}, false, writeProblem(c, fiber.StatusUnauthorized, problemUnauthorized, "the access token is invalid, expired or revoked", "")
	case c.Params("partner") != pr.ClientID:
		return authPartner{}, false, writeProblem(c, fiber.StatusForbidden, problemForbidden, "the path names another partner than the token's", "")
	case !pr.HasScope(partner.ScopeProfiles):
		return authPartner{}, false, writeProblem(c, fiber.StatusForbidden, problemForbidden, "the access token does not grant the scope "+partner.ScopeProfiles, "")
	}
	return authPartner{Principal: pr, holds: h.partners.Holds}, true, nil
}
