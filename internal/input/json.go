package input

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf16"
)

// LoneSurrogate reports whether JSON text (a string, or a whole document: a backslash only
// ever stands in a string) escapes half a UTF-16 surrogate pair ("\ud800" alone): valid JSON,
// but no Unicode text, which Go's decoding silently turns into U+FFFD, so a value stored would
// not be the one sent.
func LoneSurrogate(raw []byte) bool {
	hex := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex(i)
		switch {
		case !ok:
			i++ // another escape: skip its character (it may be a backslash)
		case utf16.IsSurrogate(r) && r < 0xdc00:
			if low, ok := hex(i + 6); !ok || low < 0xdc00 || low > 0xdfff {
				return true
			}
			i += 11
		case utf16.IsSurrogate(r):
			return true
		default:
			i += 5
		}
	}
	return false
}

// DuplicateName reports the first member name that an object of the JSON document raw gives
// twice, as its path ("info.cast[0].name"). Go's decoding keeps the last of the two, while a
// proxy, a log or an audit reader may take the first: RFC 8259 leaves it open and I-JSON
// (RFC 7493) forbids it, so a body that says two things is refused rather than guessed at.
// raw must be valid JSON (json.Valid); a document that is not reports nothing.
func DuplicateName(raw []byte) (path string, dup bool) {
	type frame struct {
		path  string
		names map[string]bool // nil for an array
		last  string          // the object's current member
		index int             // the array's current item
		name  bool            // the object's next token is a member name
	}
	var stack []*frame
	done := func() { // a value of the innermost container is complete
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.names != nil {
			f.name = true
		} else {
			f.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // the end (io.EOF), or not JSON
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if s, ok := tok.(string); ok && top != nil && top.name {
			if top.names[s] {
				return joinPath(top.path, s), true
			}
			top.names[s], top.last, top.name = true, s, false
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			done()
			continue
		}
		at := ""
		switch {
		case top == nil:
		case top.names != nil:
			at = joinPath(top.path, top.last)
		default:
			at = top.path + "[" + strconv.Itoa(top.index) + "]"
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{path: at, names: map[string]bool{}, name: true})
		case json.Delim('['):
			stack = append(stack, &frame{path: at})
		default:
			done()
		}
	}
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
