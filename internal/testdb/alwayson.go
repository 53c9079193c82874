package testdb

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// SetAlwaysOn flags a stream always on (or not), creating streams.always_on first where the
// schema lacks it: the column comes with the admin catalog's migration, and the relay's tests
// must not wait for it (once it is in, the ALTER is a no-op). The write bumps the catalog version
// and NOTIFYs like any other stream change.
func SetAlwaysOn(t testing.TB, st *store.Store, streamID int64, on bool) {
	t.Helper()
	MustExec(t, st, `ALTER TABLE streams ADD COLUMN IF NOT EXISTS always_on boolean NOT NULL DEFAULT false`)
	MustExec(t, st, `UPDATE streams SET always_on = $2 WHERE id = $1`, streamID, on)
}
