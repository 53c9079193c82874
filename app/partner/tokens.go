package partner

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Media tokens (seed 000): POST /api/v2/{partner}/tokens {line, ip, ttl} → a token of the line,
// bound to the viewer's address, that the stream routes take as ?token= in place of the path's
// username and password: /live/media/token/{id}.ts?token=…, /movie/media/token/{id}.{ext}?token=…
// (the two path segments are placeholders; any will do). The line is checked first, as a
// request of the viewer (steps 1 to 8): a token a stream open would refuse is not handed out.

type tokenBody struct {
	Line   lineRef    `json:"line"`
	IP     string     `json:"ip"`  // the viewer's address; default: X-Forwarded-For's
	TTL    int64      `json:"ttl"` // seconds; 0: 300
	Device deviceBody `json:"device"`
}

// tokenAnswer201 is a new media token with the URL forms it opens ({stream_id} and {ext} to
// fill in).
type mediaTokenCreated struct {
	mediaTokenAnswer
	LineID int64             `json:"line_id"`
	IP     string            `json:"ip"`
	URLs   map[string]string `json:"urls"`
}

func (h *Handler) parseToken(c *fiber.Ctx) (tokenBody, viewer, *apiProblem) {
	var b tokenBody
	if bad := decodeBody(c, &b, "line", "ip", "ttl", "device"); bad != nil {
		return b, viewer{}, bad
	}
	if !b.Line.given() {
		return b, viewer{}, invalid("line", "required: a line id or username")
	}
	if bad := checkTTL(&b.TTL); bad != nil {
		return b, viewer{}, bad
	}
	v, bad := h.parseViewer(c, b.Device, b.IP == "")
	if bad != nil {
		return b, viewer{}, bad
	}
	if b.IP != "" {
		ip, err := netip.ParseAddr(b.IP)
		if err != nil || ip.Zone() != "" {
			return b, viewer{}, invalid("ip", "an IPv4 or IPv6 address")
		}
		v.ip = ip.Unmap()
	}
	return b, v, nil
}

// mediaToken serves POST /api/v2/{partner}/tokens.
func (h *Handler) mediaToken(c *fiber.Ctx, p partner.Principal) error {
	b, v, bad := h.parseToken(c)
	if bad != nil {
		return writeProblem(c, bad)
	}
	st, limited := h.bounded(p)
	if limited != nil {
		return writeProblem(c, limited)
	}
	req := h.request(p, b.Line, v)
	req.Probe, req.ProbeSlots = false, false // a request of the viewer: the stream open weighs 9 and 10
	d, err := h.d.Access.Check(c.UserContext(), req)
	if err != nil {
		return fmt.Errorf("media token: %w", err)
	}
	if d.Code != access.OK {
		h.d.Partners.Denials.Denied(p.PartnerID, st)
		return writeProblem(c, denied(d.Code))
	}
	mt, err := h.d.Partners.SignMedia(p, partner.MediaGrant{Kind: token.KindMedia, LineID: d.Line.ID, IP: v.ip,
		TTL: time.Duration(b.TTL) * time.Second, Credential: d.IssuingCredential()})
	if err != nil {
		return fmt.Errorf("media token: %w", err)
	}
	q := "?token=" + mt.Token
	base := h.d.BaseURL
	return edge.WriteNoStore(c, fiber.StatusCreated, mediaTokenCreated{mediaTokenAnswer: *mediaAnswer(mt, h.now()), LineID: d.Line.ID,
		IP: v.ip.String(), URLs: map[string]string{
			"live":      base + "/live/media/token/{stream_id}.ts" + q,
			"live_hls":  base + "/live/media/token/{stream_id}.m3u8" + q,
			"movie":     base + "/movie/media/token/{stream_id}.{ext}" + q,
			"series":    base + "/series/media/token/{stream_id}.{ext}" + q,
			"timeshift": base + "/timeshift/media/token/{minutes}/{start}/{stream_id}.ts" + q,
		}})
}

// denied is the problem of a request the check refused: 403 with the code.
func denied(code access.Code) *apiProblem {
	d := denialOf(code)
	p := problem(fiber.StatusForbidden, problemDenied, d.Message)
	p.Code = d.Code
	return p
}

type logoutBody struct {
	MediaTokens []string `json:"media_tokens"`
	AccessToken bool     `json:"access_token"` // also revoke the access token of this call
}

// logoutAnswer follows seed 001's logout: actionType "none" says nothing interactive remains
// (no browser holds a session of these tokens); revoked says what ended.
type logoutAnswer struct {
	ActionName string        `json:"actionName"`
	ActionType string        `json:"actionType"`
	Revoked    logoutRevoked `json:"revoked"`
}

type logoutRevoked struct {
	MediaSessions int  `json:"media_sessions"`
	AccessToken   bool `json:"access_token"`
}

// maxLogoutTokens bounds the media tokens one logout revokes.
const maxLogoutTokens = 100

// logout serves POST /api/v2/{partner}/logout (seed 001 phase E): the media sessions given
// stop working, and their open streams end, on every instance within a second; with
// access_token, so does the access token of the call.
func (h *Handler) logout(c *fiber.Ctx, p partner.Principal) error {
	var b logoutBody
	if bad := decodeBody(c, &b, "media_tokens", "access_token"); bad != nil {
		return writeProblem(c, bad)
	}
	switch {
	case len(b.MediaTokens) == 0 && !b.AccessToken:
		return writeProblem(c, invalid("media_tokens", "name a media token to revoke, or set access_token"))
	case len(b.MediaTokens) > maxLogoutTokens:
		return writeProblem(c, invalid("media_tokens", "at most "+strconv.Itoa(maxLogoutTokens)))
	}
	out, err := h.d.Partners.Logout(c.UserContext(), p, b.MediaTokens, b.AccessToken)
	var fe *input.FieldError
	if errors.As(err, &fe) {
		return writeProblem(c, invalid(fe.Field, fe.Reason))
	} else if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	for _, s := range out.Sessions {
		h.d.Access.RevokeSession(s) // here at once; the others on the media_session change
	}
	return edge.WriteNoStore(c, fiber.StatusOK, logoutAnswer{ActionName: "logout", ActionType: "none",
		Revoked: logoutRevoked{MediaSessions: len(out.Sessions), AccessToken: out.AccessToken}})
}
