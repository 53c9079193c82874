package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestLoginNames_LineOrDevice: a login name is a line's or a device credential's, never both,
// whichever comes first; the refusal is the writer's own unique key.
func TestLoginNames_LineOrDevice(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := context.Background()
	line, _ := testdb.NewLine(t, st, nil)
	dev := func(username string) error {
		_, err := st.CreateDeviceCredential(ctx, store.NewDeviceCredential{LineID: line.ID, Kind: store.DeviceKindXtream,
			Username: username, PasswordHash: line.PasswordHash, ClientID: "tv-app", DeviceID: "tv-1"})
		return err
	}
	if err := dev(line.Username); !errors.Is(err, store.ErrConflict) || store.Constraint(err) != "device_credentials_username_key" {
		t.Fatalf("a device credential named like a line = %v, want a conflict on device_credentials_username_key", err)
	}
	if err := dev("dev-taken"); err != nil {
		t.Fatal(err)
	}
	_, err := st.CreateLine(ctx, store.LineInput{Username: "dev-taken", PasswordHash: line.PasswordHash})
	if !errors.Is(err, store.ErrConflict) || store.Constraint(err) != "lines_username_key" {
		t.Fatalf("a line named like a device credential = %v, want a conflict on lines_username_key", err)
	}
	testdb.MustExec(t, st, `DELETE FROM device_credentials WHERE username = 'dev-taken'`)
	if _, err := st.CreateLine(ctx, store.LineInput{Username: "dev-taken", PasswordHash: line.PasswordHash}); err != nil {
		t.Fatalf("the name once its credential is revoked: %v", err)
	}
}

// TestDeviceCredentials_NotifyTheirLine: creating and revoking a credential notifies its line,
// so every instance drops what it cached of it.
func TestDeviceCredentials_NotifyTheirLine(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	st := store.New(pool)
	ctx := context.Background()
	line, _ := testdb.NewLine(t, st, nil)
	got := make(chan store.Change, 16)
	l := store.NewListener(pool, nil)
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeLine}, OnChange: func(c store.Change) { got <- c }})
	testdb.Listen(t, l)
	id, err := st.CreateDeviceCredential(ctx, store.NewDeviceCredential{LineID: line.ID, Kind: store.DeviceKindXtream,
		Username: "dev-n", PasswordHash: line.PasswordHash, ClientID: "tv-app", DeviceID: "tv-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeleteDeviceCredential(ctx, id); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case c := <-got:
			if c != store.LineChanged(line.ID) {
				t.Fatalf("change = %+v, want line:%d", c, line.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no line change within 10s")
		}
	}
}
