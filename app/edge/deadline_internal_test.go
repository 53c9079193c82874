package edge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// TestDeadlineContext: the lazily armed deadline behaves as context.WithDeadline does —
// armed (something waits on Done) or not, before and after its deadline, when the handler
// ends it, and under a cancelled parent — and a derived context follows it.
func TestDeadlineContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	for _, tt := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"unarmed, running", func(t *testing.T) {
			c := newDeadlineContext(parent, time.Now().Add(time.Hour))
			if dl, ok := c.Deadline(); !ok || time.Until(dl) <= 0 {
				t.Errorf("Deadline %v %v, want an hour ahead", dl, ok)
			}
			if err := c.Err(); err != nil {
				t.Errorf("Err %v, want nil", err)
			}
			if c.Value(key{}) != "v" {
				t.Error("parent's value lost")
			}
			if c.inner.Load() != nil {
				t.Error("armed without a Done")
			}
			c.end()
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("after end: Err %v, want Canceled", c.Err())
			}
			assertDone(t, c.Done())
		}},
		{"unarmed, past its deadline", func(t *testing.T) {
			c := newDeadlineContext(parent, time.Now().Add(-time.Millisecond))
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				t.Errorf("Err %v, want DeadlineExceeded", c.Err())
			}
			assertDone(t, c.Done())
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				t.Errorf("armed: Err %v, want DeadlineExceeded", c.Err())
			}
			c.end()
			if !errors.Is(c.Err(), context.DeadlineExceeded) {
				t.Errorf("after end: Err %v, want DeadlineExceeded (it came first)", c.Err())
			}
		}},
		{"armed, the timer fires", func(t *testing.T) {
			c := newDeadlineContext(parent, time.Now().Add(20*time.Millisecond))
			defer c.end()
			child, cancel := context.WithCancel(c)
			defer cancel()
			select {
			case <-child.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("the deadline never fired")
			}
			if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(child.Err(), context.DeadlineExceeded) {
				t.Errorf("Err %v / child %v, want DeadlineExceeded", c.Err(), child.Err())
			}
			if !errors.Is(context.Cause(child), context.DeadlineExceeded) {
				t.Errorf("Cause %v, want DeadlineExceeded", context.Cause(child))
			}
		}},
		{"armed, ended by the handler", func(t *testing.T) {
			c := newDeadlineContext(parent, time.Now().Add(time.Hour))
			done := c.Done()
			c.end()
			assertDone(t, done)
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("Err %v, want Canceled", c.Err())
			}
		}},
		{"the parent's earlier deadline and cancellation", func(t *testing.T) {
			p, cancel := context.WithTimeout(parent, time.Minute)
			c := newDeadlineContext(p, time.Now().Add(time.Hour))
			defer c.end()
			if dl, _ := c.Deadline(); time.Until(dl) > time.Minute {
				t.Errorf("Deadline in %v, want the parent's minute", time.Until(dl))
			}
			cancel()
			if !errors.Is(c.Err(), context.Canceled) {
				t.Errorf("Err %v, want the parent's Canceled", c.Err())
			}
			assertDone(t, c.Done())
		}},
		{"waited on while it ends", func(t *testing.T) {
			c := newDeadlineContext(parent, time.Now().Add(time.Hour))
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_ = c.Err()
					<-c.Done() // closes at end whether this armed the timer or not
					if c.Err() == nil {
						t.Error("done without an error")
					}
				}()
			}
			c.end()
			wg.Wait()
		}},
	} {
		t.Run(tt.name, tt.run)
	}
}

func assertDone(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Done never closed")
	}
}
