package player

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/internal/input"
)

// parser runs parseRequest inside a Fiber app, as the routes do (route parameters need one).
type parser struct {
	app  *fiber.App
	ua   string // the User-Agent of the next parse
	last request
	ran  bool
}

func newParser() *parser {
	p := &parser{app: fiber.New()}
	h := func(c *fiber.Ctx) error {
		p.last, p.ran = parseRequest(c, netip.MustParseAddr("192.0.2.1")), true
		return nil
	}
	for _, path := range []string{"/player_api.php", "/player_api/:username/:password", "/player_api/:username/:password/:action"} {
		p.app.Get(path, h)
		p.app.Post(path, h)
	}
	return p
}

// parse sends path?query, POSTing body as a form when it is not empty.
func (p *parser) parse(path, query, body string) request {
	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI(path + "?" + query)
	fctx.Request.Header.SetUserAgent(p.ua)
	if body != "" {
		fctx.Request.Header.SetMethod(fiber.MethodPost)
		fctx.Request.Header.SetContentType(fiber.MIMEApplicationForm)
		fctx.Request.SetBodyString(body)
	}
	p.last, p.ran = request{}, false
	p.app.Handler()(&fctx)
	return p.last
}

func parseWith(t testing.TB, query, body string) request {
	t.Helper()
	return newParser().parse("/player_api.php", query, body)
}

// FuzzParseRequest: any query string and form body parse without panicking into a request
// that keeps its invariants (bounded credentials, known action, sane numbers).
func FuzzParseRequest(f *testing.F) {
	for _, seed := range [][2]string{
		{"username=alice&password=secret&action=get_live_streams&category_id=12", ""},
		{"username=a&password=b&action=205&stream_id=1&limit=99999999999999999999", ""},
		{"username=%00&password=%ff%fe&action=get_vod_info&vod_id=-1", ""},
		{"username=x&username=y&password=&category_id=*", "username=alice&password=secret&action=201"},
		{"params[offset]=5&params[items_per_page]=2&type=m3u_plus&output=hls&prev_days=3&next_days=-1", ""},
		{"username=a&password=b&gzip=1&gzip=0&prev_days=14", "gzip=%201%20"},
		{"cat_id=0&season=0&series_id=1e3&from_now=1", "password=" + strings.Repeat("p", 2000)},
		{"%zz=%zz&&&==&a", "%%%"},
		// Issue 11: bad bytes in every credential and parameter (refused, never a query).
		{"username=%00&password=x", ""},
		{"username=alice&password=%C3%28", ""},
		{"username=alice&password=x&action=get_live%00_streams", ""},
		{"username=alice&password=x&category_id=%ED%A0%80", ""},
		{"username=alice&password=x", "stream_id=" + strings.Repeat("1", 10<<10)},
		{"username=" + strings.Repeat("%E6%97%A5", 200) + "&password=x", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	p := newParser()
	f.Fuzz(func(t *testing.T, query, body string) {
		p.ua = body // any bytes as the User-Agent too: made storable, never refused
		r := p.parse("/player_api.php", query, body)
		if !p.ran {
			return // refused by fasthttp or the router before any handler (a NUL in the URI ...)
		}
		if len(query) > 0 && query[0] != '/' {
			// The same bytes as path credentials and action (XUI alias).
			seg := url.PathEscape(query)
			rp := p.parse("/player_api/"+seg+"/"+seg+"/"+seg, "", "")
			if len(rp.username) > maxUsernameLen || len(rp.password) > maxPasswordLen {
				t.Fatalf("unbounded path credential")
			}
		}
		if len(r.username) > maxUsernameLen || len(r.password) > maxPasswordLen || len(r.userAgent) > maxUserAgentLen {
			t.Fatalf("unbounded value: %d/%d/%d bytes", len(r.username), len(r.password), len(r.userAgent))
		}
		if r.refused && (r.username != "" || r.password != "" || r.action != "" || r.streamID != 0) {
			t.Fatalf("a refused request keeps values: %+v", r)
		}
		for _, v := range []string{r.username, r.password, r.userAgent} {
			if !input.Text(v, maxPasswordLen) {
				t.Fatalf("value %q is not storable text", v)
			}
		}
		if r.action != actLogin && actions[r.action] != r.action {
			t.Fatalf("action %q is not canonical", r.action)
		}
		if r.category < categoryNone || r.vodID < 0 || r.seriesID < 0 || r.streamID < 0 || r.season < -1 {
			t.Fatalf("negative id: %+v", r)
		}
		if r.limit < 1 || r.limit > maxEPGLimit || r.prevDays < 0 || r.prevDays > maxGuideDays ||
			r.nextDays < 0 || r.nextDays > maxGuideDays || r.offset < 0 || r.perPage < 0 {
			t.Fatalf("count out of range: %+v", r)
		}
		switch r.output {
		case "", outputTS, outputHLS:
		default:
			t.Fatalf("output %q", r.output)
		}
	})
}

// TestParseRequest_POSTWins: a form value beats the query's, as the original merges them.
func TestParseRequest_POSTWins(t *testing.T) {
	t.Parallel()
	r := parseWith(t, "username=q&password=q&action=get_live_streams", "username=form&password=formpw")
	if r.username != "form" || r.password != "formpw" || r.action != actLiveStreams {
		t.Errorf("parsed %q/%q/%q, want form/formpw/get_live_streams", r.username, r.password, r.action)
	}
	if r := parseWith(t, "username=a&password=b&action=209", ""); r.action != actVODInfo {
		t.Errorf("action 209 = %q", r.action)
	}
}

// TestParseRequest_Gzip: gzip asks for a gzip guide only as the integer 1 (XUI: (int)gzip ==
// 1), surrounding blanks allowed; the first value wins, a form value over the query's.
func TestParseRequest_Gzip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		query, body string
		want        bool
	}{
		{"gzip=1", "", true}, {"gzip=01", "", true}, {"gzip=%201%20", "", true}, {"gzip=1&gzip=0", "", true},
		{"", "", false}, {"gzip=", "", false}, {"gzip=0", "", false}, {"gzip=2", "", false},
		{"gzip=true", "", false}, {"gzip=1x", "", false}, {"gzip=-1", "", false},
		{"gzip=0", "gzip=1", true}, {"gzip=1", "gzip=0", false},
	} {
		if got := parseWith(t, "username=a&password=b&"+tt.query, tt.body).gzip; got != tt.want {
			t.Errorf("query %q, form %q: gzip = %v, want %v", tt.query, tt.body, got, tt.want)
		}
	}
}

// FuzzAppendString: the JSON writer's strings are valid JSON and decode to the input (with
// invalid UTF-8 replaced, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "tab\tnl\ncr\r\x00\x1f\x7f", "é ü 日本", "\xff\xfe", "\u2028\u2029", "</script>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		if !json.Valid(b) {
			t.Fatalf("appendString(%q) = %s: not JSON", s, b)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && utf8.ValidString(s) {
			t.Fatalf("appendString(%q) decodes to %q", s, back)
		}
	})
}

// FuzzPathSegment: an escaped credential is one path segment and unescapes to itself.
func FuzzPathSegment(f *testing.F) {
	for _, s := range []string{"alice", "p@ss/w#rd+1 ?%", "%2F", "日本", "\x00", "../.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := pathSegment(s)
		if strings.ContainsAny(e, "/?# \"") {
			t.Fatalf("pathSegment(%q) = %q keeps a delimiter", s, e)
		}
		back, err := url.PathUnescape(e)
		if err != nil || back != s {
			t.Fatalf("pathSegment(%q) = %q unescapes to %q, %v", s, e, back, err)
		}
	})
}

// FuzzM3UText: attribute values never hold a quote or a line break, names no line break.
func FuzzM3UText(f *testing.F) {
	for _, s := range []string{`Sports "Max"`, "two\nlines\r", "\x00\x7f", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if a := appendAttr(nil, s); bytes.ContainsAny(a, "\"\r\n") {
			t.Fatalf("appendAttr(%q) = %q", s, a)
		}
		if l := appendLineText(nil, s); bytes.ContainsAny(l, "\r\n") {
			t.Fatalf("appendLineText(%q) = %q", s, l)
		}
	})
}

// FuzzXMLText: escaped text and CDATA sections always make well-formed XML that reads back as
// the input (up to the characters XML cannot hold).
func FuzzXMLText(f *testing.F) {
	for _, s := range []string{"a & b < c > d \"e\" 'f'", "]]>", "x]]>y]]]>", "\x00\x01\t\n", "\xff", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc := append([]byte("<r><t>"), appendXMLText(nil, s)...)
		doc = append(doc, "</t><c>"...)
		doc = appendCDATA(doc, s)
		doc = append(doc, "</c></r>"...)
		var v struct {
			T string `xml:"t"`
			C string `xml:"c"`
		}
		dec := xml.NewDecoder(bytes.NewReader(doc))
		dec.Strict = true
		if err := dec.Decode(&v); err != nil && err != io.EOF {
			t.Fatalf("%q: %v\n%s", s, err, doc)
		}
		if clean := strings.Map(xmlRune, s); !strings.Contains(s, "\r") && (v.T != clean || v.C != clean) {
			t.Fatalf("%q reads back as %q / %q", s, v.T, v.C)
		}
	})
}

// FuzzAppendInfo: stored metadata of any shape comes out as a JSON object whose
// backdrop_path is an array of strings, whose video/audio are objects, and which has every
// key of movieInfoDefaults.
func FuzzAppendInfo(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `null`, `"x"`, `{"backdrop_path":"a"}`, `{"backdrop_path":null,"video":[],"audio":"x"}`,
		`{"backdrop_path":["a",1,null]}`, `{"episode_run_time":null}`, `{"a":`, `{"backdrop_path":[]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := appendInfo(nil, json.RawMessage(s), movieInfoDefaults)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			t.Fatalf("appendInfo(%q) = %s: not an object (%v)", s, b, err)
		}
		if v, ok := m["backdrop_path"]; ok {
			var arr []string
			if err := json.Unmarshal(v, &arr); err != nil || arr == nil {
				t.Fatalf("appendInfo(%q): backdrop_path %s", s, v)
			}
		}
		for _, k := range []string{"video", "audio"} {
			if v, ok := m[k]; ok && !isObject(v) {
				t.Fatalf("appendInfo(%q): %s %s", s, k, v)
			}
		}
		for _, d := range movieInfoDefaults {
			if _, ok := m[d.key]; !ok {
				t.Fatalf("appendInfo(%q): no %s", s, d.key)
			}
		}
	})
}
