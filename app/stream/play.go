package stream

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/token"
)

// play serves /play/{token}[.ts|.m3u8|.{ext}], the link MAG create_link hands out: the token
// alone names the line and the stream, and its kind picks the route (live, movie or episode).
func (h *Handler) play(c *fiber.Ctx) error {
	r, ok := h.parsePlay(c)
	if !ok {
		return notFound(c)
	}
	claims, err := h.tokens.Verify(r.token, h.now(), r.client.ip)
	if err != nil {
		// Let the check refuse it, so a failing token counts towards the flood limit like a
		// wrong password.
		h.check(c, r.client.request(access.PlayToken{Token: r.token}))
		if c.Response().StatusCode() == fiber.StatusOK {
			return edge.Empty(c, fiber.StatusUnauthorized)
		}
		return nil
	}
	who := access.PlayToken{Token: r.token, Kind: claims.Kind}
	switch claims.Kind {
	case token.KindLive:
		format, ok := liveFormat(r.ext)
		if !ok {
			return notFound(c)
		}
		return h.openLive(c, liveRequest{who: who, id: claims.StreamID, format: format, client: r.client})
	case token.KindVOD, token.KindSeries:
		if r.ext != "" && !validExt(r.ext) {
			return notFound(c)
		}
		return h.openVOD(c, vodRequest{who: who, kind: claims.Kind, id: claims.StreamID, ext: r.ext, rng: r.rng, client: r.client})
	}
	return edge.Empty(c, fiber.StatusUnauthorized)
}
