// Package source holds the rules for stream sources, which are data from outside: a provider's
// playlist, an operator's import, the admin API. Check is the one validation every source URL
// and catch-up template passes before it is stored (the M3U importer, the demo loader and any
// catalog write call it), and Files is the one rule for which local files a viewer may be
// served: only from the operator's media directories, never from the data directory, with
// symbolic links resolved when the file is opened.
//
// A source is an http(s) URL (a live TS or HLS pull, a movie, a catch-up recording), a
// file:// URL or an absolute path (a local file: a looped live channel, a movie, a recording).
// Nothing else is read by the relay or the VOD proxy, so nothing else is stored.
//
// It is a leaf: it imports no internal package.
package source

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxURLBytes bounds a source URL or catch-up template.
const MaxURLBytes = 4096

// ErrInvalid is wrapped by every refusal of Check ("refused: unsupported scheme …"); the
// message after it says why, and never repeats the URL (which may carry credentials).
var ErrInvalid = errors.New("refused")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Check reports whether raw is a source xtreamd can serve: at most MaxURLBytes of valid UTF-8
// without control characters or surrounding space, and either an http(s) URL with a host, or
// a local file: file:///abs/path, file://localhost/abs/path or /abs/path, absolute and clean
// (no "..", "." or "//" segments, no query). A catch-up template passes the same check with
// its {placeholders} in place; the expanded URL is checked again when it is used. Where a
// local file may be served from is Files' decision, at open time.
func Check(raw string) error {
	if raw == "" {
		return invalid("empty")
	}
	if len(raw) > MaxURLBytes {
		return invalid("longer than %d bytes", MaxURLBytes)
	}
	if err := checkText(raw); err != nil {
		return err
	}
	if strings.HasPrefix(raw, "/") {
		return checkPath(raw)
	}
	if strings.ContainsRune(raw, ' ') {
		return invalid("space inside the URL (percent-encode it)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return invalid("not a URL")
	}
	if u.Scheme != "" && !strings.HasPrefix(raw, u.Scheme+":") {
		// url.Parse lowers it, but the catalog stores the URL as sent, and the schema (like
		// the relay's source kinds) reads only the lower-case schemes.
		return invalid("scheme not in lower case")
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" || u.Hostname() == "" {
			return invalid("%s URL without a host", u.Scheme)
		}
		return nil
	case "file":
		return checkFileURL(u)
	case "":
		return invalid("not an absolute URL")
	}
	return invalid("unsupported scheme %s (want http, https, file or an absolute path)", quoted(strings.ToLower(u.Scheme), 16))
}

// checkText refuses what no source URL or path may hold: invalid UTF-8, control characters,
// leading or trailing space.
func checkText(s string) error {
	if !utf8.ValidString(s) {
		return invalid("not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return invalid("control character %U", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return invalid("leading or trailing space")
	}
	return nil
}

func checkFileURL(u *url.URL) error {
	if u.Host != "" && !strings.EqualFold(u.Host, "localhost") {
		return invalid("file URL names a host")
	}
	if u.User != nil || u.Opaque != "" {
		return invalid("file URL is not file:///path")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return invalid("file URL with a query or fragment")
	}
	// The path once its escapes are decoded (%01, %FF, a trailing %20) is what is opened: it
	// meets the rules of a path given as it is (FuzzCheck).
	if err := checkText(u.Path); err != nil {
		return err
	}
	return checkPath(u.Path)
}

// checkPath checks a local path: absolute and already clean, because the path is the
// catalog's and a source that needs cleaning is refused rather than guessed at.
func checkPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return invalid("file path not absolute")
	}
	if path.Clean(p) != p {
		return invalid("file path not clean (\"..\", \".\" or \"//\")")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return invalid("NUL in file path")
	}
	return nil
}

// Local returns the path of a local source (file:///abs/path, file://localhost/abs/path or
// /abs/path) when raw is one that Check accepts; ok is false for anything else.
func Local(raw string) (p string, ok bool) {
	if strings.HasPrefix(raw, "/") {
		if Check(raw) != nil {
			return "", false
		}
		return raw, true
	}
	if len(raw) < 5 || !strings.EqualFold(raw[:5], "file:") || Check(raw) != nil {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	return u.Path, true
}

// IsHTTP reports whether raw is an http(s) source that Check accepts.
func IsHTTP(raw string) bool {
	if Check(raw) != nil {
		return false
	}
	i := strings.IndexByte(raw, ':')
	scheme := strings.ToLower(raw[:max(i, 0)])
	return scheme == "http" || scheme == "https"
}

// Redact returns raw as it may appear in a log line or an import summary: for a URL with a
// host only its scheme and host ("http://provider.example:8080/…"), because provider URLs
// carry credentials in their userinfo, path (/live/user/pass/1.ts) or query (?token=); a
// local path as it is (cut at 120 bytes). Anything unparseable is shown as a quoted prefix.
func Redact(raw string) string {
	if strings.HasPrefix(raw, "/") {
		return quoted(raw, 120)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return quoted(raw, 16)
	case strings.EqualFold(u.Scheme, "file"):
		return quoted(u.Path, 120)
	case u.Host != "":
		return strings.ToLower(u.Scheme) + "://" + u.Host + "/…"
	}
	return quoted(raw, 16)
}

// quoted cuts s at n bytes (on a rune boundary) and quotes it, so control characters show
// escaped.
func quoted(s string, n int) string {
	if len(s) > n {
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		return fmt.Sprintf("%q…", s[:n])
	}
	return fmt.Sprintf("%q", s)
}
