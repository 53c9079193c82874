package testkit

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// Server is what Serve runs: app/server.Server, or anything serving a listener until its
// context ends.
type Server interface {
	Serve(ctx context.Context, ln net.Listener) error
}

// Serve runs srv on ln until the test ends, and returns the function that stops it: it cancels
// Serve's context and returns Serve's error, or an error when Serve has not returned within
// limit. Stop may be called more than once (it stops once); the test's cleanup calls it too
// and fails the test on its error.
func Serve(t testing.TB, srv Server, ln net.Listener, limit time.Duration) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-done:
			case <-time.After(limit):
				serveErr = errors.New("Serve did not return")
			}
		})
		return serveErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return stop
}
