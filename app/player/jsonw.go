package player

import (
	"strconv"
	"sync"

	"github.com/xtreamd/xtreamd/internal/logx"
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

// appendString appends s as a JSON string (logx.AppendJSONString: control characters
// escaped, invalid UTF-8 as U+FFFD, U+2028/U+2029 escaped so the answer is also valid
// JavaScript). '/' and non-ASCII stay as they are: PHP's \/ and \uXXXX are cosmetic.
func appendString(b []byte, s string) []byte { return logx.AppendJSONString(b, s) }

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
