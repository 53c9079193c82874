package pgserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// clusterDir skips the test without the PostgreSQL binaries, and returns where its cluster goes
// and the context bounding its run.
func clusterDir(t *testing.T, limit time.Duration) (string, context.Context) {
	t.Helper()
	if _, err := FindBinDir(""); err != nil {
		t.Skip(err)
	}
	dir := filepath.Join(tempDir(t), "pg")
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	return dir, ctx
}

func TestStart_ReuseAndRefuseSecondServer(t *testing.T) {
	t.Parallel()
	dir, ctx := clusterDir(t, 60*time.Second)
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

// asRoot skips a test unless it runs as root, with a postgres user to give files to.
func asRoot(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the ownership changes happen only then")
	}
	cred, err := runAs()
	if err != nil {
		t.Skip(err)
	}
	return cred
}

// outsideTree is what a link planted in the cluster may point at: a root-owned directory with
// a secret file and a subdirectory.
type outsideTree struct{ dir, secret, sub string }

func newOutside(t *testing.T) outsideTree {
	t.Helper()
	o := outsideTree{dir: filepath.Join(tempDir(t), "outside")}
	o.secret, o.sub = filepath.Join(o.dir, "secret"), filepath.Join(o.dir, "sub")
	for _, err := range []error{os.MkdirAll(o.sub, 0o755), os.WriteFile(o.secret, []byte("root only\n"), 0o600),
		os.Chmod(o.dir, 0o755)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// untouched fails unless the outside tree is as newOutside made it.
func (o outsideTree) untouched(t *testing.T) {
	t.Helper()
	for p, mode := range map[string]os.FileMode{o.dir: 0o755 | os.ModeDir, o.sub: 0o755 | os.ModeDir, o.secret: 0o600} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 0 || st.Gid != 0 || fi.Mode() != mode {
			t.Errorf("%s: owner %d:%d mode %v, want 0:0 %v (a planted link was followed)", p, st.Uid, st.Gid, fi.Mode(), mode)
		}
	}
	if b, _ := os.ReadFile(o.secret); string(b) != "root only\n" {
		t.Errorf("%s changed: %q", o.secret, b)
	}
}

func owner(t *testing.T, p string) uint32 {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

// TestChownTree_NeverFollowsALink: links planted in the cluster directory (absolute, relative,
// to a file, to a directory) are given away themselves; what they point at is not.
func TestChownTree_NeverFollowsALink(t *testing.T) {
	t.Parallel()
	cred := asRoot(t)
	out := newOutside(t)
	dir := filepath.Join(tempDir(t), "pg")
	for _, err := range []error{
		os.MkdirAll(filepath.Join(dir, "base"), 0o700),
		os.WriteFile(filepath.Join(dir, "base", "1"), nil, 0o600),
		os.Symlink(out.secret, filepath.Join(dir, "evil")),
		os.Symlink(out.dir, filepath.Join(dir, "evildir")),
		os.Symlink("../../outside/secret", filepath.Join(dir, "base", "rel")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := chownTree(root, cred); err != nil {
		t.Fatal(err)
	}
	out.untouched(t)
	for _, p := range []string{dir, filepath.Join(dir, "base"), filepath.Join(dir, "base", "1"), filepath.Join(dir, "evil"),
		filepath.Join(dir, "evildir"), filepath.Join(dir, "base", "rel")} {
		if u := owner(t, p); u != cred.Uid {
			t.Errorf("%s owned by %d, want the postgres user %d", p, u, cred.Uid)
		}
	}
}

// TestStart_PlantedLinks: the postgres user owns the cluster and may plant links in it; at the
// next start (as root) neither the socket directory's chmod, the ownership walk, the log file
// nor the error tail follows one out of the directory.
func TestStart_PlantedLinks(t *testing.T) {
	t.Parallel()
	asRoot(t)
	dir, ctx := clusterDir(t, 120*time.Second)
	out := newOutside(t)
	s, err := Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		os.RemoveAll(filepath.Join(dir, "run")),
		os.Symlink(out.sub, filepath.Join(dir, "run")),
		os.Remove(filepath.Join(dir, "postgresql.log")),
		os.Symlink(out.secret, filepath.Join(dir, "postgresql.log")),
		os.Symlink(out.dir, filepath.Join(dir, "evildir")),
		os.Symlink(out.secret, filepath.Join(dir, "base", "evil")),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err = Start(ctx, Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatalf("restart with planted links: %v", err)
	}
	defer s.Stop(ctx)
	out.untouched(t)
	for _, name := range []string{"run", "postgresql.log"} {
		if fi, err := os.Lstat(filepath.Join(dir, name)); err != nil || fi.Mode()&os.ModeSymlink != 0 {
			t.Errorf("%s after the restart: %v, %v; want it replaced by our own", name, fi, err)
		}
	}
}

func TestClusterVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ content, want string }{{"15\n", "15"}, {"../../../tmp/x", ""}, {"", ""}} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "PG_VERSION"), []byte(tt.content), 0o600); err != nil {
			t.Fatal(err)
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := clusterVersion(root); got != tt.want {
			t.Errorf("clusterVersion(%q) = %q, want %q", tt.content, got, tt.want)
		}
		root.Close()
	}
}

// TestAttach: a second process finds the running cluster by its lock file and connects to it;
// its Stop leaves the cluster running. Nothing running is ErrNotRunning.
func TestAttach(t *testing.T) {
	t.Parallel()
	dir, ctx := clusterDir(t, 60*time.Second)
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
