package input

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	// s, n → want; é is two bytes, 😀 four: a cut never splits them.
	cases := [][3]string{
		{"abc", "5", "abc"}, {"abc", "3", "abc"}, {"abcdef", "3", "abc"}, {"abc", "0", ""},
		{"aé", "2", "a"}, {"éa", "2", "é"}, {"x😀", "3", "x"},
	}
	for _, c := range cases {
		n := int(c[1][0] - '0')
		if got := Truncate(c[0], n); got != c[2] {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c[0], n, got, c[2])
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	want := map[string]bool{
		"demo": true, "": true, "Zürich": true,
		"a\x00b": false, "a\xffb": false, strings.Repeat("a", 11): false,
	}
	for s, ok := range want {
		if got := Text(s, 10); got != ok {
			t.Errorf("Text(%q, 10) = %v, want %v", s, got, ok)
		}
		if c, got := Clone(s, 10); got != ok || (ok && c != s) {
			t.Errorf("Clone(%q, 10) = %q, %v, want %v", s, c, got, ok)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	if got := Sanitize("a\x00b\xffc", 10); got != "ab\uFFFDc" {
		t.Errorf("Sanitize = %q, want NUL dropped and U+FFFD for the bad byte", got)
	}
	if got := Sanitize("ääää ", 4); got != "ääää" {
		t.Errorf("Sanitize cut = %q, want 4 runes", got)
	}
}

func TestIDs(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "-1", "+1", " 1", "1a", "0", "9223372036854775808", "12345678901234567890"} {
		if n, ok := ID(s); ok {
			t.Errorf("ID(%q) = %d, want refused", s, n)
		}
	}
	for s, want := range map[string]int64{"1": 1, "007": 7, "9223372036854775807": 9223372036854775807} {
		if n, ok := ID(s); !ok || n != want {
			t.Errorf("ID(%q) = %d, %v, want %d", s, n, ok, want)
		}
	}
	if n, ok := Uint("18446744073709551615", 20); !ok || n != 18446744073709551615 {
		t.Errorf("Uint(max) = %d, %v", n, ok)
	}
	if _, ok := Uint("18446744073709551616", 20); ok {
		t.Error("Uint(max+1) accepted")
	}
	if Digits("123", 2) {
		t.Error("Digits over max accepted")
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add("aé😀b", 3)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := Truncate(s, n)
		if len(got) > n || !strings.HasPrefix(s, got) {
			t.Fatalf("Truncate(%q, %d) = %q", s, n, got)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got) {
			t.Fatalf("Truncate(%q, %d) = %q is not valid UTF-8", s, n, got)
		}
	})
}
