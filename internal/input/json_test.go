package input

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLoneSurrogate(t *testing.T) {
	for raw, want := range map[string]bool{
		`"\ud800"`:               true,
		`"a\udc00b"`:             true,
		`"\ud800\ud800"`:         true,
		`"\ud800\u0041"`:         true,
		`"\ud800x"`:              true,
		`{"k\udfff":1}`:          true,
		`"\ud83d\ude00"`:         false, // a pair: 😀
		`"\\ud800"`:              false, // an escaped backslash, then text
		`"\\\ud800"`:             true,
		`"\u0041\n\"\/"`:         false,
		`"😀 \u00e9"`:             false,
		`{"a":["\ud83d\ude00"]}`: false,
		`"\u12"`:                 false, // not JSON; not this function's to say
		`"\`:                     false,
	} {
		if got := LoneSurrogate([]byte(raw)); got != want {
			t.Errorf("LoneSurrogate(%s) = %v, want %v", raw, got, want)
		}
	}
}

// FuzzLoneSurrogate: on valid UTF-8 JSON (callers refuse invalid UTF-8 first) the scan agrees with a decode and re-encode: a document with
// no lone surrogate decodes to text that is valid UTF-8 and holds U+FFFD only where the document
// wrote one.
func FuzzLoneSurrogate(f *testing.F) {
	for _, s := range []string{`"\ud800"`, `"\ud83d\ude00"`, `"\\ud800"`, `{"\udc00":1}`, `"\ufffd"`, `"x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var v any
		if !utf8.ValidString(raw) || json.Unmarshal([]byte(raw), &v) != nil {
			return
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		replaced := strings.Count(string(again), "\ufffd") > strings.Count(raw, "\ufffd")+strings.Count(strings.ToLower(raw), `\ufffd`)
		if lone := LoneSurrogate([]byte(raw)); lone != replaced {
			t.Fatalf("LoneSurrogate(%q) = %v, but decoding replaced a character: %v (%q)", raw, lone, replaced, again)
		}
	})
}
