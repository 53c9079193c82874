package pgserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Attach returns the cluster in dir that another process runs (an `xtreamd serve` on the same
// data dir), to connect to it: the postmaster's lock file (postmaster.pid) names its unix
// socket. Stop on the result leaves the cluster running; Exited is never closed. It is
// ErrNotRunning when no live postmaster runs dir, and a clear error when one does but is not
// one xtreamd can use (not ready, another data directory, a socket this user may not open).
func Attach(dir string) (*Server, error) { return attach(dir, isPostgres) }

// attach is Attach with alive, the test of a lock file's pid.
func attach(dir string, alive func(pid int) bool) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("pgserver: data dir: %w", err)
	}
	pm, err := readPostmaster(dir, alive)
	if err != nil {
		return nil, err
	}
	if pm.status != "ready" {
		return nil, fmt.Errorf("pgserver: the cluster in %s (postgres pid %d) is not ready (%q): it is starting or stopping; try again", dir, pm.pid, pm.status)
	}
	if !sameDir(pm.dataDir, dir) {
		return nil, fmt.Errorf("pgserver: %s/postmaster.pid names data directory %s: not a cluster xtreamd runs", dir, pm.dataDir)
	}
	if pm.socketDir == "" {
		return nil, fmt.Errorf("pgserver: the cluster in %s (postgres pid %d) has no unix socket: not a cluster xtreamd runs", dir, pm.pid)
	}
	sock := filepath.Join(pm.socketDir, fmt.Sprintf(".s.PGSQL.%d", pm.port))
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission) {
		return nil, fmt.Errorf("pgserver: the cluster in %s (postgres pid %d) is another user's: run this command as the user that runs xtreamd serve (or as root), or set DATABASE_URL", dir, pm.pid)
	}
	if err != nil {
		return nil, fmt.Errorf("pgserver: the cluster in %s (postgres pid %d) does not answer on %s: %w", dir, pm.pid, sock, err)
	}
	conn.Close()
	exited := make(chan struct{}) // never closed: the cluster's process is not ours to watch
	return &Server{dir: dir, socketDir: pm.socketDir, port: pm.port, attached: true, exited: exited}, nil
}

// Attached reports whether s is a cluster another process runs (Attach).
func (s *Server) Attached() bool { return s.attached }

// postmaster is what a postmaster.pid says (PostgreSQL 10 and later): pid, data directory,
// start time, port, first socket directory, first listen address, shared memory key, status.
type postmaster struct {
	pid       int
	dataDir   string
	port      int
	socketDir string
	status    string
}

func readPostmaster(dir string, alive func(pid int) bool) (postmaster, error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, os.ErrNotExist) {
		return postmaster{}, fmt.Errorf("%w: no postmaster.pid in %s", ErrNotRunning, dir)
	}
	if err != nil {
		return postmaster{}, fmt.Errorf("pgserver: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	field := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	pm := postmaster{dataDir: field(1), socketDir: field(4), status: field(7)}
	pm.pid, _ = strconv.Atoi(field(0))
	pm.port, _ = strconv.Atoi(field(3))
	if pm.pid <= 0 || !alive(pm.pid) {
		return postmaster{}, fmt.Errorf("%w: postmaster.pid in %s is stale", ErrNotRunning, dir)
	}
	if pm.port <= 0 {
		return postmaster{}, fmt.Errorf("pgserver: postmaster.pid in %s names no port", dir)
	}
	return pm, nil
}

// isPostgres reports whether process pid is alive and a postgres.
func isPostgres(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), "postgres")
}

func sameDir(a, b string) bool {
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return ra == rb
}
