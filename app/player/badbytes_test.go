package player_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBadBytes_ReportedNUL is the report of issue 11: a NUL byte as the username answered 503
// and logged an ERROR (PostgreSQL: invalid byte sequence for encoding "UTF8": 0x00) instead of
// failing the login.
func TestBadBytes_ReportedNUL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, hdr, body := f.get(t, playerAPI+"?username=%00&password=x")
	if code != http.StatusOK || string(body) != authFailed || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("username=%%00 = %d %q (%s), want 200 %s", code, clip(body), hdr.Get("Content-Type"), authFailed)
	}
	if logs := f.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "invalid byte sequence") {
		t.Errorf("logs:\n%s", logs)
	}
}

// badBytes are values no player surface takes as text: each refuses the whole request.
var badBytes = []struct{ name, value string }{
	{"NUL", "\x00"},
	{"NUL inside", "ali\x00ce"},
	{"invalid UTF-8", "\xff\xfe"},
	{"UTF-16 surrogate", "\xed\xa0\x80"},
	{"cut sequence", "caf\xc3"},
	{"3 KB", strings.Repeat("a", 3<<10)},
	{"10 KB", strings.Repeat("a", 10<<10)},
}

// refusals are each player surface's answer to bad credentials (spec §1.2, §3.1–§3.4).
var refusals = []struct {
	path string
	base []string
	want outcome
}{
	{playerAPI, []string{"action", "get_live_streams"}, outcome{200, authFailed, "application/json"}},
	{"/panel_api.php", nil, outcome{200, authFailed, "application/json"}},
	{"/get.php", []string{"type", "m3u_plus", "output", "ts"}, outcome{404, "", ""}},
	{"/xmltv.php", []string{"next_days", "2"}, outcome{401, "", ""}},
	{"/enigma2.php", []string{"type", "get_live_streams"}, outcome{401, "", ""}},
}

// playerKeys are the credentials and every parameter a player surface reads.
var playerKeys = []string{"username", "password", "action", "type", "output", "category_id", "cat_id", "vod_id",
	"series_id", "stream_id", "season", "limit", "from_now", "params[offset]", "params[items_per_page]",
	"prev_days", "next_days"}

// TestBadBytes_EverySurface: a NUL byte, invalid UTF-8 or an over-long value in a credential or
// in any parameter, by GET or POST, is refused in the surface's own format, as bad credentials
// are — never a 503, never a log line. The refusal happens before anything reaches
// PostgreSQL: it is the same answer with the database gone.
func TestBadBytes_EverySurface(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	send := func(t *testing.T, dbUp bool) {
		t.Helper()
		for _, s := range refusals {
			for _, key := range playerKeys {
				for _, bad := range badBytes {
					q := bobQuery(s.base)
					q.Set(key, bad.value)
					f.expectRefusal(t, s.path, q, s.want, key+" "+bad.name)
				}
			}
		}
		// XUI's path aliases carry the credentials and the action in the path.
		for _, bad := range badBytes[:5] {
			seg := url.PathEscape(bad.value)
			for _, path := range []string{"/player_api/" + seg + "/" + url.PathEscape(bobPass), "/player_api/bob/" + seg,
				"/player_api/bob/" + url.PathEscape(bobPass) + "/" + seg} {
				if got := f.outcome(t, http.MethodGet, path, nil); got != refusals[0].want {
					t.Errorf("GET %s (%s) = %+v, want %+v", path, bad.name, got, refusals[0].want)
				}
			}
		}
		if !dbUp {
			// The control: a well-formed request that needs the database cannot be answered.
			if code, _, _ := f.get(t, api(playerAPI, "username", "nobody", "password", "x")); code != http.StatusServiceUnavailable {
				t.Errorf("with the database closed, a well-formed unknown line = %d, want 503", code)
			}
		}
	}
	send(t, true)
	if logs := f.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "undecided") {
		t.Errorf("bad bytes were logged:\n%s", logs)
	}
	f.pool.Close()
	send(t, false)
}

// outcome sends one request and reports its status, body and Content-Type.
func (f *fixture) outcome(t testing.TB, method, target string, form url.Values) outcome {
	t.Helper()
	code, hdr, body := f.do(t, method, target, form, nil)
	ct := hdr.Get("Content-Type")
	if len(body) == 0 && ct != "application/json" {
		ct = "" // an empty answer's type is fasthttp's default; only the JSON surfaces set one
	}
	return outcome{code, string(body), ct}
}

// expectRefusal sends q by GET and by POST and wants the refusal. A query above fasthttp's
// 4 KB request-line buffer never reaches a handler: the server answers 431 (app.Test reports
// an error instead), so such values go by POST only.
func (f *fixture) expectRefusal(t *testing.T, path string, q url.Values, want outcome, what string) {
	t.Helper()
	if target := path + "?" + q.Encode(); len(target) < 4<<10 {
		if got := f.outcome(t, http.MethodGet, target, nil); got != want {
			t.Errorf("GET %s %s = %d %q %q, want %+v", path, what, got.status, clipString(got.body), got.contentType, want)
		}
	}
	if got := f.outcome(t, http.MethodPost, path, q); got != want {
		t.Errorf("POST %s %s = %d %q %q, want %+v", path, what, got.status, clipString(got.body), got.contentType, want)
	}
}

// TestBadBytes_UserAgent: a User-Agent that is not UTF-8 is made storable, not refused: the
// login works and a wrong password is a plain failure. (That its denial reaches the client
// log is tested where the workers run: app/stream's TestBadBytes_Streams.)
func TestBadBytes_UserAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hdr := map[string]string{"User-Agent": "Box\xff\xfe/1.0"}
	code, _, body := f.do(t, http.MethodGet, api(playerAPI, "username", "alice", "password", alicePass), nil, hdr)
	if code != http.StatusOK || !strings.Contains(string(body), `"auth":1`) {
		t.Errorf("login with a Latin-1 User-Agent = %d %q", code, clip(body))
	}
	code, _, body = f.do(t, http.MethodGet, api(playerAPI, "username", "alice", "password", "wrong"), nil, hdr)
	if code != http.StatusOK || string(body) != authFailed {
		t.Errorf("wrong password = %d %q", code, clip(body))
	}
	if logs := f.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "client log") {
		t.Errorf("logs:\n%s", logs)
	}
}
