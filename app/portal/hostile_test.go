package portal_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/portal"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// hostileValues are what a hostile or broken client puts in a parameter: every sweep's
// (testkit.HostileText: an address with a zone, NUL, invalid UTF-8, a number past int64, a
// date past year 9999, 2,000 characters, a negative number, an injection, a broken escape …),
// then the portal's own shapes broken: a date and a date-time of its
// layouts past year 9999, a favourites list of garbage, a base64 vod cmd of a negative
// season, an itv cmd of a negative channel, a Ministra media cmd past int32, a path walking
// out of a directory, a MAC with a zone, blanks, digits that are not ASCII (portalValues adds
// the catch-up ids).
var hostileValues = append(slices.Clip(testkit.HostileText),
	"99999-12-31 23:59:59", "1,2,-3,99999999999999999999999,x,,1", "eyJ0eXBlIjoic2VyaWVzIiwic2VyaWVzX2lkIjoxLCJzZWFzb25fbnVtIjotMX0",
	"ffmpeg http://localhost/ch/-1_", "/media/1:99999999999.mpg",
	"../../../../etc/passwd", "00:1A:79:12:34:56%eth0", "  ", "１２３")

// macValues are what a box or a scanner sends as its MAC: the device's own in each form the
// portal accepts (lower case, dashes, no separators, percent-encoded separators, quoted), and
// broken ones: a zone-like suffix, 13 hex digits, seven octets, mixed separators, NUL, invalid
// UTF-8, an encoded NUL, 2,000 characters, a second cookie smuggled in.
func macValues(mac string) []string {
	plain := strings.ReplaceAll(mac, ":", "")
	return []string{mac, strings.ToLower(mac), strings.ReplaceAll(mac, ":", "-"), plain, strings.ToLower(plain),
		strings.ReplaceAll(mac, ":", "%3A"), strings.ReplaceAll(mac, ":", "%3a"), `"` + mac + `"`,
		mac + "%eth0", mac + "%25eth0", plain + "7", mac + ":78", strings.Replace(mac, ":", "-", 1), mac + "\x00",
		mac[:len(mac)-1] + "\xff", mac + "%00", strings.ReplaceAll(mac, ":", "%3A%00"), strings.Repeat("0", 2000),
		"00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF", "GG:1A:79:12:34:56", " " + mac + " ", mac + "; mac=00:1A:79:99:99:99",
		"", "%zz", "' OR 1=1 --", "\xff\xfe"}
}

// sweepBase is a plausible value of each parameter, what a box sends: the sweep sets one
// parameter at a time to a hostile value and leaves the others at these, so the hostile value
// reaches the handler's deeper paths (a date the EPG looks up, a cmd create_link plays)
// rather than stopping at the first missing parameter. A name the parse step reads that is
// missing here is absent but for the one being swept.
func sweepBase(e *env) map[string]string {
	now := time.Now().UTC()
	return map[string]string{
		"p": "1", "genre": itoa(e.news), "category": itoa(e.films), "sortby": "number", "fav": "0", "search": "Li",
		"ch_id": itoa(e.live), "id": itoa(e.live), "fav_ch": itoa(e.live) + "," + itoa(e.archive), "fav_radio": itoa(e.radio),
		"video_id": itoa(e.movie), "movie_id": itoa(e.seriesID), "series": "1",
		"cmd":    "ffmpeg http://localhost/ch/" + itoa(e.live) + "_",
		"period": "3", "size": "4", "limit": "4", "date": now.Format("2006-01-02"),
		"from": now.Add(-time.Hour).Format("2006-01-02 15:04:05"), "to": now.Add(time.Hour).Format("2006-01-02 15:04:05"),
		"event_active_id": "0", "sn": "0123456789ABC", "device_id": "E2F1A7C1B2D3", "device_id2": "",
		"stb_type": "MAG250", "image_version": "218", "ver": "ImageDescription: 0.2.18-r23-250", "hw_version": "1.7-BD-00",
		"locale": "en_GB.utf8", "pass": "1234", "repeat_pass": "1234",
	}
}

// wire is one connection to the server, written and read by hand: the header sweep sends
// bytes (NUL, invalid UTF-8) net/http refuses to send, and a keep-alive connection makes
// hundreds of thousands of calls cheap. It redials after an answer that closed the connection
// (a refusal of the HTTP parser).
type wire struct {
	t    *testing.T
	addr string
	conn net.Conn
	rd   *bufio.Reader
}

// reply is an answer: status, content type, the body (gzip decoded).
type reply struct {
	status int
	ctype  string
	body   []byte
}

// header is one request header, sent as it is.
type header struct{ name, value string }

// do sends method path (the query in path for GET, body form-encoded for POST) with headers.
func (w *wire) do(method, path string, headers []header, body string) reply {
	w.t.Helper()
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, w.addr)
	for _, h := range headers {
		fmt.Fprintf(&req, "%s: %s\r\n", h.name, h.value)
	}
	if method == http.MethodPost {
		fmt.Fprintf(&req, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", len(body))
	}
	req.WriteString("\r\n")
	req.WriteString(body)
	if w.conn == nil {
		c, err := net.DialTimeout("tcp", w.addr, waitLimit)
		must(w.t, err)
		w.conn, w.rd = c, bufio.NewReader(c)
	}
	must(w.t, w.conn.SetDeadline(time.Now().Add(waitLimit)))
	// No retry: the server closes a connection only after an answer saying so (roundTrip
	// redials then), or after 30 idle seconds the sweep never leaves it, so a failure here
	// is a connection the server dropped.
	r, err := w.roundTrip(req.Bytes(), method)
	if err != nil {
		w.conn.Close()
		w.conn = nil
		w.t.Fatalf("%s %.200q: %v (the server stopped answering)", method, path, err)
	}
	return r
}

func (w *wire) roundTrip(req []byte, method string) (reply, error) {
	if _, err := w.conn.Write(req); err != nil {
		return reply{}, err
	}
	resp, err := http.ReadResponse(w.rd, &http.Request{Method: method})
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return reply{}, fmt.Errorf("gzip answer: %w", err)
		}
		rd = zr
	}
	body, err := io.ReadAll(rd)
	if err != nil {
		return reply{}, err
	}
	if resp.Close {
		w.conn.Close()
		w.conn = nil
	}
	return reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: body}, nil
}

func (w *wire) close() {
	if w.conn != nil {
		w.conn.Close()
	}
}

// portalShape says whether r is an answer of the portal's own: the envelope {"js": …} as
// JSON (with status 200, or a 4xx whose js is {"error": "…"}), or one of the two plain-text
// refusals with status 200. It returns what is wrong, or "".
func portalShape(r reply) string {
	switch {
	case r.status >= 500:
		return "a 5xx"
	case strings.HasPrefix(r.ctype, "text/plain"):
		if r.status != 200 || (string(r.body) != "Authorization failed." && string(r.body) != "Access denied.") {
			return "text that is not one of the portal's refusals"
		}
		return ""
	case !strings.HasPrefix(r.ctype, "application/json"):
		return "neither JSON nor a plain-text refusal"
	}
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(r.body))
	if err := dec.Decode(&env); err != nil || dec.More() {
		return "JSON that does not decode as one object"
	}
	js, ok := env["js"]
	if !ok || len(env) != 1 {
		return "an object that is not the {\"js\": …} envelope"
	}
	if r.status == 200 {
		return ""
	}
	if r.status < 400 {
		return "a status that is neither 200 nor 4xx"
	}
	var refusal struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(js, &refusal) != nil || refusal.Error == "" {
		return "a 4xx whose js is not {\"error\": …}"
	}
	return ""
}

// sweeper sends the sweep's calls as one box with a session, keeps the session going, and
// counts.
type sweeper struct {
	t        *testing.T
	e        *env
	b        *box
	w        *wire
	worker   int
	deviceID int64
	paths    []string
	calls    int
	served   int // answered 200 in the envelope
	// parserRefused counts the identity sweep's requests the HTTP parser refused before
	// any route (a NUL in a header).
	parserRefused int
	failures      int
	// handshakes numbers the handshakes, each from an address of its own so that the
	// handshake rate limit (per address) does not turn the sweep's handshakes into 429s.
	handshakes int
}

// fail reports a wrong answer, stopping the test after 40 of them.
func (s *sweeper) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf(format, args...)
	if s.failures++; s.failures >= 40 {
		s.t.Fatalf("stopping after %d wrong answers", s.failures)
	}
}

// headers are the box's own: cookies, the Bearer token, its user agents.
func (s *sweeper) headers() []header {
	b := s.b
	hs := []header{{"Cookie", "mac=" + url.QueryEscape(b.mac) + "; stb_lang=en; timezone=" + url.QueryEscape("Europe/Paris")},
		{"User-Agent", b.ua}, {"X-User-Agent", b.xua}}
	if b.token != "" {
		hs = append(hs, header{"Authorization", "Bearer " + b.token})
	}
	if b.ip != "" {
		hs = append(hs, header{"X-Forwarded-For", b.ip})
	}
	return hs
}

// send sends q by method to the next of the API's paths, with headers, and checks the answer
// is the portal's. It returns the answer and whether its shape was right.
func (s *sweeper) send(method string, q url.Values, headers []header, what string) (reply, bool) {
	s.t.Helper()
	path := s.paths[s.calls%len(s.paths)]
	s.calls++
	var r reply
	if method == http.MethodGet {
		r = s.w.do(method, path+"?"+q.Encode(), headers, "")
	} else {
		r = s.w.do(method, path, headers, q.Encode())
	}
	if bad := portalShape(r); bad != "" {
		s.fail("%s %s %s: %s: %d %q %.300q", method, path, what, bad, r.status, r.ctype, r.body)
		return r, false
	}
	s.count(r)
	return r, true
}

// resume starts the box's session again (after stb/logout, or a handshake whose answer the
// sweep does not keep), from an address of its own.
func (s *sweeper) resume() {
	s.t.Helper()
	s.b.ip = s.nextIP()
	s.b.handshake("")
	s.b.ip = ""
}

func (s *sweeper) nextIP() string {
	s.handshakes++
	return fmt.Sprintf("10.%d.%d.%d", s.worker, s.handshakes>>8&255, s.handshakes&255)
}

// count counts r among the served when it is a 200 in the envelope.
func (s *sweeper) count(r reply) {
	if r.status == 200 && strings.HasPrefix(r.ctype, "application/json") {
		s.served++
	}
}

// authFailed reports whether r is the portal's "Authorization failed.".
func authFailed(r reply) bool {
	return strings.HasPrefix(r.ctype, "text/plain") && string(r.body) == "Authorization failed."
}

// portalValues are hostile values in the shapes of the portal's own ids, around the fixture's
// catch-up channel: a programme start past the year 5000 or at 0, a "{stream}_{start}" next
// part id past year 9999 or before year 1, a create_link cmd of a stream the line lacks.
func portalValues(e *env) []string {
	a := itoa(e.archive)
	return []string{"99999999999_" + a, "0_" + a, a + "_99999999999", a + "_9999-12-31 23:59:59", a + "_0000-01-01 00:00:00",
		"9999-12-31", "9999-12-31 23:59:59", "0000-01-01 00:00:00", "ffmpeg http://localhost/ch/" + itoa(e.other) + "_"}
}

// sweepCombos are requests that need two parameters broken together, on top of the base:
// guide windows at the ends of the calendar, a window past the 48 hours the tables show,
// a PIN of nine digits and one of letters typed twice, favourites of other lines' streams.
func sweepCombos(e *env) []map[string]string {
	return []map[string]string{
		{"from": "9999-12-31 20:00:00", "to": "9999-12-31 23:59:59"},
		{"from": "0000-01-01 00:00:00", "to": "0000-01-02 00:00:00"},
		{"from": "2020-01-01 00:00:00", "to": "2030-01-01 00:00:00"},
		{"pass": "123456789", "repeat_pass": "123456789"},
		{"pass": "abcd", "repeat_pass": "abcd"},
		{"pass": "' OR 1=1 --", "repeat_pass": "' OR 1=1 --"},
		{"fav_ch": itoa(e.other) + "," + itoa(e.movie) + ",99999999", "fav_radio": itoa(e.other) + "," + itoa(e.live)},
		{"cmd": "ffmpeg http://localhost/ch/" + itoa(e.night) + "_", "series": "999999999", "movie_id": itoa(e.seriesID) + ":999999999"},
	}
}

// sweepWorkers is how many boxes (each its own device and session on the fixture line) share
// the parameter sweep: two keep both cores busy, one sending while the other's answer is
// being built.
const sweepWorkers = 2

// TestEveryAction_HostileValues drives every action the portal's dispatch answers (its action
// table and the handshake, read from the table itself) through a box whose session passed the
// handshake and get_profile, by GET and by POST form, on each of the API's paths in turn, with
// each parameter the parse step reads (read from the parse step itself) set in turn to each
// hostile value, the others at a box's plausible values — then once with every parameter at
// the hostile value together (pass = repeat_pass, from = to), and with a few pairs broken
// together. Every answer must be the portal's own (the envelope, a 4xx {"js":{"error":…}},
// or a plain-text refusal), never a 5xx or a dropped connection; a parameter other than the
// MAC never costs the box its session ("Authorization failed." would say it did); most calls
// are served (the sweep reaches the actions, not only the parse step's 400); no handler
// panicked or failed to decide; and afterwards the session answers as before, and everything
// the sweep wrote (favourites, last channel, locale, parental PIN, model and firmware) reads
// back and decodes.
func TestEveryAction_HostileValues(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	actions, params := portal.ActionNames(), portal.ParamNames()
	if len(actions) < 80 || len(params) < 30 {
		t.Fatalf("the dispatch answers %d actions and the parse step reads %d parameters: the tables were not found", len(actions), len(params))
	}
	base := sweepBase(e)
	for name := range base {
		if !slices.Contains(params, name) {
			t.Fatalf("the sweep's base names %q, which the parse step no longer reads", name)
		}
	}
	values := append(slices.Clone(hostileValues), portalValues(e)...)
	combos := sweepCombos(e)
	sweepers := make([]*sweeper, sweepWorkers)
	start := time.Now()
	t.Run("workers", func(t *testing.T) {
		for w := range sweepers {
			t.Run(strconv.Itoa(w), func(t *testing.T) {
				t.Parallel()
				s := newSweeper(t, e, w)
				sweepers[w] = s
				before := s.state()
				for i, a := range actions {
					if i%sweepWorkers == w {
						s.sweepAction(a, params, base, values, combos, before.channels)
						// What this action's sweep wrote, read back before another overwrites it.
						s.stored("after the sweep of "+a, before.channels)
					}
				}
				s.afterwards(before)
			})
		}
	})
	sweep := time.Since(start)
	var calls, served int
	for _, s := range sweepers {
		if s == nil {
			t.Fatal("a worker did not start")
		}
		calls += s.calls
		served += s.served
	}
	pairs := 0
	for vi := range values {
		for pi := range params {
			for m := range 2 {
				if pairSent(vi, pi, m) {
					pairs++
				}
			}
		}
	}
	want := len(actions) * (pairs + 2*len(combos))
	if calls < want {
		t.Fatalf("%d calls, want at least %d", calls, want)
	}
	// The parse step refuses NUL, invalid UTF-8 and over-long values (3 of the values) and a
	// broken MAC costs the call its identity: everything else reaches an action.
	if served < calls*7/10 {
		t.Fatalf("only %d of %d calls were served: the sweep stopped before the actions", served, calls)
	}
	logs := e.logs.String()
	for _, bad := range []string{"panic in handler", "portal request undecided"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the log holds %q", bad)
		}
	}
	t.Logf("%d calls (%d served): %d actions × (%d parameters, each value by GET or POST in turn, + all together) × %d values, and %d pairs, in %v",
		calls, served, len(actions), len(params), len(values), len(combos), sweep.Round(time.Millisecond))
}

// sweepAction sends action a by GET and by POST with each parameter at each value, every
// parameter at each value, and each combo.
func (s *sweeper) sweepAction(a string, params []string, base map[string]string, values []string, combos []map[string]string,
	channels []string) {
	typ, act, _ := strings.Cut(a, "/")
	request := func(over map[string]string) url.Values {
		q := url.Values{"type": {typ}, "action": {act}, "JsHttpRequest": {"1-xml"}}
		for k, v := range base {
			q.Set(k, v)
		}
		for k, v := range over {
			q.Set(k, v)
		}
		return q
	}
	for m, method := range []string{http.MethodGet, http.MethodPost} {
		for _, c := range combos {
			s.call(method, request(c), a, fmt.Sprintf("%v", c), false)
			s.profile(fmt.Sprintf("after %s %s %v", method, a, c), channels)
		}
		for vi, v := range values {
			for pi, name := range params {
				if !pairSent(vi, pi, m) {
					continue
				}
				s.call(method, request(map[string]string{name: v}), a, fmt.Sprintf("%s=%.40q", name, v),
					name == "mac" || name == "type" || name == "action")
			}
			// Every parameter at v but the ones naming the call and the box, so that a write
			// of two (pass and repeat_pass) stores v if it ever stores garbage; a
			// 2,000-character value in each is past the server's 4 KB request head, so that
			// one goes by POST only.
			if method == http.MethodGet && len(v) > 100 {
				continue
			}
			q := url.Values{"type": {typ}, "action": {act}}
			for _, name := range params {
				if name != "type" && name != "action" && name != "mac" {
					q.Set(name, v)
				}
			}
			s.call(method, q, a, fmt.Sprintf("every parameter=%.40q", v), false)
			s.profile(fmt.Sprintf("after %s %s with every parameter=%.40q", method, a, v), channels)
		}
	}
}

// pairSent says whether parameter pi at value vi goes by method m (0 GET, 1 POST). Each pair
// goes by one of the two, in turn: the parse step reads the query and the form through one
// getter, and each method still sends every value in some parameter and every parameter at
// some value. Under the race detector, which makes each call several times slower, only
// every other pair is sent.
func pairSent(vi, pi, m int) bool {
	if testkit.RaceDetector {
		return (vi+pi)%4 == m
	}
	return (vi+pi)%2 == m
}

// call sends one call of the parameter sweep. identity says the hostile value is in what names
// the call or the box (type, action, mac), so the answer may be any of the portal's.
func (s *sweeper) call(method string, q url.Values, action, what string, identity bool) {
	s.t.Helper()
	hs := s.headers()
	handshake := action == "stb/handshake" && q.Get("type") == "stb" && q.Get("action") == "handshake"
	if handshake {
		hs = append(hs, header{"X-Forwarded-For", s.nextIP()})
	}
	r, ok := s.send(method, q, hs, action+" "+what)
	if !ok {
		return
	}
	switch {
	case handshake:
		// A handshake that went through replaced the session: keep the token it answered.
		var hs struct {
			JS struct {
				Token string `json:"token"`
			} `json:"js"`
		}
		if r.status == 200 && json.Unmarshal(r.body, &hs) == nil && hs.JS.Token != "" {
			s.b.token = hs.JS.Token
		}
	case authFailed(r) && !identity:
		s.fail("%s %s %s: the session was lost: %q", method, action, what, r.body)
		s.resume()
	case strings.HasPrefix(r.ctype, "text/plain") && !identity:
		s.fail("%s %s %s: %q for a box in good standing", method, action, what, r.body)
	}
	if action == "stb/logout" || (handshake && r.status != 200) {
		s.resume()
	}
}

// newSweeper starts the session of worker w's box: the fixture device for worker 0, for the
// others a device of their own on a line like the fixture's (a line has one device).
func newSweeper(t *testing.T, e *env, w int) *sweeper {
	t.Helper()
	b := e.box(t)
	deviceID := e.deviceID
	if w > 0 {
		line, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) {
			in.BouquetIDs, in.MaxConnections, in.IsMAG = []int64{e.bouquet}, 0, true
		})
		b.mac = fmt.Sprintf("00:1A:79:00:00:%02X", w)
		var err error
		deviceID, err = e.st.CreateMAGDevice(t.Context(), line.ID, b.mac)
		must(t, err)
	}
	b.handshake("")
	var prof map[string]any
	b.js(&prof, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	if prof["status"] != 0.0 {
		t.Fatalf("profile before the sweep = %v", prof)
	}
	conn := &wire{t: t, addr: strings.TrimPrefix(e.base, "http://")}
	t.Cleanup(conn.close)
	return &sweeper{t: t, e: e, b: b, w: conn, worker: w, deviceID: deviceID, paths: portal.APIPaths}
}

// boxState is what a box reads of its session and what the sweep may have written.
type boxState struct {
	channels []string // get_all_channels: the ids, in order
	genres   int
	profile  map[string]any
}

// state reads the box's lists and profile, failing on any answer that does not decode.
func (s *sweeper) state() boxState {
	s.t.Helper()
	b := s.b
	var st boxState
	var all channelPage
	b.strict(&all, "itv", "get_all_channels")
	for _, ch := range all.Data {
		st.channels = append(st.channels, ch.ID)
	}
	var genres []map[string]any
	b.js(&genres, "itv", "get_genres")
	st.genres = len(genres)
	b.js(&st.profile, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	return st
}

var digits = regexp.MustCompile(`^[0-9]{0,8}$`)

// locales is the shape of a locale name ("en_GB.utf8", "sr_RS@latin").
var locales = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?(\.[A-Za-z0-9-]+)?(@[a-z]+)?$`)

// profile reads the box's profile and fails on a stored value that is not of its shape: the
// locale, the parental PIN, the model, the last channel (one of channels).
func (s *sweeper) profile(when string, channels []string) {
	t, b := s.t, s.b
	t.Helper()
	var prof map[string]any
	b.js(&prof, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	kinds(t, "profile "+when, prof, map[string]string{"status": "number", "mac": "string", "locale": "string",
		"parent_password": "string", "last_itv_id": "number", "stb_type": "string", "fav_itv_on": "string"})
	if prof["status"] != 0.0 || prof["mac"] != b.mac {
		t.Fatalf("profile %s = %v", when, prof)
	}
	if pin, _ := prof["parent_password"].(string); !digits.MatchString(pin) {
		s.fail("parent_password %s = %q", when, pin)
	}
	if loc, _ := prof["locale"].(string); !locales.MatchString(loc) {
		s.fail("locale %s = %q", when, loc)
	}
	if typ, _ := prof["stb_type"].(string); !input.Text(typ, 128) {
		s.fail("stb_type %s = %q", when, typ)
	}
	last, _ := prof["last_itv_id"].(float64)
	if last != 0 && !slices.Contains(channels, strconv.FormatInt(int64(last), 10)) {
		s.fail("last_itv_id %s = %v, not a channel of the line", when, last)
	}
}

// stored reads back everything the sweep may have written for the box (channels: the line's
// channel ids) and fails on a value that is not of its answer's shape: the profile (locale,
// parental PIN, last channel, model), the settings, the favourites of each list.
func (s *sweeper) stored(when string, channels []string) {
	t, b := s.t, s.b
	t.Helper()
	s.profile(when, channels)
	// Favourites are kept as the box sent them (ids it may gain later): positive ids.
	for _, typ := range []string{"itv", "radio"} {
		var ids []string
		b.js(&ids, typ, "get_fav_ids")
		for _, id := range ids {
			if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 {
				s.fail("%s/get_fav_ids %s = %v: %q is no id", typ, when, ids, id)
			}
		}
	}
	var favs channelPage
	b.strict(&favs, "itv", "get_all_fav_channels")
	for _, typ := range []string{"vod", "series"} {
		var list struct {
			TotalItems int              `json:"total_items"`
			Data       []map[string]any `json:"data"`
		}
		b.js(&list, typ, "get_ordered_list", "fav", "1")
	}
	var radio struct {
		Data []map[string]any `json:"data"`
	}
	b.js(&radio, "radio", "get_all_fav_radio")
	var settings map[string]any
	b.js(&settings, "stb", "get_settings_profile")
	if pin, _ := settings["parent_password"].(string); !digits.MatchString(pin) {
		s.fail("get_settings_profile's parent_password %s = %q", when, pin)
	}
	var info map[string]any
	b.js(&info, "account_info", "get_main_info")
	var wd map[string]any
	b.js(&wd, "watchdog", "get_events")
}

// afterwards checks the box's session and what the sweep wrote: the session answers as before
// the sweep, each stored value reads back in the shape its answer has, and the writes still
// work.
func (s *sweeper) afterwards(before boxState) {
	t, b, e := s.t, s.b, s.e
	t.Helper()
	s.resume() // the sweep's last handshake or logout may have been any
	after := s.state()
	if !slices.Equal(after.channels, before.channels) || after.genres != before.genres {
		t.Errorf("after the sweep: channels %v, %d genres; before: %v, %d genres", after.channels, after.genres, before.channels, before.genres)
	}
	s.stored("after the sweep", before.channels)
	prof := after.profile
	// The writes still work, and read back.
	var ok bool
	b.js(&ok, "itv", "set_fav", "fav_ch", itoa(e.archive)+","+itoa(e.live))
	b.js(&ok, "stb", "set_locale", "locale", "de_DE.utf8")
	b.js(&ok, "stb", "set_parent_password", "pass", "4321", "repeat_pass", "4321")
	b.js(&ok, "itv", "set_last_id", "id", itoa(e.archive))
	var ids []string
	b.js(&ids, "itv", "get_fav_ids")
	b.js(&prof, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	if !slices.Equal(ids, []string{itoa(e.archive), itoa(e.live)}) || prof["locale"] != "de_DE.utf8" ||
		prof["parent_password"] != "4321" || prof["last_itv_id"] != float64(e.archive) {
		t.Errorf("writes after the sweep: favourites %v, profile locale %v, PIN %v, last channel %v", ids, prof["locale"],
			prof["parent_password"], prof["last_itv_id"])
	}
	// And the device row itself holds nothing a later read refuses.
	var locale, pin, stbType, image, firmware, hw string
	var favsRaw []byte
	must(t, e.st.Pool().QueryRow(t.Context(), `SELECT locale, parent_password, stb_type, image_version, firmware,
		hw_version, fav_channels::text FROM mag_devices WHERE id = $1`, s.deviceID).Scan(&locale, &pin, &stbType, &image,
		&firmware, &hw, &favsRaw))
	for _, v := range []string{locale, pin, stbType, image, firmware, hw} {
		if !input.Text(v, 1024) {
			t.Errorf("the device row holds %q", v)
		}
	}
	if !json.Valid(favsRaw) {
		t.Errorf("fav_channels = %s", favsRaw)
	}
}

// TestEveryAction_HostileIdentity sweeps what identifies the box and the client — the mac
// cookie and the mac parameter (the device's MAC in each accepted form, broken MACs), the
// Authorization header, User-Agent, X-User-Agent, the other cookies the portal reads (stb_lang,
// timezone, sn, token), Accept-Encoding, X-Forwarded-For and X-Real-IP — each in turn at each
// hostile value, raw bytes as they are, on every action the dispatch answers. Every answer is
// the portal's own, or the HTTP parser's documented 400 for a header it refuses; a MAC the
// portal accepts as the device's is served, one it does not is "Authorization failed."; and
// the session still answers afterwards.
func TestEveryAction_HostileIdentity(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	s := newSweeper(t, e, 0)
	before := s.state()
	actions := portal.ActionNames()

	// Each cookie the portal reads must be named here: mag.Cookies has a member per cookie.
	cookies := []string{"mac", "stb_lang", "timezone", "sn", "token"}
	if n := reflect.TypeFor[mag.Cookies]().NumField(); n != len(cookies) {
		t.Fatalf("mag.Cookies has %d members, the sweep names %d cookies", n, len(cookies))
	}
	for _, name := range cookies {
		if mag.ParseCookies(name+"=x") == (mag.Cookies{}) {
			t.Fatalf("mag.ParseCookies reads no cookie %q", name)
		}
	}

	macs := macValues(e.mac)
	sameDevice := func(v string) bool {
		m, err := mag.ParseMAC(v)
		return err == nil && m.String() == e.mac
	}
	type source struct {
		name   string
		values []string
		// set puts v in the request the box would send.
		set func(q url.Values, hs []header, v string) []header
		// served says whether a call with v must be served as the box's (false: any of
		// the portal's answers).
		served func(v string) bool
	}
	replaceHeader := func(name string) func(q url.Values, hs []header, v string) []header {
		return func(_ url.Values, hs []header, v string) []header {
			out := slices.DeleteFunc(slices.Clone(hs), func(h header) bool { return h.name == name })
			return append(out, header{name, v})
		}
	}
	cookie := func(name string) func(q url.Values, hs []header, v string) []header {
		return func(_ url.Values, hs []header, v string) []header {
			out := slices.Clone(hs)
			for i, h := range out {
				if h.name == "Cookie" {
					if name == "mac" {
						out[i].value = strings.Replace(h.value, "mac="+url.QueryEscape(s.b.mac), "mac="+v, 1)
					} else {
						out[i].value = h.value + "; " + name + "=" + v
					}
				}
			}
			return out
		}
	}
	always := func(string) bool { return true }
	never := func(string) bool { return false }
	tokenValues := func() []string {
		out := []string{"Bearer", "Bearer ", "Basic {token}", "Bearer {token} {token}", "bearer   {token}",
			"Bearer {token}\x00", "Bearer \x00{token}", "Bearer {token}\xff", "Bearer " + strings.Repeat("A", 129), "{token}",
			"Bearer {token}{token}"}
		for _, v := range hostileValues {
			out = append(out, "Bearer "+v, v)
		}
		return out
	}
	inputs := []source{
		{"mac cookie", macs, cookie("mac"), never},
		// An empty mac parameter is none: the cookie names the box.
		{"mac parameter", macs, func(q url.Values, hs []header, v string) []header { q.Set("mac", v); return hs },
			func(v string) bool { return v == "" || sameDevice(v) }},
		{"Authorization", nil, func(q url.Values, hs []header, v string) []header {
			return replaceHeader("Authorization")(q, hs, strings.ReplaceAll(v, "{token}", s.b.token))
		}, func(v string) bool { return strings.TrimSpace(strings.ToLower(v)) == "bearer   {token}" }},
		{"User-Agent", hostileValues, replaceHeader("User-Agent"), always},
		{"X-User-Agent", append([]string{"Model: \xff", "Model: " + strings.Repeat("M", 2000), "Model:", "model: MAG254; Link: WiFi; Model: \x00"},
			hostileValues...), replaceHeader("X-User-Agent"), always},
		{"stb_lang cookie", hostileValues, cookie("stb_lang"), always},
		{"timezone cookie", append([]string{"Europe%2F..%2F..%2Fetc%2Fpasswd", "Local", "Etc/GMT+3", "Etc%2FGMT%2B99", "undefined",
			"Europe/Paris\x00", "Europe%2FParis%00", "UTC", "Europe//Paris", "./Europe/Paris", "/etc/localtime"}, hostileValues...), cookie("timezone"), always},
		{"sn cookie", hostileValues, cookie("sn"), always},
		{"token cookie", hostileValues, cookie("token"), always},
		{"Accept-Encoding", append([]string{"gzip;q=0", "gzip, deflate, br", "*", "identity;q=0"}, hostileValues...),
			replaceHeader("Accept-Encoding"), always},
		{"X-Forwarded-For", append([]string{"fe80::1%eth0, 127.0.0.1", "::ffff:10.0.0.1", "1.2.3.4, fe80::1%25eth0", "999.1.1.1"},
			hostileValues...), replaceHeader("X-Forwarded-For"), always},
		{"X-Real-IP", hostileValues, replaceHeader("X-Real-IP"), always},
	}
	// The mac cookie in an accepted form of the device's MAC is the device; the cookie's value
	// is percent-decoded first, so the encoded forms are too.
	inputs[0].served = func(v string) bool {
		d, err := url.PathUnescape(strings.Trim(strings.TrimSpace(v), `"`))
		return err == nil && sameDevice(strings.TrimSpace(d)) && !strings.ContainsAny(v, ";")
	}
	start := time.Now()
	for _, in := range inputs {
		values := in.values
		if in.name == "Authorization" {
			values = tokenValues()
		}
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				t.Fatalf("%s %q: a line break would be a second header, not a value", in.name, v)
			}
			for _, a := range actions {
				typ, act, _ := strings.Cut(a, "/")
				q := url.Values{"type": {typ}, "action": {act}, "JsHttpRequest": {"1-xml"}}
				hs := in.set(q, s.headers(), v)
				handshake := a == "stb/handshake"
				if handshake {
					hs = append(slices.DeleteFunc(hs, func(h header) bool { return h.name == "X-Forwarded-For" }),
						header{"X-Forwarded-For", s.nextIP()})
				}
				r := s.sendRaw(q, hs, fmt.Sprintf("%s %s=%.40q", a, in.name, v))
				if r == nil {
					continue
				}
				if handshake {
					s.resume() // the handshake may have replaced the session with one the sweep did not keep
					continue
				}
				if in.name == "Authorization" && !strings.Contains(v, "{token}") {
					if !authFailed(*r) {
						s.fail("%s Authorization %.60q: %d %.100q, want \"Authorization failed.\"", a, v, r.status, r.body)
					}
					continue
				}
				if in.served(v) && strings.HasPrefix(r.ctype, "text/plain") {
					s.fail("%s %s=%.60q: %q for the box's own session", a, in.name, v, r.body)
				}
				// A MAC that is not the device's opens nothing: "Authorization failed.", or the
				// parse step's 400. (A cookie header naming mac twice is the first one's.)
				if strings.HasPrefix(in.name, "mac ") && !in.served(v) && !strings.Contains(v, ";") &&
					!authFailed(*r) && r.status != http.StatusBadRequest {
					s.fail("%s %s=%.60q: %d %.100q, want a refusal", a, in.name, v, r.status, r.body)
				}
				if a == "stb/logout" && !authFailed(*r) {
					s.resume()
				}
			}
		}
	}
	want := len(actions) * (len(macs)*2 + len(hostileValues)*8)
	if s.calls < want {
		t.Fatalf("%d calls, want at least %d", s.calls, want)
	}
	// Most values are text a box could send, and half the MACs are the device's own: a sweep
	// the parser or the identity check refused wholesale would test no action.
	if s.served < s.calls/2 || s.parserRefused > s.calls/10 {
		t.Fatalf("%d of %d calls served, %d refused by the HTTP parser", s.served, s.calls, s.parserRefused)
	}
	t.Logf("%d calls (%d served, %d refused by the HTTP parser): %d actions × %d identity inputs, in %v", s.calls, s.served,
		s.parserRefused, len(actions), len(inputs), time.Since(start).Round(time.Millisecond))
	s.afterwards(before)
}

// sendRaw sends one GET of the identity sweep and checks its answer: the portal's own, or
// the HTTP parser's 400 for a header it refuses. It returns nil for the parser's refusal.
func (s *sweeper) sendRaw(q url.Values, hs []header, what string) *reply {
	s.t.Helper()
	path := s.paths[s.calls%len(s.paths)]
	s.calls++
	r := s.w.do(http.MethodGet, path+"?"+q.Encode(), hs, "")
	if r.status == http.StatusBadRequest && strings.HasPrefix(r.ctype, "text/plain") && string(r.body) == "malformed HTTP request" {
		s.parserRefused++
		return nil
	}
	if bad := portalShape(r); bad != "" {
		s.fail("GET %s %s: %s: %d %q %.300q", path, what, bad, r.status, r.ctype, r.body)
		return nil
	}
	s.count(r)
	return &r
}
