package player_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// garbage is what hostile or broken clients put into parameters, as text: bad bytes (NUL,
// invalid UTF-8, over-long values) are refused outright (badbytes_test.go).
var garbage = []string{
	"", " ", "abc", "-1", "0", "*", "1e3", "0x10", "1.5", "99999999999999999999999999", "-9223372036854775808",
	"9223372036854775807", "１２", "1;DROP TABLE lines", "%00", "<script>", `"quoted"`,
	"null", "[]", "{}", strings.Repeat("9", 250),
}

// TestBadInput_Matrix sends every garbage value in every parameter of every surface: the
// answer is always the surface's own clean format — never a 500, never a panic.
func TestBadInput_Matrix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	params := []string{"action", "category_id", "vod_id", "series_id", "stream_id", "limit", "from_now", "type",
		"output", "cat_id", "season", "prev_days", "next_days", "params[offset]", "params[items_per_page]"}
	surfaces := []struct {
		path string
		base []string
		ok   func(code int, body []byte) bool
	}{
		{playerAPI, []string{"action", "get_live_streams"}, jsonOK},
		{playerAPI, []string{"action", "get_short_epg", "stream_id", "1"}, jsonOK},
		{playerAPI, []string{"action", "get_simple_data_table", "stream_id", "1"}, jsonOK},
		{playerAPI, []string{"action", "get_vod_info", "vod_id", "6"}, jsonOK},
		{playerAPI, []string{"action", "get_series_info", "series_id", "1"}, jsonOK},
		{"/panel_api.php", nil, jsonOK},
		{"/panel_api.php", []string{"action", "get_epg", "stream_id", "1"}, jsonOK},
		{"/enigma2.php", []string{"type", "get_live_streams"}, xmlOK},
		{"/enigma2.php", []string{"type", "get_series_streams", "series_id", "1", "season", "1"}, xmlOK},
		{"/get.php", []string{"type", "m3u_plus"}, func(code int, body []byte) bool {
			return code == 404 && len(body) == 0 || code == 200 && bytes.HasPrefix(body, []byte("#EXTM3U"))
		}},
		{"/xmltv.php", nil, xmlOK},
	}
	for _, s := range surfaces {
		for _, p := range params {
			for _, g := range garbage {
				q := bobQuery(s.base)
				q.Set(p, g)
				target := s.path + "?" + q.Encode()
				for _, method := range []string{http.MethodGet, http.MethodPost} {
					var code int
					var body []byte
					if method == http.MethodGet {
						code, _, body = f.get(t, target)
					} else {
						code, _, body = f.do(t, method, s.path, q, nil)
					}
					// A query string above fasthttp's 4 KB header buffer is refused by the
					// server itself (431) before any handler runs: also clean.
					if code == http.StatusRequestHeaderFieldsTooLarge && method == http.MethodGet {
						continue
					}
					if !s.ok(code, body) {
						t.Errorf("%s %s %s=%q: %d %q", method, s.path, p, clipString(g), code, clip(body))
					}
				}
			}
		}
	}
}

func jsonOK(code int, body []byte) bool { return code == 200 && json.Valid(body) }

func xmlOK(code int, body []byte) bool {
	if code != 200 || !bytes.HasPrefix(body, []byte("<?xml")) {
		return false
	}
	return wellFormed(body)
}

func clipString(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// TestBadInput_Answers pins what malformed ids and filters answer (spec §1.5–§1.10): an
// empty list or the empty object of the action's shape.
func TestBadInput_Answers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct {
		params []string
		want   string
	}{
		{[]string{"action", "get_live_streams", "category_id", "abc"}, `[]`},
		{[]string{"action", "get_live_streams", "category_id", "-1"}, `[]`},
		{[]string{"action", "get_live_streams", "category_id", "999999999999999999999"}, `[]`},
		{[]string{"action", "get_live_streams", "category_id", "424242"}, `[]`},
		{[]string{"action", "get_vod_streams", "category_id", "1"}, `[]`}, // a live category
		{[]string{"action", "get_series", "category_id", "x"}, `[]`},
		{[]string{"action", "get_vod_info"}, `{"info":{},"movie_data":{}}`},
		{[]string{"action", "get_vod_info", "vod_id", "abc"}, `{"info":{},"movie_data":{}}`},
		{[]string{"action", "get_vod_info", "vod_id", "-6"}, `{"info":{},"movie_data":{}}`},
		{[]string{"action", "get_vod_info", "vod_id", "99999999999999999999"}, `{"info":{},"movie_data":{}}`},
		{[]string{"action", "get_series_info", "series_id", "abc"}, `{"seasons":[],"info":{},"episodes":{}}`},
		{[]string{"action", "get_series_info", "series_id", "424242"}, `{"seasons":[],"info":{},"episodes":{}}`},
		{[]string{"action", "get_short_epg"}, `{"epg_listings":[]}`},
		{[]string{"action", "get_short_epg", "stream_id", "x"}, `{"epg_listings":[]}`},
		{[]string{"action", "get_short_epg", "stream_id", theMatrix}, `{"epg_listings":[]}`},
		{[]string{"action", "get_simple_data_table", "stream_id", "-1"}, `{"epg_listings":[]}`},
		{[]string{"action", "get_epg", "stream_id", "x"}, `[]`},
	}
	for _, tt := range cases {
		code, _, body := f.get(t, api(playerAPI, append([]string{"username", "alice", "password", alicePass}, tt.params...)...))
		if code != 200 || string(body) != tt.want {
			t.Errorf("%v = %d %s, want 200 %s", tt.params, code, clip(body), tt.want)
		}
	}
	// The "every category" spellings answer the whole list.
	_, _, all := f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_live_streams"))
	for _, v := range []string{"", "0", "*", " 0 "} {
		_, _, got := f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_live_streams", "category_id", v))
		if !bytes.Equal(got, all) {
			t.Errorf("category_id=%q is not the whole list", v)
		}
	}
	// A huge limit is capped, a bad one is the default 4.
	for limit, want := range map[string]int{"1000000000000": 5, "abc": 4, "-3": 4, "0": 4, "1": 1, "2": 2} {
		_, _, body := f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_short_epg", "stream_id", newsOne, "limit", limit))
		if got := len(decodeStrict[ShortEPG](t, body).EPGListings); got != want {
			t.Errorf("limit=%q: %d listings, want %d", limit, got, want)
		}
	}
}

// TestBadInput_HugeBody: a megabyte-sized POSTed username is a failed login, not an error.
func TestBadInput_HugeBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	form := url.Values{"username": {strings.Repeat("u", 900_000)}, "password": {"x"}}
	if code, _, body := f.do(t, http.MethodPost, playerAPI, form, nil); code != 200 || string(body) != authFailed {
		t.Errorf("huge username = %d %q, want 200 %s", code, clip(body), authFailed)
	}
}

// bobQuery is bob's login with the name/value pairs of base set on it.
func bobQuery(base []string) url.Values {
	q := url.Values{"username": {"bob"}, "password": {bobPass}}
	for i := 0; i+1 < len(base); i += 2 {
		q.Set(base[i], base[i+1])
	}
	return q
}
