package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/server"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	cfg, _, err := loadConfig(e, "serve", args, nil)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	if err := cfg.EnsureTokenSecret(); err != nil {
		return err
	}

	// Listen first, so a taken port fails before any database work.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()

	db, err := openMigrated(ctx, cfg, log, ownCluster)
	if err != nil {
		return err
	}
	defer db.Close(log)
	if cfg.Demo {
		if err := loadDemo(ctx, cfg, db.store, log); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}

	srv, err := server.New(ctx, server.Deps{
		Config:   cfg,
		Log:      log,
		Store:    db.store,
		Registry: prometheus.NewRegistry(),
	})
	if err != nil {
		return err
	}
	// If the private cluster dies under us, stop serving rather than answer 503 forever.
	serveCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	if db.server != nil {
		go func() {
			select {
			case <-db.server.Exited():
				log.Error("private postgresql exited; shutting down")
				cancel()
			case <-serveCtx.Done():
			}
		}()
	}
	if cfg.PublicHost == "localhost" || cfg.PublicHost == "127.0.0.1" || cfg.PublicHost == "::1" {
		log.Warn("public host is a loopback name: players on other machines cannot open the stream URLs; set --public-host / XTREAMD_PUBLIC_HOST", "public_host", cfg.PublicHost)
	}
	log.Info("xtreamd serving", "version", version(), "listen", ln.Addr().String(),
		"public_url", cfg.PublicScheme+"://"+net.JoinHostPort(cfg.PublicHost, strconv.Itoa(cfg.AdvertisedPort())),
		"instance_id", cfg.InstanceID, "embedded_db", db.server != nil)
	err = srv.Serve(serveCtx, ln)
	log.Info("xtreamd stopped")
	return err
}
