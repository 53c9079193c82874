package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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

// TestCoalescingConn_ReadFrom: a copy into a wrapped connection, from a file limited to part
// of it (how a movie's body is sent) and from a plain reader, arrives whole, in order, and no
// more than asked; a connection that has no ReadFrom of its own (net.Pipe) gets the same bytes.
func TestCoalescingConn_ReadFrom(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>9)
	}
	path := filepath.Join(t.TempDir(), "movie.ts")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pair := func(t *testing.T, tcp bool) (server io.ReaderFrom, client net.Conn) {
		t.Helper()
		if !tcp {
			a, b := net.Pipe()
			t.Cleanup(func() { a.Close(); b.Close() })
			return &coalescingConn{Conn: a, slack: time.Second}, b
		}
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := CoalesceReadDeadlines(raw, time.Second)
		t.Cleanup(func() { ln.Close() })
		client, err = net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { client.Close() })
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(io.ReaderFrom), client
	}
	for _, tcp := range []bool{true, false} {
		for _, fromFile := range []bool{true, false} {
			t.Run(fmt.Sprintf("tcp=%v file=%v", tcp, fromFile), func(t *testing.T) {
				t.Parallel()
				server, client := pair(t, tcp)
				const start, n = 1000, 2 << 20 // a range in the middle
				var src io.Reader = bytes.NewReader(data[start:])
				if fromFile {
					f, err := os.Open(path)
					if err != nil {
						t.Fatal(err)
					}
					defer f.Close()
					if _, err := f.Seek(start, io.SeekStart); err != nil {
						t.Fatal(err)
					}
					src = f
				}
				lr := &io.LimitedReader{R: src, N: n}
				got := make(chan []byte, 1)
				go func() {
					b, _ := io.ReadAll(io.LimitReader(client, n+1))
					got <- b
				}()
				sent, err := server.ReadFrom(lr)
				if err != nil || sent != n || lr.N != 0 {
					t.Fatalf("ReadFrom = %d, %v (%d left), want %d", sent, err, lr.N, n)
				}
				client.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // ends ReadAll after the last byte
				if b := <-got; !bytes.Equal(b, data[start:start+n]) {
					t.Fatalf("the client got %d bytes, not the %d of the range", len(b), n)
				}
			})
		}
	}
}
