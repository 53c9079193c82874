package epg

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// FuzzEscapeFree: whatever escapeFree lets through as it is, xml.EscapeText (the writer's slow
// path) would have written unchanged too, so the fast path changes no byte of an export.
func FuzzEscapeFree(f *testing.F) {
	for _, s := range []string{"", "News One", "Café Übersicht", "Sports \"Max\" & More <HD>", "it's", "a\tb", "a\nb",
		"\r", "\x7f", "\x00", "\xff", "\xef\xbf\xbe", "\xef\xbf\xbf", "\xef\xbf\xbd", "😀 emoji", "\xed\xa0\x80", "日本語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !escapeFree(s) {
			return
		}
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(s))
		if b.String() != s {
			t.Fatalf("escapeFree(%q) is true, but EscapeText writes %q", s, b.String())
		}
	})
}

// TestEscapeFree_RefusesWhatEscapeTextChanges: each kind of character EscapeText rewrites takes
// the slow path.
func TestEscapeFree_RefusesWhatEscapeTextChanges(t *testing.T) {
	for _, s := range []string{`"`, "'", "&", "<", ">", "\t", "\n", "\r", "\x01", "\xff", "\xef\xbf\xbe", "\xef\xbf\xbf"} {
		if escapeFree("ok " + s) {
			t.Errorf("escapeFree(%q) = true", "ok "+s)
		}
	}
	if !escapeFree("Café Übersicht 😀 \x7f") {
		t.Error("escapeFree refuses text EscapeText keeps")
	}
}
