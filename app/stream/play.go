package stream

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/token"
)

// play serves /play/{token}[.ts|.m3u8|.{ext}], the link MAG create_link hands out: the token
// alone names the line and the stream, and its kind picks the route (live, movie or episode).
func (h *Handler) play(c *fiber.Ctx) error {
	raw, ext := splitFile(c.Params("token"))
	if !validToken(raw) {
		return notFound(c)
	}
	tok := string([]byte(raw))
	cl := h.clientOf(c)
	claims, err := h.tokens.Verify(tok, h.now(), cl.ip)
	if err != nil {
		// Let the check refuse it, so a failing token counts towards the flood limit like a
		// wrong password.
		h.check(c, access.Request{PlayToken: tok, ClientIP: cl.ip, UserAgent: cl.ua, Surface: "stream"})
		if c.Response().StatusCode() == fiber.StatusOK {
			return status(c, fiber.StatusUnauthorized)
		}
		return nil
	}
	w := who{playToken: tok}
	switch claims.Kind {
	case token.KindLive:
		format, ok := liveFormat(ext)
		if !ok {
			return notFound(c)
		}
		return h.openLive(c, w, claims.StreamID, format)
	case token.KindVOD, token.KindSeries:
		if ext != "" && !validExt(ext) {
			return notFound(c)
		}
		return h.openVOD(c, w, claims.StreamID, ext, claims.Kind)
	}
	return status(c, fiber.StatusUnauthorized)
}
