package mag

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestParseMAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"00:1a:79:12:34:56", "00:1A:79:12:34:56", true},
		{"00-1A-79-AB-CD-EF", "00:1A:79:AB:CD:EF", true},
		{"00:1A:79:12:34:5", "", false},
		{"00:1A-79:12:34:56", "", false},
		{"00:1A:79:12:34:5G", "", false},
		{"001A79123456", "", false},
		{"00:1A:79:12:34:56:", "", false},
		{"", "", false},
		{"00%3A1A%3A79%3A12%3A34%3A56", "", false},
	}
	for _, tt := range tests {
		m, err := ParseMAC(tt.in)
		if (err == nil) != tt.ok || (tt.ok && m.String() != tt.want) {
			t.Errorf("ParseMAC(%q) = %v, %v; want %q ok=%v", tt.in, m, err, tt.want, tt.ok)
		}
	}
}

func TestMAC_NeverLoggedInFull(t *testing.T) {
	t.Parallel()
	m, _ := ParseMAC("00:1A:79:AB:CD:EF")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "mac", m)
	if strings.Contains(buf.String(), "AB:CD:EF") || !strings.Contains(buf.String(), "00:1A:79:**:**:**") {
		t.Fatalf("log = %s", buf.String())
	}
}

func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"00-1a-79-12-34-5", "00:1A:79:12:34:56", "ff-ff-ff-ff-ff-ff", "00:1a:79:12:34:5\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		if err != nil {
			return
		}
		back, err := ParseMAC(m.String())
		if err != nil || back != m {
			t.Fatalf("ParseMAC(%q) = %v does not round-trip (%v)", s, m, err)
		}
	})
}
