// Package mag handles MAG set-top boxes and the Stalker clients that speak for them: MAC
// addresses (parsed, normalised, masked in logs), the portal's cookies, and the device sessions
// of the portal (handshake tokens bound to a MAC, stored hashed, expiring unless used; the
// optional lock of a device to the serial number and ids it first reported; favourites, the
// last channel and watchdog events per device).
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

// maxMACText bounds what ParseMAC looks at: six octets with percent-encoded separators.
const maxMACText = 12 + 5*3

// ParseMAC accepts six hex octets in either case, separated by ':' or '-' (one separator
// throughout) or not separated at all, e.g. 00:1a:79:12:34:56, 00-1A-79-12-34-56 or
// 001A79123456. Separators may be percent-encoded as cookies carry them (00%3A1A%3A79…).
// Anything else is an error.
func ParseMAC(s string) (MAC, error) {
	if len(s) > maxMACText {
		return MAC{}, ErrBadMAC
	}
	if strings.IndexByte(s, '%') >= 0 {
		var ok bool
		if s, ok = unescapeSeparators(s); !ok {
			return MAC{}, ErrBadMAC
		}
	}
	var m MAC
	switch len(s) {
	case 12:
		for i := range m {
			o, ok := octet(s[2*i], s[2*i+1])
			if !ok {
				return MAC{}, ErrBadMAC
			}
			m[i] = o
		}
		return m, nil
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return MAC{}, ErrBadMAC
		}
		for i := range m {
			o, ok := octet(s[3*i], s[3*i+1])
			if !ok || (i < 5 && s[3*i+2] != sep) {
				return MAC{}, ErrBadMAC
			}
			m[i] = o
		}
		return m, nil
	}
	return MAC{}, ErrBadMAC
}

// unescapeSeparators decodes %3A (':') and %2D ('-') in either case; any other escape, or a
// '%' that starts none, is not a MAC.
func unescapeSeparators(s string) (string, bool) {
	var b [17]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			switch strings.ToUpper(s[i+1 : i+3]) {
			case "3A":
				c = ':'
			case "2D":
				c = '-'
			default:
				return "", false
			}
			i += 2
		}
		if n == len(b) {
			return "", false
		}
		b[n] = c
		n++
	}
	return string(b[:n]), true
}

func octet(hi, lo byte) (byte, bool) {
	h, ok1 := unhex(hi)
	l, ok2 := unhex(lo)
	return h<<4 | l, ok1 && ok2
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
	var b [17]byte
	for i, o := range m {
		if i > 0 {
			b[3*i-1] = ':'
		}
		b[3*i] = hexDigits[o>>4]
		b[3*i+1] = hexDigits[o&0xF]
	}
	return string(b[:])
}

// Masked keeps the vendor part: "00:1A:79:**:**:**".
func (m MAC) Masked() string { return m.String()[:8] + ":**:**:**" }

// LogValue makes sure a full MAC never reaches a log line.
func (m MAC) LogValue() slog.Value { return slog.StringValue(m.Masked()) }
