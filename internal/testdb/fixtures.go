package testdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// FastHashParams make fixture hashes cheap; they are real argon2id hashes, verified by the same
// code as production ones.
var FastHashParams = credential.Params{MemoryKiB: 64, Time: 1, Threads: 1}

// NewLine creates a line with a unique username, a random password and one connection,
// after mod adjusts the input; it returns the stored line and the clear password.
func NewLine(t testing.TB, st *store.Store, mod func(*store.LineInput)) (store.Line, string) {
	t.Helper()
	n := shared.counter.Add(1)
	password := fmt.Sprintf("pw-%d-%s", n, randHex(4))
	in := store.LineInput{Username: fmt.Sprintf("user%d", n), MaxConnections: 1}
	if mod != nil {
		mod(&in)
	}
	if in.PasswordHash == "" {
		h, err := credential.Hash(password, FastHashParams)
		if err != nil {
			t.Fatal(err)
		}
		in.PasswordHash = h
	}
	ctx := context.Background()
	id, err := st.CreateLine(ctx, in)
	if err != nil {
		t.Fatalf("testdb: create line: %v", err)
	}
	line, err := st.LineByID(ctx, id)
	if err != nil {
		t.Fatalf("testdb: read line: %v", err)
	}
	return line, password
}

// MustExec runs SQL that sets up a test (catalog rows, bouquets ...), failing the test on error.
func MustExec(t testing.TB, st *store.Store, sql string, args ...any) {
	t.Helper()
	if _, err := st.Pool().Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("testdb: %s: %v", sql, err)
	}
}

// AgeLeases moves the expiry of a line's leases into the past, as if their instance had
// crashed and stopped renewing them.
func AgeLeases(t testing.TB, st *store.Store, lineID int64) {
	t.Helper()
	MustExec(t, st, `UPDATE connection_leases SET expires_at = started_at + interval '1 microsecond' WHERE line_id = $1`, lineID)
}

// EPGVersion reads the EPG's change version (tests prove that a no-op import leaves it alone).
func EPGVersion(t testing.TB, st *store.Store) int64 {
	t.Helper()
	var v int64
	if err := st.Pool().QueryRow(context.Background(), `SELECT version FROM change_versions WHERE scope = 'epg'`).Scan(&v); err != nil {
		t.Fatalf("testdb: epg version: %v", err)
	}
	return v
}

// Go runs fn on its own goroutine until the test ends; then it cancels fn's context, waits
// for fn to return, and fails the test if fn returned an error. It is for the Run(ctx) loops
// of the domain (STYLE C18: every goroutine has an owner).
func Go(t testing.TB, fn func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("testdb: Run = %v", err)
		}
	})
}

// Listen runs l until the test ends and returns once its LISTEN is in place, so a change
// committed after Listen returns reaches l's subscribers.
func Listen(t testing.TB, l *store.Listener) {
	t.Helper()
	Go(t, l.Run)
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("testdb: listener not ready within 10s")
	}
}
