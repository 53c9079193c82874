package player

import (
	"bytes"
	"net/netip"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/input"
)

// Length caps on what a request may carry. fasthttp already bounds a GET's request line
// (4 KB read buffer) and the app a POST body (1 MB); these keep any one value small enough
// to log, hash or put into a cache key. A longer value refuses the request.
const (
	// maxUsernameLen is above the schema's 128 characters of up to 4 UTF-8 bytes each: a
	// longer name cannot exist, so it fails without a lookup.
	maxUsernameLen = 512
	maxPasswordLen = credential.MaxPasswordLen
	// maxParamLen bounds every other parameter: the longest meaningful one is an action
	// name of 21 bytes, or an id of 19 digits.
	maxParamLen     = 256
	maxUserAgentLen = 512
	maxOriginLen    = 512

	// maxEPGLimit caps get_short_epg's limit (the guide caps at 1000 as well).
	maxEPGLimit = 1000
	// maxGuideDays caps xmltv.php's prev_days and next_days.
	maxGuideDays = 14
)

// The player_api actions, by their canonical name. Numeric aliases (spec §1.1) and XUI's
// get_epg map onto these; anything else is "" and answers the login object (§1.3, §7 #13).
const (
	actLogin              = ""
	actLiveCategories     = "get_live_categories"
	actLiveStreams        = "get_live_streams"
	actVODCategories      = "get_vod_categories"
	actVODStreams         = "get_vod_streams"
	actVODInfo            = "get_vod_info"
	actSeriesCategories   = "get_series_categories"
	actSeries             = "get_series"
	actSeriesInfo         = "get_series_info"
	actShortEPG           = "get_short_epg"
	actSimpleDataTable    = "get_simple_data_table"
	actEPG                = "get_epg"
	actEnigmaSeasons      = "get_seasons"        // enigma2.php only
	actEnigmaSeriesStream = "get_series_streams" // enigma2.php only
)

var actions = map[string]string{
	"200": actVODCategories, "201": actLiveCategories, "202": actLiveStreams, "203": actVODStreams,
	"204": actSeriesInfo, "205": actShortEPG, "206": actSeriesCategories, "207": actSimpleDataTable,
	"208": actSeries, "209": actVODInfo,
	actLiveCategories: actLiveCategories, actLiveStreams: actLiveStreams, actVODCategories: actVODCategories,
	actVODStreams: actVODStreams, actVODInfo: actVODInfo, actSeriesCategories: actSeriesCategories,
	actSeries: actSeries, actSeriesInfo: actSeriesInfo, actShortEPG: actShortEPG,
	actSimpleDataTable: actSimpleDataTable, actEPG: actEPG,
}

// enigmaTypes are enigma2.php's type values (spec §3.4); anything else is the root menu.
var enigmaTypes = map[string]string{
	actLiveCategories: actLiveCategories, actVODCategories: actVODCategories,
	actSeriesCategories: actSeriesCategories, actLiveStreams: actLiveStreams, actVODStreams: actVODStreams,
	actSeries: actSeries, actEnigmaSeasons: actEnigmaSeasons, actEnigmaSeriesStream: actEnigmaSeriesStream,
}

// Playlist types and outputs of get.php (spec §3.1).
const (
	typeM3U     = "m3u"
	typeM3UPlus = "m3u_plus"
	outputTS    = "ts"
	outputHLS   = "m3u8"
)

// categoryAll and categoryNone are the special values of a parsed category filter; any other
// value is a category id.
const (
	categoryAll  int64 = 0
	categoryNone int64 = -1
)

// request is everything the player surfaces read from a request, copied out of fasthttp's
// buffers (they are reused once the handler returns) and bounded.
type request struct {
	username, password string
	pathAlias          bool // the credentials came from the path (/player_api/{u}/{p}, /epg/{u}/{p})
	// cred is the same credential as the access check takes it (newCredential), nil when the
	// request is refused.
	cred *access.Password
	// refused: a credential or parameter is not text we take (a NUL byte, invalid UTF-8, or
	// longer than its cap). The request fails as wrong credentials do, without a check: no
	// stored line can match such a value, and PostgreSQL would reject it as text (issue 11:
	// username=%00 answered 503). Every other field is then zero.
	refused bool

	action     string // canonical player_api / panel_api action; "" = the login object
	enigmaType string // enigma2.php's type; "" = the root menu
	category   int64  // categoryAll, categoryNone or an id (category_id, cat_id)
	vodID      int64  // 0: missing or malformed
	seriesID   int64
	streamID   int64
	season     int64 // enigma2 season; -1 when missing or malformed (season 0 is valid)
	limit      int   // get_short_epg, default epg.DefaultShortEPGLimit
	fromNow    bool
	offset     int // params[offset] / params[items_per_page]: optional list paging
	perPage    int

	playlistType string // get.php: typeM3U or typeM3UPlus; "" when missing or unknown
	output       string // get.php: outputTS or outputHLS; "" when unknown
	prevDays     int    // xmltv.php
	nextDays     int
	gzip         bool // xmltv.php: gzip=1 (XUI), the document as a gzip file

	clientIP  netip.Addr
	userAgent string
}

// The parameters any player surface reads, as indexes into rawParams.
const (
	pUsername = iota
	pPassword
	pAction
	pType
	pOutput
	pCategoryID
	pCatID
	pVODID
	pSeriesID
	pStreamID
	pSeason
	pLimit
	pFromNow
	pOffset
	pPerPage
	pPrevDays
	pNextDays
	pGzip
	numParams
)

// paramIndex is the index of a parameter name, -1 for one no surface reads. A switch on the
// name, so looking one up neither hashes nor allocates.
func paramIndex(key []byte) int {
	switch string(key) {
	case "username":
		return pUsername
	case "password":
		return pPassword
	case "action":
		return pAction
	case "type":
		return pType
	case "output":
		return pOutput
	case "category_id":
		return pCategoryID
	case "cat_id":
		return pCatID
	case "vod_id":
		return pVODID
	case "series_id":
		return pSeriesID
	case "stream_id":
		return pStreamID
	case "season":
		return pSeason
	case "limit":
		return pLimit
	case "from_now":
		return pFromNow
	case "params[offset]":
		return pOffset
	case "params[items_per_page]":
		return pPerPage
	case "prev_days":
		return pPrevDays
	case "next_days":
		return pNextDays
	case "gzip":
		return pGzip
	}
	return -1
}

// rawParams are the parameters' values as the request carries them (nil when absent), merged
// the way the original panel merges them (spec §1.1): a form-encoded or multipart POST value
// wins over the query string's, and within one source the first occurrence wins. The bytes
// belong to fasthttp: copy what is kept.
type rawParams struct {
	v    [numParams][]byte
	seen [numParams]bool
}

// read takes the request's parameters in one pass over each source (Args.Peek per name would
// scan the arguments seventeen times).
func (rp *rawParams) read(c *fiber.Ctx) {
	req := c.Request()
	// VisitAll rather than range over All: All's iterator is a func value, so the compiler
	// must assume the loop body escapes and moves rp (half a kilobyte) and the iterator's
	// state to the heap on every request; VisitAll's callback provably does not escape. (Calling
	// All()(rp.keep) directly does not help: the method value escapes, go build -gcflags=-m.)
	// VisitAll is marked deprecated in favour of All, hence the lint directives.
	if c.Method() == fiber.MethodPost {
		//lint:ignore SA1019 All escapes rp to the heap per request; see above.
		req.PostArgs().VisitAll(rp.take)
		if bytes.HasPrefix(req.Header.ContentType(), []byte(fiber.MIMEMultipartForm)) {
			if form, err := req.MultipartForm(); err == nil {
				for k, vs := range form.Value {
					if len(vs) > 0 {
						rp.take([]byte(k), []byte(vs[0]))
					}
				}
			}
		}
	}
	if args := req.URI().QueryArgs(); args.Len() > 0 {
		//lint:ignore SA1019 All escapes rp to the heap per request; see above.
		args.VisitAll(rp.take)
	}
}

// take keeps value unless the parameter was seen already.
func (rp *rawParams) take(key, value []byte) {
	if i := paramIndex(key); i >= 0 && !rp.seen[i] {
		rp.v[i], rp.seen[i] = value, true
	}
}

// parseRequest reads every parameter any player surface uses. Path credentials (the XUI
// aliases /player_api/{user}/{pass}[/{action}]) win over query ones. A value that is not
// acceptable text refuses the whole request (request.refused); the User-Agent, which many
// boxes have fixed in firmware, is made storable instead.
func parseRequest(c *fiber.Ctx, clientIP netip.Addr) request {
	var rp rawParams
	rp.read(c)
	p := params{raw: &rp}
	user, pass := p.get(pUsername, maxUsernameLen), p.get(pPassword, maxPasswordLen)
	pathAlias := false
	if v := c.Params("username"); v != "" {
		user, pass = p.path(v, maxUsernameLen), p.path(c.Params("password"), maxPasswordLen)
		pathAlias = true
	}
	action := p.get(pAction, maxParamLen)
	if v := c.Params("action"); v != "" {
		action = p.path(v, maxParamLen)
	}
	typ, output := p.get(pType, maxParamLen), p.get(pOutput, maxParamLen)
	category, catID := p.get(pCategoryID, maxParamLen), p.get(pCatID, maxParamLen)
	vodID, seriesID, streamID := p.get(pVODID, maxParamLen), p.get(pSeriesID, maxParamLen), p.get(pStreamID, maxParamLen)
	season, limit, fromNow := p.get(pSeason, maxParamLen), p.get(pLimit, maxParamLen), p.get(pFromNow, maxParamLen)
	offset, perPage := p.get(pOffset, maxParamLen), p.get(pPerPage, maxParamLen)
	prevDays, nextDays := p.get(pPrevDays, maxParamLen), p.get(pNextDays, maxParamLen)
	gz := p.get(pGzip, maxParamLen)
	if p.bad {
		return request{refused: true, clientIP: clientIP, season: -1, limit: epg.DefaultShortEPGLimit}
	}

	// newCredential copies; the map lookups do not allocate, and their values are our constants.
	r := request{clientIP: clientIP, season: -1, cred: newCredential(user, pass, pathAlias), pathAlias: pathAlias}
	r.username, r.password = r.cred.Username, r.cred.Password
	r.action = actions[string(action)]
	r.enigmaType = enigmaTypes[string(typ)]
	r.category = parseCategory(category)
	if catID != nil {
		r.category = parseCategory(catID)
	}
	r.vodID, r.seriesID, r.streamID = parseID(vodID), parseID(seriesID), parseID(streamID)
	if n, ok := parseUint(season); ok {
		r.season = n
	}
	// XC: an empty or zero limit is the default (4).
	if r.limit = parseBounded(limit, epg.DefaultShortEPGLimit, 0, maxEPGLimit); r.limit == 0 {
		r.limit = epg.DefaultShortEPGLimit
	}
	if n, ok := parseUint(fromNow); ok && n > 0 {
		r.fromNow = true
	}
	r.offset = parseBounded(offset, 0, 0, 1<<30)
	r.perPage = parseBounded(perPage, 0, 0, 1<<30)
	r.playlistType = parsePlaylistType(typ)
	r.output = parseOutput(output)
	r.prevDays = parseBounded(prevDays, 1, 0, maxGuideDays)
	r.nextDays = parseBounded(nextDays, 1, 0, maxGuideDays)
	if n, ok := parseUint(bytes.TrimSpace(gz)); ok && n == 1 {
		r.gzip = true
	}
	r.userAgent = userAgent(c.Request().Header.UserAgent())
	return r
}

// params reads request values, noting whether any of them was unacceptable text.
type params struct {
	raw *rawParams
	bad bool
}

// get returns the value of parameter i (nil when absent). The bytes belong to fasthttp.
func (p *params) get(i, max int) []byte {
	v := p.raw.v[i]
	if v == nil {
		return nil // absent: nothing to check
	}
	return p.check(v, max)
}

// path returns a decoded path segment.
func (p *params) path(seg string, max int) []byte {
	return p.check(pathValue(seg), max)
}

func (p *params) check(v []byte, max int) []byte {
	if len(v) > max || !input.Text(utils.UnsafeString(v), max) { // Text keeps nothing: no copy
		p.bad = true
		return nil
	}
	return v
}

// userAgent copies the User-Agent, cut to maxUserAgentLen and made storable: it reaches the
// client log and the line's user-agent rules, and a box that sends Latin-1 is still a box.
func userAgent(b []byte) string {
	s := input.Truncate(string(b[:min(len(b), 2*maxUserAgentLen)]), maxUserAgentLen)
	if !input.Text(s, maxUserAgentLen) {
		s = input.Truncate(input.Sanitize(s, maxUserAgentLen), maxUserAgentLen)
	}
	return s
}

// pathValue decodes a path segment (%2F, %23 ... in a password); Fiber hands segments over
// still escaped. A malformed escape is kept as it is: it then simply fails to log in.
func pathValue(p string) []byte {
	if v, err := url.PathUnescape(p); err == nil {
		return []byte(v)
	}
	return []byte(p)
}

// parseCategory reads category_id / cat_id: missing, "", "0" and "*" mean every category
// (spec §1.5); digits are a category id; anything else names no category, so the list is
// empty. (XC's intval would turn garbage into 0, i.e. the whole list: a typo should not
// download 10,000 channels.)
func parseCategory(b []byte) int64 {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "*" {
		return categoryAll
	}
	n, ok := parseUint(b)
	switch {
	case !ok:
		return categoryNone
	case n == 0:
		return categoryAll
	}
	return n
}

// parseID reads a positive id; anything else (missing, negative, not digits, too big) is 0,
// which no stream or series has.
func parseID(b []byte) int64 {
	n, ok := parseUint(bytes.TrimSpace(b))
	if !ok {
		return 0
	}
	return n
}

// parseUint parses 1 to 18 ASCII digits (so the value always fits an int64).
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// parseBounded reads a count: missing or malformed gives def, anything else is clamped to
// [lo, hi].
func parseBounded(b []byte, def, lo, hi int) int {
	b = bytes.TrimSpace(b)
	if len(b) > 18 && len(bytes.TrimLeft(b, "0123456789")) == 0 {
		return hi // a huge number: the cap
	}
	n, ok := parseUint(b)
	if !ok {
		return def
	}
	return int(max(int64(lo), min(n, int64(hi))))
}

func parsePlaylistType(b []byte) string {
	switch string(b) {
	case typeM3U:
		return typeM3U
	case typeM3UPlus:
		return typeM3UPlus
	}
	return ""
}

// parseOutput maps get.php's output: ts and mpegts (and none) are MPEG-TS, m3u8 and hls are
// HLS; anything else (rtmp: xtreamd serves none) is "".
func parseOutput(b []byte) string {
	switch string(b) {
	case "", "ts", "mpegts":
		return outputTS
	case "m3u8", "hls":
		return outputHLS
	}
	return ""
}

// printable reports whether b holds no control characters (a header value we echo).
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// hasCredentials reports whether the request carries a username and a password at all (spec
// §1.2: without them the answer is an empty body, not a failed login).
func (r *request) hasCredentials() bool {
	return r.refused || (r.username != "" && r.password != "")
}

// credBuf is a request's Password and the bytes of its two strings in one allocation. The
// strings must outlive fasthttp's buffers (the checker may keep them), and the access check
// takes the Password through an interface (access.Identity), which boxes a copy of a struct
// value: three allocations on every player request, where this is one.
type credBuf struct {
	p   access.Password
	buf [40]byte // with p, an 80-byte size class; longer credentials allocate their strings
}

func newCredential(user, pass []byte, pathAlias bool) *access.Password {
	if len(user)+len(pass) > len(credBuf{}.buf) {
		return &access.Password{Username: string(user), Password: string(pass), PathAlias: pathAlias}
	}
	c := new(credBuf)
	n := copy(c.buf[:], user)
	m := copy(c.buf[n:], pass)
	// c.buf is never written again: the strings may share it.
	c.p = access.Password{Username: utils.UnsafeString(c.buf[:n]), Password: utils.UnsafeString(c.buf[n : n+m]), PathAlias: pathAlias}
	return &c.p
}
