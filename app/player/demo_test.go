package player_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/demo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestDemoCatalog_StrictClients serves the demo catalog (what `serve --demo` loads) and
// decodes every action's answer with the strict wire structs: what a first-time user points a
// player at must satisfy the strictest clients.
func TestDemoCatalog_StrictClients(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	st := store.New(pool)
	ctx := context.Background()
	bouquetID, err := demo.LoadCatalog(ctx, st, demo.Options{DataDir: t.TempDir(), Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	hash, err := credential.Hash("demo", testdb.FastHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateLine(ctx, store.LineInput{Username: "demo", PasswordHash: hash, MaxConnections: 2, BouquetIDs: []int64{bouquetID}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSetting(ctx, "rate_limit_per_second", 0); err != nil {
		t.Fatal(err)
	}
	f := startServer(t, pool, st)
	get := func(params ...string) []byte {
		t.Helper()
		code, _, body := f.get(t, api(playerAPI, append([]string{"username", "demo", "password", "demo"}, params...)...))
		if code != 200 {
			t.Fatalf("%v: status %d", params, code)
		}
		return body
	}

	decodeStrict[Login](t, get())
	for _, a := range []string{"get_live_categories", "get_vod_categories", "get_series_categories"} {
		if cats := decodeStrict[[]Category](t, get("action", a)); len(cats) == 0 {
			t.Errorf("%s: empty", a)
		}
	}
	live := decodeStrict[[]LiveStream](t, get("action", "get_live_streams"))
	if len(live) != 9 {
		t.Errorf("%d demo channels, want 9", len(live))
	}
	for _, ch := range live {
		id := strconv.FormatInt(ch.StreamID.V, 10)
		short := decodeStrict[ShortEPG](t, get("action", "get_short_epg", "stream_id", id))
		if len(short.EPGListings) == 0 {
			t.Errorf("channel %s: no short EPG", id)
		}
		decodeStrict[SimpleDataTable](t, get("action", "get_simple_data_table", "stream_id", id))
		decodeStrict[[]EPGRow](t, get("action", "get_epg", "stream_id", id))
	}
	for _, m := range decodeStrict[[]VODStream](t, get("action", "get_vod_streams")) {
		info := decodeStrict[VODInfo](t, get("action", "get_vod_info", "vod_id", strconv.FormatInt(m.StreamID.V, 10)))
		if info.MovieData.StreamID.V != m.StreamID.V || !info.Info.Video.present() {
			t.Errorf("get_vod_info %d: %+v", m.StreamID.V, info.MovieData)
		}
	}
	series := decodeStrict[[]SeriesEntry](t, get("action", "get_series"))
	if len(series) != 1 {
		t.Fatalf("%d demo series, want 1", len(series))
	}
	info := decodeStrict[SeriesInfo](t, get("action", "get_series_info", "series_id", strconv.FormatInt(series[0].SeriesID.V, 10)))
	if len(info.Episodes["1"]) != 3 || len(info.Episodes["2"]) != 2 {
		t.Errorf("demo episodes by season: %d, %d; want 3, 2", len(info.Episodes["1"]), len(info.Episodes["2"]))
	}
	_, _, body := f.get(t, api("/panel_api.php", "username", "demo", "password", "demo"))
	decodeStrict[Panel](t, body)
	code, _, body := f.get(t, api("/get.php", "username", "demo", "password", "demo", "type", "m3u_plus", "output", "ts"))
	if code != 200 {
		t.Fatalf("get.php = %d", code)
	}
	checkM3U(t, body)
	code, _, body = f.get(t, api("/xmltv.php", "username", "demo", "password", "demo"))
	if code != 200 || !wellFormed(body) {
		t.Fatalf("xmltv.php = %d", code)
	}
}
