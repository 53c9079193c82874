package portal

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
)

// One parse step per request (STYLE C9): everything the handlers read — the module and
// action, the box's MAC and session token, its cookies, and each parameter an action uses,
// already typed — is copied out of the request here, into a request that owns its strings.
// Nothing after it reads c.Query, c.FormValue, c.Cookies or c.Get.

// Length limits: a longer value makes the request bad (400), never a database error.
const (
	maxParamLen     = 1024 // any one parameter
	maxTextParamLen = 128  // search words, names
	maxUserAgentLen = 512
)

// macState says what the request's MAC is.
type macState uint8

const (
	macMissing macState = iota // neither the mac parameter nor the cookie
	macOK
	macBad // present but not a MAC: a refusal, never a 500
)

// request is one portal call.
type request struct {
	typ, action string // module and action, lower case
	mac         mag.MAC
	macState    macState
	token       string // the Bearer token, "" when absent or not a token
	cookies     mag.Cookies
	clientIP    netip.Addr
	userAgent   string // User-Agent, what the check compares
	model       string // "MAG250" from X-User-Agent: Model: MAG250; Link: WiFi
	bad         bool   // a parameter with a NUL byte, invalid UTF-8 or over-long
	p           params
}

// params are the parameters of every action, typed; absent ones are zero.
type params struct {
	token      string // stb/handshake: the token the box offers
	page       int    // p, 1-based; 0 or absent: the default page
	genre      int64  // itv genre / vod category; 0: every one ('*', absent, non-numeric)
	sortBy     string
	fav        bool
	search     string
	chID       int64 // ch_id
	id         int64 // id (itv/set_last_id)
	idText     string
	favIDs     []int64 // fav_ch / fav_radio
	videoID    int64
	movieID    string // series/get_ordered_list: "" lists series, "12" seasons of series 12
	series     int    // the episode number of a season's create_link
	cmd        string
	period     int    // itv/get_epg_info, hours
	size       int    // itv/get_short_epg
	date       string // epg/get_simple_data_table, YYYY-MM-DD
	from, to   string // epg/get_data_table, Y-m-d H:i:s
	eventID    int64
	identity   mag.Identity
	box        mag.Box
	login      string
	password   string
	locale     string
	pass       string // set_parent_password
	repeatPass string
}

// rawRequest is what parseRequest reads: get returns a parameter (query first, then a
// form-encoded body), the rest are headers.
type rawRequest struct {
	get        func(key string) string
	cookie     string
	auth       string
	userAgent  string
	xUserAgent string
	clientIP   netip.Addr
}

// readRequest reads c, from client address ip. Every value is copied (string(…) of fasthttp's
// bytes), since fasthttp reuses its buffers when the handler returns.
func readRequest(c *fiber.Ctx, ip netip.Addr) request {
	args, post := c.Request().URI().QueryArgs(), c.Request().PostArgs()
	return parseRequest(rawRequest{
		get: func(key string) string {
			if v := args.Peek(key); v != nil {
				return string(v)
			}
			return string(post.Peek(key))
		},
		cookie:     string(c.Request().Header.Peek(fiber.HeaderCookie)),
		auth:       string(c.Request().Header.Peek(fiber.HeaderAuthorization)),
		userAgent:  string(c.Request().Header.Peek(fiber.HeaderUserAgent)),
		xUserAgent: string(c.Request().Header.Peek("X-User-Agent")),
		clientIP:   ip,
	})
}

// parseRequest is the pure part of the parse step (what the fuzz target drives).
func parseRequest(raw rawRequest) request {
	r := request{clientIP: raw.clientIP, cookies: mag.ParseCookies(raw.cookie)}
	get := func(key string) string {
		v := raw.get(key)
		if !input.Text(v, maxParamLen) {
			r.bad = true
			return ""
		}
		return v
	}
	r.typ, r.action = strings.ToLower(get("type")), strings.ToLower(get("action"))
	r.userAgent = input.Truncate(input.Sanitize(input.Truncate(raw.userAgent, 4*maxUserAgentLen), maxUserAgentLen), maxUserAgentLen)
	r.model = modelOf(raw.xUserAgent)
	r.token = bearer(raw.auth)
	// XC 2.9 prefers the mac parameter to the cookie (spec §5.2).
	macText := get("mac")
	if macText == "" {
		macText = r.cookies.MAC
	}
	if macText != "" {
		if m, err := mag.ParseMAC(macText); err == nil {
			r.mac, r.macState = m, macOK
		} else {
			r.macState = macBad
		}
	}
	r.p = parseParams(get, &r.bad)
	return r
}

// parseParams types the parameters; a text parameter over its own limit makes bad.
func parseParams(get func(string) string, bad *bool) params {
	text := func(key string) string {
		v := strings.TrimSpace(get(key))
		if len(v) > maxTextParamLen {
			*bad = true
			return ""
		}
		return v
	}
	p := params{
		token: get("token"), page: nonNegative(get("p")), genre: genreOf(get("genre")),
		sortBy: strings.ToLower(get("sortby")), fav: flag(get("fav")), search: text("search"),
		chID: idOf(get("ch_id")), idText: get("id"), favIDs: idList(get("fav_ch")),
		videoID: idOf(get("video_id")), movieID: get("movie_id"), series: nonNegative(get("series")),
		cmd: get("cmd"), period: nonNegative(get("period")), size: nonNegative(get("size")),
		date: get("date"), from: get("from"), to: get("to"), eventID: idOf(get("event_active_id")),
		identity: mag.Identity{Serial: text("sn"), DeviceID: text("device_id"), DeviceID2: text("device_id2")},
		box: mag.Box{STBType: text("stb_type"), ImageVersion: text("image_version"), Firmware: get("ver"),
			HWVersion: text("hw_version")},
		login: text("login"), password: text("password"), locale: text("locale"),
		pass: text("pass"), repeatPass: text("repeat_pass"),
	}
	p.id = idOf(p.idText)
	if p.genre == 0 {
		p.genre = genreOf(get("category")) // vod and series name the genre "category"
	}
	if p.size == 0 {
		p.size = nonNegative(get("limit"))
	}
	if fr := get("fav_radio"); fr != "" {
		p.favIDs = idList(fr)
	}
	if len(p.box.Firmware) > 512 {
		p.box.Firmware = input.Truncate(p.box.Firmware, 512)
	}
	return p
}

// bearer reads "Bearer <token>" (any case, any spacing); anything that is not a token is none.
func bearer(h string) string {
	h = strings.TrimSpace(h)
	if len(h) < 7 || !strings.EqualFold(h[:7], "bearer ") {
		return ""
	}
	tok := strings.TrimSpace(h[7:])
	if !mag.ValidToken(tok) {
		return ""
	}
	return tok
}

// modelOf reads the model from X-User-Agent ("Model: MAG250; Link: WiFi").
func modelOf(xua string) string {
	for part := range strings.SplitSeq(xua, ";") {
		k, v, ok := strings.Cut(part, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), "model") {
			v = strings.TrimSpace(v)
			if input.Text(v, 32) {
				return v
			}
		}
	}
	return ""
}

// nonNegative reads a small count (PHP's intval: garbage and negatives are 0).
func nonNegative(s string) int {
	n, ok := input.Uint(s, 9)
	if !ok {
		return 0
	}
	return int(n)
}

func idOf(s string) int64 {
	id, _ := input.ID(s)
	return id
}

// genreOf reads a genre or category: an id, or 0 for every one ("*", "", anything else).
func genreOf(s string) int64 { return idOf(s) }

func flag(s string) bool { return s != "" && s != "0" && s != "false" }

// idList reads "1,2,3" (fav_ch): ids in order, each once, garbage skipped, at most
// mag.MaxFavourites.
func idList(s string) []int64 {
	if s == "" {
		return nil
	}
	var out []int64
	seen := map[int64]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if id := idOf(strings.TrimSpace(part)); id > 0 && !seen[id] && len(out) < mag.MaxFavourites {
			seen[id] = true
			out = append(out, id)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out
}

// channelOfCmd reads the stream id of an itv create_link cmd: "ffmpeg http://localhost/ch/101_"
// (our lists' form, spec §5.4), or the id alone. 0 when it names none.
func channelOfCmd(cmd string) int64 {
	if i := strings.LastIndex(cmd, "/ch/"); i >= 0 {
		rest := cmd[i+4:]
		if j := strings.IndexByte(rest, '_'); j >= 0 {
			rest = rest[:j]
		}
		return idOf(rest)
	}
	return idOf(strings.TrimSpace(cmd))
}

// itoa is strconv.FormatInt for ids.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
