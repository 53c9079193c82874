package stream_test

import (
	"bytes"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/token"
)

// firstSegment returns the first segment URI of a media playlist.
func firstSegment(t testing.TB, pl string) string {
	t.Helper()
	return playlistLine(t, pl, func(l string) bool { return strings.HasPrefix(l, "/hls/") })
}

// playlistLine returns the first line of a playlist that is.
func playlistLine(t testing.TB, pl string, is func(string) bool) string {
	t.Helper()
	for _, l := range strings.Split(pl, "\n") {
		if is(l) {
			return l
		}
	}
	t.Fatalf("no such line in the playlist:\n%s", pl)
	return ""
}

// TestHLS_PlaylistAndSegments: the playlist's headers and links, and a segment's bytes.
func TestHLS_PlaylistAndSegments(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	code, hdr, pl := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil)
	if code != 200 || hdr.Get("Content-Type") != "application/x-mpegurl" || !strings.Contains(hdr.Get("Cache-Control"), "no-store") {
		t.Fatalf("playlist = %d %q %q", code, hdr.Get("Content-Type"), hdr.Get("Cache-Control"))
	}
	if !bytes.HasPrefix(pl, []byte("#EXTM3U")) {
		t.Fatalf("playlist body:\n%s", pl)
	}
	seg := firstSegment(t, string(pl))
	code, hdr, body := do(t, http.MethodGet, e.base+seg, nil)
	if code != 200 || hdr.Get("Content-Type") != "video/mp2t" || len(body) < 188 || body[0] != 0x47 {
		t.Fatalf("segment = %d %q, %d bytes", code, hdr.Get("Content-Type"), len(body))
	}
	if n := e.leases(); n != 1 {
		t.Errorf("leases of one HLS session = %d, want 1", n)
	}
	// Polling again keeps the same session.
	do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil)
	if n := e.leases(); n != 1 {
		t.Errorf("leases after a second poll = %d, want 1", n)
	}
}

// TestHLS_SegmentTokensRefused: forged, expired, other-IP, other-kind and other-stream segment
// tokens, and segments outside the window, are 403.
func TestHLS_SegmentTokensRefused(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	_, _, pl := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil)
	seg := firstSegment(t, string(pl)) // /hls/{tok}/{seq}.ts
	parts := strings.Split(seg, "/")
	tok, file := parts[2], parts[3]
	claims, err := e.keys.Verify(tok, time.Now(), netip.MustParseAddr("127.0.0.1"))
	must(t, err)
	resign := func(mod func(*token.Claims)) string {
		c := claims
		mod(&c)
		return e.sign(c)
	}
	forged := forge(tok, len(tok)/2)
	tests := []struct{ name, path string }{
		{"forged", "/hls/" + forged + "/" + file},
		{"expired", "/hls/" + resign(func(c *token.Claims) { c.ExpiresUnix = time.Now().Add(-time.Minute).Unix() }) + "/" + file},
		{"other ip", "/hls/" + resign(func(c *token.Claims) { c.ClientIP = netip.MustParsePrefix("10.0.0.1/32") }) + "/" + file},
		{"live kind", "/hls/" + resign(func(c *token.Claims) { c.Kind = token.KindLive }) + "/" + file},
		{"no session", "/hls/" + resign(func(c *token.Claims) { c.SessionID = [16]byte{} }) + "/" + file},
		{"other stream", "/hls/" + resign(func(c *token.Claims) { c.StreamID = e.other }) + "/" + file},
		{"other secret", "/hls/" + otherSecret(t, claims) + "/" + file},
		{"segment outside the window", "/hls/" + tok + "/1.ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := do(t, http.MethodGet, e.base+tt.path, nil)
			if code != http.StatusForbidden || len(body) != 0 {
				t.Errorf("GET %s = %d (%d bytes), want 403 empty", tt.name, code, len(body))
			}
		})
	}
	if code, _, _ := do(t, http.MethodGet, e.base+seg, nil); code != 200 {
		t.Errorf("genuine segment = %d, want 200", code)
	}
}

func otherSecret(t *testing.T, c token.Claims) string {
	kr, err := token.NewKeyring([]byte("another-secret-0123456789abcdefghij"), 1)
	must(t, err)
	tok, err := kr.Sign(c)
	must(t, err)
	return tok
}

// TestPlayTokens: ?play_token= and /play/{token} links open what the token names, and only that.
func TestPlayTokens(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	exp := time.Now().Add(time.Minute).Unix()
	claims := func(kind token.Kind, id int64) token.Claims {
		return token.Claims{Kind: kind, LineID: e.line.ID, StreamID: id, ExpiresUnix: exp}
	}
	live := e.sign(claims(token.KindLive, e.live))
	movie := e.sign(claims(token.KindVOD, e.movie))
	episode := e.sign(claims(token.KindSeries, e.episode))
	shift := e.sign(claims(token.KindTimeshift, e.shift))
	start := time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02:15-04")
	mod := func(kind token.Kind, id int64, f func(*token.Claims)) string {
		c := claims(kind, id)
		f(&c)
		return e.sign(c)
	}
	okTests := []struct{ name, path, ctype string }{
		{"live query", "/live/x/x/" + itoa(e.live) + ".ts?play_token=" + live, "video/mp2t"},
		{"live short form", "/x/x/" + itoa(e.live) + "?play_token=" + live, "video/mp2t"},
		{"play live", "/play/" + live, "video/mp2t"},
		{"play live ts", "/play/" + live + ".ts", "video/mp2t"},
		{"movie query", "/movie/x/x/" + itoa(e.movie) + ".mp4?play_token=" + movie, "video/mp4"},
		{"play movie", "/play/" + movie + ".mp4", "video/mp4"},
		{"series query", "/series/x/x/" + itoa(e.episode) + ".mp4?play_token=" + episode, "video/mp4"},
		{"play series", "/play/" + episode, "video/mp4"},
		{"timeshift query", "/timeshift/x/x/60/" + start + "/" + itoa(e.shift) + ".ts?play_token=" + shift, "video/mp2t"},
	}
	for _, tt := range okTests {
		t.Run(tt.name, func(t *testing.T) {
			resp := openStream(t, e.base+tt.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tt.ctype {
				t.Fatalf("GET %s = %d %q, want 200 %s", tt.name, resp.StatusCode, resp.Header.Get("Content-Type"), tt.ctype)
			}
			readN(t, resp.Body, 188*10)
			resp.Body.Close()
		})
	}
	forged := forge(live, 8)
	badTests := []struct{ name, path string }{
		{"forged", "/play/" + forged},
		{"expired", "/play/" + mod(token.KindLive, e.live, func(c *token.Claims) { c.ExpiresUnix = time.Now().Add(-time.Minute).Unix() })},
		{"other ip", "/play/" + mod(token.KindLive, e.live, func(c *token.Claims) { c.ClientIP = netip.MustParsePrefix("10.1.2.3/32") })},
		{"other line", "/play/" + mod(token.KindLive, e.live, func(c *token.Claims) { c.LineID = 999999 })},
		{"other stream in the url", "/live/x/x/" + itoa(e.shift) + ".ts?play_token=" + live},
		{"live token on the movie route", "/movie/x/x/" + itoa(e.movie) + ".mp4?play_token=" + live},
		{"movie token on the live route", "/live/x/x/" + itoa(e.live) + ".ts?play_token=" + movie},
		{"segment token on /play", "/play/" + mod(token.KindSegment, e.live, func(c *token.Claims) { c.SessionID[0] = 1 })},
		{"timeshift token on /play", "/play/" + mod(token.KindTimeshift, e.live, func(*token.Claims) {})},
		{"live token on the timeshift route", "/timeshift/x/x/60/" + start + "/" + itoa(e.shift) + ".ts?play_token=" +
			mod(token.KindLive, e.shift, func(*token.Claims) {})},
		{"other secret", "/play/" + otherSecret(t, claims(token.KindLive, e.live))},
	}
	for _, tt := range badTests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := do(t, http.MethodGet, e.base+tt.path, nil)
			if code != http.StatusUnauthorized || len(body) != 0 {
				t.Errorf("GET %s = %d (%d bytes), want 401 empty", tt.name, code, len(body))
			}
		})
	}
}

// TestPlayTokens_HLS: a play-token HLS player gets a session playlist of its own, which keeps
// playing after the short-lived play token expired.
func TestPlayTokens_HLS(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	tok := e.sign(token.Claims{Kind: token.KindLive, LineID: e.line.ID, StreamID: e.live, ExpiresUnix: time.Now().Add(time.Minute).Unix()})
	code, _, master := do(t, http.MethodGet, e.base+"/play/"+tok+".m3u8", nil)
	if code != 200 || !strings.Contains(string(master), "#EXT-X-STREAM-INF") {
		t.Fatalf("play m3u8 = %d:\n%s", code, master)
	}
	var variant string
	for _, l := range strings.Split(string(master), "\n") {
		if strings.HasSuffix(l, "/index.m3u8") {
			variant = l
		}
	}
	code, _, pl := do(t, http.MethodGet, e.base+variant, nil)
	if code != 200 {
		t.Fatalf("session playlist = %d", code)
	}
	if code, _, _ := do(t, http.MethodGet, e.base+firstSegment(t, string(pl)), nil); code != 200 {
		t.Errorf("segment of the session playlist = %d, want 200", code)
	}
	if n := e.leases(); n != 1 {
		t.Errorf("leases = %d, want the one HLS session", n)
	}
	if got := ffprobe(t, e.base+"/play/"+tok+".m3u8"); got != "h264,aac" {
		t.Errorf("ffprobe of the play-token HLS link = %q, want h264,aac", got)
	}
}

// forge changes one character of a token to another base64url character.
func forge(tok string, i int) string {
	b := []byte(tok)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
