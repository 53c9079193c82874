package edge

import (
	"strings"
	"testing"
)

// TestAcceptsGzip: the Accept-Encoding values players and libraries send, weights, the
// wildcard and garbage.
func TestAcceptsGzip(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate", true},     // OkHttp, Go, curl --compressed
		{"gzip, deflate, br", true}, // browsers
		{"GZIP", true},
		{"x-gzip", true},
		{"deflate, br", false},
		{"identity", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"gzip;q=1.000", true},
		{"gzip;q=1.5", false},
		{"gzip;q=2", false},
		{"gzip;q=abc", false},
		{"gzip;Q=0.5", true},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false}, // the explicit entry decides
		{"gzip;q=0, *", false},
		{"br;q=1, *;q=0.1", true},
		{" , ,gzip ; level=1", true},
		{"gzipx", false},
		{"\x00gzip", false},
		{strings.Repeat("br, ", 1000) + "gzip", true},
	} {
		if got := AcceptsGzip(tt.header); got != tt.want {
			t.Errorf("AcceptsGzip(%.40q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

// FuzzAcceptsGzip: any header value is answered without a panic, and a value that names no
// gzip coding and no wildcard never allows it.
func FuzzAcceptsGzip(f *testing.F) {
	for _, s := range []string{"gzip", "gzip;q=0.5, *;q=0", "x-gzip;q=", "*;q=1.", ";;;,,,=", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := AcceptsGzip(s)
		if l := strings.ToLower(s); got && !strings.Contains(l, "gzip") && !strings.Contains(l, "*") {
			t.Fatalf("AcceptsGzip(%q) = true without gzip or *", s)
		}
	})
}
