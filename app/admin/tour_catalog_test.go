package admin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// catalogTour is the catalog side's part of TestEveryOperation_HappyPath: every operation of
// the catalog, EPG, security, settings, connections, overview and imports once, the way it is
// meant to be called (call fails the test on anything but 2xx; id reads a created id).
func catalogTour(t *testing.T, e *env, call func(method, path string, body any) reply, id func(reply) int64) {
	t.Helper()
	crud := func(base string, create, patch map[string]any) int64 {
		t.Helper()
		n := id(call(http.MethodPost, base, create))
		call(http.MethodGet, base, nil)
		call(http.MethodGet, fmt.Sprintf("%s/%d", base, n), nil)
		call(http.MethodPatch, fmt.Sprintf("%s/%d", base, n), patch)
		return n
	}
	src := []map[string]any{{"url": "http://up.example.com/1.ts"}}
	cat := crud("/categories", map[string]any{"kind": "live", "name": "Tour"}, map[string]any{"position": 3})
	live := crud("/live-streams", map[string]any{"name": "Tour", "category_id": cat, "sources": src}, map[string]any{"always_on": true})
	movie := crud("/vod", map[string]any{"name": "Film", "container_extension": "mp4", "sources": src}, map[string]any{"name": "Film 2"})
	series := crud("/series", map[string]any{"name": "Show"}, map[string]any{"plot": "p"})
	call(http.MethodPut, fmt.Sprintf("/series/%d/seasons/1", series), map[string]any{"name": "One"})
	call(http.MethodGet, fmt.Sprintf("/series/%d/seasons", series), nil)
	ep := id(call(http.MethodPost, fmt.Sprintf("/series/%d/episodes", series), map[string]any{"season_number": 1,
		"episode_number": 1, "name": "Pilot", "container_extension": "mkv", "sources": src}))
	call(http.MethodGet, fmt.Sprintf("/series/%d/episodes", series), nil)
	call(http.MethodGet, fmt.Sprintf("/episodes/%d", ep), nil)
	call(http.MethodPatch, fmt.Sprintf("/episodes/%d", ep), map[string]any{"episode_number": 2})
	bq := crud("/bouquets", map[string]any{"name": "Tour"}, map[string]any{"stream_ids": []int64{live, movie}, "series_ids": []int64{series}})

	playlist := "#EXTM3U\n#EXTINF:-1 group-title=\"T\",One\nhttp://up.example.com/1.ts\n"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(playlist)) }))
	defer up.Close()
	guide := crud("/epg-sources", map[string]any{"name": "G", "url": up.URL + "/guide.xml"}, map[string]any{"enabled": false})
	call(http.MethodPost, fmt.Sprintf("/epg-sources/%d/refresh", guide), nil)
	job := id(call(http.MethodPost, "/imports", map[string]any{"kind": "m3u", "url": up.URL + "/list.m3u", "bouquet": "Tour"}))
	call(http.MethodPost, "/imports/upload?kind=m3u&bouquet=Tour", []byte(playlist))
	call(http.MethodGet, "/imports", nil)
	call(http.MethodGet, fmt.Sprintf("/imports/%d", job), nil)

	for _, l := range []struct {
		path string
		body map[string]any
	}{
		{"/security/blocked-ips", map[string]any{"network": "203.0.113.0/24"}},
		{"/security/blocked-user-agents", map[string]any{"pattern": "BadBot"}},
		{"/security/blocked-isps", map[string]any{"asn": 64500}},
	} {
		n := id(call(http.MethodPost, l.path, l.body))
		call(http.MethodGet, l.path, nil)
		call(http.MethodDelete, fmt.Sprintf("%s/%d", l.path, n), nil)
	}
	call(http.MethodGet, "/security/allowed-countries", nil)
	call(http.MethodPut, "/security/allowed-countries", map[string]any{"countries": []string{"ALL"}})
	call(http.MethodGet, "/settings", nil)
	call(http.MethodPatch, "/settings", map[string]any{"message": "hello"})

	// A live connection (a lease as a serving instance writes it), listed and killed.
	line, _ := testdb.NewLine(t, e.st, nil)
	lease := uuid.New()
	if _, err := e.st.InsertLease(t.Context(), store.LeaseRow{ID: lease, LineID: line.ID, StreamID: live, InstanceID: "tour",
		Container: "ts", ClientIP: netip.MustParseAddr("192.0.2.1")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	call(http.MethodGet, "/connections", nil)
	call(http.MethodDelete, "/connections/"+lease.String(), nil)
	call(http.MethodGet, "/dashboard", nil)
	call(http.MethodGet, "/activity", nil)
	call(http.MethodGet, "/audit", nil)

	for _, p := range []string{fmt.Sprintf("/episodes/%d", ep), fmt.Sprintf("/series/%d/seasons/1", series),
		fmt.Sprintf("/series/%d", series), fmt.Sprintf("/vod/%d", movie), fmt.Sprintf("/live-streams/%d", live),
		fmt.Sprintf("/bouquets/%d", bq), fmt.Sprintf("/categories/%d", cat), fmt.Sprintf("/epg-sources/%d", guide)} {
		call(http.MethodDelete, p, nil)
	}
}
