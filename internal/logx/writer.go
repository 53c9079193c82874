package logx

import (
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxPending bounds what a Writer holds while its sink is busy: at 20,000 requests/s
// of ~250-byte access lines, a quarter of a second of a stalled sink.
const DefaultMaxPending = 1 << 20

// batchDelay is how long the first line of a batch waits for others before the batch is
// written: one write (and one goroutine wake-up) per 5 ms at most instead of one per line,
// and a log that is at most 5 ms behind.
const batchDelay = 5 * time.Millisecond

// Writer puts log lines on a sink without making the logging goroutine wait for it: Write
// copies the line into a pending buffer and returns, and one goroutine writes whatever is
// pending in a single write per batch (batchDelay after the batch's first line, or at once
// when half the limit is pending or Flush asks), so under load many lines cost one syscall
// and one wake-up. Memory
// is bounded: a line that would grow the pending buffer past its limit is dropped and
// counted (Dropped), so a stalled terminal or pipe slows nothing and fills nothing. Flush
// waits until every accepted line reached the sink; Close flushes and stops, after which
// writes go to the sink directly. A regular file as the sink does not fill the page cache
// (cacheDropper).
type Writer struct {
	sink       io.Writer
	maxPending int
	drop       *cacheDropper // nil unless sink is a regular file; the loop's own

	mu      sync.Mutex
	idle    *sync.Cond // signalled after each batch is written
	pending []byte
	spare   []byte // the previous batch's buffer, reused
	writing bool   // a batch is being written
	urgent  bool   // Flush waits: write without delay
	closed  bool
	wake    chan struct{} // capacity 1: "something is pending"
	done    chan struct{} // closed when the loop has ended

	dropped atomic.Uint64
}

// NewWriter starts a Writer over sink holding at most maxPending bytes (DefaultMaxPending
// when ≤ 0). Close it to stop its goroutine.
func NewWriter(sink io.Writer, maxPending int) *Writer {
	if maxPending <= 0 {
		maxPending = DefaultMaxPending
	}
	w := &Writer{sink: sink, maxPending: maxPending, drop: newCacheDropper(sink),
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	w.idle = sync.NewCond(&w.mu)
	go w.loop()
	return w
}

// Write accepts one line (the slog handlers and Line write whole lines). It never fails: a
// line that does not fit is dropped and counted.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.closed {
		defer w.mu.Unlock()
		return w.sink.Write(p)
	}
	if len(w.pending)+len(p) > w.maxPending {
		w.mu.Unlock()
		w.dropped.Add(1)
		return len(p), nil
	}
	first := len(w.pending) == 0
	w.pending = append(w.pending, p...)
	if first || len(w.pending) >= w.maxPending/2 {
		w.signal() // a batch starts, or is due now
	}
	w.mu.Unlock()
	return len(p), nil
}

// signal wakes the loop; under mu, so that Close cannot close wake meanwhile.
func (w *Writer) signal() {
	select {
	case w.wake <- struct{}{}:
	default: // the loop is already due to run
	}
}

// Dropped is the number of lines dropped because the sink could not keep up.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Flush returns once every line accepted before the call has been written to the sink.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for (len(w.pending) > 0 || w.writing) && !w.closed {
		w.urgent = true
		w.signal()
		w.idle.Wait()
	}
}

// Close flushes and stops the writing goroutine. Later writes go to the sink directly.
func (w *Writer) Close() error {
	w.Flush()
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.wake)
	w.mu.Unlock()
	<-w.done
	return nil
}

func (w *Writer) loop() {
	defer close(w.done)
	delay := time.NewTimer(batchDelay)
	delay.Stop()
	for range w.wake {
		w.mu.Lock()
		wait := !w.urgent && len(w.pending) < w.maxPending/2
		w.mu.Unlock()
		if wait { // let the batch fill, unless it is due sooner (a second signal)
			delay.Reset(batchDelay)
			select {
			case <-delay.C:
			case <-w.wake: // Flush, half full, or Close (closed channel)
				delay.Stop()
			}
		}
		w.mu.Lock()
		w.urgent = false
		batch := w.pending
		w.pending, w.spare = w.spare[:0], nil
		w.writing = len(batch) > 0
		w.mu.Unlock()
		if len(batch) > 0 {
			_, _ = w.sink.Write(batch) // nowhere to report a failing log sink but the log
			if w.drop != nil && !w.drop.wrote(len(batch)) {
				w.drop = nil
			}
		}
		w.mu.Lock()
		w.writing = false
		if cap(batch) <= 2*w.maxPending {
			w.spare = batch[:0]
		}
		w.idle.Broadcast()
		w.mu.Unlock()
	}
}
