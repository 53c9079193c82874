package stream_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// badPathValues are credentials no stream route takes as text, path-escaped: NUL bytes, invalid
// UTF-8 and over-long values. 10 KB does not fit fasthttp's 4 KB request-line buffer: the server
// itself answers 431.
var badPathValues = []struct{ name, escaped string }{
	{"NUL", "%00"},
	{"NUL inside", "ab%00cd"},
	{"invalid UTF-8", "%FF%FE"},
	{"UTF-16 surrogate", "%ED%A0%80"},
	{"cut sequence", "caf%C3"},
	{"3 KB", strings.Repeat("a", 3<<10)},
	{"10 KB", strings.Repeat("a", 10<<10)},
}

// TestBadBytes_Streams: a NUL byte, invalid UTF-8 or an over-long value in the credentials, the
// token or any other part of every stream route family (live TS and HLS, the short form, movie,
// episode, both timeshift paths and timeshift.php, HLS segments and playlists, play links,
// ?play_token=) is a 4xx with an empty body by GET and by POST — never a 503, never an ERROR
// line — and it is refused before PostgreSQL: the same answers come with the database gone.
func TestBadBytes_Streams(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	u, p := e.line.Username, e.pass
	start := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02:15-04")
	ids := strings.NewReplacer("{live}", itoa(e.live), "{movie}", itoa(e.movie), "{episode}", itoa(e.episode),
		"{shift}", itoa(e.shift), "{start}", start)
	credRoutes := []struct {
		tpl  string
		want int
	}{
		{"/live/{u}/{p}/{live}.ts", 404},
		{"/live/{u}/{p}/{live}.m3u8", 404},
		{"/live/{u}/{p}/{live}", 404},
		{"/{u}/{p}/{live}", 404},
		{"/{u}/{p}/{live}.ts", 404},
		{"/movie/{u}/{p}/{movie}.mp4", 404},
		{"/series/{u}/{p}/{episode}.mp4", 404},
		{"/timeshift/{u}/{p}/60/{start}/{shift}.ts", 404},
		{"/timeshifts/{u}/{p}/60/{shift}/{start}.ts", 404},
		{"/streaming/timeshift.php?username={u}&password={p}&stream={shift}&start={start}&duration=60", 401},
	}
	type probe struct {
		path string
		want int
	}
	var probes []probe
	for _, bad := range badPathValues {
		for _, r := range credRoutes {
			for _, up := range [][2]string{{bad.escaped, p}, {u, bad.escaped}} {
				path := ids.Replace(strings.NewReplacer("{u}", up[0], "{p}", up[1]).Replace(r.tpl))
				want := r.want
				if len(path) > 4<<10 {
					want = http.StatusRequestHeaderFieldsTooLarge
				}
				probes = append(probes, probe{path, want})
			}
		}
		// Every other part of the URL.
		b := bad.escaped
		for _, pr := range []probe{
			{"/live/" + u + "/" + p + "/" + b + ".ts", 404},
			{"/live/" + u + "/" + p + "/{live}." + b, 404},
			{"/live/" + u + "/" + p + "/{live}.ts?play_token=" + b, 404},
			{"/movie/" + u + "/" + p + "/{movie}." + b, 404},
			{"/timeshift/" + u + "/" + p + "/" + b + "/{start}/{shift}.ts", 404},
			{"/timeshift/" + u + "/" + p + "/60/" + b + "/{shift}.ts", 404},
			{"/streaming/timeshift.php?username=" + u + "&password=" + p + "&stream=" + b + "&start={start}&duration=60", 404},
			{"/streaming/timeshift.php?play_token=" + b + "&stream={shift}&start={start}&duration=60", 404},
			{"/hls/" + b + "/1.ts", 403},
			{"/hls/" + b + "/index.m3u8", 403},
			{"/play/" + b, 404},
			{"/play/" + b + ".ts", 404},
		} {
			pr.path = ids.Replace(pr.path)
			if len(pr.path) > 4<<10 {
				pr.want = http.StatusRequestHeaderFieldsTooLarge
			}
			probes = append(probes, pr)
		}
	}
	send := func(t *testing.T) {
		t.Helper()
		for _, pr := range probes {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				code, _, body := do(t, method, e.base+pr.path, nil)
				if code == http.StatusRequestHeaderFieldsTooLarge {
					body = nil // the server's own text: no route (so no surface) ever saw the request
				}
				if code != pr.want || len(body) != 0 {
					t.Errorf("%s %.120s = %d with %d bytes, want %d, empty", method, pr.path, code, len(body), pr.want)
				}
			}
		}
	}
	send(t)
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "invalid byte sequence") {
		t.Errorf("bad bytes were logged:\n%s", logs)
	}
	if n := e.leases(); n != 0 {
		t.Errorf("leases = %d, want 0", n)
	}
	e.st.Pool().Close()
	send(t)
	// The control: a well-formed open does need the database.
	if code, _, _ := do(t, http.MethodGet, e.url("/live/nobody/x/%d.ts", e.live), nil); code != http.StatusServiceUnavailable {
		t.Errorf("with the database closed, a well-formed unknown line = %d, want 503", code)
	}
}

// TestBadBytes_StreamUserAgent: a User-Agent that is not UTF-8 (a box sending Latin-1) is made
// storable, not refused: the open takes its lease, and a denial reaches the client log.
func TestBadBytes_StreamUserAgent(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	hdr := map[string]string{"User-Agent": "Box\xff\xfe/1.0", "Range": "bytes=0-9"}
	movie := e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie)
	if code, _, body := do(t, http.MethodGet, movie, hdr); code != http.StatusPartialContent || len(body) != 10 {
		t.Errorf("movie open with a Latin-1 User-Agent = %d with %d bytes, want 206 with 10", code, len(body))
	}
	wrong := e.url("/live/%s/%s/%d.ts", e.line.Username, url.PathEscape("wrong"), e.live)
	if code, _, _ := do(t, http.MethodGet, wrong, hdr); code != http.StatusUnauthorized {
		t.Errorf("wrong password = %d, want 401", code)
	}
	eventually(t, "the denial in the client log", func() bool {
		var n int
		err := e.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM client_log
			WHERE username = $1 AND user_agent = 'Box'||chr(65533)||'/1.0'`, e.line.Username).Scan(&n)
		return err == nil && n == 1
	})
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "writing client log") {
		t.Errorf("logs:\n%s", logs)
	}
}
