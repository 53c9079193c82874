package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/pgserver"
	"github.com/xtreamd/xtreamd/internal/store"
)

// embeddedDatabase is the database name in the private cluster.
const embeddedDatabase = "xtreamd"

// loadConfig parses args with the configuration flags plus any extra ones bind registers.
func loadConfig(e env, name string, args []string, bind func(fs *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("xtreamd "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	config.Bind(fs)
	if bind != nil {
		bind(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return config.Config{}, nil, errHelp
		}
		return config.Config{}, nil, err
	}
	cfg, err := config.Load(fs, e.getenv)
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("configuration: %w", err)
	}
	if cfg.InstanceID == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		cfg.InstanceID = host + "-" + hex.EncodeToString(b)
	}
	return cfg, fs, nil
}

// errHelp ends a subcommand after -h printed its flags.
var errHelp = errors.New("help requested")

func newLogger(e env, cfg config.Config) *slog.Logger {
	return logx.New(e.stderr, cfg.LogFormat, cfg.LogLevel)
}

// database is an open store, plus the private cluster behind it when there is one.
type database struct {
	store  *store.Store
	server *pgserver.Server // nil with DATABASE_URL
}

// clusterUse says what a subcommand does when another process already runs the private
// cluster of its data dir.
type clusterUse bool

const (
	// ownCluster refuses: serve stops the cluster it runs at its end, so two of them on one
	// data dir would pull it from under each other.
	ownCluster clusterUse = false
	// shareCluster connects to the running cluster (import, admin, migrate while serve runs)
	// and leaves it running.
	shareCluster clusterUse = true
)

// openDatabase connects to DATABASE_URL, or starts (initialising on first use) the private
// cluster under the data dir and connects to it. With shareCluster, a cluster another process
// (xtreamd serve) runs is used as it is.
func openDatabase(ctx context.Context, cfg config.Config, log *slog.Logger, use clusterUse) (*database, error) {
	opts := store.PoolOptions{MaxConns: int32(cfg.DBMaxConns), ApplicationName: "xtreamd " + cfg.InstanceID}
	if dsn := cfg.DatabaseURL.Reveal(); dsn != "" {
		st, err := store.Open(ctx, dsn, opts)
		if err != nil {
			return nil, err
		}
		return &database{store: st}, nil
	}
	dir := filepath.Join(cfg.DataDir, "postgres")
	srv, err := pgserver.Start(ctx, pgserver.Options{Dir: dir, Log: log})
	if errors.Is(err, pgserver.ErrRunning) && use == shareCluster {
		srv, err = pgserver.Attach(dir)
		if err == nil {
			log.Info("using the private postgresql another xtreamd runs", "dir", dir)
			return openOn(ctx, srv, opts, log)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("private database: %w", err)
	}
	return openOn(ctx, srv, opts, log)
}

// openOn connects to the xtreamd database of the private cluster srv, creating it on first
// use; the cluster is stopped again (unless another process runs it) when that fails.
func openOn(ctx context.Context, srv *pgserver.Server, opts store.PoolOptions, log *slog.Logger) (*database, error) {
	if err := store.EnsureDatabase(ctx, srv.DSN("postgres"), embeddedDatabase); err != nil {
		stopServer(srv, log)
		if srv.Attached() { // a cluster whose superuser is not xtreamd's, say
			return nil, fmt.Errorf("private database: the cluster running in %s does not let xtreamd in (not one xtreamd started?): %w", srv.Dir(), err)
		}
		return nil, fmt.Errorf("private database: %w", err)
	}
	st, err := store.Open(ctx, srv.DSN(embeddedDatabase), opts)
	if err != nil {
		stopServer(srv, log)
		return nil, err
	}
	return &database{store: st, server: srv}, nil
}

// openMigrated is openDatabase followed by the migrations every subcommand that uses the
// schema needs first (tern's advisory lock makes concurrent starts safe).
func openMigrated(ctx context.Context, cfg config.Config, log *slog.Logger, use clusterUse) (*database, error) {
	db, err := openDatabase(ctx, cfg, log, use)
	if err != nil {
		return nil, err
	}
	if err := db.store.Migrate(ctx); err != nil {
		db.Close(log)
		return nil, err
	}
	return db, nil
}

// Close closes the pool, then stops the private cluster if there is one.
func (d *database) Close(log *slog.Logger) {
	d.store.Close()
	if d.server != nil {
		stopServer(d.server, log)
	}
}

func stopServer(srv *pgserver.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Stop(ctx); err != nil {
		log.Warn("stopping private postgresql", "err", err)
	}
}
