package edge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/clock"
)

// TestReadTimeouts_CoalescesDeadlines: an explicit read deadline moved later by less than
// the slack keeps the earlier one (the read times out by then, never after what was asked);
// an earlier deadline, a much later one and clearing it take effect; NetConn is the TCP
// connection itself.
func TestReadTimeouts_CoalescesDeadlines(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := ReadTimeouts(raw, time.Hour, time.Second, time.Now)
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
	// A request's first byte: from here on reads are the request's, and the connection sets
	// no deadline of its own until it writes.
	if _, err := client.Write([]byte("G")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
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

// BenchmarkRequestDeadlines: what one keep-alive request's read deadlines cost. "fasthttp"
// is fasthttp's own timeouts on a plain connection (two deadlines from time.Now, each
// re-arming the poller); "coalesced" the same through ReadTimeouts' explicit SetReadDeadline;
// "ReadTimeouts" what its connections do instead (the wait's and the request's deadline from
// the coarse clock, both skipped within the slack).
func BenchmarkRequestDeadlines(b *testing.B) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	coarse := clock.New()
	for _, tt := range []struct {
		name string
		ln   net.Listener
		own  bool
	}{
		{"fasthttp", raw, false},
		{"coalesced", ReadTimeouts(raw, 30*time.Second, time.Second, coarse.Now), false},
		{"ReadTimeouts", ReadTimeouts(raw, 30*time.Second, time.Second, coarse.Now), true},
	} {
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
			if tt.own {
				tc := c.(*timeoutConn)
				for b.Loop() {
					_ = tc.extend()
					_ = tc.extend()
				}
				return
			}
			for b.Loop() {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			}
		})
	}
}

// TestReadTimeouts_Server: a Fiber app with fasthttp's timeouts off, served through
// ReadTimeouts, times its connections out as fasthttp's ReadTimeout and IdleTimeout would:
// an idle keep-alive connection is closed, a request whose bytes trickle in is cut a timeout
// after its first byte, a request that starts late in the idle wait still has the whole
// timeout to arrive, a response streamed for longer than the timeout is not cut (and the
// connection serves the next request), and a hijacked connection's reads are its owner's.
func TestReadTimeouts_Server(t *testing.T) {
	t.Parallel()
	const timeout, slack = 400 * time.Millisecond, 50 * time.Millisecond
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get("/stream", func(c *fiber.Ctx) error {
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := 0; i < 6; i++ { // 6 × 200 ms: three timeouts
				_, _ = w.WriteString("chunk\n")
				_ = w.Flush()
				time.Sleep(200 * time.Millisecond)
			}
		})
		return nil
	})
	app.Get("/hijack", func(c *fiber.Ctx) error {
		c.Context().HijackSetNoResponse(true) // the hijack handler answers
		c.Context().Hijack(func(conn net.Conn) {
			_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"))
			// Reads after more than a timeout: the owner's, with no deadline of the server's.
			b := make([]byte, 1)
			if _, err := conn.Read(b); err == nil {
				_, _ = conn.Write(b)
			}
		})
		return nil
	})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	coarse := clock.New()
	go func() { _ = app.Listener(ReadTimeouts(raw, timeout, slack, coarse.Now)) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	dial := func(t *testing.T) net.Conn {
		t.Helper()
		conn, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // the test's own bound
		return conn
	}
	// closedWithin reads until the server closes the connection and returns how long that
	// took and what it read.
	closedWithin := func(t *testing.T, conn net.Conn, from time.Time) (time.Duration, string) {
		t.Helper()
		b, err := io.ReadAll(conn)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading until the server closes: %v", err)
		}
		return time.Since(from), string(b)
	}
	const request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"

	t.Run("idle keep-alive connection closed", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		if _, err := conn.Write([]byte(request)); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		idle := time.Now()
		took, rest := closedWithin(t, conn, idle)
		if took < timeout-slack-100*time.Millisecond || took > timeout+time.Second || rest != "" {
			t.Fatalf("idle connection closed after %v with %q, want after about %v with nothing", took, rest, timeout)
		}
	})

	t.Run("trickling request cut", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		first := time.Now()
		go func() { // one byte each 50 ms: a complete request would take 1.5 s
			for i := 0; i < len(request); i++ {
				if _, err := conn.Write([]byte{request[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		took, got := closedWithin(t, conn, first)
		if took > timeout+time.Second || strings.Contains(got, "200 OK") {
			t.Fatalf("a request trickling in was answered %q after %v, want cut about %v after its first byte", got, took, timeout)
		}
	})

	t.Run("late request has the whole timeout", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		r := bufio.NewReader(conn)
		for i := 0; i < 2; i++ { // the first on a new connection, the second after a response
			time.Sleep(timeout * 3 / 4)            // most of the wait for a request
			for j := 0; j < len(request); j += 4 { // then 250 ms to send it: past the wait's timeout
				_, _ = conn.Write([]byte(request[j:min(j+4, len(request))]))
				time.Sleep(timeout / 16)
			}
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("request %d, sent late and slowly but within a timeout of its first byte: %v", i+1, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
		}
	})

	t.Run("long streamed response not cut", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		if _, err := conn.Write([]byte("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || strings.Count(string(body), "chunk") != 6 {
			t.Fatalf("streamed body %q, %v: want 6 chunks over 1.2 s", body, err)
		}
		if _, err := conn.Write([]byte(request)); err != nil {
			t.Fatal(err)
		}
		if resp, err := http.ReadResponse(r, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("the request after the stream: %v", err)
		}
	})

	t.Run("hijacked connection's reads are its owner's", func(t *testing.T) {
		t.Parallel()
		conn := dial(t)
		if _, err := conn.Write([]byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("hijacked answer %q, %v", line, err)
		}
		time.Sleep(2 * timeout)
		if _, err := conn.Write([]byte("e")); err != nil {
			t.Fatal(err)
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("the echo of a byte sent after 2 timeouts: %v (read %q)", err, line)
			}
			if line == "\r\n" {
				break
			}
		}
		if b, err := r.ReadByte(); err != nil || b != 'e' {
			t.Fatalf("echo %q, %v: the hijacked connection's read timed out", b, err)
		}
	})
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
			return &timeoutConn{Conn: a, l: &timeoutListener{timeout: time.Hour, slack: time.Second, now: time.Now}}, b
		}
		raw, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln := ReadTimeouts(raw, time.Hour, time.Second, time.Now)
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
