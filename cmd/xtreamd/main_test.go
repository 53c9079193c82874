package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startServe runs "xtreamd serve" until the test ends and waits for /readyz to answer 200.
func startServe(t *testing.T, getenv func(string) string, args ...string) (addr string, stop func() error, logs *testkit.Buffer) {
	t.Helper()
	addr = freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	logs = &testkit.Buffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", addr}, args...), getenv, strings.NewReader(""), io.Discard, logs)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve ended before ready: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve not ready after 60s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(40 * time.Second):
				stopErr = fmt.Errorf("serve did not stop within 40s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return addr, stop, logs
}

func TestServe_WithDatabaseURL(t *testing.T) {
	t.Parallel()
	dsn := testdb.Empty(t) // an empty database: serve must migrate it
	dataDir := t.TempDir()
	addr, stop, logs := startServe(t, envFrom(map[string]string{"DATABASE_URL": dsn, "XTREAMD_DATA_DIR": dataDir}))

	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "xtreamd_db_pool_max_conns") || !strings.Contains(string(body), `route="/readyz"`) {
		t.Fatalf("/metrics lacks pool or request metrics:\n%.2000s", body)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after shutdown\n%s", err, logs.String())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres")); !os.IsNotExist(err) {
		t.Fatalf("serve with DATABASE_URL created a private cluster (stat err %v)", err)
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "token-secret")); err != nil || len(strings.TrimSpace(string(b))) != 64 {
		t.Fatalf("token secret not generated: %q, %v", b, err)
	}
}

// TestServe_EmbeddedDatabaseIsReused runs serve twice on one data dir with no DATABASE_URL:
// the first start initialises a private cluster, the second reuses its data.
func TestServe_EmbeddedDatabaseIsReused(t *testing.T) {
	t.Parallel()
	// As root the cluster runs as postgres, which must be able to enter the directory:
	// t.TempDir's parents are private, so make one under the system temp dir.
	base, err := os.MkdirTemp("", "xtreamd-serve-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(base, "data")
	getenv := envFrom(map[string]string{"XTREAMD_DATA_DIR": dataDir, "XTREAMD_ADMIN_PASSWORD": "correct-horse"})

	_, stop, logs := startServe(t, getenv)
	if err := stop(); err != nil {
		t.Fatalf("first serve: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "initialising private postgresql cluster") {
		t.Fatalf("first start did not initialise a cluster:\n%s", logs.String())
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"admin", "create", "--username", "root"}, getenv, nil, &out, io.Discard); err != nil {
		t.Fatalf("admin create: %v", err)
	}

	_, stop, logs = startServe(t, getenv)
	if err := stop(); err != nil {
		t.Fatalf("second serve: %v\n%s", err, logs.String())
	}
	if strings.Contains(logs.String(), "initialising") {
		t.Fatalf("second start initialised again:\n%s", logs.String())
	}
	// The admin made between the runs is still there: the data was reused.
	err = run(t.Context(), []string{"admin", "create", "--username", "root"}, getenv, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second admin create = %v, want already exists", err)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "postgres", "postmaster.pid")); !os.IsNotExist(err) {
		t.Fatalf("cluster still running after serve stopped (postmaster.pid: %v)", err)
	}
}

func TestServe_UnreachableDatabaseIsOneLine(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"serve", "--listen", freePort(t)},
		envFrom(map[string]string{"DATABASE_URL": "postgres://u:hunter2@" + dead + "/db", "XTREAMD_DATA_DIR": t.TempDir()}),
		nil, io.Discard, &stderr)
	if err == nil {
		t.Fatal("serve with an unreachable database returned nil")
	}
	msg := oneLine(err)
	if !strings.HasPrefix(msg, "connect database:") || strings.Contains(msg, "\n") || strings.Contains(msg, "hunter2") {
		t.Fatalf("error = %q, want one line starting with connect database:, without the password", msg)
	}
	if stderr.Len() != 0 {
		t.Fatalf("serve logged before failing: %q", stderr.String())
	}
}

func TestRun_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no subcommand"},
		{[]string{"frobnicate"}, "unknown subcommand"},
		{[]string{"serve", "--listen", "nope"}, "--listen"},
		{[]string{"serve", "--timezone", "Mars/Olympus"}, "unknown time zone"},
		{[]string{"migrate", "sideways"}, "unknown action"},
		{[]string{"admin"}, "admin create"},
		{[]string{"admin", "create"}, "--username is required"},
	}
	for _, tt := range tests {
		err := run(t.Context(), tt.args, envFrom(nil), nil, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version"}, envFrom(nil), nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "xtreamd ") {
		t.Fatalf("version = %q, %v", out.String(), err)
	}
}
