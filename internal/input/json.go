package input

import (
	"strconv"
	"unicode/utf16"
)

// LoneSurrogate reports whether JSON text (a string, or a whole document: a backslash only
// ever stands in a string) escapes half a UTF-16 surrogate pair ("\ud800" alone): valid JSON,
// but no Unicode text, which Go's decoding silently turns into U+FFFD, so a value stored would
// not be the one sent.
func LoneSurrogate(raw []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		switch {
		case !ok:
			i++ // another escape: skip its character (it may be a backslash)
		case utf16.IsSurrogate(r) && r < 0xdc00:
			if low, ok := hex(i + 6); !ok || low < 0xdc00 || low > 0xdfff {
				return true
			}
			i += 11
		case utf16.IsSurrogate(r):
			return true
		default:
			i += 5
		}
	}
	return false
}
