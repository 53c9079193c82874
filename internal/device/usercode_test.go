package device

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseUserCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want string // "" for a refusal
	}{
		{"BCDF-GHJK", "BCDF-GHJK"},
		{"bcdfghjk", "BCDF-GHJK"},
		{" bcdf ghjk ", "BCDF-GHJK"},
		{"B-C-D-F-G-H-J-K", "BCDF-GHJK"},
		{"ZZZZ-ZZZZ", "ZZZZ-ZZZZ"},
		{"BCDF-GHJ", ""},              // 7
		{"BCDF-GHJKL", ""},            // 9
		{"ABCD-EFGH", ""},             // vowels are not in the alphabet
		{"BCDF-GHJ1", ""},             // nor digits
		{"BCDF_GHJK", ""},             // nor other separators
		{"BCDF-GHJK\x00", ""},         // nor NUL
		{"ВCDF-GHJK", ""},             // a Cyrillic В
		{"", ""},                      // nothing
		{strings.Repeat("-", 40), ""}, // too long to look at
	} {
		got, err := ParseUserCode(tt.in)
		switch {
		case tt.want == "" && !errors.Is(err, ErrBadUserCode):
			t.Errorf("ParseUserCode(%q) = %v, %v; want ErrBadUserCode", tt.in, got, err)
		case tt.want != "" && (err != nil || got.String() != tt.want):
			t.Errorf("ParseUserCode(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseUserCode: no input panics; a parsed code formats to a string that parses back to
// it, has the screen's shape, and holds only the alphabet.
func FuzzParseUserCode(f *testing.F) {
	for _, s := range []string{"BCDF-GHJK", "bcdfghjk", " b c d f g h j k ", "BCDF--GHJK", "ßCDF-GHJK", "\xff\xfe", "BCDF-GHJK-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseUserCode(s)
		if err != nil {
			return
		}
		out := c.String()
		back, err := ParseUserCode(out)
		if err != nil || back != c {
			t.Fatalf("ParseUserCode(%q) = %s, which parses back as %v, %v", s, out, back, err)
		}
		if len(out) != 9 || out[4] != '-' {
			t.Fatalf("String() = %q, want XXXX-XXXX", out)
		}
		for _, b := range c {
			if !strings.ContainsRune(UserCodeAlphabet, rune(b)) {
				t.Fatalf("ParseUserCode(%q) holds %q, outside the alphabet", s, b)
			}
		}
	})
}

// TestNewUserCode_Alphabet: drawn codes use the whole alphabet and nothing else, and bytes at
// or above the rejection limit are drawn again rather than folded (which would skew the first
// letters).
func TestNewUserCode_Alphabet(t *testing.T) {
	t.Parallel()
	// 240 and above are rejected (240 = 12·20); 0..19 map to the alphabet in order.
	src := append(bytes.Repeat([]byte{255}, 8), []byte{0, 1, 2, 3, 4, 5, 6, 19, 0, 0, 0, 0, 0, 0, 0, 0}...)
	c, err := newUserCode(bytes.NewReader(src))
	if err != nil || c.String() != "BCDF-GHJZ" {
		t.Fatalf("newUserCode = %v, %v; want BCDF-GHJZ", c, err)
	}
	seen := map[byte]bool{}
	r := bytes.NewReader(bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 239, 200}, 20))
	for range 40 {
		c, err := newUserCode(r)
		if err != nil {
			break
		}
		for _, b := range c {
			seen[b] = true
		}
	}
	if len(seen) != len(UserCodeAlphabet) {
		t.Fatalf("drawn letters = %d, want all %d", len(seen), len(UserCodeAlphabet))
	}
	if _, err := newUserCode(bytes.NewReader(nil)); err == nil {
		t.Fatal("newUserCode from an empty source succeeded")
	}
}

func TestUserCode_LogValue(t *testing.T) {
	t.Parallel()
	c, _ := ParseUserCode("BCDF-GHJK")
	if got := c.LogValue().String(); strings.Contains(got, "DF") || strings.Contains(got, "GHJK") {
		t.Fatalf("LogValue = %q shows the code", got)
	}
}

func TestWellFormedDeviceCode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{strings.Repeat("A", 43), true},
		{strings.Repeat("-", 43), true},
		{strings.Repeat("A", 42), false},
		{strings.Repeat("A", 44), false},
		{strings.Repeat("A", 42) + "=", false},
		{strings.Repeat("A", 42) + "+", false},
		{"", false},
	} {
		if got := wellFormedDeviceCode(tt.in); got != tt.want {
			t.Errorf("wellFormedDeviceCode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"Living room TV", "Living room TV"},
		{"  tab\there\nnewline ", "tab here newline"},
		{"bad\xffutf8", "bad utf8"},
		{strings.Repeat("é", 70), strings.Repeat("é", 64)},
		{"\x00", ""},
	} {
		if got := cleanName(tt.in); got != tt.want {
			t.Errorf("cleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
