package logx

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// blockingSink holds every write until release is closed, like a stalled terminal or pipe.
type blockingSink struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
	writes  int
}

func (s *blockingSink) Write(p []byte) (int, error) {
	<-s.release
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.buf.Write(p)
}

func (s *blockingSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// TestWriter_FlushAndCloseLoseNothing: every accepted line reaches the sink by Close, in
// order, in fewer writes than lines; writes after Close go straight through.
func TestWriter_FlushAndCloseLoseNothing(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{release: make(chan struct{})}
	w := NewWriter(sink, 1<<20)
	var want strings.Builder
	for i := range 1000 {
		line := fmt.Sprintf("line %d\n", i)
		want.WriteString(line)
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	close(sink.release) // the sink was stalled all along: Write never waited for it
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.String() != want.String() {
		t.Fatalf("sink got %d bytes, want %d (lines lost or reordered)", len(sink.String()), want.Len())
	}
	if sink.writes >= 1000 || w.Dropped() != 0 {
		t.Errorf("%d sink writes for 1000 lines, %d dropped: want batching and no drops", sink.writes, w.Dropped())
	}
	_, _ = w.Write([]byte("after close\n"))
	if !strings.HasSuffix(sink.String(), "after close\n") {
		t.Error("a write after Close did not reach the sink")
	}
}

// TestWriter_BoundedWhenSinkStalls: with the sink stalled, pending bytes stop at the limit
// and the lines beyond it are counted as dropped; Flush then delivers what was accepted.
func TestWriter_BoundedWhenSinkStalls(t *testing.T) {
	t.Parallel()
	sink := &blockingSink{release: make(chan struct{})}
	const limit = 4096
	w := NewWriter(sink, limit)
	line := []byte(strings.Repeat("x", 99) + "\n") // 100 bytes
	for range 200 {
		_, _ = w.Write(line)
	}
	// At most the limit waits pending, plus the one batch the loop may have taken already.
	if d := w.Dropped(); d < 200-2*limit/100 || d > 200-limit/100 {
		t.Errorf("dropped %d of 200 lines, want between %d and %d", d, 200-2*limit/100, 200-limit/100)
	}
	close(sink.release)
	w.Flush()
	if got := uint64(len(sink.String()) / 100); got+w.Dropped() != 200 {
		t.Errorf("delivered %d + dropped %d lines, want 200", got, w.Dropped())
	}
	_ = w.Close()
}
