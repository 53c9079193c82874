package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/demo"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// loadDemo loads the demo catalog and makes sure the demo line (all output formats, two
// connections, bouquet "Demo"), its MAG device and the admin "admin" exist with the configured
// passwords. Running it again changes nothing but what the flags changed.
func loadDemo(ctx context.Context, cfg config.Config, st *store.Store, log *slog.Logger) error {
	mac, err := mag.ParseMAC(cfg.DemoMAC)
	if err != nil {
		return fmt.Errorf("--demo-mac %q: %w", cfg.DemoMAC, err)
	}
	bouquetID, err := demo.LoadCatalog(ctx, st, demo.Options{DataDir: cfg.DataDir})
	if err != nil {
		return err
	}
	// The demo's documented passwords ("demo", "admin") are for trying xtreamd out.
	acc := accounts.New(st, accounts.Options{Policy: accounts.DemoPolicy()})
	lineID, err := acc.EnsureLine(ctx, accounts.NewLine{
		Username: cfg.DemoUsername, Password: cfg.DemoPassword, MaxConnections: 2,
		AdminNotes: "created by xtreamd serve --demo", BouquetIDs: []int64{bouquetID},
	})
	if err != nil {
		return fmt.Errorf("demo line: %w", err)
	}
	if err := acc.EnsureDevice(ctx, lineID, mac); err != nil {
		return demoDeviceError(mac, err)
	}
	// An existing admin keeps the password an operator may have changed.
	if _, err := acc.EnsureAdmin(ctx, accounts.NewAdmin{Username: "admin", Password: cfg.DemoAdminPassword}); err != nil {
		return fmt.Errorf("demo admin: %w", err)
	}
	log.Info("demo loaded", "username", cfg.DemoUsername, "mac", mac, "admin", "admin")
	return nil
}

// demoDeviceError words the refusals of the demo MAC binding; the MAC is masked.
func demoDeviceError(mac mag.MAC, err error) error {
	var fe *accounts.FieldError
	if errors.As(err, &fe) && errors.Is(err, accounts.ErrConflict) {
		switch fe.Field {
		case "mac":
			return fmt.Errorf("demo MAC %s is bound to another line", mac.Masked())
		case "line":
			return errors.New("the demo line already has another MAG device")
		}
	}
	return err
}
