package stream_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// TestDenied_StatusByRoute: every denial is an empty body with the spec's status (§2.2, §7 #19),
// malformed paths are 404 and never 500, and odd methods get an empty 200 (§7 #17).
func TestDenied_StatusByRoute(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	tsOnly, tsOnlyPass := e.newLine(func(in *store.LineInput) { in.AllowedOutputFormats = []string{"ts"} })
	banned, bannedPass := e.newLine(func(in *store.LineInput) { in.Banned = true })
	expired, expiredPass := e.newLine(func(in *store.LineInput) {
		past := time.Now().Add(-time.Hour)
		in.ExpDate = &past
	})
	u, p := e.line.Username, e.pass
	start := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02:15-04")
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"wrong password", "GET", "/live/" + u + "/nope/%d.ts", 401},
		{"unknown user", "GET", "/live/nobody/nope/%d.ts", 401},
		{"wrong password short form", "GET", "/" + u + "/nope/%d", 401},
		{"wrong password movie", "GET", "/movie/" + u + "/nope/{movie}.mp4", 401},
		{"wrong password series", "GET", "/series/" + u + "/nope/{episode}.mp4", 401},
		{"wrong password hls", "GET", "/live/" + u + "/nope/%d.m3u8", 401},
		{"banned", "GET", "/live/" + banned.Username + "/" + bannedPass + "/%d.ts", 401},
		{"expired", "GET", "/live/" + expired.Username + "/" + expiredPass + "/%d.ts", 401},
		{"format not allowed", "GET", "/live/" + tsOnly.Username + "/" + tsOnlyPass + "/%d.m3u8", 405},
		{"format not allowed short form", "GET", "/" + tsOnly.Username + "/" + tsOnlyPass + "/%d.m3u8", 405},
		{"not in bouquet", "GET", "/live/" + u + "/" + p + "/{other}.ts", 406},
		{"not in bouquet hls", "GET", "/live/" + u + "/" + p + "/{other}.m3u8", 406},
		{"no archive", "GET", "/timeshift/" + u + "/" + p + "/60/" + start + "/%d.ts", 403},
		{"unknown stream", "GET", "/live/" + u + "/" + p + "/987654.ts", 404},
		{"movie id on live route", "GET", "/live/" + u + "/" + p + "/{movie}.ts", 404},
		{"live id on movie route", "GET", "/movie/" + u + "/" + p + "/%d.mp4", 404},
		{"movie id on series route", "GET", "/series/" + u + "/" + p + "/{movie}.mp4", 404},
		{"huge id", "GET", "/live/" + u + "/" + p + "/99999999999999999999999999.ts", 404},
		{"int64 overflow", "GET", "/live/" + u + "/" + p + "/9223372036854775808.ts", 404},
		{"non-numeric id", "GET", "/live/" + u + "/" + p + "/abc.ts", 404},
		{"non-numeric short form", "GET", "/a/b/c", 404},
		{"negative id", "GET", "/" + u + "/" + p + "/-5", 404},
		{"bad live extension", "GET", "/live/" + u + "/" + p + "/%d.mp4", 404},
		{"movie without extension", "GET", "/movie/" + u + "/" + p + "/{movie}", 404},
		{"bad timeshift start", "GET", "/timeshift/" + u + "/" + p + "/60/yesterday/{shift}.ts", 404},
		{"bad timeshift minutes", "GET", "/timeshift/" + u + "/" + p + "/0/" + start + "/{shift}.ts", 404},
		{"huge timeshift minutes", "GET", "/timeshift/" + u + "/" + p + "/99999999999/" + start + "/{shift}.ts", 404},
		{"timeshift.php without stream", "GET", "/streaming/timeshift.php?username=" + u + "&password=" + p + "&start=" + start + "&duration=60", 404},
		{"garbage segment token", "GET", "/hls/!!!/1.ts", 403},
		{"bad play token", "GET", "/play/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ts", 401},
		{"HEAD live", "HEAD", "/live/" + u + "/" + p + "/%d.ts", 200},
		{"HEAD wrong password", "HEAD", "/live/" + u + "/nope/%d.ts", 200},
		{"OPTIONS live", "OPTIONS", "/live/" + u + "/" + p + "/%d.ts", 200},
		{"DELETE short form", "DELETE", "/" + u + "/" + p + "/%d", 200},
		{"PUT movie", "PUT", "/movie/" + u + "/" + p + "/{movie}.mp4", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := strings.NewReplacer("%d", itoa(e.live), "{other}", itoa(e.other), "{movie}", itoa(e.movie),
				"{episode}", itoa(e.episode), "{shift}", itoa(e.shift)).Replace(tt.path)
			code, hdr, body := do(t, tt.method, e.base+path, nil)
			if code != tt.want || len(body) != 0 {
				t.Errorf("%s %s = %d with %d bytes (%s), want %d with an empty body", tt.method, tt.path, code, len(body),
					hdr.Get("Content-Type"), tt.want)
			}
		})
	}
	if n := e.leases(); n != 0 {
		t.Errorf("leases after denials = %d, want 0 (a denial never takes a slot)", n)
	}
}

// TestDenied_HLSSessionReplaced: a line with one connection opens an HLS session, then a second
// one from another player on the same address replaces it; the first session's next playlist
// poll is 403 (spec §6.2).
func TestDenied_HLSSessionReplaced(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	line, pass := e.newLine(func(in *store.LineInput) { in.MaxConnections = 1 })
	url := e.liveURL(e.live, "m3u8")
	url = strings.Replace(url, e.line.Username+"/"+e.pass, line.Username+"/"+pass, 1)
	poll := func(ua string) int {
		code, _, _ := do(t, http.MethodGet, url, map[string]string{"User-Agent": ua})
		return code
	}
	if code := poll("player-a"); code != 200 {
		t.Fatalf("first session = %d, want 200", code)
	}
	if code := poll("player-b"); code != 200 {
		t.Fatalf("second session = %d, want 200 (replacing the first)", code)
	}
	if code := poll("player-a"); code != http.StatusForbidden {
		t.Errorf("replaced session's poll = %d, want 403", code)
	}
	if code := poll("player-b"); code != 200 {
		t.Errorf("current session's poll = %d, want 200", code)
	}
}

// TestAccessLog_NoSecrets: stream URLs and tokens never reach the logs.
func TestAccessLog_NoSecrets(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	_, _, pl := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil)
	seg := firstSegment(t, string(pl))
	do(t, http.MethodGet, e.base+seg, nil)
	resp := openStream(t, e.liveURL(e.live, "ts"))
	readN(t, resp.Body, 188*10)
	resp.Body.Close()
	eventually(t, "the stream close log", func() bool { return strings.Contains(e.logs.String(), "stream closed") })
	tok := strings.Split(seg, "/")[2]
	for _, secret := range []string{e.pass, tok} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDenied_CheckUndecided: with the database gone the check cannot take a lease: 503, empty,
// never a stream.
func TestDenied_CheckUndecided(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	if code, _, _ := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil); code != 200 {
		t.Fatalf("playlist = %d, want 200 (line now cached)", code)
	}
	e.st.Pool().Close()
	for _, u := range []string{e.liveURL(e.live, "ts"), e.liveURL(e.live, "m3u8"),
		e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie)} {
		if code, _, body := do(t, http.MethodGet, u, nil); code != http.StatusServiceUnavailable || len(body) != 0 {
			t.Errorf("GET with the database down = %d (%d bytes), want 503 empty", code, len(body))
		}
	}
}
