package testkit

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestBufferConcurrentWriters(t *testing.T) {
	t.Parallel()
	var b Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = b.Write([]byte("x"))
			}
		}()
	}
	wg.Wait()
	if n := len(b.String()); n != 800 {
		t.Fatalf("len(String()) = %d, want 800", n)
	}
}

func TestClockAdvance(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	c := NewClock(start)
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(start.Add(90 * time.Second)) {
		t.Fatalf("Now() = %v, want %v", got, start.Add(90*time.Second))
	}
}

// TestServeAndPacedOrigin: a server Serve runs answers on its base URL, and its context ends
// at cleanup; the paced origin announces its whole size and sends it in chunks.
func TestServeAndPacedOrigin(t *testing.T) {
	t.Parallel()
	origin := PacedOrigin(t, 3*32<<10, time.Millisecond)
	stopped := make(chan struct{})
	t.Run("serve", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		Serve(t, serveFunc(func(ctx context.Context, ln net.Listener) error {
			defer close(stopped)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, origin.URL, http.StatusFound)
			})}
			go func() { <-ctx.Done(); _ = srv.Close() }()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}), ln, 5*time.Second)
		base := "http://" + ln.Addr().String()
		resp, err := http.Get(base + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != 3*32<<10 || resp.ContentLength != n || resp.Header.Get("Content-Type") != "video/mp4" {
			t.Fatalf("read %d bytes (%v), Content-Length %d, type %q", n, err, resp.ContentLength, resp.Header.Get("Content-Type"))
		}
	})
	select {
	case <-stopped:
	default:
		t.Fatal("the served function was still running after its test's cleanup")
	}
}

// serveFunc is a Server made of a function.
type serveFunc func(ctx context.Context, ln net.Listener) error

func (f serveFunc) Serve(ctx context.Context, ln net.Listener) error { return f(ctx, ln) }
