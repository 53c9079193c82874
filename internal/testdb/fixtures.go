package testdb

import (
	"context"
	"fmt"
	"testing"

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
