package main

import (
	"context"
	"errors"
	"fmt"
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
	db, err := openDatabase(ctx, cfg, log, shareCluster)
	if err != nil {
		return err
	}
	defer db.Close(log)
	if sub == "up" {
		if err := db.store.Migrate(ctx); err != nil {
			return err
		}
	}
	st, err := db.store.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "schema version %d of %d\n", st.Current, st.Latest)
	for _, name := range st.Pending {
		fmt.Fprintf(e.stdout, "pending: %s\n", name)
	}
	return nil
}
