package source

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		ok        bool
	}{
		{"http", "http://provider.example:8080/live/u/p/1.ts", true},
		{"https with query", "https://cdn.example/x.m3u8?token=abc", true},
		{"upper-case scheme (the schema reads lower case only)", "HTTP://provider.example/a.ts", false},
		{"space inside", "http://provider.example/a b.ts", false},
		{"userinfo", "http://user:pass@provider.example/a.ts", true},
		{"file", "file:///srv/media/a.mp4", true},
		{"file localhost", "file://localhost/srv/media/a.mp4", true},
		{"absolute path", "/srv/media/a b.mp4", true},
		{"catch-up template", "http://archive.example/{stream_id}/{Y}{m}{d}-{H}{M}.ts?s={start_unix}", true},
		{"file catch-up template", "file:///srv/rec/{stream_id}/{utc_iso}.ts", true},
		{"empty", "", false},
		{"too long", "http://a.example/" + strings.Repeat("a", MaxURLBytes), false},
		{"NUL", "http://a.example/\x00.ts", false},
		{"newline", "http://a.example/a.ts\nX-Injected: 1", false},
		{"tab", "/srv/a\t.mp4", false},
		{"DEL", "/srv/a\x7f.mp4", false},
		{"C1 control", "/srv/a\u0085.mp4", false},
		{"invalid UTF-8", "/srv/\xff.mp4", false},
		{"leading space", " http://a.example/a.ts", false},
		{"relative", "media/a.mp4", false},
		{"relative catch-up", "?utc={utc}&lutc={lutc}", false},
		{"rtmp", "rtmp://a.example/live", false},
		{"udp", "udp://@239.0.0.1:1234", false},
		{"javascript", "javascript:alert(1)", false},
		{"http without host", "http:///a.ts", false},
		{"http userinfo only", "http://user@/a.ts", false},
		{"file with host", "file://nas.example/srv/a.mp4", false},
		{"file without slashes", "file:srv/a.mp4", false},
		{"file relative host form", "file://srv/a.mp4", false},
		{"file dot-dot", "file:///srv/media/../../data/token-secret", false},
		{"file encoded dot-dot", "file:///srv/media/%2e%2e/token-secret", false},
		{"file encoded slash dot-dot", "file:///srv/media%2f..%2ftoken-secret", false},
		{"file encoded NUL", "file:///srv/a%00.mp4", false},
		{"file encoded control character", "file:///srv/a%01.mp4", false},
		{"file encoded invalid UTF-8", "file:///srv/a%FF.mp4", false},
		{"file encoded trailing space", "file:///srv/a.mp4%20", false},
		{"file encoded inner space", "file:///srv/Some%20Movie.mp4", true},
		{"file encoded UTF-8", "file:///srv/Caf%C3%A9.mp4", true},
		{"file query", "file:///srv/a.mp4?x=1", false},
		{"path dot-dot", "/srv/media/../token-secret", false},
		{"path double slash", "/srv//media/a.mp4", false},
		{"path dot", "/srv/./a.mp4", false},
		{"path trailing slash", "/srv/media/", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check(tt.raw)
			if (err == nil) != tt.ok {
				t.Fatalf("Check(%q) = %v, want ok=%v", tt.raw, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("Check(%q) = %v, want it to wrap ErrInvalid", tt.raw, err)
			}
			if err != nil && strings.Contains(err.Error(), "pass") {
				t.Fatalf("Check(%q) = %v: the reason repeats the URL", tt.raw, err)
			}
		})
	}
}

func TestLocal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, want string
		ok        bool
	}{
		{"file:///srv/a.mp4", "/srv/a.mp4", true},
		{"FILE://localhost/srv/a.mp4", "", false},
		{"file:///srv/a%20b.mp4", "/srv/a b.mp4", true},
		{"/srv/a.mp4", "/srv/a.mp4", true},
		{"file:///srv/../etc/passwd", "", false},
		{"/srv/../etc/passwd", "", false},
		{"file://host/srv/a.mp4", "", false},
		{"http://a.example/a.mp4", "", false},
		{"srv/a.mp4", "", false},
	}
	for _, tt := range tests {
		got, ok := Local(tt.raw)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Local(%q) = %q, %v, want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
	if !IsHTTP("https://a.example/x") || IsHTTP("file:///x") || IsHTTP("/x") || IsHTTP("ftp://a.example/x") {
		t.Error("IsHTTP answers wrong")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"http://user:secret@provider.example:8080/live/user/secret/1.ts?token=secret", "http://provider.example:8080/…"},
		{"HTTPS://cdn.example/a?token=secret", "https://cdn.example/…"},
		{"file:///srv/media/a.mp4", `"/srv/media/a.mp4"`},
		{"/srv/media/a\nb.mp4", `"/srv/media/a\nb.mp4"`},
		{"rtmp:secretsecretsecretsecret", `"rtmp:secretsecre"…`},
	}
	for _, tt := range tests {
		if got := Redact(tt.raw); got != tt.want {
			t.Errorf("Redact(%q) = %s, want %s", tt.raw, got, tt.want)
		}
	}
}

// FuzzCheck: no panic; a local source Check accepts has a path Check accepts too, and Redact
// never repeats the query of an accepted http URL.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"http://a.example/x.ts", "file:///srv/a.mp4", "/srv/a.mp4", "file:///srv/%2e%2e/x",
		"http://u:p@h/x?token=t", "file://localhost/a", "\x00", "file:", "http://[::1]:80/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Check(s) != nil {
			return
		}
		if p, ok := Local(s); ok {
			if err := Check(p); err != nil {
				t.Fatalf("Local(%q) = %q, which Check refuses: %v", s, p, err)
			}
		}
		if IsHTTP(s) && strings.Contains(Redact(s), "?") {
			t.Fatalf("Redact(%q) = %q keeps the query", s, Redact(s))
		}
	})
}

// BenchmarkServeSourceHTTP is what a movie or catch-up open pays to classify an http source
// (Local, then IsHTTP: two checks), beside the access check and the lease transaction.
func BenchmarkServeSourceHTTP(b *testing.B) {
	const u = "http://provider.example.com:8080/movie/user/pass/12345.mkv?token=abcdef0123456789"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Local(u); ok || !IsHTTP(u) {
			b.Fatal("misclassified")
		}
	}
}

// BenchmarkServeSourceFile is the same for a local source (Local: one check and one parse).
func BenchmarkServeSourceFile(b *testing.B) {
	const u = "file:///srv/media/films/Some Movie (2024)/Some.Movie.2024.1080p.mkv"
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Local(u); !ok {
			b.Fatal("misclassified")
		}
	}
}
