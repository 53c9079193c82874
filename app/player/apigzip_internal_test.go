package player

import (
	"bytes"
	"compress/gzip"
	"io"
	"strconv"
	"testing"
)

// TestGzipAnswers_Bounds: an answer is compressed once and kept; past maxGzipAnswers
// answers, or maxGzipAnswerBytes of them, a new one is not (nil: it goes as it is), while the
// kept ones still are; a key differs by every field.
func TestGzipAnswers_Bounds(t *testing.T) {
	t.Parallel()
	g := &gzipAnswers{answers: map[gzipKey]*atomicAnswer{}}
	plain := bytes.Repeat([]byte(`{"stream_id":1,"name":"Channel"},`), 1000)
	first := g.get(gzipKey{bouquets: "1", action: actLiveStreams}, plain)
	zr, err := gzip.NewReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("the kept answer decodes to %d bytes (%v), want %d", len(got), err, len(plain))
	}
	if again := g.kept(gzipKey{bouquets: "1", action: actLiveStreams}); &again[0] != &first[0] {
		t.Error("kept did not return the kept answer")
	}
	for _, k := range []gzipKey{
		{bouquets: "1,2", action: actLiveStreams}, {bouquets: "1", action: actVODStreams},
		{bouquets: "1", action: actLiveStreams, category: 3}, {bouquets: "1", action: actLiveStreams, id: 3},
		{bouquets: "1", action: actLiveStreams, offset: 3}, {bouquets: "1", action: actLiveStreams, perPage: 3},
	} {
		if g.kept(k) != nil {
			t.Errorf("%+v finds the answer of another key", k)
		}
	}
	for i := len(g.answers); i < maxGzipAnswers; i++ {
		if g.get(gzipKey{bouquets: strconv.Itoa(i + 100)}, plain[:100]) == nil {
			t.Fatalf("answer %d of %d was not kept", i+1, maxGzipAnswers)
		}
	}
	if g.get(gzipKey{bouquets: "one too many"}, plain) != nil {
		t.Error("an answer past maxGzipAnswers was kept")
	}
	if g.kept(gzipKey{bouquets: "1", action: actLiveStreams}) == nil {
		t.Error("the first answer is gone")
	}

	g = &gzipAnswers{answers: map[gzipKey]*atomicAnswer{}, bytes: maxGzipAnswerBytes}
	if g.get(gzipKey{bouquets: "1"}, plain) != nil {
		t.Error("an answer past maxGzipAnswerBytes was kept")
	}
}

func TestBouquetsKey(t *testing.T) {
	t.Parallel()
	for ids, want := range map[string][]int64{"": nil, "7": {7}, "3,1,7": {3, 1, 7}, "1,3,7": {1, 3, 7}} {
		if got := bouquetsKey(want); got != ids {
			t.Errorf("bouquetsKey(%v) = %q, want %q", want, got, ids)
		}
	}
}
