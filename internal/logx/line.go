package logx

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Line is one log line appended field by field, byte for byte what the logger's slog handler
// (text or JSON, from New) writes for the same record, request_id included, without slog's
// per-attribute work (an Attr per field, a Record, quoting through Value kinds). The access
// log writes one per request: NewLine, the fields, Write. Values are appended as given: the
// caller redacts (AppendRedactedPath, AppendRedactedQuery), and Scratch gives it room to do
// so without allocating.
type Line struct {
	b       []byte
	scratch []byte
	json    bool
	out     io.Writer
}

var linePool = sync.Pool{New: func() any { return &Line{b: make([]byte, 0, 512), scratch: make([]byte, 0, 512)} }}

// NewLine starts a line at level with message msg at time t, or returns nil when log is not
// a logger from New (or one derived from it with With/WithGroup, whose attributes a Line
// would miss) or is not enabled at level. A nil Line means: log through slog instead.
func NewLine(ctx context.Context, log *slog.Logger, level slog.Level, t time.Time, msg string) *Line {
	h, ok := log.Handler().(requestIDHandler)
	if !ok || h.derived || !h.Enabled(ctx, level) {
		return nil
	}
	l := linePool.Get().(*Line)
	l.json, l.out = h.json, h.out
	t = t.Round(0)
	if l.json {
		l.b = append(l.b, `{"time":"`...)
		l.b = t.AppendFormat(l.b, time.RFC3339Nano)
		l.b = append(l.b, `","level":`...)
		l.b = AppendJSONString(l.b, level.String())
		l.b = append(l.b, `,"msg":`...)
		l.b = AppendJSONString(l.b, msg)
		return l
	}
	l.b = append(l.b, "time="...)
	l.b = h.stamps.appendMillis(l.b, t)
	l.b = append(l.b, " level="...)
	l.b = appendTextString(l.b, level.String())
	l.b = append(l.b, " msg="...)
	l.b = appendTextString(l.b, msg)
	return l
}

// Scratch is an empty buffer the caller may fill (a redacted path) and pass to Bytes; it is
// the Line's own and valid until the next Scratch or Write.
func (l *Line) Scratch() []byte { return l.scratch[:0] }

// Bytes appends the field key=v (v as a string). v must be Scratch's buffer with what the
// caller appended to it: when the append grew it, the grown buffer becomes the next Scratch.
func (l *Line) Bytes(key string, v []byte) {
	if cap(v) > cap(l.scratch) {
		l.scratch = v[:0] // keep the grown scratch buffer
	}
	l.String(key, unsafeString(v))
}

// String appends the field key=v.
func (l *Line) String(key, v string) {
	l.key(key)
	if l.json {
		l.b = AppendJSONString(l.b, v)
	} else {
		l.b = appendTextString(l.b, v)
	}
}

// Int appends the field key=v.
func (l *Line) Int(key string, v int64) {
	l.key(key)
	l.b = strconv.AppendInt(l.b, v, 10)
}

// Addr appends the field key=a, as netip.Addr's text form (what slog writes for it).
func (l *Line) Addr(key string, a netip.Addr) {
	if !a.IsValid() {
		l.String(key, a.String())
		return
	}
	l.key(key)
	if l.json {
		l.b = append(l.b, '"')
		l.b = a.AppendTo(l.b)
		l.b = append(l.b, '"')
		return
	}
	l.b = a.AppendTo(l.b) // digits, dots, colons, maybe a %zone: never needs quoting
}

func (l *Line) key(key string) {
	if l.json {
		l.b = append(l.b, ',')
		l.b = AppendJSONString(l.b, key)
		l.b = append(l.b, ':')
		return
	}
	l.b = append(l.b, ' ')
	l.b = appendTextString(l.b, key)
	l.b = append(l.b, '=')
}

// Write ends the line (request_id from ctx, as New's handler adds it), writes it in one call
// and returns the Line to its pool; l must not be used afterwards.
func (l *Line) Write(ctx context.Context) {
	if id := RequestID(ctx); id != "" {
		l.String("request_id", id)
	}
	if l.json {
		l.b = append(l.b, '}')
	}
	l.b = append(l.b, '\n')
	_, _ = l.out.Write(l.b)
	if cap(l.b) > 64<<10 || cap(l.scratch) > 64<<10 {
		return // one huge line does not pin its buffers in the pool
	}
	l.b, l.scratch, l.out = l.b[:0], l.scratch[:0], nil
	linePool.Put(l)
}

// appendRFC3339Millis is slog's text time: RFC 3339 with exactly three fractional digits.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10) // RFC3339Nano trims trailing zeros
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// stamps formats text times a second at a time: within one second (and zone) only the
// milliseconds change, so a line appends the second's formatted date and zone around three
// digits instead of formatting the whole time.
type stamps struct{ cur atomic.Pointer[stamp] }

// stamp is one second's text time: "2006-01-02T15:04:05." and the zone ("Z", "+01:00").
type stamp struct {
	sec    int64
	loc    *time.Location
	prefix []byte
	zone   []byte
}

const stampPrefixLen = len("2006-01-02T15:04:05.")

// appendMillis appends appendRFC3339Millis(t).
func (s *stamps) appendMillis(b []byte, t time.Time) []byte {
	sec := t.Unix()
	st := s.cur.Load()
	if st == nil || st.sec != sec || st.loc != t.Location() {
		full := appendRFC3339Millis(nil, t)
		if y := t.Year(); y < 1000 || y > 9999 || len(full) < stampPrefixLen+3 {
			return append(b, full...) // not the fixed-width form this shortcut assumes
		}
		st = &stamp{sec: sec, loc: t.Location(), prefix: full[:stampPrefixLen], zone: full[stampPrefixLen+3:]}
		s.cur.Store(st)
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	b = append(b, st.prefix...)
	b = append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	return append(b, st.zone...)
}

// appendTextString is slog's text value: as is, or Go-quoted when empty or holding a space,
// '=', '"', a control or non-printing character or invalid UTF-8. Printable ASCII (every
// access-log value but a foreign User-Agent) takes one branch-free pass over textClass, and
// is quoted by hand: Go's quoting of printable ASCII escapes only '"' and '\\'.
func appendTextString(b []byte, s string) []byte {
	var class uint8
	for i := 0; i < len(s); i++ {
		class |= textClass[s[i]]
	}
	switch {
	case class&textSlow != 0:
		if textNeedsQuoting(s) {
			return strconv.AppendQuote(b, s)
		}
		return append(b, s...)
	case class&textQuote == 0 && len(s) > 0:
		return append(b, s...)
	case class&textEscape == 0:
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if textClass[s[i]]&textEscape != 0 {
			b = append(b, s[start:i]...)
			b = append(b, '\\', s[i])
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// The classes of a byte in a text value: textQuote makes the value quoted, textEscape is
// escaped inside quotes, textSlow (a control character, DEL, any non-ASCII byte) sends the
// value to the general rules of textNeedsQuoting and strconv.
const (
	textQuote uint8 = 1 << iota
	textEscape
	textSlow
)

var textClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c < ' ' || c >= utf8.RuneSelf-1:
			t[c] = textSlow
		case c == ' ' || c == '=':
			t[c] = textQuote
		case c == '"':
			t[c] = textQuote | textEscape
		case c == '\\':
			t[c] = textEscape
		}
	}
	return t
}()

func textNeedsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' { // slog: space, '=' and what JSON escapes but '\\'

				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string the way slog's JSON handler and encoding/json
// without HTML escaping write it: control characters, '"' and '\\' escaped, invalid UTF-8 as
// U+FFFD, U+2028/U+2029 escaped (so the output is also valid JavaScript); '/', '<', '>', '&'
// and other non-ASCII as they are. The player API's answers use it too.
func AppendJSONString(b []byte, s string) []byte {
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
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// unsafeString views b as a string for the duration of an append (no copy).
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
