package edge

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"testing"
)

// TestGzipAnswers_Bounds: an answer is compressed once and kept; past maxGzipAnswers answers,
// or maxGzipAnswerBytes of them, a new one is not (nil: it goes as it is), while the kept ones
// still are; another key finds nothing.
func TestGzipAnswers_Bounds(t *testing.T) {
	t.Parallel()
	type key struct {
		s string
		n int
	}
	g := newGzipAnswers[key]()
	plain := bytes.Repeat([]byte(`{"stream_id":1,"name":"Channel"},`), 1000)
	first := g.get(key{"1", 0}, plain)
	zr, err := gzip.NewReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("the kept answer decodes to %d bytes (%v), want %d", len(got), err, len(plain))
	}
	if again := g.kept(key{"1", 0}); &again[0] != &first[0] {
		t.Error("kept did not return the kept answer")
	}
	for _, k := range []key{{"1", 1}, {"2", 0}, {"", 0}} {
		if g.kept(k) != nil {
			t.Errorf("%+v finds the answer of another key", k)
		}
	}
	for i := len(g.answers); i < maxGzipAnswers; i++ {
		if g.get(key{strconv.Itoa(i + 100), i}, plain[:100]) == nil {
			t.Fatalf("answer %d of %d was not kept", i+1, maxGzipAnswers)
		}
	}
	if g.get(key{"one too many", 0}, plain) != nil {
		t.Error("an answer past maxGzipAnswers was kept")
	}
	if g.kept(key{"1", 0}) == nil {
		t.Error("the first answer is gone")
	}

	g = newGzipAnswers[key]()
	g.bytes = maxGzipAnswerBytes
	if g.get(key{"1", 0}, plain) != nil {
		t.Error("an answer past maxGzipAnswerBytes was kept")
	}
}
