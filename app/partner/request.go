package partner

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The parse step of every /api/v2 call: the body (decoded strictly into owned values), the
// viewer's address from the partner's X-Forwarded-For and the viewer's device from the
// AP-Device-Identifier and X-Device-Info headers (seed 001) or the body's device member.
// Nothing after it reads the request.

// Header names of seed 001's server-to-server calls.
const (
	headerDeviceID   = "AP-Device-Identifier"
	headerDeviceInfo = "X-Device-Info"
)

// Limits on what a partner says of its viewer.
const (
	maxUserAgent = 512
	maxDeviceID  = 256
	maxModel     = 128
)

// lineRef names a line: its id (a JSON number) or its username (a JSON string).
type lineRef struct {
	id       int64
	username string
}

// memberError is a member whose own decoder refused it (the line, the device): decodeBody
// names the member and says why.
type memberError struct{ member, reason string }

func (e *memberError) Error() string { return e.member + ": " + e.reason }

// UnmarshalJSON reads a positive id or a username of at most 128 characters.
func (l *lineRef) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil || s == "" || !input.Text(s, 512) || len([]rune(s)) > 128 {
			return &memberError{"line", "a username of 1 to 128 characters, or a line id"}
		}
		l.username = s
		return nil
	}
	id, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || id <= 0 {
		return &memberError{"line", "a positive line id, or a username"}
	}
	l.id = id
	return nil
}

func (l lineRef) given() bool { return l.id > 0 || l.username != "" }

// identity is the check's identity of partnerID acting for the line.
func (l lineRef) identity(partnerID int64) access.PartnerLine {
	return access.PartnerLine{PartnerID: partnerID, LineID: l.id, Username: l.username}
}

// key names the line in the permit cache ("#42", "u:alice").
func (l lineRef) key() string {
	if l.id > 0 {
		return "#" + strconv.FormatInt(l.id, 10)
	}
	return "u:" + l.username
}

// deviceBody is the body's device member, for callers that cannot set seed 001's headers.
type deviceBody struct {
	ID        string `json:"id"`
	UserAgent string `json:"user_agent"`
	Model     string `json:"model"`
}

// UnmarshalJSON decodes the device member as strictly as the body around it: a member other
// than id, user_agent and model is refused, so a partner's misspelt member is a 400 rather
// than a device silently left unnamed.
func (d *deviceBody) UnmarshalJSON(b []byte) error {
	type plain deviceBody // without this method
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &memberError{"device." + te.Field, "must be a " + te.Type.String()}
		}
		return &memberError{"device", "an object of id, user_agent and model, each a string"}
	}
	*d = deviceBody(p)
	return nil
}

// viewer is the viewer a call is about: its address and its device.
type viewer struct {
	ip       netip.Addr
	deviceID string
	ua       string // the check's User-Agent (step 7)
	model    string
}

// parseViewer reads the viewer: the address from X-Forwarded-For (required when needIP), the
// device from the headers, filled in from the body's device member where a header says nothing.
func (h *Handler) parseViewer(c *fiber.Ctx, body deviceBody, needIP bool) (viewer, *apiProblem) {
	ip, ok := forwardedViewer(c, h.d.Proxies)
	if !ok && needIP {
		return viewer{}, invalid("X-Forwarded-For", "the viewer's address is required in X-Forwarded-For (the partner's own hop last)")
	}
	v := viewer{ip: ip}
	info, ok := parseDeviceInfo(c.Get(headerDeviceInfo))
	if !ok {
		return viewer{}, invalid(headerDeviceInfo, "base64 of a JSON object (userAgent, model …)")
	}
	v.deviceID = firstText(maxDeviceID, c.Get(headerDeviceID), body.ID)
	v.ua = firstText(maxUserAgent, info.UserAgent, body.UserAgent)
	v.model = firstText(maxModel, info.Model, body.Model)
	return v, nil
}

// firstText is the first non-empty value, made storable (cut and cleaned: it reaches the
// client log) and copied.
func firstText(limit int, values ...string) string {
	for _, s := range values {
		if s = strings.TrimSpace(s); s != "" {
			return strings.Clone(input.Sanitize(input.Truncate(s, limit), limit))
		}
	}
	return ""
}

// deviceInfo is what X-Device-Info says (seed 001: base64-encoded JSON of the device).
type deviceInfo struct {
	UserAgent string `json:"userAgent"`
	Model     string `json:"model"`
}

// parseDeviceInfo decodes X-Device-Info: base64 (standard or URL alphabet, padded or not) of
// a JSON object; only userAgent and model are read. An empty header is no information.
func parseDeviceInfo(h string) (deviceInfo, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return deviceInfo{}, true
	}
	if len(h) > 8192 {
		return deviceInfo{}, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		raw, err := enc.DecodeString(h)
		if err != nil {
			continue
		}
		var info deviceInfo
		if json.Unmarshal(raw, &info) != nil || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return deviceInfo{}, false
		}
		return info, true
	}
	return deviceInfo{}, false
}

// forwardedViewer is the viewer's address a partner forwards (seed 001: the partner is the
// trusted caller, and it names its viewer in X-Forwarded-For). The hops are the header's
// entries and then the TCP peer; from the right, the trusted reverse proxies in front of the
// panel are passed over, the first other hop is the partner itself (edge.ClientIP's answer),
// and the hop before it is the viewer. A garbled entry there, or none, is no viewer.
func forwardedViewer(c *fiber.Ctx, proxies []netip.Prefix) (netip.Addr, bool) {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var hops []string
	if xff := c.Get(fiber.HeaderXForwardedFor); xff != "" {
		hops = strings.Split(xff, ",")
	}
	caller := len(hops) // the peer's index in hops + peer
	if trusted(proxies, peer.Unmap()) {
		for caller--; caller >= 0; caller-- {
			a, ok := edge.ForwardedAddr(hops[caller])
			if !ok {
				return netip.Addr{}, false
			}
			if !trusted(proxies, a) {
				break
			}
		}
	}
	if caller < 1 {
		return netip.Addr{}, false
	}
	return edge.ForwardedAddr(hops[caller-1]) // a zone too is no viewer (edge.ForwardedAddr)
}

func trusted(proxies []netip.Prefix, a netip.Addr) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
