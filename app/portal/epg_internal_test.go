package portal

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/epg"
)

// TestAppendEPGRow_AsRowOf: get_epg_info's appended rows decode to exactly what encoding/json
// makes of rowOf's, the row every other EPG action sends: texts that need escaping (quotes,
// HTML characters, control bytes, invalid UTF-8, U+2028), zones with odd offsets, programmes
// inside, at the edge of and outside the archive.
func TestAppendEPGRow_AsRowOf(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 3, 13, 45, 0, 0, time.UTC)
	h := &Handler{now: func() time.Time { return now }}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	zones := []string{"UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "Europe/Berlin"}
	channels := []*catalog.Stream{{ID: 7}, {ID: 123456789, TVArchiveDays: 3}}
	progs := []epg.Programme{
		{Start: at("2025-03-03T13:00:00Z"), Stop: at("2025-03-03T14:00:00Z"), Title: `Café "Übersicht" <live> & more`,
			Desc: "line\nbreak\ttab \x01 \\ / \u2028 \xff end", Category: "News"},
		{Start: at("2025-02-28T13:45:00Z"), Stop: at("2025-02-28T14:30:00Z"), Title: "exactly 3 days ago"},
		{Start: at("2025-02-28T13:44:59Z"), Stop: at("2025-02-28T14:30:00Z"), Title: "a second before the archive"},
		{Start: at("2025-03-03T13:45:00Z"), Stop: at("2025-03-03T15:00:00Z"), Title: "starts now"},
		{Start: at("2025-03-30T00:30:00Z"), Stop: at("2025-03-30T01:30:00Z"), Title: "across a DST change"},
	}
	for _, zone := range zones {
		tz, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range channels {
			for _, p := range progs {
				want, err := json.Marshal(h.rowOf(st, p, tz))
				if err != nil {
					t.Fatal(err)
				}
				got := appendEPGRow(nil, st, p, tz, now)
				var g, w any
				if err := json.Unmarshal(got, &g); err != nil {
					t.Fatalf("%s %q: not JSON: %v\n%s", zone, p.Title, err, got)
				}
				if err := json.Unmarshal(want, &w); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s, channel %d, %q:\n got %s\nwant %s", zone, st.ID, p.Title, got, want)
				}
			}
		}
	}
}
