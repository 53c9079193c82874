// Package mag handles MAG set-top boxes: MAC addresses (parsed, normalised, masked in logs),
// and the portal handshake tokens bound to them.
package mag

import (
	"errors"
	"log/slog"
	"strings"
)

// MAC is a parsed 48-bit MAC address.
type MAC [6]byte

// ErrBadMAC means the text is not a MAC address.
var ErrBadMAC = errors.New("mag: malformed MAC address")

// ParseMAC accepts six hex octets separated by ':' or '-' (either case, as MAG boxes and admin
// tools send them, URL-decoded), e.g. 00:1a:79:12:34:56 or 00-1A-79-12-34-56. Anything else is
// an error.
func ParseMAC(s string) (MAC, error) {
	var m MAC
	if len(s) != 17 {
		return m, ErrBadMAC
	}
	sep := s[2]
	if sep != ':' && sep != '-' {
		return m, ErrBadMAC
	}
	for i := 0; i < 6; i++ {
		hi, ok1 := unhex(s[3*i])
		lo, ok2 := unhex(s[3*i+1])
		if !ok1 || !ok2 || (i < 5 && s[3*i+2] != sep) {
			return MAC{}, ErrBadMAC
		}
		m[i] = hi<<4 | lo
	}
	return m, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789ABCDEF"

// String is the canonical form "00:1A:79:12:34:56", for storage and the wire.
func (m MAC) String() string {
	var b strings.Builder
	b.Grow(17)
	for i, o := range m {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteByte(hexDigits[o>>4])
		b.WriteByte(hexDigits[o&0xF])
	}
	return b.String()
}

// Masked keeps the vendor part: "00:1A:79:**:**:**".
func (m MAC) Masked() string { return m.String()[:8] + ":**:**:**" }

// LogValue makes sure a full MAC never reaches a log line.
func (m MAC) LogValue() slog.Value { return slog.StringValue(m.Masked()) }
