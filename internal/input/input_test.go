package input

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		n    int
		want string
	}{
		{"short", "abc", 5, "abc"},
		{"exact", "abc", 3, "abc"},
		{"cut", "abcdef", 3, "abc"},
		{"zero", "abc", 0, ""},
		{"inside a rune", "aé", 2, "a"}, // é is two bytes
		{"after a rune", "éa", 2, "é"},
		{"four-byte rune", "x😀", 3, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Truncate(tt.s, tt.n); got != tt.want {
				t.Fatalf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
			}
		})
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    string
		want bool
	}{
		{"plain", "demo", true},
		{"empty", "", true},
		{"utf8", "Zürich", true},
		{"nul", "a\x00b", false},
		{"invalid utf8", "a\xffb", false},
		{"too long", strings.Repeat("a", 11), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Text(tt.s, 10); got != tt.want {
				t.Fatalf("Text(%q, 10) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	if got := Sanitize("a\x00b\xffc", 10); got != "ab\uFFFDc" {
		t.Fatalf("Sanitize = %q", got)
	}
	if got := Sanitize("ääää ", 4); got != "ääää" {
		t.Fatalf("Sanitize cut = %q, want 4 runes", got)
	}
}

func TestDigitsAndIDs(t *testing.T) {
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
