package edge

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// TestCoalesceReadDeadlines: a read deadline moved later by less than the slack keeps the
// earlier one (the read times out by then, never after what was asked); an earlier deadline,
// a much later one and clearing it take effect; NetConn is the TCP connection itself.
func TestCoalesceReadDeadlines(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := CoalesceReadDeadlines(raw, time.Second)
	defer ln.Close()
	client, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(interface{ NetConn() net.Conn }).NetConn().(*net.TCPConn); !ok {
		t.Fatal("NetConn is not the accepted *net.TCPConn")
	}
	readTimesOut := func(within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		_, err := c.Read(make([]byte, 1))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read: %v, want a deadline error", err)
		}
		took := time.Since(start)
		if took > within {
			t.Fatalf("the read timed out after %v, want within %v", took, within)
		}
		return took
	}

	// 150 ms, then 150 ms + 500 ms (inside the slack): the first stands.
	now := time.Now()
	_ = c.SetReadDeadline(now.Add(150 * time.Millisecond))
	_ = c.SetReadDeadline(now.Add(650 * time.Millisecond))
	readTimesOut(500 * time.Millisecond)

	// Earlier than the deadline in force: applied.
	now = time.Now()
	_ = c.SetReadDeadline(now.Add(10 * time.Second))
	_ = c.SetReadDeadline(now.Add(100 * time.Millisecond))
	readTimesOut(2 * time.Second)

	// Later by more than the slack: applied (the read waits for the data, which comes).
	now = time.Now()
	_ = c.SetReadDeadline(now.Add(50 * time.Millisecond))
	_ = c.SetReadDeadline(now.Add(5 * time.Second))
	go func() {
		time.Sleep(300 * time.Millisecond) // later than the skipped-over 50 ms deadline
		_, _ = client.Write([]byte("x"))
	}()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("Read after a deadline moved 5 s later: %v", err)
	}

	// Cleared: no deadline, whatever was in force.
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_ = c.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = client.Write([]byte("y"))
	}()
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("Read after the deadline was cleared: %v", err)
	}
}

// BenchmarkSetReadDeadline: what fasthttp pays per keep-alive request for its two read
// deadlines, on a plain connection and through CoalesceReadDeadlines.
func BenchmarkSetReadDeadline(b *testing.B) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		ln   net.Listener
	}{{"plain", raw}, {"coalesced", CoalesceReadDeadlines(raw, time.Second)}} {
		b.Run(tt.name, func(b *testing.B) {
			client, err := net.Dial("tcp", raw.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			c, err := tt.ln.Accept()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for b.Loop() {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			}
		})
	}
	raw.Close()
}
