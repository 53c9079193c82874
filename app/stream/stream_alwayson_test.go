package stream_test

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestLive_AlwaysOn: a channel flagged always on is pulled from the moment the server serves,
// with no viewer, and its first viewer starts from the GOP cache on that pull; a channel flagged
// while the server runs is pulled once the catalog has the change.
func TestLive_AlwaysOn(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{extra: func(t *testing.T, e *env) { testdb.SetAlwaysOn(t, e.st, e.live, true) }})
	eventually(t, "the always-on channel pulled with no viewer", func() bool {
		return e.origin.open.Load() == 1 && metricValue(e, "xtreamd_relay_hubs") == 1
	})
	resp := openStream(t, e.liveURL(e.live, "ts"))
	b := readN(t, resp.Body, 188*3)
	resp.Body.Close()
	if b[0] != 0x47 || (int(b[1]&0x1f)<<8|int(b[2])) != 0 {
		t.Fatalf("first packet of the kept channel: % x, want the PAT", b[:4])
	}
	if n := e.origin.conns.Load(); n != 1 {
		t.Fatalf("origin connections = %d after the first viewer, want the one always-on pull", n)
	}
	testdb.SetAlwaysOn(t, e.st, e.other, true)
	eventually(t, "a channel flagged at run time pulled", func() bool {
		return e.origin.open.Load() == 2 && metricValue(e, "xtreamd_relay_hubs") == 2
	})
}
