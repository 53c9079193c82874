package conns_test

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestHeartbeat_RecordsDeliveredBytes: the admin's connection list shows what the serving
// instance delivered, as of its last heartbeat.
func TestHeartbeat_RecordsDeliveredBytes(t *testing.T) {
	t.Parallel()
	st, a, _ := setup(t)
	line, _ := testdb.NewLine(t, st, nil)
	l, err := a.Acquire(t.Context(), req(line, ipA), conns.PolicyRefuse, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.AddBytes(188 * 1000)
	if err := a.Heartbeat(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := a.Connections(t.Context(), conns.ConnectionQuery{LineID: line.ID})
	if err != nil || len(got) != 1 || got[0].BytesOut != 188*1000 || got[0].BytesPerSecond <= 0 || got[0].ID != l.IDString() {
		t.Fatalf("Connections = %+v, %v", got, err)
	}
	// Paging by the connection's cursor, and a kill by its id.
	if next, err := a.Connections(t.Context(), conns.ConnectionQuery{After: got[0].Cursor()}); err != nil || len(next) != 0 {
		t.Fatalf("the page after the only connection = %+v, %v", next, err)
	}
	if err := a.KillConnection(t.Context(), audit.Actor{Name: "root"}, l.IDString(), nil); err != nil {
		t.Fatal(err)
	}
	// (its stream stops on the NOTIFY, which the HTTP tests follow through a listener)
	if left, _ := a.Connections(t.Context(), conns.ConnectionQuery{LineID: line.ID}); len(left) != 0 {
		t.Fatalf("connections after the kill = %+v", left)
	}
	if err := a.KillConnection(t.Context(), audit.Actor{Name: "root"}, l.IDString(), nil); err == nil {
		t.Fatal("killing an ended connection again succeeded")
	}
}
