package pgserver

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tempDir returns a directory the cluster's user can enter even when tests run as root (the
// cluster then runs as postgres, and t.TempDir's parents are private).
func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "pgserver-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStart_ReuseAndRefuseSecondServer(t *testing.T) {
	t.Parallel()
	if _, err := FindBinDir(""); err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(tempDir(t), "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second server on the same cluster is refused with a clear error.
	if _, err := Start(ctx, Options{Dir: dir, Ephemeral: true}); err == nil || !strings.Contains(err.Error(), "already run by postgres pid") {
		t.Fatalf("second Start = %v, want a clear refusal", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("postmaster.pid left after Stop: %v", err)
	}
	// The next start reuses the cluster (no initdb: PG_VERSION keeps its timestamp).
	before, _ := os.Stat(filepath.Join(dir, "PG_VERSION"))
	s2, err := Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	after, _ := os.Stat(filepath.Join(dir, "PG_VERSION"))
	if !before.ModTime().Equal(after.ModTime()) {
		t.Fatal("restart initialised the cluster again")
	}
	if !strings.Contains(s2.DSN("x"), "dbname=x") || !strings.Contains(s2.DSN("x"), "host=/") {
		t.Fatalf("DSN = %q, want a unix-socket DSN", s2.DSN("x"))
	}
	if err := s2.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStart_MissingBinariesIsClear(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Options{Dir: filepath.Join(tempDir(t), "pg"), BinDir: "/nonexistent/bin"})
	if err == nil || !strings.Contains(err.Error(), "initdb") {
		t.Fatalf("Start with no binaries = %v, want an error naming initdb", err)
	}
}

func TestLastLines(t *testing.T) {
	t.Parallel()
	if got := lastLines("a\n\nb\nc\n", 2); got != "b | c" {
		t.Fatalf("lastLines = %q", got)
	}
}
