package player

import (
	"strconv"
	"sync"
	"unicode/utf8"
)

// Answers are appended into one pooled buffer: the list entries come rendered once per catalog
// snapshot (render.go), and everything else (login objects, EPG rows, panel_api channels) is
// appended field by field with the helpers below, so a list of 10,000 entries costs no
// allocation per entry.

// maxPooledBuffer keeps one huge answer (a provider's 100,000-channel list) from pinning its
// buffer in the pool forever.
const maxPooledBuffer = 16 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	if cap(*b) > maxPooledBuffer {
		return
	}
	*b = (*b)[:0]
	bufPool.Put(b)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Control characters are escaped, invalid UTF-8
// becomes U+FFFD (as encoding/json does), and U+2028/U+2029 are escaped so the answer is also
// valid JavaScript. '/' and non-ASCII stay as they are: PHP's \/ and \uXXXX are cosmetic.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendKey appends `"key":` (keys are our own ASCII constants, never escaped).
func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendIntString appends n as a JSON string of digits ("123"): the wire type of the fields
// XC read from MySQL (spec §1.1).
func appendIntString(b []byte, n int64) []byte {
	b = append(b, '"')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '"')
}

// appendNullableString appends s, or null when s is empty (category_id, epg_channel_id).
func appendNullableString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendFloat appends a JSON number with no exponent and no trailing zeros (3.5, 4).
func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}
