package logx

import (
	"bytes"
	"context"
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
		{"/play/TOKEN123", "/play/***"},
		{"/live/TOKEN123/1.ts", "/live/***/1.ts"},
		{"/hlsr/TOK/alice/s3cret/1/k/seg.ts", "/hlsr/***/alice/***/1/k/seg.ts"},
		{"/player_api.php", "/player_api.php"},
		{"/api/v1/lines", "/api/v1/lines"},
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
		{"user_data%5Bpassword%5D=x&user_data[username]=a", "user_data%5Bpassword%5D=***&user_data[username]=a"},
		{"PASSWORD=x", "PASSWORD=***"},
		{"api_pass=k&token=t&hdnts=exp~hmac", "api_pass=***&token=***&hdnts=***"},
		{"type=stb&action=get_profile&sn=0123&device_id=AB&device_id2=CD&metrics=%7B%22mac%22%3A%2200%3A1A%3A79%3A12%3A34%3A56%22%7D",
			"type=stb&action=get_profile&sn=***&device_id=***&device_id2=***&metrics=***"},
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
		if len(segs) >= 5 && segs[0] == "" && userPassRoutes[segs[1]] && strings.Contains(out, "/"+segs[3]+"/") && segs[3] != Redacted && !strings.Contains(strings.Join(append(append([]string{}, segs[:3]...), segs[4:]...), "/"), segs[3]) {
			t.Fatalf("RedactPath(%q) = %q kept the password segment", path, out)
		}
	})
}

func FuzzRedactQuery(f *testing.F) {
	f.Add("username=a&password=b")
	f.Add("mac=00:1A:79:00:00:01")
	f.Add("u=a:p=b")
	f.Fuzz(func(t *testing.T, q string) {
		out := RedactQuery(q)
		if strings.Count(out, "&") != strings.Count(q, "&") {
			t.Fatalf("RedactQuery(%q) = %q changed the number of parameters", q, out)
		}
	})
}
