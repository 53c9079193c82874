// Package testdb gives every test a real, empty, migrated PostgreSQL database.
//
// TestMain calls Main once per test binary. With TEST_DATABASE_URL set it uses that server
// (the role needs CREATEDB); otherwise it starts a throwaway cluster from the local PostgreSQL
// binaries in a temporary directory, removed after the run. Either way it migrates one
// template database, and New clones it for each test (a file copy, a few ms).
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/xtreamd/xtreamd/internal/pgserver"
	"github.com/xtreamd/xtreamd/internal/store"
)

// env is the test binary's shared state, set once by Main.
type env struct {
	adminDSN func(db string) string // DSN of a database on the test server
	template string
	admin    *pgxpool.Pool // on the maintenance database, for CREATE/DROP DATABASE
	counter  atomic.Int64
	prefix   string
}

var (
	shared   *env // written once in Main before any test runs, then only read
	mainOnce sync.Once
)

// Main sets up the test server and template, runs the tests, and tears everything down. Use it
// as: func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
//
// Before it looks for leaked goroutines it closes the idle keep-alive connections of
// http.DefaultClient and of the clients given: their read loops are the pool's, not a test's
// leak.
func Main(m *testing.M, clients ...*http.Client) int {
	code := 1
	mainOnce.Do(func() { code = run(m, clients) })
	return code
}

func run(m *testing.M, clients []*http.Client) int {
	ctx := context.Background()
	before := goleak.IgnoreCurrent()
	e, teardown, err := setup(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		return 1
	}
	shared = e
	code := m.Run()
	teardown(code == 0)
	http.DefaultClient.CloseIdleConnections()
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	if code == 0 {
		// Every goroutine a test started must be gone (STYLE C18).
		// fasthttp keeps a process-wide date ticker and lets a stopped server's worker-pool
		// cleaner finish its 10 s sleep; neither is ours to stop. A clock.Coarse's ticker ends
		// by itself a second after its last read.
		if err := goleak.Find(before,
			goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
			goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
			goleak.IgnoreAnyFunction("github.com/xtreamd/xtreamd/internal/clock.(*Coarse).run"),
		); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: goroutines leaked by the tests: %v\n", err)
			return 1
		}
	}
	return code
}

func setup(ctx context.Context) (*env, func(ok bool), error) {
	e := &env{prefix: "xt" + randHex(4)}
	var teardowns []func(ok bool)
	teardown := func(ok bool) {
		for i := len(teardowns) - 1; i >= 0; i-- {
			teardowns[i](ok)
		}
	}
	maintenanceDB := "postgres"
	if url := os.Getenv("TEST_DATABASE_URL"); url != "" {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			return nil, nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		maintenanceDB = cfg.Database
		e.adminDSN = func(db string) string { return replaceDatabase(url, db) }
	} else {
		dir, err := os.MkdirTemp("", "xtreamd-testdb-")
		if err != nil {
			return nil, nil, err
		}
		// As root the cluster runs as the postgres user, which must be able to enter dir.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, nil, err
		}
		teardowns = append(teardowns, func(bool) { os.RemoveAll(dir) })
		srv, err := pgserver.Start(ctx, pgserver.Options{
			Dir:            filepath.Join(dir, "pg"),
			Ephemeral:      true,
			MaxConnections: 400,
		})
		if err != nil {
			teardown(false)
			return nil, nil, err
		}
		teardowns = append(teardowns, func(bool) {
			stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			srv.Stop(stopCtx)
		})
		e.adminDSN = srv.DSN
	}

	admin, err := pgxpool.New(ctx, e.adminDSN(maintenanceDB))
	if err != nil {
		teardown(false)
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	e.admin = admin
	teardowns = append(teardowns, func(bool) { admin.Close() })

	e.template = e.prefix + "_template"
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{e.template}.Sanitize()); err != nil {
		teardown(false)
		return nil, nil, fmt.Errorf("create template: %w", err)
	}
	teardowns = append(teardowns, func(bool) { e.drop(context.Background(), e.template) })
	tpl, err := pgxpool.New(ctx, e.adminDSN(e.template))
	if err != nil {
		teardown(false)
		return nil, nil, err
	}
	err = store.Migrate(ctx, tpl)
	tpl.Close()
	if err != nil {
		teardown(false)
		return nil, nil, fmt.Errorf("migrate template: %w", err)
	}
	return e, teardown, nil
}

func (e *env) drop(ctx context.Context, name string) {
	_, _ = e.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// New creates a fresh migrated database for t and returns a pool on it. The pool is closed
// and the database dropped when t ends; if t failed, the database is kept and its DSN logged.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("testdb: open pool: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by NewDSN
	return pool
}

// NewDSN creates a fresh migrated database for t and returns its connection string, for tests
// that open several pools on one database (several instances).
func NewDSN(t testing.TB) string {
	t.Helper()
	e := mustEnv(t)
	name := e.create(t, e.template)
	dsn := e.adminDSN(name)
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("TEST_DATABASE_URL") != "" {
			t.Logf("testdb: kept database %s for inspection", name)
			return
		}
		e.drop(context.Background(), name)
	})
	return dsn
}

// Empty creates a database with no schema at all (for migration tests) and returns its DSN.
func Empty(t testing.TB) string {
	t.Helper()
	e := mustEnv(t)
	name := e.create(t, "")
	t.Cleanup(func() { e.drop(context.Background(), name) })
	return e.adminDSN(name)
}

// create creates a database for t, a clone of template unless template is "", and returns
// its name.
func (e *env) create(t testing.TB, template string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%d", e.prefix, e.counter.Add(1))
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := e.admin.Exec(context.Background(), sql); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	return name
}

func mustEnv(t testing.TB) *env {
	if shared == nil {
		t.Fatal("testdb: call testdb.Main from TestMain first")
	}
	return shared
}

// replaceDatabase points a URL or keyword/value connection string at database db.
func replaceDatabase(dsn, db string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + db
		return u.String()
	}
	return dsn + " dbname=" + db // the last keyword wins
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Eventually polls cond every 10 ms until it holds, failing the test after within. It is the
// bounded wait for what arrives asynchronously (a NOTIFY, a closed stream) — never a sleep.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
