package testdb

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// SetAlwaysOn flags a stream always on (or not). The write bumps the catalog version and
// NOTIFYs like any other stream change, so a running server picks it up as an operator's would.
func SetAlwaysOn(t testing.TB, st *store.Store, streamID int64, on bool) {
	t.Helper()
	MustExec(t, st, `UPDATE streams SET always_on = $2 WHERE id = $1`, streamID, on)
}
