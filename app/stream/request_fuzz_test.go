package stream

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/token"
)

// parsers mounts every stream route family on a bare app whose handlers run only the parse
// step and keep what it returned, as the real routes do.
type parsers struct {
	app *fiber.App
	got []any // what the last request parsed to (nothing when every step refused)
}

func newParsers() *parsers {
	h := &Handler{d: Deps{Location: time.UTC}}
	p := &parsers{app: fiber.New()}
	keep := func(v any, ok bool) {
		if ok {
			p.got = append(p.got, v)
		}
	}
	shift := func(form shiftForm) fiber.Handler {
		return func(c *fiber.Ctx) error {
			r, refuse := h.parseShift(c, form)
			keep(r, refuse == 0)
			return nil
		}
	}
	p.app.All("/live/:user/:pass/:file", func(c *fiber.Ctx) error { keep(h.parseLive(c)); return nil })
	p.app.All("/movie/:user/:pass/:file", func(c *fiber.Ctx) error { keep(h.parseVOD(c, token.KindVOD)); return nil })
	p.app.All("/series/:user/:pass/:file", func(c *fiber.Ctx) error { keep(h.parseVOD(c, token.KindSeries)); return nil })
	p.app.All("/timeshift/:user/:pass/:minutes/:start/:file", shift(shiftPath))
	p.app.All("/timeshifts/:user/:pass/:minutes/:id/:file", shift(shiftMAG))
	p.app.All("/streaming/timeshift.php", shift(shiftPHP))
	p.app.All("/hls/:token/:file", func(c *fiber.Ctx) error { keep(h.parseHLS(c)); return nil })
	p.app.All("/play/:token", func(c *fiber.Ctx) error { keep(h.parsePlay(c)); return nil })
	p.app.All("/:file.ch", func(c *fiber.Ctx) error { keep(h.parseLegacy(c, formatTS)); return nil })
	p.app.All("/ch:file.m3u8", func(c *fiber.Ctx) error { keep(h.parseLegacy(c, formatHLS)); return nil })
	p.app.All("/:user/:pass/:file", func(c *fiber.Ctx) error { keep(h.parseLive(c)); return nil })
	return p
}

// parse sends one GET of target with ua and returns what the parse step kept.
func (p *parsers) parse(target, ua string) []any {
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI(target)
	fctx.Request.Header.SetUserAgent(ua)
	p.got = p.got[:0]
	p.app.Handler()(&fctx)
	return p.got
}

// FuzzStreamRequest: any three path parts, query value and User-Agent, put into every route
// family of the stream surface (escaped, so the parse step sees exactly those bytes once
// unescaped, and raw), parse without panicking into requests that keep the invariants: the
// credentials are text within their cap (never a NUL byte or invalid UTF-8: PostgreSQL
// refuses those), tokens are base64url, ids positive, the User-Agent storable.
func FuzzStreamRequest(f *testing.F) {
	for _, seed := range [][4]string{
		{"alice", "secret", "42.ts", "VLC/3.0"},
		{"\x00", "x", "1", ""},
		{"alice", "p\xffw", "7.mp4", "Box\xfe/1.0"},
		{"caf\xc3", "\xed\xa0\x80", "2024-01-31:09-05", "\x00"},
		{strings.Repeat("a", 300), "x", "1.m3u8", strings.Repeat("u", 600)},
		{"AbC-_9", "index.m3u8", "90", "Kodi"},
		{"a%2Fb", "%00", "%FF.ts", "%00"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	p := newParsers()
	f.Fuzz(func(t *testing.T, a, b, c, ua string) {
		for _, seg := range [][3]string{{url.PathEscape(a), url.PathEscape(b), url.PathEscape(c)}, {a, b, c}} {
			x, y, z := seg[0], seg[1], seg[2]
			q := "?username=" + url.QueryEscape(a) + "&password=" + url.QueryEscape(b) + "&stream=" + url.QueryEscape(c) +
				"&start=2024-01-31:09-05&duration=60"
			for _, target := range []string{
				"/live/" + x + "/" + y + "/" + z, "/movie/" + x + "/" + y + "/" + z, "/series/" + x + "/" + y + "/" + z,
				"/timeshift/" + x + "/" + y + "/60/2024-01-31:09-05/" + z, "/timeshifts/" + x + "/" + y + "/60/" + z + "/2024-01-31:09-05.ts",
				"/streaming/timeshift.php" + q, "/streaming/timeshift.php?play_token=" + url.QueryEscape(a) + "&stream=1&start=2024-01-31:09-05&duration=60",
				"/hls/" + x + "/" + z, "/play/" + x, "/" + x + "/" + y + "/" + z, "/live/" + x + "/" + y + "/1.ts?play_token=" + url.QueryEscape(c),
				"/" + z + ".ch?u=" + url.QueryEscape(a) + ":p=" + url.QueryEscape(b), "/ch" + z + ".m3u8?u=" + a + ":p=" + b,
			} {
				for _, v := range p.parse(target, ua) {
					checkParsed(t, target, v)
				}
			}
		}
	})
}

// checkParsed fails t when a parsed request breaks an invariant.
func checkParsed(t *testing.T, target string, v any) {
	t.Helper()
	var who access.Identity
	var cl client
	switch r := v.(type) {
	case liveRequest:
		who, cl = r.who, r.client
		if r.id <= 0 || (r.format != formatTS && r.format != formatHLS) {
			t.Fatalf("%q: live %+v", target, r)
		}
	case vodRequest:
		who, cl = r.who, r.client
		if r.id <= 0 || !validExt(r.ext) {
			t.Fatalf("%q: vod %+v", target, r)
		}
	case shiftRequest:
		who, cl = r.who, r.client
		if r.id <= 0 || r.minutes < minShiftMinutes || r.minutes > maxShiftMinutes {
			t.Fatalf("%q: timeshift %+v", target, r)
		}
	case hlsRequest:
		cl = r.client
		if !validToken(r.token) {
			t.Fatalf("%q: hls token %q", target, r.token)
		}
	case playRequest:
		cl = r.client
		if !validToken(r.token) {
			t.Fatalf("%q: play token %q", target, r.token)
		}
	default:
		t.Fatalf("%q: parsed %T", target, v)
	}
	switch w := who.(type) {
	case nil:
	case access.Password:
		if w.Username == "" || w.Password == "" || !input.Text(w.Username, maxCredLen) || !input.Text(w.Password, maxCredLen) {
			t.Fatalf("%q: credentials %q / %q are not bounded text", target, w.Username, w.Password)
		}
	case access.PlayToken:
		if !validToken(w.Token) {
			t.Fatalf("%q: play_token %q", target, w.Token)
		}
	default:
		t.Fatalf("%q: identity %T", target, who)
	}
	if !input.Text(cl.ua, maxUserAgentLen) {
		t.Fatalf("%q: User-Agent %q is not storable", target, cl.ua)
	}
}
