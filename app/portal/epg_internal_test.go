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
				if got, want, same := appendedAsRowOf(t, h, st, p, tz, now); !same {
					t.Errorf("%s, channel %d, %q:\n got %s\nwant %s", zone, st.ID, p.Title, got, want)
				}
			}
		}
	}
}

// FuzzAppendEPGRow: whatever a provider's guide holds in a title, description or category
// (they are untrusted text), the appended row is JSON and decodes to what encoding/json makes
// of rowOf's.
func FuzzAppendEPGRow(f *testing.F) {
	f.Add(`Café "Übersicht" <live> & more`, "line\nbreak\ttab \x01 \\ / \u2028 \xff end", "News", int64(1741006800), int64(3600))
	f.Add("", "", "", int64(0), int64(1))
	f.Add("\xed\xa0\x80", "\u2029\u0000", "\x7f", int64(-62135596800), int64(86400))
	now := time.Date(2025, 3, 3, 13, 45, 0, 0, time.UTC)
	h := &Handler{now: func() time.Time { return now }}
	st := &catalog.Stream{ID: 42, TVArchiveDays: 7}
	tz, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, desc, category string, start, dur int64) {
		if start < -1<<40 || start > 1<<40 || dur <= 0 || dur > 1<<30 {
			return // outside what a stored programme can hold
		}
		p := epg.Programme{Start: time.Unix(start, 0), Stop: time.Unix(start+dur, 0), Title: title, Desc: desc, Category: category}
		if got, want, same := appendedAsRowOf(t, h, st, p, tz, now); !same {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}

// appendedAsRowOf appends p's row and encodes rowOf's with encoding/json, and reports whether
// the two decode to the same value; an appended row that is not JSON fails t.
func appendedAsRowOf(t *testing.T, h *Handler, st *catalog.Stream, p epg.Programme, tz *time.Location, now time.Time) (got, want []byte, same bool) {
	t.Helper()
	want, err := json.Marshal(h.rowOf(st, p, tz))
	if err != nil {
		t.Fatal(err)
	}
	got = appendEPGRow(nil, st, p, tz, now)
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%q: not JSON: %v\n%q", p.Title, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	return got, want, reflect.DeepEqual(g, w)
}
