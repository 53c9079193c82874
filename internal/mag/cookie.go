package mag

import (
	"net/url"
	"strings"

	"github.com/xtreamd/xtreamd/internal/input"
)

// Cookies are the cookies a MAG box or a Stalker client sends with every portal call (spec
// §5.2): mac, stb_lang, timezone, and from some clients sn and token. Values are
// percent-decoded (the stock JavaScript encodeURIComponent()s them, some clients do not).
type Cookies struct {
	MAC      string // the mac value, decoded; parse it with ParseMAC
	Lang     string // stb_lang, e.g. "en"
	Timezone string // timezone, e.g. "Europe/Paris"; "" when absent or "undefined"
	Serial   string // sn
	Token    string // token (EStalker repeats the Bearer token here)
}

// MaxCookieValue is the longest cookie value kept; a longer one is treated as absent.
const MaxCookieValue = 256

// maxCookieHeader bounds the work done on one Cookie header.
const maxCookieHeader = 8 << 10

// ParseCookies reads the cookies the portal uses from a Cookie header. Unknown cookies
// (PHPSESSID, adid, debug_key ...) are ignored, the first of a repeated name wins, and a value
// that is over-long, not valid UTF-8 or holds a NUL byte is treated as absent, so nothing kept
// can fail later in PostgreSQL.
func ParseCookies(header string) Cookies {
	var c Cookies
	if len(header) > maxCookieHeader {
		header = header[:maxCookieHeader]
	}
	for part := range strings.SplitSeq(header, ";") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		var dst *string
		switch strings.TrimSpace(name) {
		case "mac":
			dst = &c.MAC
		case "stb_lang":
			dst = &c.Lang
		case "timezone":
			dst = &c.Timezone
		case "sn":
			dst = &c.Serial
		case "token":
			dst = &c.Token
		default:
			continue
		}
		if *dst != "" {
			continue
		}
		*dst = cookieValue(value)
	}
	if c.Timezone == "undefined" {
		c.Timezone = ""
	}
	return c
}

// cookieValue trims, unquotes and percent-decodes a value ('+' stays '+': time zones such as
// Etc/GMT+3 carry one), or returns "" when the result is not text worth keeping.
func cookieValue(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if strings.IndexByte(v, '%') >= 0 {
		if d, err := url.PathUnescape(v); err == nil {
			v = d
		}
	}
	v = strings.TrimSpace(v)
	if !input.Text(v, MaxCookieValue) {
		return ""
	}
	return strings.Clone(v)
}
