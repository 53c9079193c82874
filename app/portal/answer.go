package portal

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
)

// Every answer is the Stalker envelope {"js": …} as application/json (spec §5.2), but for the
// two plain-text refusals the stock client recognises. Small answers are encoded from typed
// values; channel lists are appended from bytes rendered once per snapshot (render.go).

// writeJS answers js in the envelope with status 200.
func writeJS(c *fiber.Ctx, js any) error { return edge.WritePortal(c, fiber.StatusOK, js) }

// portalError is the js of an answer that is not the action's: its "error" member.
type portalError struct {
	Error string `json:"error"`
}

// writeError answers status with {"js":{"error":msg}}: a request we cannot serve (bad input,
// too many requests, database down). Clients show a connection problem on a non-200 status.
func writeError(c *fiber.Ctx, status int, msg string) error {
	return edge.WritePortal(c, status, portalError{Error: msg})
}

// sendText answers one of the plain-text refusals with status 200 (spec §5.2, §7 #23).
func sendText(c *fiber.Ctx, body []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(fiber.StatusOK).Send(body) // package-level constants, never modified
}

// sendBuilt answers the envelope around the js that build appends. It appends straight into
// fasthttp's own (pooled) body buffer and hands it back, so a list of megabytes is built once
// and never copied.
func sendBuilt(c *fiber.Ctx, build func(b []byte) []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(fiber.StatusOK)
	resp := c.Response()
	b := append(resp.SwapBody(nil)[:0], `{"js":`...)
	b = append(build(b), '}')
	resp.SwapBody(b)
	return nil
}
