package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/xtreamd/xtreamd/internal/store"
)

func cmdMigrate(ctx context.Context, e env, args []string) error {
	sub := "up"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		sub, args = args[0], args[1:]
	}
	if sub != "up" && sub != "status" {
		return fmt.Errorf("migrate: unknown action %q (want up or status)", sub)
	}
	cfg, _, err := loadConfig(e, "migrate "+sub, args, nil)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(log)
	if sub == "up" {
		if err := store.Migrate(ctx, db.pool); err != nil {
			return err
		}
	}
	st, err := store.Status(ctx, db.pool)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema version %d of %d\n", st.Current, st.Latest)
	for _, name := range st.Pending {
		fmt.Fprintf(e.stdout, "pending: %s\n", name)
	}
	return nil
}
