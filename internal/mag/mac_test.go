package mag

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseMAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"00:1a:79:12:34:56", "00:1A:79:12:34:56", true},
		{"00-1A-79-AB-CD-EF", "00:1A:79:AB:CD:EF", true},
		{"001A79123456", "00:1A:79:12:34:56", true},
		{"001a79abcdef", "00:1A:79:AB:CD:EF", true},
		{"00%3A1A%3A79%3A12%3A34%3A56", "00:1A:79:12:34:56", true}, // the cookie as encodeURIComponent sends it
		{"00%3a1a%3a79%3a12%3a34%3a56", "00:1A:79:12:34:56", true},
		{"00%2D1A%2D79%2D12%2D34%2D56", "00:1A:79:12:34:56", true},
		{"00%3A1A:79%3A12:34%3A56", "00:1A:79:12:34:56", true}, // partly encoded
		{"00:1A:79:12:34:5", "", false},
		{"00:1A-79:12:34:56", "", false},
		{"00:1A:79:12:34:5G", "", false},
		{"00:1A:79:12:34:56:", "", false},
		{"00.1A.79.12.34.56", "", false},
		{"001A7912345", "", false},
		{"001A791234567", "", false},
		{" 00:1A:79:12:34:56", "", false},
		{"", "", false},
		{"00%3A1A%3A79%3A12%3A34%3A5", "", false},
		{"00%3A1A%3A79%3A12%3A34%3", "", false},
		{"00%201A%3A79%3A12%3A34%3A56", "", false}, // an escape that is no separator
		{"%", "", false},
		{"00%3A1A%3A79%3A12%3A34%3A56%3A", "", false},
		{strings.Repeat("0", 100), "", false},
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

// FuzzParseMAC: no panic, and what parses formats to its canonical form, which parses back to
// the same address, in every accepted spelling.
func FuzzParseMAC(f *testing.F) {
	for _, s := range []string{"00-1a-79-12-34-5", "00:1A:79:12:34:56", "ff-ff-ff-ff-ff-ff", "00:1a:79:12:34:5\x00",
		"001A79123456", "00%3A1A%3A79%3A12%3A34%3A56", "00%3a1a%3A79-12%2D34:56", "%3A%3A%3A%3A%3A", "00%3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMAC(s)
		if err != nil {
			return
		}
		canon := m.String()
		bare := strings.ReplaceAll(canon, ":", "")
		for _, form := range []string{canon, strings.ToLower(canon), strings.ReplaceAll(canon, ":", "-"), bare,
			strings.ReplaceAll(canon, ":", "%3A")} {
			back, err := ParseMAC(form)
			if err != nil || back != m {
				t.Fatalf("ParseMAC(%q) = %v, but its form %q parses to %v, %v", s, m, form, back, err)
			}
		}
	})
}

func TestParseCookies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header string
		want         Cookies
	}{
		{"MAG250 raw", "mac=00:1A:79:12:34:56; stb_lang=en; timezone=Europe/Paris",
			Cookies{MAC: "00:1A:79:12:34:56", Lang: "en", Timezone: "Europe/Paris"}},
		{"encodeURIComponent", "mac=00%3A1A%3A79%3A12%3A34%3A56; stb_lang=en; timezone=Europe%2FParis; adid=",
			Cookies{MAC: "00:1A:79:12:34:56", Lang: "en", Timezone: "Europe/Paris"}},
		{"stalkerhek", "PHPSESSID=null; sn=0123456789ABC; mac=00:1A:79:12:34:56; stb_lang=en; timezone=Europe%2FVilnius;",
			Cookies{MAC: "00:1A:79:12:34:56", Lang: "en", Timezone: "Europe/Vilnius", Serial: "0123456789ABC"}},
		{"EStalker token", "mac=00%3A1A%3A79%3A12%3A34%3A56; stb_lang=en; timezone=Europe%2FLondon; token=ABC",
			Cookies{MAC: "00:1A:79:12:34:56", Lang: "en", Timezone: "Europe/London", Token: "ABC"}},
		{"undefined zone", "mac=x; timezone=undefined", Cookies{MAC: "x"}},
		{"plus kept", "timezone=Etc/GMT+3", Cookies{Timezone: "Etc/GMT+3"}},
		{"first wins", "mac=first; mac=second", Cookies{MAC: "first"}},
		{"quoted, spaced", ` mac = "00:1A:79:12:34:56" ;stb_lang=de`, Cookies{MAC: "00:1A:79:12:34:56", Lang: "de"}},
		{"bad escape kept raw", "stb_lang=%zz", Cookies{Lang: "%zz"}},
		{"NUL dropped", "mac=00%00; stb_lang=en", Cookies{Lang: "en"}},
		{"invalid UTF-8 dropped", "stb_lang=%ff%fe", Cookies{}},
		{"over-long dropped", "stb_lang=" + strings.Repeat("a", MaxCookieValue+1), Cookies{}},
		{"no value", "mac; stb_lang", Cookies{}},
		{"empty", "", Cookies{}},
	}
	for _, tt := range tests {
		if got := ParseCookies(tt.header); got != tt.want {
			t.Errorf("%s: ParseCookies(%q) = %+v, want %+v", tt.name, tt.header, got, tt.want)
		}
	}
}

// FuzzParseCookies: no panic, every kept value is storable text within the bound, and a mac
// cookie that parses is the address ParseMAC reads from the same value.
func FuzzParseCookies(f *testing.F) {
	for _, s := range []string{"mac=00:1A:79:12:34:56; stb_lang=en; timezone=Europe/Paris",
		"mac=00%3A1A%3A79%3A12%3A34%3A56; timezone=Europe%2FParis", "PHPSESSID=null; sn=X; mac=%; token=%00",
		"mac=\"; ;;=;==", "timezone=%E2%82%AC; stb_lang=%C3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		c := ParseCookies(header)
		for _, v := range []string{c.MAC, c.Lang, c.Timezone, c.Serial, c.Token} {
			if len(v) > MaxCookieValue || !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				t.Fatalf("ParseCookies(%q) kept %q", header, v)
			}
		}
		if m, err := ParseMAC(c.MAC); err == nil {
			if back, err := ParseMAC(m.String()); err != nil || back != m {
				t.Fatalf("mac %q = %v does not round-trip", c.MAC, m)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := NewToken(), NewToken()
	if len(a) != 32 || a == b || strings.ToUpper(a) != a || !ValidToken(a) {
		t.Fatalf("NewToken() = %q, %q", a, b)
	}
	for _, s := range []string{"", "a b", "tok\x00", "tok\n", "é", strings.Repeat("x", MaxTokenLen+1)} {
		if ValidToken(s) {
			t.Errorf("ValidToken(%q) = true", s)
		}
	}
	for _, s := range []string{"x", "0123456789ABCDEF0123456789ABCDEF", strings.Repeat("~", MaxTokenLen)} {
		if !ValidToken(s) {
			t.Errorf("ValidToken(%q) = false", s)
		}
	}
	if len(TokenSum("x")) != 32 || string(TokenSum("x")) == string(TokenSum("y")) {
		t.Error("TokenSum is not a SHA-256")
	}
}
