package player

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
)

// setAPIHeaders sets the headers of every player_api.php / panel_api.php answer (spec §1.1):
// JSON, the caller's Origin echoed, credentials allowed.
func setAPIHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	h.SetContentType(fiber.MIMEApplicationJSON)
	if o := c.Request().Header.Peek(fiber.HeaderOrigin); len(o) > 0 && len(o) <= maxOriginLen && printable(o) {
		h.SetCanonical(headerAllowOrigin, o) // copies
	}
	h.SetCanonical(headerAllowCredentials, headerTrue)
}

// The header names of setAPIHeaders in canonical form, so setting them skips fasthttp's
// normalization of the name on every answer.
var (
	headerAllowOrigin      = []byte(fiber.HeaderAccessControlAllowOrigin)
	headerAllowCredentials = []byte(fiber.HeaderAccessControlAllowCredentials)
	headerTrue             = []byte("true")
)

// playerAPI serves player_api.php (spec §1): parse, check, then the action's answer.
func (h *Handler) playerAPI(c *fiber.Ctx) error {
	setAPIHeaders(c)
	req, ok := h.admit(c)
	if !ok {
		return nil // 429, empty body
	}
	if !req.hasCredentials() {
		return nil // spec §1.2: 200, JSON content type, empty body
	}
	d, err := h.check(c, &req, "player_api", "")
	if err != nil {
		return h.unavailable(c, "player_api", err)
	}
	switch a := apiAnswer(d.Code); a.kind {
	case answerBody:
		return sendBody(c, a)
	case answerLogin:
		return h.sendLogin(c, &req, d.Line, statusFor(d.Code), false)
	}
	if req.action == actLogin {
		return h.sendLogin(c, &req, d.Line, statusFor(d.Code), false)
	}

	ent := h.catalog.Current().Entitlement(d.Line.BouquetIDs)
	var lg listGzip
	if !epgAction(req.action) { // a guide answer depends on the time too: never kept
		lg = listGzipOf(c, ent, d.Line.BouquetIDs, &req)
		if lg.sendKept(c) {
			return nil
		}
	}
	ls := listsView.Of(ent.Snapshot())
	bp := getBuf()
	defer putBuf(bp)
	b := (*bp)[:0]
	switch req.action {
	case actLiveCategories:
		b = ls.appendCategories(b, ent.LiveCategories())
	case actVODCategories:
		b = ls.appendCategories(b, ent.VODCategories())
	case actSeriesCategories:
		b = ls.appendCategories(b, ent.SeriesCategories())
	case actLiveStreams:
		b = ls.appendStreams(b, page(ent.Live(req.category), &req))
	case actVODStreams:
		b = ls.appendStreams(b, page(ent.VOD(req.category), &req))
	case actSeries:
		b = ls.appendSeriesList(b, ent.Series(req.category))
	case actVODInfo:
		b = appendVODInfo(b, ls, ent, req.vodID)
	case actSeriesInfo:
		b = appendSeriesInfo(b, ent, req.seriesID)
	case actShortEPG, actSimpleDataTable, actEPG:
		b, err = h.appendEPG(c.UserContext(), b, ent, &req)
	}
	*bp = b
	if err != nil {
		return h.unavailable(c, "player_api", err)
	}
	if epgAction(req.action) {
		return sendCopy(c, b)
	}
	return lg.send(c, b)
}

// epgAction reports whether action answers from the guide.
func epgAction(action string) bool {
	return action == actShortEPG || action == actSimpleDataTable || action == actEPG
}

// sendLogin answers the login object (spec §1.3): user_info + server_info, or panel_api's
// smaller variant with its categories and channels (§3.3) when panel is set.
func (h *Handler) sendLogin(c *fiber.Ctx, req *request, line *access.Line, status string, panel bool) error {
	cons, err := h.activeCons(c.UserContext(), line.ID)
	if err != nil {
		surface := "player_api"
		if panel {
			surface = "panel_api"
		}
		return h.unavailable(c, surface, err)
	}
	bp := getBuf()
	defer putBuf(bp)
	b := append((*bp)[:0], `{"user_info":`...)
	b = h.appendUserInfo(b, line, req.username, req.password, status, cons, !panel)
	b = append(b, `,"server_info":`...)
	b = h.appendServerInfo(b, !panel)
	if panel {
		var ent *catalog.Entitlement
		if status == "Active" {
			ent = h.catalog.Current().Entitlement(line.BouquetIDs)
		}
		b = appendPanelCatalog(b, ent)
	}
	b = append(b, '}')
	*bp = b
	return sendCopy(c, b)
}

// appendUserInfo appends user_info with the wire types of spec §1.3 and §7 #3: auth an int,
// exp_date a numeric string or null, the counters numeric strings, username and password
// echoing what the client sent (we never know the stored password; a device credential's
// username is not the line's, and players build their stream URLs from what this says).
func (h *Handler) appendUserInfo(b []byte, line *access.Line, username, password, status string, cons int, withMessage bool) []byte {
	b = append(b, `{"username":`...)
	b = appendString(b, username)
	b = append(b, `,"password":`...)
	b = appendString(b, password)
	if withMessage {
		b = append(b, `,"message":`...)
		b = appendString(b, h.access.Settings().Message)
	}
	b = append(b, `,"auth":1,"status":`...)
	b = appendString(b, status)
	b = append(b, `,"exp_date":`...)
	if line.ExpDate == nil {
		b = append(b, "null"...)
	} else {
		b = appendIntString(b, line.ExpDate.Unix())
	}
	b = append(b, `,"is_trial":`...)
	if line.IsTrial {
		b = append(b, `"1"`...)
	} else {
		b = append(b, `"0"`...)
	}
	b = append(b, `,"active_cons":`...)
	b = appendIntString(b, int64(cons))
	b = append(b, `,"created_at":`...)
	b = appendIntString(b, line.CreatedAt.Unix())
	b = append(b, `,"max_connections":`...)
	b = appendIntString(b, int64(line.MaxConnections))
	b = append(b, `,"allowed_output_formats":[`...)
	for i, f := range line.AllowedOutputFormats {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, f)
	}
	return append(b, "]}"...)
}

// appendServerInfo appends server_info (spec §1.3): ports as strings, timestamp_now an int,
// time_now in the panel's zone; panel_api's variant has only url, port, https_port and
// server_protocol (§3.3).
func (h *Handler) appendServerInfo(b []byte, full bool) []byte {
	s := &h.site
	if full {
		return append(b, h.clock.full(h.now(), s)...)
	}
	return append(appendServerInfoHead(b, s), '}')
}

// appendServerInfoHead appends server_info up to server_protocol: panel_api's whole object
// without its closing brace.
func appendServerInfoHead(b []byte, s *site) []byte {
	b = append(b, `{"url":`...)
	b = appendString(b, s.host)
	b = append(b, `,"port":`...)
	b = appendString(b, s.port)
	b = append(b, `,"https_port":`...)
	b = appendString(b, s.httpsPort)
	b = append(b, `,"server_protocol":`...)
	b = appendString(b, s.scheme)
	return b
}

// serverClock keeps the full server_info rendered for the current second: only timestamp_now
// and time_now change, once a second. A login in the same second copies the bytes kept; the
// first one in a new second renders and keeps them.
type serverClock struct {
	cur atomic.Pointer[clockTail]
}

type clockTail struct {
	sec int64
	b   []byte // never modified once stored
}

// full returns the bytes for now; the caller copies them.
func (k *serverClock) full(now time.Time, s *site) []byte {
	sec := now.Unix()
	if t := k.cur.Load(); t != nil && t.sec == sec {
		return t.b
	}
	b := appendServerInfoHead(make([]byte, 0, 256), s)
	b = append(b, `,"rtmp_port":`...)
	b = appendString(b, s.rtmpPort)
	b = append(b, `,"timezone":`...)
	b = appendString(b, s.tzName)
	b = append(b, `,"timestamp_now":`...)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, `,"time_now":"`...)
	b = now.In(s.tz).AppendFormat(b, localTimeLayout)
	// XC sends process:true when its mobile_apps setting is on; mobile apps are exactly who
	// reads it, so it is always on here.
	b = append(b, `","process":true}`...)
	k.cur.Store(&clockTail{sec: sec, b: b})
	return b
}

// localTimeLayout is the wire's local time (time_now, EPG start/end): spec §6.4.
const localTimeLayout = "2006-01-02 15:04:05"

// page applies the optional params[offset] / params[items_per_page] paging of the live and
// VOD lists (spec §1.1); without items_per_page the whole list is answered.
func page(list []*catalog.Stream, req *request) []*catalog.Stream {
	if req.perPage <= 0 {
		return list
	}
	if req.offset >= len(list) {
		return nil
	}
	return list[req.offset:min(len(list), req.offset+req.perPage)]
}
