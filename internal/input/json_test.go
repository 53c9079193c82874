package input

import (
	"encoding/json"
	"maps"
	"slices"
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

func TestDuplicateName(t *testing.T) {
	for raw, want := range map[string]string{
		`{"a":1,"a":2}`:                          "a",
		`{"a":1,"b":{"c":1,"c":2}}`:              "b.c",
		`{"cast":[{"n":1},{"n":1,"n":2}]}`:       "cast[1].n",
		`[{"x":[1,{"y":1,"y":1}]}]`:              "[0].x[1].y",
		`{"a":{"a":1},"b":[{"a":1}],"c":"a"}`:    "", // the same name in other objects
		`{"a":"b","b":"a"}`:                      "",
		`{"\u0061":1,"a":2}`:                     "a", // the same name, escaped
		`{}`:                                     "",
		`"a"`:                                    "",
		`{"a":[],"b":{},"c":[[]],"d":null}`:      "",
		`{"a":1,"a":2`:                           "a", // reported before the end: not for invalid JSON's sake
		`{"k":{"x":1},"k2":{"x":1},"k":{"x":1}}`: "k",
	} {
		got, dup := DuplicateName([]byte(raw))
		if got != want || dup != (want != "") {
			t.Errorf("DuplicateName(%s) = %q, %v, want %q", raw, got, dup, want)
		}
	}
}

// FuzzDuplicateName: any input is read without a panic; a document re-encoded from a decode
// (maps: every name once) has no duplicate; and the same with its first member given again in
// front is reported with that member's name.
func FuzzDuplicateName(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":1}}`, `[{"x":1,"x":1}]`, `{"\u0061":1,"a":2}`, `{}`, `{"k":[{"k":1}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		DuplicateName([]byte(raw))
		var v any
		if json.Unmarshal([]byte(raw), &v) != nil {
			return
		}
		clean, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if path, dup := DuplicateName(clean); dup {
			t.Fatalf("DuplicateName(%s) = %q, but a map gives each name once", clean, path)
		}
		obj, ok := v.(map[string]any)
		if !ok || len(obj) == 0 {
			return
		}
		first := slices.Min(slices.Collect(maps.Keys(obj))) // what encoding/json writes first
		member, err := json.Marshal(map[string]any{first: obj[first]})
		if err != nil {
			t.Fatal(err)
		}
		twice := append(member[:len(member)-1:len(member)-1], ',')
		twice = append(twice, clean[1:]...)
		if path, dup := DuplicateName(twice); !dup || path != first {
			t.Fatalf("DuplicateName(%s) = %q, %v, want %q", twice, path, dup, first)
		}
	})
}
