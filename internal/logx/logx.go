// Package logx sets up structured logging (log/slog, text or JSON) with the request id taken
// from the context, and redacts the credentials that Xtream URLs carry: a password, token or
// full MAC address never reaches a log line.
package logx

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"unsafe"
)

type ctxKey struct{}

// maxInlineID is the longest request id a RequestIDContext keeps in its own buffer: ours are
// 24 characters; a longer one a client sent is allocated apart.
const maxInlineID = 40

// RequestIDContext carries a request id. The id lives in the context's own buffer, and Value
// hands out the context itself, so a request id costs one allocation rather than three (the
// id's string, its boxing into an interface, context.WithValue's node): it is made for every
// request. WithRequestIDBytes makes one; a context of another package may embed one and set
// it up with Init, to carry the id in the same allocation as its own state.
type RequestIDContext struct {
	context.Context
	id  string
	buf [maxInlineID]byte
}

// Init sets c up as parent carrying id (copied) and returns the stored id, which lives as
// long as c. c must be new (zero).
func (c *RequestIDContext) Init(parent context.Context, id []byte) string {
	c.Context = parent
	if len(id) <= maxInlineID {
		n := copy(c.buf[:], id)
		c.id = unsafe.String(&c.buf[0], n)
	} else {
		c.id = string(id)
	}
	return c.id
}

func (c *RequestIDContext) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return c
	}
	return c.Context.Value(key)
}

// WithRequestID returns ctx carrying the request id that every log line made with it shows.
func WithRequestID(ctx context.Context, id string) context.Context {
	c, _ := WithRequestIDBytes(ctx, []byte(id)) // does not allocate: the bytes are copied
	return c
}

// WithRequestIDBytes is WithRequestID for an id in a buffer the caller reuses (a request
// header, a stack array): the id is copied. It also returns the stored id, which lives as
// long as the context.
func WithRequestIDBytes(ctx context.Context, id []byte) (context.Context, string) {
	c := new(RequestIDContext)
	return c, c.Init(ctx, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	if c, ok := ctx.Value(ctxKey{}).(*RequestIDContext); ok {
		return c.id
	}
	return ""
}

// New returns a logger writing format ("text" or "json") at level to w.
func New(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	if _, ok := w.(*Writer); !ok {
		w = &lockedWriter{w: w} // slog's handler and NewLine's lines share w
	}
	opts := &slog.HandlerOptions{Level: level}
	h := requestIDHandler{out: w, json: format == "json", stamps: &stamps{}}
	if h.json {
		h.Handler = slog.NewJSONHandler(w, opts)
	} else {
		h.Handler = slog.NewTextHandler(w, opts)
	}
	return slog.New(h)
}

// requestIDHandler adds the request id of the context. out is New's writer; NewLine writes
// to it only for the handler New made (derived ones, from WithAttrs or WithGroup, add
// attributes a Line would miss).
type requestIDHandler struct {
	slog.Handler
	out     io.Writer
	json    bool
	derived bool
	stamps  *stamps // NewLine's text times
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithAttrs(as), out: h.out, json: h.json, derived: true}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{Handler: h.Handler.WithGroup(name), out: h.out, json: h.json, derived: true}
}

// lockedWriter serialises writes to a writer that may not be safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Redacted replaces a secret in logs.
const Redacted = "***"

// userPassRoutes are first path segments followed by /{user}/{pass}/..., or by /{token}/{id}
// when only two segments follow (the XUI token forms).
var userPassRoutes = map[string]bool{
	"live": true, "movie": true, "series": true, "timeshift": true, "timeshifts": true,
	"hls": true, "subtitle": true, "thumb": true,
}

// tokenRoutes are first path segments followed by a token.
var tokenRoutes = map[string]bool{"play": true, "auth": true, "key": true, "vauth": true, "tsauth": true}

// fixedRoots are first segments of fixed routes. A three-segment path under one of them is
// left as it is unless its last segment could be a stream id: see RedactPath.
var fixedRoots = map[string]bool{
	"api": true, "admin": true, "static": true, "c": true, "stalker_portal": true, "server": true,
	"streaming": true, "metrics": true, "healthz": true, "readyz": true, "player_api": true, "epg": true,
	"o": true, // the partner token endpoints, /o/client/{register,token,revoke}
}

// RedactPath hides the password (or token) segment of Xtream stream paths:
// /live/u/p/1.ts → /live/u/***/1.ts, /u/p/1 → /u/***/1, /play/TOKEN → /play/***,
// /live/TOKEN/1.ts → /live/***/1.ts, /hlsr/TOKEN/u/p/... → /hlsr/***/u/***/...
//
// The short form /{user}/{pass}/{id} takes every three-segment path that no other route does,
// whatever its first segment: epg, api, streaming, player_api ... are valid usernames. So the
// second segment of a three-segment path is hidden unless the path is under a fixed route's
// root and its last segment cannot be a stream id (ids start with a digit: /api/v1/lines and
// /stalker_portal/server/load.php stay readable). The router ignores letter case and a
// trailing slash, and so does this.
func RedactPath(path string) string {
	if redactedSegments(path) == 0 {
		return path
	}
	return string(AppendRedactedPath(nil, path))
}

// AppendRedactedPath appends RedactPath(path) to dst; it allocates nothing but dst's growth,
// which is what the access log needs on every request.
func AppendRedactedPath(dst []byte, path string) []byte {
	hidden := redactedSegments(path)
	if hidden == 0 {
		return append(dst, path...)
	}
	for i := 0; ; i++ {
		seg, rest, more := strings.Cut(path, "/")
		if hidden&(1<<i) != 0 {
			seg = Redacted
		}
		dst = append(dst, seg...)
		if !more {
			return dst
		}
		dst = append(dst, '/')
		path = rest
	}
}

// redactedSegments is the set (bit i: segment i, segment 0 being the "" before the leading
// '/') of the path segments RedactPath hides; 0 when it hides none.
func redactedSegments(path string) uint8 {
	segs := strings.Count(path, "/") + 1
	if segs < 3 || path[0] != '/' {
		return 0
	}
	n := segs
	if n > 3 && path[len(path)-1] == '/' {
		n-- // "/u/p/1/" is routed as "/u/p/1"
	}
	root := strings.ToLower(segment(path, 1)) // allocates only for an upper-case root
	var hidden uint8
	hide := func(i int) {
		if i < n {
			hidden |= 1 << i
		}
	}
	if n == 4 && (!fixedRoots[root] || mayBeStreamID(segment(path, 3))) {
		hide(2) // the /{user}/{pass}/{id} short form
	}
	switch {
	case root == "player_api" || root == "epg":
		hide(3)
	case userPassRoutes[root] && n >= 5:
		hide(3)
	case userPassRoutes[root] && n == 4, tokenRoutes[root]:
		hide(2)
	case root == "hlsr":
		hide(2)
		hide(4)
	case root == "api" && n == 7 && segment(path, 2) == "v2" && segment(path, 4) == "profiles" && segment(path, 5) == "code":
		hide(6) // a second-screen user code (/api/v2/{partner}/profiles/code/{code})
	}
	return hidden
}

// segment is the i-th '/'-separated segment of path ("" past the end).
func segment(path string, i int) string {
	for ; i > 0; i-- {
		_, rest, ok := strings.Cut(path, "/")
		if !ok {
			return ""
		}
		path = rest
	}
	seg, _, _ := strings.Cut(path, "/")
	return seg
}

// mayBeStreamID reports whether a last path segment could name a stream ("42", "42.ts").
func mayBeStreamID(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// secretParams are query keys whose values never reach a log line.
var secretParams = map[string]bool{
	"password": true, "pass": true, "p": true, "play_token": true, "token": true, "api_pass": true,
	"api_key": true, "hdnts": true, "md5": true, "hmac": true, "signature": true, "key": true,
	"stalker_key": true, "access_token": true, "prehash": true, "random": true, "auth": true,
	"parent_password": true, "pin": true,
	// MAG get_profile: metrics repeats the MAC; a locked device's serial number and ids are
	// what it proves itself with.
	"metrics": true, "sn": true, "device_id": true, "device_id2": true,
	// Second-screen activation: a pending code with a password would approve a device.
	"user_code": true, "device_code": true,
}

// macParams are query keys holding a MAC address, masked to the vendor part.
var macParams = map[string]bool{"mac": true, "user_data[mac]": true}

// RedactQuery hides secret values of a raw query string, keeping keys and order. The legacy
// u=USER:p=PASS form is redacted too.
func RedactQuery(raw string) string {
	return string(AppendRedactedQuery(nil, raw))
}

// AppendRedactedQuery appends RedactQuery(raw) to dst; it allocates nothing but dst's growth
// unless a key is percent-encoded or upper case, or a MAC is masked.
func AppendRedactedQuery(dst []byte, raw string) []byte {
	if raw == "" {
		return dst
	}
	for first := true; ; first = false {
		part, rest, more := strings.Cut(raw, "&")
		if !first {
			dst = append(dst, '&')
		}
		var end bool
		dst, end = appendRedactedParam(dst, part)
		if !more || end {
			return dst
		}
		raw = rest
	}
}

// appendRedactedParam appends one parameter, redacted; end: it held legacy credentials, and
// nothing after it may be kept.
func appendRedactedParam(dst []byte, part string) (_ []byte, end bool) {
	k, v, hasValue := strings.Cut(part, "=")
	switch k { // the keys every player sends, spelled as they send them: no unescaping, no lookups
	case "username", "action", "type", "output", "category_id", "stream_id", "vod_id", "series_id":
		return append(dst, part...), false
	case "password":
		if hasValue {
			return append(append(dst, "password="...), Redacted...), false
		}
	}
	key, err := url.QueryUnescape(k)
	if err != nil {
		key = k
	}
	key = strings.ToLower(key)
	switch {
	case hasValue && (secretParams[key] || strings.HasPrefix(key, "user_data[password") || strings.Contains(key, "password")):
		return append(append(append(dst, k...), '='), Redacted...), false
	case hasValue && macParams[key]:
		mv, _ := url.QueryUnescape(v)
		return append(append(append(dst, k...), '='), MaskMAC(mv)...), false
	}
	if user, ok := legacyUser(part); ok {
		// XC reads everything after ":p=" as the password, "&" and all: none of it is kept.
		return append(append(append(dst, user...), ":p="...), Redacted...), true
	}
	return append(dst, part...), false
}

// legacyUser finds XC's legacy credentials, u=USER:p=PASS, in a raw query parameter: XC splits
// the whole query, unescaped, at ":p=", whatever the key, so a parameter holding it, escaped or
// not, has a password after it. It returns the raw parameter's part before it.
func legacyUser(v string) (string, bool) {
	if i := indexLegacySep(v); i >= 0 {
		return v[:i], true
	}
	if !strings.Contains(v, "%") {
		return "", false
	}
	u, err := url.QueryUnescape(v)
	if err != nil {
		return "", false
	}
	i := indexLegacySep(u)
	if i < 0 {
		return "", false
	}
	return u[:i], true // the log line quotes what needs it
}

// indexLegacySep is the index of the first ":p=" in s, p in either case; -1 if none. (Not
// strings.ToLower: it changes the length of invalid UTF-8, and the index must be s's.)
func indexLegacySep(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == ':' && (s[i+1] == 'p' || s[i+1] == 'P') && s[i+2] == '=' {
			return i
		}
	}
	return -1
}

// MaskMAC keeps the vendor part (first three octets) of a MAC-looking string and hides the
// rest: 00:1A:79:12:34:56 → 00:1A:79:**:**:**. Anything else is fully hidden.
func MaskMAC(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 17 && (s[2] == ':' || s[2] == '-') {
		return s[:8] + ":**:**:**"
	}
	if s == "" {
		return ""
	}
	return Redacted
}
