package logx

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestRedactPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/live/alice/s3cret/1.ts", "/live/alice/***/1.ts"},
		{"/live/alice/s3cret/1", "/live/alice/***/1"},
		{"/movie/alice/s3cret/7.mkv", "/movie/alice/***/7.mkv"},
		{"/series/alice/s3cret/9.mp4", "/series/alice/***/9.mp4"},
		{"/timeshift/alice/s3cret/60/2024-01-01:10-00/1.ts", "/timeshift/alice/***/60/2024-01-01:10-00/1.ts"},
		{"/hls/alice/s3cret/1/tok/1_2.ts", "/hls/alice/***/1/tok/1_2.ts"},
		{"/alice/s3cret/1", "/alice/***/1"},
		{"/john.doe/s3cret/1.ts", "/john.doe/***/1.ts"},
		{"/player_api/alice/s3cret", "/player_api/alice/***"},
		{"/player_api/alice/s3cret/get_live_streams", "/player_api/alice/***/get_live_streams"},
		{"/epg/alice/s3cret", "/epg/alice/***"},
		{"/epg/alice/s3cret/gz", "/epg/alice/***/gz"},
		{"/play/TOKEN123", "/play/***"},
		{"/live/TOKEN123/1.ts", "/live/***/1.ts"},
		{"/hlsr/TOK/alice/s3cret/1/k/seg.ts", "/hlsr/***/alice/***/1/k/seg.ts"},
		{"/player_api.php", "/player_api.php"},
		{"/api/v1/lines", "/api/v1/lines"},
		{"/api/v2/tv-app/profiles/code/BCDF-GHJK", "/api/v2/tv-app/profiles/code/***"},
		{"/api/v2/tv-app/profiles", "/api/v2/tv-app/profiles"},
		{"/healthz", "/healthz"},
		{"/c/portal.php", "/c/portal.php"},
		{"", ""},
		{"relative/a/b", "relative/a/b"},
	}
	for _, tt := range tests {
		if got := RedactPath(tt.in); got != tt.want {
			t.Errorf("RedactPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"username=alice&password=s3cret&action=get_live_streams", "username=alice&password=***&action=get_live_streams"},
		{"play_token=abc&x=1", "play_token=***&x=1"},
		{"type=stb&action=handshake&mac=00%3A1A%3A79%3A12%3A34%3A56", "type=stb&action=handshake&mac=00:1A:79:**:**:**"},
		{"mac=garbage", "mac=***"},
		{"u=alice:p=s3cret", "u=alice:p=***"},
		{"u=alice:p=se&cret&x=1", "u=alice:p=***"},      // XC's password runs to the end
		{"u=alice%3Ap%3Ds3cret", "u=alice:p=***"},       // escaped: XC unescapes first
		{"user=bob:p=s3cret", "user=bob:p=***"},         // any key
		{"stream=1&u=a:P=s3cret", "stream=1&u=a:p=***"}, // any case
		{"q=a%3a&note=tap%3Dx", "q=a%3a&note=tap%3Dx"},  // no ":p=" in it
		{"p=abc:p=def&x=1", "p=***&x=1"},                // a secret key first: all of it hidden
		{"user_data%5Bpassword%5D=x&user_data[username]=a", "user_data%5Bpassword%5D=***&user_data[username]=a"},
		{"PASSWORD=x", "PASSWORD=***"},
		{"api_pass=k&token=t&hdnts=exp~hmac", "api_pass=***&token=***&hdnts=***"},
		{"type=stb&action=get_profile&sn=0123&device_id=AB&device_id2=CD&metrics=%7B%22mac%22%3A%2200%3A1A%3A79%3A12%3A34%3A56%22%7D",
			"type=stb&action=get_profile&sn=***&device_id=***&device_id2=***&metrics=***"},
		{"user_code=BCDF-GHJK", "user_code=***"},
		{"flag", "flag"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactQuery(tt.in); got != tt.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNew_AddsRequestID(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json"} {
		var buf bytes.Buffer
		log := New(&buf, format, nil)
		log.InfoContext(WithRequestID(context.Background(), "rid-42"), "hello", "k", "v")
		if !strings.Contains(buf.String(), "rid-42") || !strings.Contains(buf.String(), "hello") {
			t.Errorf("%s log = %q, want request id and message", format, buf.String())
		}
	}
}

// reservedRoots are the first segments of xtreamd's own routes and of the Xtream URL forms:
// every one is a valid username (lines.username allows them), so /{root}/{pass}/{id} is that
// line's short-form stream URL (issue 11: these bypassed redaction).
var reservedRoots = []string{
	"epg", "api", "admin", "c", "server", "streaming", "metrics", "static", "healthz", "readyz", "stalker_portal",
	"player_api", "live", "movie", "series", "timeshift", "timeshifts", "hls", "hlsr", "subtitle", "thumb",
	"play", "auth", "key", "vauth", "tsauth", "get.php", "player_api.php", "xmltv.php", "portal.php",
}

// TestRedactPath_ReservedFirstSegments: the short form hides the password whatever the username
// is, in any letter case, with or without an extension or a trailing slash (the router accepts
// all of them).
func TestRedactPath_ReservedFirstSegments(t *testing.T) {
	t.Parallel()
	roots := append([]string{}, reservedRoots...)
	for _, m := range []map[string]bool{fixedRoots, userPassRoutes, tokenRoutes} {
		for r := range m {
			roots = append(roots, r) // any root added later is covered too
		}
	}
	for _, root := range roots {
		for _, user := range []string{root, strings.ToUpper(root), strings.ToUpper(root[:1]) + root[1:]} {
			for _, file := range []string{"1", "42.ts", "42.m3u8", "42.ch", "42.TS", "1/"} {
				path := "/" + user + "/s3cret/" + file
				if got := RedactPath(path); strings.Contains(got, "s3cret") || !strings.Contains(got, Redacted) {
					t.Errorf("RedactPath(%q) = %q, want the password hidden", path, got)
				}
			}
		}
	}
	// Fixed routes stay readable where no stream id can follow.
	for _, path := range []string{"/api/v1/lines", "/stalker_portal/server/load.php", "/static/css/app.css", "/c/xpcom.common.js"} {
		if got := RedactPath(path); got != path {
			t.Errorf("RedactPath(%q) = %q, want it unchanged", path, got)
		}
	}
}

func FuzzRedactPath(f *testing.F) {
	for _, s := range []string{"/live/a/b/1.ts", "/a/b/c", "/play/x", "/hlsr/t/u/p/1/k/s", "//", "/", "/player_api/u/p"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		out := RedactPath(path)
		if strings.Count(out, "/") != strings.Count(path, "/") {
			t.Fatalf("RedactPath(%q) = %q changed the number of segments", path, out)
		}
		segs := strings.Split(path, "/")
		if n := len(segs); n > 3 && segs[n-1] == "" {
			segs = segs[:n-1] // routed without its trailing slash ("/hls/t/0/" is /hls/{token}/{file})
		}
		if len(segs) >= 5 && segs[0] == "" && userPassRoutes[segs[1]] && strings.Contains(out, "/"+segs[3]+"/") && segs[3] != Redacted && !strings.Contains(strings.Join(append(append([]string{}, segs[:3]...), segs[4:]...), "/"), segs[3]) {
			t.Fatalf("RedactPath(%q) = %q kept the password segment", path, out)
		}
	})
}

// FuzzRedactPathCredentials: whatever the username, password and stream id, no URL form that
// carries them keeps the password: its segment is hidden, and when the password appears
// nowhere else in the path it appears nowhere in the output.
func FuzzRedactPathCredentials(f *testing.F) {
	for _, r := range reservedRoots {
		f.Add(r, "s3cret", "1.ts", false)
	}
	f.Add("alice", "p@ss w%2F", "42", true)
	f.Add("***", "***", "1", false)
	f.Fuzz(func(t *testing.T, user, pass, id string, upper bool) {
		user, pass = strings.ReplaceAll(user, "/", ""), strings.ReplaceAll(pass, "/", "")
		id = "1" + strings.ReplaceAll(id, "/", "") // a stream id starts with a digit
		if user == "" || pass == "" {
			return
		}
		root := func(s string) string {
			if upper {
				return strings.ToUpper(s)
			}
			return s
		}
		for _, form := range []struct {
			path string
			seg  int // the password's segment
		}{
			{"/" + user + "/" + pass + "/" + id, 2},
			{"/" + user + "/" + pass + "/" + id + "/", 2},
			{"/" + root("live") + "/" + user + "/" + pass + "/" + id, 3},
			{"/" + root("movie") + "/" + user + "/" + pass + "/" + id, 3},
			{"/" + root("series") + "/" + user + "/" + pass + "/" + id, 3},
			{"/" + root("timeshift") + "/" + user + "/" + pass + "/60/2024-01-01:10-00/" + id, 3},
			{"/" + root("timeshifts") + "/" + user + "/" + pass + "/60/" + id + "/2024-01-01:10-00.ts", 3},
			{"/" + root("player_api") + "/" + user + "/" + pass, 3},
			{"/" + root("player_api") + "/" + user + "/" + pass + "/get_live_streams", 3},
			{"/" + root("live") + "/" + pass + "/" + id, 2},
			{"/" + root("play") + "/" + pass, 2},
			{"/" + root("hlsr") + "/" + pass + "/" + user + "/" + pass + "/1/k/s.ts", 4},
		} {
			out := RedactPath(form.path)
			if got := strings.Split(out, "/"); len(got) <= form.seg || got[form.seg] != Redacted {
				t.Fatalf("RedactPath(%q) = %q: segment %d is not hidden", form.path, out, form.seg)
			}
			segs := strings.Split(form.path, "/")
			rest := strings.Join(append(append([]string{}, segs[:form.seg]...), segs[form.seg+1:]...), "/")
			if !strings.Contains(rest, pass) && !strings.Contains(Redacted, pass) && strings.Contains(out, pass) {
				t.Fatalf("RedactPath(%q) = %q shows the password", form.path, out)
			}
		}
	})
}

func FuzzRedactQuery(f *testing.F) {
	f.Add("username=a&password=b")
	f.Add("mac=00:1A:79:00:00:01")
	f.Add("u=a:p=b")
	f.Add("u=a:p=b&c&d")
	f.Fuzz(func(t *testing.T, q string) {
		out := RedactQuery(q)
		// Legacy credentials (u=USER:p=PASS) end the query: XC reads everything after ":p=" as
		// the password. Otherwise every parameter is kept, in place.
		if strings.HasSuffix(out, ":p="+Redacted) {
			if strings.Count(out, "&") > strings.Count(q, "&") {
				t.Fatalf("RedactQuery(%q) = %q added parameters", q, out)
			}
			return
		}
		if strings.Count(out, "&") != strings.Count(q, "&") {
			t.Fatalf("RedactQuery(%q) = %q changed the number of parameters", q, out)
		}
	})
}

// BenchmarkRedactPath is the redaction of every access-log line: a short-form stream URL.
func BenchmarkRedactPath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = RedactPath("/alice/s3cret/12345.ts")
	}
}

// FuzzRedactQueryHidesSecrets: a secret parameter's value never reaches the redacted query,
// however its key is spelled (any letter case, letters percent-encoded as a player's URL
// encoder may write them) and whatever parameters surround it.
func FuzzRedactQueryHidesSecrets(f *testing.F) {
	f.Add("username=alice", "s3cret-pass", "action=get_live_streams", uint8(0), uint16(0))
	f.Add("", "p%40ss w0rd", "", uint8(1), uint16(0xffff))
	f.Add("u=a", "xxxxxx", "password", uint8(2), uint16(5))
	f.Add("mac=00:1A:79:00:00:01", "tok.en-123", "type=m3u_plus", uint8(3), uint16(0x0101))
	keys := []string{"password", "pass", "p", "token", "play_token", "api_key", "user_data[password]", "new_password"}
	f.Fuzz(func(t *testing.T, before, secret, after string, which uint8, spelling uint16) {
		if len(secret) < 6 || strings.ContainsAny(secret, "&") || strings.Contains(before+after, secret) ||
			strings.Contains(Redacted, secret) {
			return
		}
		key := keys[int(which)%len(keys)]
		var spelled strings.Builder
		for i := 0; i < len(key); i++ {
			c := key[i]
			switch bit := spelling >> (i % 16) & 1; {
			case bit == 1 && i%2 == 0 && c >= 'a' && c <= 'z':
				spelled.WriteByte(c - 'a' + 'A')
			case bit == 1 && c >= 'a' && c <= 'z':
				fmt.Fprintf(&spelled, "%%%02X", c)
			default:
				spelled.WriteByte(c)
			}
		}
		for _, q := range []string{
			spelled.String() + "=" + secret,
			before + "&" + spelled.String() + "=" + secret,
			before + "&" + spelled.String() + "=" + secret + "&" + after,
		} {
			if out := RedactQuery(q); strings.Contains(out, secret) {
				t.Fatalf("RedactQuery(%q) = %q shows the %s value", q, out, key)
			}
		}
	})
}
