package portal

import (
	"encoding/json"
	"sync"

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

// linkError is a create_link that hands out nothing: cmd empty, error the word the client
// turns into its message (limit, nothing_to_play, link_fault, access_denied).
type linkError struct {
	ID         string `json:"id"`
	Cmd        string `json:"cmd"`
	StreamerID int    `json:"streamer_id"`
	LinkID     int    `json:"link_id"`
	Load       int    `json:"load"`
	Error      string `json:"error"`
}

// Pooled buffers for the list answers: a 10,000-channel list is megabytes, built per request.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// maxPooledBuffer keeps one huge answer from pinning its buffer in the pool.
const maxPooledBuffer = 32 << 20

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

// sendEnvelope answers js, already encoded, in the envelope. The body is copied: the pooled
// buffer goes back to the pool when the handler returns, before fasthttp writes the response.
func sendEnvelope(c *fiber.Ctx, js []byte) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(fiber.StatusOK)
	body := c.Response().BodyWriter()
	_, _ = body.Write([]byte(`{"js":`))
	_, _ = body.Write(js)
	_, _ = body.Write([]byte(`}`))
	return nil
}

// appendJSON appends the encoding of v (our own answer types: they always encode).
func appendJSON(b []byte, v any) []byte {
	enc, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}
