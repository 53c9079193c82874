// Package pgserver runs a private PostgreSQL cluster from the server binaries installed on the
// machine: the embedded default of `xtreamd serve` when no DATABASE_URL is given, and the
// throwaway cluster of the test helper.
//
// The cluster listens on a unix socket in a private directory only (no TCP). initdb refuses to
// run as root, so when started as root the cluster runs as the "postgres" system user. The
// cluster directory then belongs to that user, who may plant symbolic links in it: everything
// root does inside it (the ownership walk, the socket directory, the log file, the files it
// reads) goes through an os.Root of the directory and never follows a link out of it.
package pgserver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SuperUser is the cluster's superuser role, created by initdb.
const SuperUser = "xtreamd"

// port only names the socket file (.s.PGSQL.5432); nothing listens on TCP.
const port = 5432

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries (initdb, postgres) found on PATH or in /usr/lib/postgresql/*/bin; install them (Debian: apt-get install postgresql) or set DATABASE_URL")

// Options configure a private cluster.
type Options struct {
	// Dir holds the cluster (created if missing, reused if it holds one).
	Dir string
	// BinDir is where initdb and postgres live; empty means search PATH and /usr/lib/postgresql/*/bin.
	BinDir string
	// Ephemeral trades durability for speed (fsync off): for test clusters only.
	Ephemeral bool
	// MaxConnections is the server's max_connections; 0 means PostgreSQL's default.
	MaxConnections int
	// Log receives lifecycle events; nil discards them.
	Log *slog.Logger
}

// ErrRunning means another live postmaster runs the cluster already (another xtreamd serve, or
// an `xtreamd import` that started it): Start refuses, Attach connects to it.
var ErrRunning = errors.New("pgserver: the cluster is already running")

// ErrNotRunning means Attach found no live postmaster in the cluster directory.
var ErrNotRunning = errors.New("pgserver: the cluster is not running")

// Server is a running private cluster.
type Server struct {
	dir       string
	root      *os.Root // dir: every access inside it stays inside it (nil when attached)
	socketDir string
	port      int
	attached  bool // run by another process: Stop leaves it running
	ownSocket bool // socketDir was created by us outside dir and is removed at Stop
	cmd       *exec.Cmd
	exited    chan struct{}
	waitErr   error
	logFile   *os.File
	log       *slog.Logger
}

// Start initialises the cluster in opts.Dir if needed and starts it. It returns when the server
// accepts connections. The server is stopped by Stop, and also (SIGINT, a fast shutdown) if this
// process dies without calling it.
func Start(ctx context.Context, opts Options) (*Server, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, root, err := openDir(opts.Dir, cred)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, root: root, log: log, exited: make(chan struct{}), port: port}
	if err := s.startIn(ctx, cred, opts); err != nil {
		s.root.Close()
		return nil, err
	}
	log.Info("private postgresql started", "dir", dir, "socket_dir", s.socketDir, "pid", s.cmd.Process.Pid)
	return s, nil
}

// startIn runs initdb when the cluster is new, then the server.
func (s *Server) startIn(ctx context.Context, cred *syscall.Credential, opts Options) error {
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = FindBinDir(clusterVersion(s.root)); err != nil {
			return err
		}
	}
	if _, err := s.root.Lstat("PG_VERSION"); errors.Is(err, os.ErrNotExist) {
		s.log.Info("initialising private postgresql cluster", "dir", s.dir)
		if err := initdb(ctx, binDir, s.dir, cred, opts.Ephemeral); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("pgserver: %w", err)
	}
	if err := checkNotRunning(s.root, s.dir); err != nil {
		return err
	}
	if err := s.prepareSocketDir(cred); err != nil {
		return err
	}
	if err := s.start(ctx, binDir, cred, opts); err != nil {
		s.cleanupSocketDir()
		return err
	}
	return nil
}

// openDir creates the cluster directory if needed, resolves the links of its path (the
// operator's to choose) once, opens it as an os.Root and, as root, gives its tree to the
// postgres user.
func openDir(dir string, cred *syscall.Credential) (string, *os.Root, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", nil, fmt.Errorf("pgserver: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("pgserver: create %s: %w", dir, err)
	}
	if dir, err = filepath.EvalSymlinks(dir); err != nil {
		return "", nil, fmt.Errorf("pgserver: data dir: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", nil, fmt.Errorf("pgserver: open %s: %w", dir, err)
	}
	err = chownTree(root, cred)
	if err == nil && cred != nil {
		err = checkReachable(dir)
	}
	if err != nil {
		root.Close()
		return "", nil, err
	}
	return dir, root, nil
}

// prepareSocketDir makes the private socket directory: <dir>/run, or a short temporary one
// when that path is too long for a unix socket (107 bytes).
func (s *Server) prepareSocketDir(cred *syscall.Credential) error {
	s.socketDir = filepath.Join(s.dir, "run")
	if len(s.socketDir)+len("/.s.PGSQL.5432.lock") > 100 {
		d, err := os.MkdirTemp("", "xtreamd-pg-")
		if err != nil {
			return fmt.Errorf("pgserver: socket dir: %w", err)
		}
		s.socketDir, s.ownSocket = d, true
		sub, err := os.OpenRoot(d) // ours, just made, 0700
		if err != nil {
			return fmt.Errorf("pgserver: socket dir: %w", err)
		}
		defer sub.Close()
		return chownTree(sub, cred)
	}
	sub, err := privateDir(s.root, "run")
	if err != nil {
		return fmt.Errorf("pgserver: socket dir: %w", err)
	}
	defer sub.Close()
	return chownTree(sub, cred)
}

// privateDir returns name inside root as a 0700 directory opened as its own os.Root. Anything
// else found under that name (a link, a file) is removed first, never followed.
func privateDir(root *os.Root, name string) (*os.Root, error) {
	fi, err := root.Lstat(name)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	case !fi.IsDir():
		if err := root.Remove(name); err != nil {
			return nil, err
		}
	}
	if err := root.Mkdir(name, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	// Root.Chmod follows a link the postgres user may have swapped in since, but only one
	// inside the cluster; OpenRoot refuses one that leads out.
	if err := root.Chmod(name, 0o700); err != nil {
		return nil, err
	}
	return root.OpenRoot(name)
}

func (s *Server) start(ctx context.Context, binDir string, cred *syscall.Credential, opts Options) error {
	f, err := openLog(s.root)
	if err != nil {
		return fmt.Errorf("pgserver: open log: %w", err)
	}
	s.logFile = f

	args := []string{
		"-D", s.dir,
		"-k", s.socketDir,
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=",
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off",
	}
	if opts.MaxConnections > 0 {
		args = append(args, "-c", "max_connections="+strconv.Itoa(opts.MaxConnections))
	}
	if opts.Ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "shared_buffers=32MB")
	}
	cmd := exec.Command(filepath.Join(binDir, "postgres"), args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = pgEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		Setpgid:    true,           // a Ctrl-C on the terminal reaches us, and we stop the server in order
		Pdeathsig:  syscall.SIGINT, // if we die without Stop, the server still shuts down (fast mode)
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("pgserver: start postgres: %w", err)
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if s.ready() {
			return nil
		}
		select {
		case <-s.exited:
			f.Close()
			return fmt.Errorf("pgserver: postgres exited during start-up (%v): %s", s.waitErr, tail(s.root, logName, 5))
		case <-ctx.Done():
			s.Stop(context.WithoutCancel(ctx))
			return fmt.Errorf("pgserver: waiting for postgres: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop(context.WithoutCancel(ctx))
			return fmt.Errorf("pgserver: postgres not ready after 60s: %s", tail(s.root, logName, 5))
		}
	}
}

// ready reports whether the postmaster accepts connections: PostgreSQL writes "ready" as
// the status line (the 8th) of postmaster.pid once it does.
func (s *Server) ready() bool {
	b, err := s.root.ReadFile("postmaster.pid")
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 8 {
		return false
	}
	first := strings.TrimSpace(lines[0])
	return first == strconv.Itoa(s.cmd.Process.Pid) && strings.TrimSpace(lines[7]) == "ready"
}

// DSN returns a libpq connection string for database dbname on this cluster.
func (s *Server) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable", s.socketDir, s.port, SuperUser, dbname)
}

// Dir returns the cluster directory.
func (s *Server) Dir() string { return s.dir }

// Stop shuts the server down (fast mode: open sessions are ended, data is flushed), escalating
// to an immediate shutdown and then a kill if it takes longer than ctx allows (or 30 s).
func (s *Server) Stop(ctx context.Context) error {
	if s == nil || s.cmd == nil || s.attached {
		return nil
	}
	defer s.root.Close()
	defer s.cleanupSocketDir()
	defer s.logFile.Close()
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-s.exited:
		s.log.Info("private postgresql stopped")
		return nil
	case <-ctx.Done():
	case <-timer.C:
	}
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
		return fmt.Errorf("pgserver: postgres needed an immediate shutdown")
	case <-time.After(5 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("pgserver: postgres had to be killed")
}

// Exited is closed when the server process ends, for whatever reason.
func (s *Server) Exited() <-chan struct{} { return s.exited }

func (s *Server) cleanupSocketDir() {
	if s.ownSocket {
		os.RemoveAll(s.socketDir)
	}
}

func initdb(ctx context.Context, binDir, dir string, cred *syscall.Credential, ephemeral bool) error {
	args := []string{"-D", dir, "-U", SuperUser, "--auth=trust", "-E", "UTF8", "--no-locale"}
	if ephemeral {
		args = append(args, "--no-sync")
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "initdb"), args...)
	cmd.Dir = dir
	cmd.Env = pgEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgserver: initdb %s: %w: %s", dir, err, lastLines(string(out), 5))
	}
	return nil
}

// FindBinDir finds a directory holding initdb and postgres. wantVersion (a major version such as
// "15", or "") prefers the binaries an existing cluster was created with.
func FindBinDir(wantVersion string) (string, error) {
	var candidates []string
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(debian, func(i, j int) bool { // newest major version first
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(debian[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(debian[j])))
		return vi > vj
	})
	if wantVersion != "" {
		candidates = append([]string{filepath.Join("/usr/lib/postgresql", wantVersion, "bin")}, candidates...)
	}
	candidates = append(candidates, debian...)
	for _, d := range candidates {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// clusterVersion is the major version in PG_VERSION, "" when missing or not a number (it names
// a directory of binaries to run).
func clusterVersion(root *os.Root) string {
	b, err := root.ReadFile("PG_VERSION")
	if err != nil {
		return ""
	}
	v := strings.TrimSpace(string(b))
	if _, err := strconv.ParseUint(v, 10, 16); err != nil {
		return ""
	}
	return v
}

// runAs returns the credential the cluster runs under: nil (this process's user) unless we are
// root, which initdb and postgres refuse; then the "postgres" system user.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgserver: running as root and there is no \"postgres\" system user to run the private cluster as (create one, run as another user, or set DATABASE_URL): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgserver: postgres user ids: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// chownTree gives everything inside root to cred's user (nothing when cred is nil) without
// following a symbolic link: the walk does not descend into links, Lchown changes a link
// itself, and every name is resolved inside root, so a link planted in the cluster by its
// owner never makes root chown a file outside it.
func chownTree(root *os.Root, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	err := fs.WalkDir(root.FS(), ".", func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return root.Lchown(p, int(cred.Uid), int(cred.Gid))
	})
	if err != nil {
		return fmt.Errorf("pgserver: give %s to the postgres user: %w", root.Name(), err)
	}
	return nil
}

// logName is the server's log file inside the cluster directory.
const logName = "postgresql.log"

// openLog opens the log file for appending, root-owned (the server writes to the descriptor it
// inherits). A link or anything but a regular file in its place is removed, never followed.
func openLog(root *os.Root) (*os.File, error) {
	if fi, err := root.Lstat(logName); err == nil && !fi.Mode().IsRegular() {
		if err := root.Remove(logName); err != nil {
			return nil, err
		}
	}
	return root.OpenFile(logName, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
}

// checkReachable makes sure the postgres user can walk down to dir: every ancestor must be
// searchable by others, since we cannot know its groups.
func checkReachable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgserver: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("pgserver: the private cluster runs as the postgres user, which cannot enter %s (mode %v); choose a data dir outside it (--data-dir) or run xtreamd as a normal user", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// checkNotRunning refuses to start a second server on a cluster another live postmaster owns.
func checkNotRunning(root *os.Root, dir string) error {
	b, err := root.ReadFile("postmaster.pid")
	if err != nil {
		return nil // no lock file: not running
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return nil // postgres itself decides what to do with a garbled lock file
	}
	if !isPostgres(pid) {
		return nil // stale lock file from a crash; postgres removes it
	}
	return fmt.Errorf("%w: the cluster in %s is already run by postgres pid %d (is another xtreamd using this data dir?)", ErrRunning, dir, pid)
}

func pgEnv() []string {
	env := []string{"LC_ALL=C", "LANG=C"}
	if p := os.Getenv("PATH"); p != "" {
		env = append(env, "PATH="+p)
	}
	return env
}

// tail returns the last n lines of the file name inside root (a link is not followed).
func tail(root *os.Root, name string, n int) string {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 64<<10 {
		_, _ = f.Seek(-64<<10, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			lines = append(lines, t)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
