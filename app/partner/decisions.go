package partner

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Decisions (seed 001 phases C and D): may the line play these resources (stream ids) for this
// viewer now? Each is the check of a probe — steps 1 to 8, the format, step 9 without taking a
// slot, step 10 — for the PartnerLine identity; a permit of authorize comes with a media token
// bound to the viewer's address and its signed playback URL.

// maxResources is the most resources one preauthorization asks about.
const maxResources = 100

type preauthorizeBody struct {
	Line      lineRef    `json:"line"`
	Resources []int64    `json:"resources"`
	Device    deviceBody `json:"device"`
}

type authorizeBody struct {
	Line     lineRef    `json:"line"`
	Resource int64      `json:"resource"`
	Device   deviceBody `json:"device"`
	Format   string     `json:"format"` // a live resource's: ts (default) or m3u8
	TTL      int64      `json:"ttl"`    // of the media token, seconds; 0: 300
}

// decision is one resource's decision on the wire.
type decision struct {
	Resource   int64   `json:"resource"`
	Authorized bool    `json:"authorized"`
	Error      *denial `json:"error,omitempty"`
}

type preauthorizeAnswer struct {
	Decisions []decision `json:"decisions"`
}

// authorizeAnswer is a decision and, for a permit, its media token and playback URL.
type authorizeAnswer struct {
	decision
	Token *mediaTokenAnswer `json:"token,omitempty"`
	URL   string            `json:"url,omitempty"`
}

type mediaTokenAnswer struct {
	MediaToken string `json:"media_token"`
	Session    string `json:"session"`    // hex: what a logout revokes
	ExpiresAt  int64  `json:"expires_at"` // Unix seconds
	ExpiresIn  int64  `json:"expires_in"` // seconds
}

func mediaAnswer(mt partner.MediaToken, now time.Time) *mediaTokenAnswer {
	return &mediaTokenAnswer{MediaToken: mt.Token, Session: hex.EncodeToString(mt.Session[:]),
		ExpiresAt: mt.ExpiresAt.Unix(), ExpiresIn: int64(mt.ExpiresAt.Sub(now).Round(time.Second).Seconds())}
}

// request is the check's request of p acting for line, about viewer v: a probe with step 9.
func (h *Handler) request(p partner.Principal, line lineRef, v viewer) access.Request {
	return access.Request{Who: line.identity(p.PartnerID), ClientIP: v.ip, UserAgent: v.ua,
		Surface: string(edge.SurfacePartner), Probe: true, ProbeSlots: true}
}

func (h *Handler) parsePreauthorize(c *fiber.Ctx) (preauthorizeBody, viewer, *apiProblem) {
	var b preauthorizeBody
	if bad := decodeBody(c, &b, "line", "resources", "device"); bad != nil {
		return b, viewer{}, bad
	}
	switch {
	case !b.Line.given():
		return b, viewer{}, invalid("line", "required: a line id or username")
	case len(b.Resources) == 0 || len(b.Resources) > maxResources:
		return b, viewer{}, invalid("resources", "1 to 100 stream ids")
	}
	for i, id := range b.Resources {
		if id <= 0 || slices.Contains(b.Resources[:i], id) {
			return b, viewer{}, invalid(fmt.Sprintf("resources[%d]", i), "positive stream ids, each once")
		}
	}
	v, bad := h.parseViewer(c, b.Device, true)
	return b, v, bad
}

// preauthorize serves decisions/preauthorize: a decision per resource, in the order asked.
func (h *Handler) preauthorize(c *fiber.Ctx, p partner.Principal) error {
	b, v, bad := h.parsePreauthorize(c)
	if bad != nil {
		return writeProblem(c, bad)
	}
	st, limited := h.bounded(p)
	if limited != nil {
		return writeProblem(c, limited)
	}
	codes, err := h.decideEach(c.UserContext(), p, b.Line, b.Resources, v, st)
	if err != nil {
		return fmt.Errorf("preauthorize: %w", err)
	}
	out := preauthorizeAnswer{Decisions: make([]decision, len(codes))}
	for i, code := range codes {
		out.Decisions[i] = decision{Resource: b.Resources[i], Authorized: code == access.OK, Error: denialOf(code)}
	}
	return edge.WriteNoStore(c, fiber.StatusOK, out)
}

// decideEach decides every resource: the cached permits stand, the others go through one
// CheckEach. A denial of the shared steps is every resource's (and counts once against the
// partner's bound).
func (h *Handler) decideEach(ctx context.Context, p partner.Principal, line lineRef, ids []int64, v viewer,
	st partner.Settings) ([]access.Code, error) {
	permits, rules := h.d.Partners.Permits, h.d.Access.RulesVersion()
	codes := make([]access.Code, len(ids))
	keys := make([]partner.PermitKey, len(ids))
	var miss []int
	var missIDs []int64
	for i, id := range ids {
		keys[i] = permits.Key(p.PartnerID, line.key(), id, v.ip, v.ua)
		if _, ok := permits.Get(keys[i], rules); !ok {
			miss, missIDs = append(miss, i), append(missIDs, id)
		}
	}
	if len(miss) == 0 {
		return codes, nil
	}
	gen := permits.Begin()
	d, missCodes, err := h.d.Access.CheckEach(ctx, h.request(p, line, v), missIDs)
	if err != nil {
		return nil, err
	}
	if d.Code != access.OK {
		h.d.Partners.Denials.Denied(p.PartnerID, st)
		for i := range codes {
			codes[i] = d.Code
		}
		return codes, nil
	}
	permit := partner.Permit{LineID: d.Line.ID, Credential: d.IssuingCredential()}
	for j, i := range miss {
		if codes[i] = missCodes[j]; codes[i] == access.OK {
			permits.Put(keys[i], permit, rules, gen, st.PermitTTL)
		}
	}
	return codes, nil
}

// Live output formats a decision may ask for, as lines' allowed_output_formats name them.
const (
	formatTS  = "ts"
	formatHLS = "m3u8"
)

// parseAuthorize reads decisions/authorize; the resource's kind (from the catalog) says which
// format it may name.
func (h *Handler) parseAuthorize(c *fiber.Ctx) (authorizeBody, viewer, *apiProblem) {
	var b authorizeBody
	if bad := decodeBody(c, &b, "line", "resource", "device", "format", "ttl"); bad != nil {
		return b, viewer{}, bad
	}
	switch {
	case !b.Line.given():
		return b, viewer{}, invalid("line", "required: a line id or username")
	case b.Resource <= 0:
		return b, viewer{}, invalid("resource", "required: a stream id")
	case b.Format != "" && b.Format != formatTS && b.Format != formatHLS:
		return b, viewer{}, invalid("format", "ts or m3u8 (live resources only)")
	}
	if bad := checkTTL(&b.TTL); bad != nil {
		return b, viewer{}, bad
	}
	v, bad := h.parseViewer(c, b.Device, true)
	return b, v, bad
}

// checkTTL checks a media token lifetime in seconds, filling the default.
func checkTTL(ttl *int64) *apiProblem {
	if *ttl == 0 {
		*ttl = int64(partner.DefaultMediaTTL / time.Second)
	}
	if *ttl < int64(partner.MinMediaTTL/time.Second) || *ttl > int64(partner.MaxMediaTTL/time.Second) {
		return invalid("ttl", "10 to 86400 seconds")
	}
	return nil
}

// authorize serves decisions/authorize: a permit with its media token and playback URL, or a
// denial with its code.
func (h *Handler) authorize(c *fiber.Ctx, p partner.Principal) error {
	b, v, bad := h.parseAuthorize(c)
	if bad != nil {
		return writeProblem(c, bad)
	}
	st, limited := h.bounded(p)
	if limited != nil {
		return writeProblem(c, limited)
	}
	stream, _ := h.d.Catalog.Current().Stream(b.Resource)
	kind, format, bad := playKind(stream, b.Format)
	if bad != nil {
		return writeProblem(c, bad)
	}
	permit, code, err := h.decideOne(c.UserContext(), p, b, v, format, st)
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	if code == access.OK && stream == nil { // in the catalog only since this answer began: the next one says
		code = access.NotInBouquet
	}
	out := authorizeAnswer{decision: decision{Resource: b.Resource, Authorized: code == access.OK, Error: denialOf(code)}}
	if code != access.OK {
		return edge.WriteNoStore(c, fiber.StatusOK, out)
	}
	mt, err := h.d.Partners.SignMedia(p, partner.MediaGrant{Kind: kind, LineID: permit.LineID, StreamID: b.Resource, IP: v.ip,
		TTL: time.Duration(b.TTL) * time.Second, Credential: permit.Credential})
	if err != nil {
		return fmt.Errorf("authorize: %w", err)
	}
	out.Token, out.URL = mediaAnswer(mt, h.now()), h.d.BaseURL+"/play/"+mt.Token+"."+playExt(stream, format)
	return edge.WriteNoStore(c, fiber.StatusOK, out)
}

// playKind is the kind of play token a resource takes and the format the check weighs: a live
// channel's (ts unless m3u8 was asked for), none for a movie or an episode (which take no
// format). A resource the catalog does not hold is left to the check (NOT_IN_BOUQUET).
func playKind(st *catalog.Stream, format string) (token.Kind, string, *apiProblem) {
	switch {
	case st == nil:
		return 0, format, nil
	case st.IsLive():
		if format == "" {
			format = formatTS
		}
		return token.KindLive, format, nil
	case format != "":
		return 0, "", invalid("format", "only a live resource takes a format")
	case st.Episode != nil:
		return token.KindSeries, "", nil
	}
	return token.KindVOD, "", nil
}

// playExt is the extension of a resource's /play link: the live format, else the container's.
func playExt(st *catalog.Stream, format string) string {
	if format != "" {
		return format
	}
	return st.ContainerExtension
}

// decideOne decides one resource: its cached permit, or the check (whose permit is cached).
func (h *Handler) decideOne(ctx context.Context, p partner.Principal, b authorizeBody, v viewer, format string,
	st partner.Settings) (partner.Permit, access.Code, error) {
	permits, rules := h.d.Partners.Permits, h.d.Access.RulesVersion()
	key := permits.Key(p.PartnerID, b.Line.key(), b.Resource, v.ip, v.ua+"\x00"+format)
	if pm, ok := permits.Get(key, rules); ok {
		return pm, access.OK, nil
	}
	gen := permits.Begin()
	req := h.request(p, b.Line, v)
	req.StreamID, req.Format = b.Resource, format
	d, err := h.d.Access.Check(ctx, req)
	if err != nil {
		return partner.Permit{}, 0, err
	}
	if d.Code != access.OK {
		h.d.Partners.Denials.Denied(p.PartnerID, st)
		return partner.Permit{}, d.Code, nil
	}
	pm := partner.Permit{LineID: d.Line.ID, Credential: d.IssuingCredential()}
	permits.Put(key, pm, rules, gen, st.PermitTTL)
	return pm, access.OK, nil
}
