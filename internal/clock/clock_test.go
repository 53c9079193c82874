package clock

import (
	"testing"
	"time"
)

// TestCoarse_FollowsTimeNow: readings stay within a few ticks of time.Now while the clock
// runs and advance with it.
func TestCoarse_FollowsTimeNow(t *testing.T) {
	c := New()
	first := c.Now()
	if d := time.Since(first); d < 0 || d > time.Second {
		t.Fatalf("first reading %v away from time.Now", d)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.Now().After(first) {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not advance in 5 s")
		}
		time.Sleep(Tick) // waiting for the clock's own tick: the subject of the test
	}
	// Behind time.Now, never ahead of it, and not by much (a generous bound: the machine is shared).
	for range 100 {
		got, now := c.Now(), time.Now()
		if got.After(now) {
			t.Fatalf("reading %v ahead of time.Now %v", got, now)
		}
		if lag := now.Sub(got); lag > 250*time.Millisecond {
			t.Fatalf("reading %v behind time.Now", lag)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// TestCoarse_StopsWhenIdle: without readers the goroutine ends; the next read starts it again
// and is correct at once.
func TestCoarse_StopsWhenIdle(t *testing.T) {
	c := New()
	c.Now()
	if !c.running.Load() {
		t.Fatal("not running after a read")
	}
	deadline := time.Now().Add(30 * time.Second)
	for c.running.Load() {
		if time.Now().After(deadline) {
			t.Fatal("still running 30 s after the last read")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.cur.Load() != nil {
		t.Fatal("a stopped clock kept a reading")
	}
	before := time.Now()
	if got := c.Now(); got.Before(before) {
		t.Fatalf("the first read after a stop returned %v, before %v", got, before)
	}
	if !c.running.Load() {
		t.Fatal("a read did not start the clock again")
	}
}

func BenchmarkCoarseNow(b *testing.B) {
	c := New()
	c.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = c.Now()
		}
	})
}

func BenchmarkTimeNow(b *testing.B) {
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = time.Now()
		}
	})
}
