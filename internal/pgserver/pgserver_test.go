package pgserver

import (
	"context"
	"errors"
	"fmt"
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

// TestAttach: a second process finds the running cluster by its lock file and connects to it;
// its Stop leaves the cluster running. Nothing running is ErrNotRunning.
func TestAttach(t *testing.T) {
	t.Parallel()
	if _, err := FindBinDir(""); err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(tempDir(t), "pg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := Attach(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Attach before any start = %v, want ErrNotRunning", err)
	}
	s, err := Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop(ctx)
	if _, err := Start(ctx, Options{Dir: dir, Ephemeral: true}); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Start = %v, want ErrRunning", err)
	}
	a, err := Attach(dir)
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if !a.Attached() || a.DSN("postgres") != s.DSN("postgres") {
		t.Fatalf("attached DSN %q, want the server's %q", a.DSN("postgres"), s.DSN("postgres"))
	}
	if err := a.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(dir); err != nil {
		t.Fatalf("the cluster stopped when the attached handle did: %v", err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(dir); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Attach after Stop = %v, want ErrNotRunning", err)
	}
}

// lockFile is a postmaster.pid of pid for dataDir, listening on socketDir, in status.
func lockFile(pid int, dataDir, socketDir, status string) []byte {
	return []byte(fmt.Sprintf("%d\n%s\n0\n5432\n%s\n\n0 0\n%s\n", pid, dataDir, socketDir, status))
}

// TestAttach_Refusals: a lock file of a live postmaster that xtreamd cannot use is refused
// with a message that says why; a stale one is ErrNotRunning.
func TestAttach_Refusals(t *testing.T) {
	t.Parallel()
	alive := func(int) bool { return true }
	for _, tt := range []struct {
		name                       string
		dataDir, socketDir, status string // "." is the test's own directory
		want                       string
	}{
		{"other data dir", "/somewhere/else", ".", "ready", "not a cluster xtreamd runs"},
		{"starting", ".", ".", "starting", "not ready"},
		{"no socket", ".", "", "ready", "no unix socket"},
		{"socket not answering", ".", ".", "ready", "does not answer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tempDir(t)
			here := func(s string) string {
				if s == "." {
					return dir
				}
				return s
			}
			if err := os.WriteFile(filepath.Join(dir, "postmaster.pid"),
				lockFile(4242, here(tt.dataDir), here(tt.socketDir), tt.status), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := attach(dir, alive); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("attach = %v, want an error saying %q", err, tt.want)
			}
		})
	}
	dead := tempDir(t)
	if err := os.WriteFile(filepath.Join(dead, "postmaster.pid"), lockFile(4242, dead, dead, "ready"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := attach(dead, func(int) bool { return false }); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("a stale lock file = %v, want ErrNotRunning", err)
	}
}
