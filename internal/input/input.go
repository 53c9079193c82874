// Package input holds the few rules every surface applies to untrusted text before it goes any
// further: a bounded length that never splits a UTF-8 sequence, no NUL byte and valid UTF-8
// (PostgreSQL rejects both in text, so a value that reached a query would answer 5xx instead
// of a refusal), and ASCII digits for ids. It is a leaf: anyone may import it.
package input

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Truncate returns s cut to at most n bytes, backing off to the start of a UTF-8 sequence so
// that a valid string stays valid.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Text reports whether s can be stored and compared as text: at most max bytes, valid UTF-8,
// no NUL byte.
func Text(s string, max int) bool {
	return len(s) <= max && strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// Clone returns an owned copy of s when Text(s, max) holds: request buffers are reused once a
// handler returns, so nothing kept may point into them.
func Clone(s string, max int) (string, bool) {
	if !Text(s, max) {
		return "", false
	}
	return strings.Clone(s), true
}

// Sanitize makes s storable text of at most n characters: invalid UTF-8 becomes U+FFFD, NUL
// bytes are dropped, and the result is cut at n runes (the schema counts characters) and
// trimmed. It is for data from outside that is kept rather than refused (playlist names).
func Sanitize(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n]))
}

// Digits reports whether s is 1 to max ASCII digits (no sign, no space).
func Digits(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ID parses a positive int64 id written as 1 to 19 ASCII digits.
func ID(s string) (int64, bool) {
	if !Digits(s, 19) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Uint parses an unsigned number of 1 to max ASCII digits (max at most 20).
func Uint(s string, max int) (uint64, bool) {
	if !Digits(s, max) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}
