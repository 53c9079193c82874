package stream

import (
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/input"
)

// Limits on untrusted path parts. Longer values are malformed (404), never an allocation.
const (
	maxCredLen  = 256
	maxTokenLen = 512
	maxExtLen   = 8
)

// splitFile splits the last path segment "42.ts" into its id part and lower-case extension ("" when
// there is none).
func splitFile(s string) (name, ext string) {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		return s[:i], strings.ToLower(s[i+1:])
	}
	return s, ""
}

// validExt reports whether ext is a plausible container extension: 1–8 ASCII letters or digits.
func validExt(ext string) bool {
	if len(ext) == 0 || len(ext) > maxExtLen {
		return false
	}
	for i := 0; i < len(ext); i++ {
		b := ext[i]
		if !(b >= 'a' && b <= 'z' || b >= '0' && b <= '9') {
			return false
		}
	}
	return true
}

// liveFormat maps a live URL's extension to the output format checked against the line: none, ts
// and the legacy .ch are MPEG-TS, m3u8 is HLS. Anything else is not a live URL.
func liveFormat(ext string) (string, bool) {
	switch ext {
	case "", "ts", "ch":
		return formatTS, true
	case "m3u8":
		return formatHLS, true
	}
	return "", false
}

// Output formats as the line's allowed_output_formats name them.
const (
	formatTS  = "ts"
	formatHLS = "m3u8"
)

// cred copies and unescapes a path credential (fasthttp reuses the buffer behind params). A value
// that does not unescape is used as sent. One that is not text once unescaped (a NUL byte,
// invalid UTF-8: %00, %FF) is refused here, before it could reach PostgreSQL, which rejects
// such text with an error (issue 11).
func cred(raw string) (string, bool) {
	if raw == "" || len(raw) > maxCredLen {
		return "", false
	}
	s, err := url.PathUnescape(raw)
	if err != nil {
		s = raw
	}
	return input.Clone(s, maxCredLen)
}

// parseLiveFile parses the last segment of a live URL: "42", "42.ts", "42.m3u8".
func parseLiveFile(file string) (id int64, format string, ok bool) {
	name, ext := splitFile(file)
	if strings.HasSuffix(file, ".") {
		return 0, "", false
	}
	if id, ok = input.ID(name); !ok {
		return 0, "", false
	}
	if format, ok = liveFormat(ext); !ok {
		return 0, "", false
	}
	return id, format, true
}

// parsePHPStream parses timeshift.php's stream parameter: "42" or "42.ts" (MPEG-TS only).
func parsePHPStream(s string) (id int64, format string, ok bool) {
	name, ext := splitFile(s)
	if id, ok = input.ID(name); !ok {
		return 0, "", false
	}
	if format, ok = liveFormat(ext); !ok || format != formatTS {
		return 0, "", false
	}
	return id, format, true
}

// parseVODFile parses the last segment of a movie or episode URL: "7.mp4" (the extension is
// required, as clients always send container_extension).
func parseVODFile(file string) (id int64, ext string, ok bool) {
	name, ext := splitFile(file)
	if id, ok = input.ID(name); !ok || !validExt(ext) {
		return 0, "", false
	}
	return id, ext, true
}

// Timeshift start formats (spec §2.4): XC's main form, its one-dash form, and the underscore
// variant some clients send. All are wall-clock times in the panel's time zone.
const (
	startLayout      = "2006-01-02:15-04"
	startLayoutShort = "20060102-15"
	startLayoutUnder = "2006-01-02_15-04"
)

// parseStart reads a timeshift start in loc. Only the exact layouts are accepted (fixed widths,
// digits only), so every accepted string maps to one instant.
func parseStart(s string, loc *time.Location) (time.Time, bool) {
	var layout string
	switch {
	case len(s) == len(startLayout) && s[10] == ':':
		layout = startLayout
	case len(s) == len(startLayout) && s[10] == '_':
		layout = startLayoutUnder
	case len(s) == len(startLayoutShort):
		layout = startLayoutShort
	default:
		return time.Time{}, false
	}
	if !shapedLike(s, layout) {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// shapedLike reports whether s (as long as layout) has ASCII digits exactly where layout has
// digits and layout's separators everywhere else: time.Parse alone would take a sign or a
// space in a number.
func shapedLike(s, layout string) bool {
	for i := 0; i < len(layout); {
		j := i
		for j < len(layout) && layout[j] >= '0' && layout[j] <= '9' {
			j++
		}
		if j > i {
			if !input.Digits(s[i:j], j-i) {
				return false
			}
			i = j
			continue
		}
		if s[i] != layout[i] {
			return false
		}
		i++
	}
	return true
}

// formatStart writes t in XC's main timeshift form in loc.
func formatStart(t time.Time, loc *time.Location) string { return t.In(loc).Format(startLayout) }

// Timeshift duration bounds, in minutes.
const (
	minShiftMinutes = 1
	maxShiftMinutes = 24 * 60
)

// parseMinutes reads a timeshift duration in minutes.
func parseMinutes(s string) (int, bool) {
	n, ok := input.Uint(s, 5)
	return int(n), ok && n >= minShiftMinutes && n <= maxShiftMinutes
}

// validToken reports whether s can be a play or segment token: base64url characters only, within
// the length limit. The signature check comes later; this only keeps garbage out.
func validToken(s string) bool {
	if len(s) == 0 || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// parseSeq reads an HLS segment file name "{seq}.ts".
func parseSeq(file string) (uint64, bool) {
	name, ext := splitFile(file)
	if ext != "ts" {
		return 0, false
	}
	return input.Uint(name, 20)
}

// byteRange is one satisfiable range [start, end] (inclusive) of a resource.
type byteRange struct{ start, end int64 }

func (r byteRange) length() int64 { return r.end - r.start + 1 }

// Range outcomes.
const (
	rangeNone          = iota // no (usable) Range header: send the whole resource
	rangeOK                   // one satisfiable range
	rangeUnsatisfiable        // 416
)

// parseRange interprets a Range header against a resource of size bytes (RFC 9110 §14). Only a
// single byte range is honoured; a header listing several ranges, or one that does not parse, is
// ignored (the whole resource is sent with 200, which the RFC allows). A syntactically valid
// range that does not overlap the resource is unsatisfiable (416).
func parseRange(h string, size int64) (byteRange, int) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.IndexByte(spec, ',') >= 0 {
		return byteRange{}, rangeNone
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return byteRange{}, rangeNone
	}
	num := func(s string) (int64, bool) {
		n, ok := input.Uint(s, 19)
		return int64(n), ok && n <= math.MaxInt64
	}
	if first == "" { // suffix range: the last n bytes
		n, ok := num(last)
		if !ok {
			return byteRange{}, rangeNone
		}
		if n == 0 || size == 0 {
			return byteRange{}, rangeUnsatisfiable
		}
		return byteRange{start: max(0, size-n), end: size - 1}, rangeOK
	}
	start, ok := num(first)
	if !ok {
		return byteRange{}, rangeNone
	}
	end := size - 1
	if last != "" {
		e, ok := num(last)
		if !ok || e < start {
			return byteRange{}, rangeNone
		}
		end = min(e, size-1)
	}
	if start >= size {
		return byteRange{}, rangeUnsatisfiable
	}
	return byteRange{start: start, end: end}, rangeOK
}
