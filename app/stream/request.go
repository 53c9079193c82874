package stream

import (
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/token"
)

// One parse step per route family reads everything the handler needs out of the request into
// an owned struct (fasthttp reuses its buffers once the handler returns): the identity, ids,
// container or extension, the Range header, the timeshift window and the client. Nothing after
// it reads c.Params, c.Query or c.Get.

// surfaceName is the surface in the client log.
const surfaceName = string(edge.SurfaceStream)

// Header length limits: a longer value is ignored (Range) or cut (User-Agent).
const (
	maxUserAgentLen = 512
	maxRangeLen     = 256
)

// client is who asks, copied out of the request.
type client struct {
	ip netip.Addr
	ua string
}

// clientOf copies the client. The User-Agent is cut and made storable (it reaches the lease and
// the client log, and PostgreSQL refuses a NUL or invalid UTF-8 in text): a header many boxes
// fix in firmware is cleaned, not refused.
func (h *Handler) clientOf(c *fiber.Ctx) client {
	ua := input.Truncate(c.Get(fiber.HeaderUserAgent), maxUserAgentLen)
	if input.Text(ua, maxUserAgentLen) {
		ua = strings.Clone(ua)
	} else {
		ua = input.Truncate(input.Sanitize(ua, maxUserAgentLen), maxUserAgentLen) // a new string
	}
	return client{ip: edge.ClientIP(c, h.d.Proxies), ua: ua}
}

// request is the access request of this client identified as who.
func (cl client) request(who access.Identity) access.Request {
	return access.Request{Who: who, ClientIP: cl.ip, UserAgent: cl.ua, Surface: surfaceName}
}

// rangeHeader copies the Range header; an over-long one is ignored.
func rangeHeader(c *fiber.Ctx) string {
	r := c.Get(fiber.HeaderRange)
	if len(r) > maxRangeLen {
		return ""
	}
	return strings.Clone(r)
}

// whoFault says why parseWho refused.
type whoFault uint8

const (
	whoOK             whoFault = iota
	whoBadToken                // a ?play_token= that cannot be a token
	whoBadCredentials          // a missing or over-long username or password, or one that is not text
)

// parseWho identifies the line: an optional ?play_token= or ?token= (a partner's media token,
// seed 000), which, when present, alone identifies it for a route of kind — the path's user and
// pass are placeholders then (MAG links carry a placeholder password; a media token goes on
// any, /live/t/t/42.ts?token=…) — else the credentials user and pass (raw path or query values).
func parseWho(c *fiber.Ctx, kind token.Kind, user, pass string) (access.Identity, whoFault) {
	pt := c.Query("play_token")
	if pt == "" {
		pt = c.Query("token")
	}
	if pt != "" {
		if !validToken(pt) {
			return nil, whoBadToken
		}
		return access.PlayToken{Token: strings.Clone(pt), Kind: kind}, whoOK
	}
	u, ok1 := cred(user)
	p, ok2 := cred(pass)
	if !ok1 || !ok2 {
		return nil, whoBadCredentials
	}
	return access.Password{Username: u, Password: p}, whoOK
}

// liveRequest is a live open: /live, the short form, or a live /play link.
type liveRequest struct {
	who    access.Identity
	id     int64
	format string // formatTS or formatHLS
	client client
}

// parseLive reads /live/{user}/{pass}/{id}[.ts|.m3u8] and the short form.
func (h *Handler) parseLive(c *fiber.Ctx) (liveRequest, bool) {
	id, format, ok := parseLiveFile(c.Params("file"))
	if !ok {
		return liveRequest{}, false
	}
	who, fault := parseWho(c, token.KindLive, c.Params("user"), c.Params("pass"))
	if fault != whoOK {
		return liveRequest{}, false
	}
	return liveRequest{who: who, id: id, format: format, client: h.clientOf(c)}, true
}

// parseLegacy reads /{id}.ch and /ch{id}.m3u8 (format says which) with ?u=USER:p=PASS.
func (h *Handler) parseLegacy(c *fiber.Ctx, format string) (liveRequest, bool) {
	id, ok := input.ID(c.Params("file"))
	if !ok {
		return liveRequest{}, false
	}
	user, pass, ok := legacyCredentials(string(c.Request().URI().QueryString()))
	if !ok {
		return liveRequest{}, false
	}
	who, fault := parseWho(c, token.KindLive, user, pass)
	if fault != whoOK {
		return liveRequest{}, false
	}
	return liveRequest{who: who, id: id, format: format, client: h.clientOf(c)}, true
}

// legacyCredentials splits the query of a legacy live URL as XC 2.9 does: the whole query,
// unescaped, at ":p="; the username is what precedes it after "u=", the password what follows
// it (up to a further ":p=", which XC's explode would cut there too). Both stay escaped as
// path values are (cred unescapes them), so they are escaped again here.
func legacyCredentials(rawQuery string) (user, pass string, ok bool) {
	q, err := url.QueryUnescape(rawQuery)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(q, ":p=")
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "u=") {
		return "", "", false
	}
	return url.PathEscape(parts[0][len("u="):]), url.PathEscape(parts[1]), true
}

// vodRequest is a movie or episode open: /movie, /series, or a VOD /play link.
type vodRequest struct {
	who    access.Identity
	kind   token.Kind // token.KindVOD (movie) or token.KindSeries (episode)
	id     int64
	ext    string // as asked; the catalog's container extension wins
	rng    string // the Range header, "" for none
	client client
}

// parseVOD reads /movie/{user}/{pass}/{id}.{ext} and /series/… (kind says which).
func (h *Handler) parseVOD(c *fiber.Ctx, kind token.Kind) (vodRequest, bool) {
	id, ext, ok := parseVODFile(c.Params("file"))
	if !ok {
		return vodRequest{}, false
	}
	who, fault := parseWho(c, kind, c.Params("user"), c.Params("pass"))
	if fault != whoOK {
		return vodRequest{}, false
	}
	return vodRequest{who: who, kind: kind, id: id, ext: strings.Clone(ext), rng: rangeHeader(c), client: h.clientOf(c)}, true
}

// shiftForm is one of the catch-up URL forms (spec §2.4).
type shiftForm uint8

const (
	shiftPath shiftForm = iota // /timeshift/{user}/{pass}/{minutes}/{start}/{id}.{ts|m3u8}
	shiftMAG                   // /timeshifts/{user}/{pass}/{minutes}/{id}/{start}.{ext}
	shiftPHP                   // /streaming/timeshift.php?username=&password=&stream=&start=&duration=
)

// shiftRequest is a parsed catch-up request.
type shiftRequest struct {
	who     access.Identity
	id      int64
	start   time.Time
	minutes int
	format  string
	// tsURL is the .ts form of this request (path and query), for the .m3u8 answer.
	tsURL  string
	rng    string
	client client
}

// parseShift reads a catch-up request of any form. It answers the status to refuse with (0 when
// the request parsed): 404 for anything malformed, but 401 for timeshift.php without
// credentials.
func (h *Handler) parseShift(c *fiber.Ctx, form shiftForm) (shiftRequest, int) {
	var r shiftRequest
	minutes, start, file := c.Params("minutes"), c.Params("start"), c.Params("file")
	user, pass := c.Params("user"), c.Params("pass")
	switch form {
	case shiftMAG:
		var ext string
		start, ext = splitFile(file)
		if file = c.Params("id"); ext != "" {
			file += "." + ext
		}
	case shiftPHP:
		minutes, start, file = c.Query("duration"), c.Query("start"), c.Query("stream")
		user, pass = c.Query("username"), c.Query("password")
	}
	var ok bool
	if r.minutes, ok = parseMinutes(minutes); !ok {
		return r, fiber.StatusNotFound
	}
	if r.start, ok = parseStart(start, h.d.Location); !ok {
		return r, fiber.StatusNotFound
	}
	if form == shiftPHP {
		r.id, r.format, ok = parsePHPStream(file)
	} else {
		r.id, r.format, ok = parseLiveFile(file)
	}
	if !ok {
		return r, fiber.StatusNotFound
	}
	var fault whoFault
	switch r.who, fault = parseWho(c, token.KindTimeshift, user, pass); {
	case fault == whoBadCredentials && form == shiftPHP:
		return r, fiber.StatusUnauthorized
	case fault != whoOK:
		return r, fiber.StatusNotFound
	}
	if r.format == formatHLS {
		r.tsURL = strings.TrimSuffix(c.Path(), ".m3u8") + ".ts"
		if q := c.Request().URI().QueryString(); len(q) > 0 {
			r.tsURL += "?" + string(q)
		}
		r.tsURL = strings.Clone(r.tsURL)
	}
	r.rng, r.client = rangeHeader(c), h.clientOf(c)
	return r, 0
}

// hlsRequest is a request under /hls/{token}/: a segment or the session playlist.
type hlsRequest struct {
	token  string
	index  bool   // index.m3u8, the session playlist
	seq    uint64 // the segment, when seqOK
	seqOK  bool
	client client
}

// parseHLS reads /hls/{token}/{seq}.ts and /hls/{token}/index.m3u8. A token that cannot be one
// is refused here; a bad segment name only after the token was verified (403 before 404).
func (h *Handler) parseHLS(c *fiber.Ctx) (hlsRequest, bool) {
	raw, file := c.Params("token"), c.Params("file")
	if !validToken(raw) {
		return hlsRequest{}, false
	}
	r := hlsRequest{token: strings.Clone(raw), client: h.clientOf(c)}
	if file == "index.m3u8" {
		r.index = true
	} else {
		r.seq, r.seqOK = parseSeq(file)
	}
	return r, true
}

// playRequest is a /play/{token}[.ext] link; the token's kind decides the rest.
type playRequest struct {
	token  string
	ext    string
	rng    string
	client client
}

// parsePlay reads /play/{token}[.ts|.m3u8|.{ext}].
func (h *Handler) parsePlay(c *fiber.Ctx) (playRequest, bool) {
	raw, ext := splitFile(c.Params("token"))
	if !validToken(raw) {
		return playRequest{}, false
	}
	return playRequest{token: strings.Clone(raw), ext: strings.Clone(ext), rng: rangeHeader(c), client: h.clientOf(c)}, true
}
