package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
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
	lineID, err := ensureDemoLine(ctx, cfg, st, bouquetID)
	if err != nil {
		return err
	}
	if err := ensureDemoDevice(ctx, st, lineID, mac); err != nil {
		return err
	}
	if err := ensureDemoAdmin(ctx, cfg, st); err != nil {
		return err
	}
	log.Info("demo loaded", "username", cfg.DemoUsername, "mac", mac, "admin", "admin")
	return nil
}

func ensureDemoLine(ctx context.Context, cfg config.Config, st *store.Store, bouquetID int64) (int64, error) {
	line, err := st.LineByUsername(ctx, cfg.DemoUsername)
	switch {
	case err == nil:
		if ok, _ := credential.Verify(line.PasswordHash, cfg.DemoPassword); !ok {
			hash, err := credential.Hash(cfg.DemoPassword, credential.DefaultParams)
			if err != nil {
				return 0, err
			}
			if err := st.SetLinePasswordHash(ctx, line.ID, hash); err != nil {
				return 0, err
			}
		}
		if len(line.BouquetIDs) != 1 || line.BouquetIDs[0] != bouquetID {
			if err := st.SetLineBouquets(ctx, line.ID, []int64{bouquetID}); err != nil {
				return 0, err
			}
		}
		return line.ID, nil
	case errors.Is(err, store.ErrNotFound):
		hash, err := credential.Hash(cfg.DemoPassword, credential.DefaultParams)
		if err != nil {
			return 0, err
		}
		id, err := st.CreateLine(ctx, store.LineInput{
			Username: cfg.DemoUsername, PasswordHash: hash, MaxConnections: 2,
			AdminNotes: "created by xtreamd serve --demo", BouquetIDs: []int64{bouquetID},
		})
		if err != nil {
			return 0, fmt.Errorf("demo line: %w", err)
		}
		return id, nil
	default:
		return 0, err
	}
}

func ensureDemoDevice(ctx context.Context, st *store.Store, lineID int64, mac mag.MAC) error {
	dev, err := st.MAGDeviceByMAC(ctx, mac.String())
	switch {
	case err == nil && dev.LineID == lineID:
		return nil
	case err == nil:
		return fmt.Errorf("demo MAC %s is bound to another line", mac.Masked())
	case errors.Is(err, store.ErrNotFound):
		if _, err := st.CreateMAGDevice(ctx, lineID, mac.String()); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return errors.New("the demo line already has another MAG device")
			}
			return err
		}
		return nil
	default:
		return err
	}
}

func ensureDemoAdmin(ctx context.Context, cfg config.Config, st *store.Store) error {
	hash, err := credential.Hash(cfg.DemoAdminPassword, credential.DefaultParams)
	if err != nil {
		return err
	}
	_, err = st.CreateAdmin(ctx, "admin", hash, "admin")
	if errors.Is(err, store.ErrConflict) {
		return nil // an existing admin keeps the password an operator may have changed
	}
	return err
}
