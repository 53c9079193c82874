package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestLoadDemo_Idempotent(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	cfg := config.Config{DataDir: t.TempDir(), DemoUsername: "demo", DemoPassword: "demo", DemoMAC: "00:1a:79:00:00:01", DemoAdminPassword: "admin"}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for i := range 2 {
		if err := loadDemo(ctx, cfg, st, log); err != nil {
			t.Fatalf("loadDemo #%d: %v", i+1, err)
		}
	}
	line, err := st.LineByUsername(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := credential.Verify(line.PasswordHash, "demo"); !ok || line.MaxConnections != 2 || len(line.BouquetIDs) != 1 || len(line.AllowedOutputFormats) != 3 {
		t.Fatalf("demo line = %+v", line)
	}
	dev, err := st.MAGDeviceByMAC(ctx, "00:1A:79:00:00:01")
	if err != nil || dev.LineID != line.ID {
		t.Fatalf("demo device = %+v, %v", dev, err)
	}
	var admins, lines int
	st.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM admins), (SELECT count(*) FROM lines)`).Scan(&admins, &lines)
	if admins != 1 || lines != 1 {
		t.Fatalf("after two loads: %d admins, %d lines; want 1 and 1", admins, lines)
	}
	// A changed --demo-password takes effect on the next start.
	cfg.DemoPassword = "changed"
	if err := loadDemo(ctx, cfg, st, log); err != nil {
		t.Fatal(err)
	}
	line, _ = st.LineByUsername(ctx, "demo")
	if ok, _ := credential.Verify(line.PasswordHash, "changed"); !ok {
		t.Fatal("demo password not updated")
	}
}
