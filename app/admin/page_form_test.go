package admin

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// decodeForm is what submit does with a form before the handler: pageFormBody, then the REST
// decoder, with a refused field named as the form names it.
func decodeForm[B any](t *testing.T, form url.Values, loc *time.Location) (B, *badField) {
	t.Helper()
	var b B
	raw, rows := pageFormBody(reflect.TypeFor[B](), form, pageFormOpts{loc: loc})
	if bad := decodeBody(raw, &b); bad != nil {
		bad.field = bodyFieldName(bad.field, rows)
		return b, bad
	}
	return b, nil
}

func ptr[T any](v T) *T { return &v }

func TestFormBody_LiveStream(t *testing.T) {
	t.Parallel()
	form := url.Values{
		"csrf":              {"tok"}, // not a member: left out
		"name":              {"  News <One>  "},
		"kind":              {"live"},
		"category_id":       {"3"},
		"epg_channel_id":    {"news1.tv"},
		"tv_archive_days":   {"7"},
		"enabled":           {"false", "true"},
		"always_on":         {"false"},
		"direct_source":     {"false"},
		"sources[0].url":    {""}, // the blank row left for adding: dropped
		"sources[0].kind":   {"auto"},
		"sources[1].url":    {"http://up1.example.com/a.ts"},
		"sources[1].kind":   {"ts"},
		"sources[2].url":    {"https://up2.example.com/a.m3u8"},
		"sources[2].kind":   {"hls"},
		"sources[x].url":    {"http://ignored.example.com/"},
		"sources[9999].url": {"http://beyond.example.com/"},
	}
	got, bad := decodeForm[newLiveStream](t, form, nil)
	if bad != nil {
		t.Fatalf("decode = %v", bad)
	}
	want := newLiveStream{Kind: "live", Name: "  News <One>  ", CategoryID: ptr[int64](3), EPGChannelID: ptr("news1.tv"),
		TVArchiveDays: 7, Enabled: ptr(true), Sources: []Source{{URL: "http://up1.example.com/a.ts", Kind: "ts"},
			{URL: "https://up2.example.com/a.m3u8", Kind: "hls"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("decoded form (-want +got):\n%s", d)
	}
}

func TestFormBody_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		form      url.Values
		field     string
		reasonHas string
	}{
		{"not a number", url.Values{"name": {"x"}, "category_id": {"three"}, "sources[0].url": {"http://a/"}}, "category_id", "a whole number"},
		{"empty name", url.Values{"name": {""}, "sources[0].url": {"http://a/"}}, "name", "required"},
		{"no source", url.Values{"name": {"x"}, "sources[0].url": {""}}, "sources", "at least 1 items"},
		{"bad kind in a moved row", url.Values{"name": {"x"}, "sources[0].url": {" "}, "sources[3].url": {"http://a/"},
			"sources[3].kind": {"rtmp"}}, "sources[3].kind", "one of"},
		{"too long", url.Values{"name": {string(make([]byte, 600))}, "sources[0].url": {"http://a/"}}, "name", ""},
		{"exponent is no number", url.Values{"name": {"x"}, "tv_archive_days": {"1e2"}, "sources[0].url": {"http://a/"}}, "tv_archive_days", "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, bad := decodeForm[newLiveStream](t, tt.form, nil)
			if bad == nil {
				t.Fatalf("decode(%v) accepted it", tt.form)
			}
			fe := fieldRefusal(bad)
			if fe.Fields[tt.field] == "" {
				t.Fatalf("decode(%v) = %v, want a refusal of %s", tt.form, bad, tt.field)
			}
			if !strings.Contains(fe.Fields[tt.field], tt.reasonHas) {
				t.Fatalf("refusal of %s = %q, want it to say %q", tt.field, fe.Fields[tt.field], tt.reasonHas)
			}
		})
	}
}

func TestFormBody_PatchClearsAndKeeps(t *testing.T) {
	t.Parallel()
	form := url.Values{"name": {"Renamed"}, "category_id": {""}, "epg_channel_id": {""}, "catchup_source": {"http://c/{start_unix}"},
		"enabled": {"false"}}
	got, bad := decodeForm[livePatch](t, form, nil)
	if bad != nil {
		t.Fatalf("decode = %v", bad)
	}
	switch {
	case got.Name == nil || *got.Name != "Renamed":
		t.Errorf("name = %v, want Renamed", got.Name)
	case !got.CategoryID.Set || !got.CategoryID.Null:
		t.Errorf("category_id = %+v, want cleared", got.CategoryID)
	case !got.EPGChannelID.Set || !got.EPGChannelID.Null:
		t.Errorf("epg_channel_id = %+v, want cleared", got.EPGChannelID)
	case got.CatchupSource.Value != "http://c/{start_unix}":
		t.Errorf("catchup_source = %+v", got.CatchupSource)
	case got.Enabled == nil || *got.Enabled:
		t.Errorf("enabled = %v, want false (the hidden field alone)", got.Enabled)
	case got.Sources != nil || got.Icon != nil || got.TVArchiveDays != nil:
		t.Errorf("members the form does not give were given: %+v", got)
	}
}

func TestFormBody_ListsTimesJSON(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database")
	}
	form := url.Values{"exp_date": {"2026-01-31T10:00"}, "allowed_ips": {"192.0.2.1\r\n\r\n10.0.0.0/8\n"},
		"bouquet_ids": {"1, 2 3", "4"}, "allowed_output_formats": {"ts", "m3u8"}, "max_connections": {"2"}}
	got, bad := decodeForm[LineControls](t, form, berlin)
	if bad != nil {
		t.Fatalf("decode = %v", bad)
	}
	want := LineControls{ExpDate: ptr(time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)), MaxConnections: ptr(2),
		AllowedIPs: []string{"192.0.2.1", "10.0.0.0/8"}, BouquetIDs: []int64{1, 2, 3, 4},
		AllowedOutputFormats: []string{"ts", "m3u8"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("decoded form (-want +got):\n%s", d)
	}

	movie, bad := decodeForm[moviePatch](t, url.Values{"info": {`{"plot":"<b>x</b>","rating":7}`}}, nil)
	if bad != nil || movie.Info == nil || (*movie.Info)["plot"] != "<b>x</b>" {
		t.Fatalf("info = %v, %v", movie.Info, bad)
	}
	if _, bad := decodeForm[moviePatch](t, url.Values{"info": {`plot: x`}}, nil); bad == nil || bad.field != "info" {
		t.Fatalf("info that is not JSON: %v, want a refusal of info", bad)
	}
	cleared, bad := decodeForm[moviePatch](t, url.Values{"info": {""}}, nil)
	if bad != nil || cleared.Info == nil || len(*cleared.Info) != 0 {
		t.Fatalf("emptied info = %v, %v, want {}", cleared.Info, bad)
	}
}

// TestFormValues_RoundTrip: the form that shows a stream, posted back unchanged, changes
// nothing — every member comes back as it was.
func TestFormValues_RoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC)
	s := LiveStream{ID: 9, Kind: "radio", Name: `"><img src=x onerror=alert(1)>`, CategoryID: ptr[int64](4), Icon: "http://i/x.png",
		EPGChannelID: ptr("r.one"), TVArchiveDays: 3, Enabled: true, AlwaysOn: true,
		Sources:   []Source{{URL: "http://a/1.ts", Kind: "ts"}, {URL: "http://b/1.m3u8", Kind: "hls"}},
		CreatedAt: at, UpdatedAt: at}
	form := editValues(s, time.UTC)
	if form.Get("created_at") != "2025-06-01T12:30" {
		t.Errorf("created_at shown as %q, want a datetime-local value", form.Get("created_at"))
	}
	got, bad := decodeForm[livePatch](t, form, time.UTC)
	if bad != nil {
		t.Fatalf("decode(editValues) = %v", bad)
	}
	if *got.Name != s.Name || got.CategoryID.Value != 4 || got.EPGChannelID.Value != "r.one" || *got.TVArchiveDays != 3 ||
		!*got.AlwaysOn || !*got.Enabled || got.CatchupSource.Set && !got.CatchupSource.Null {
		t.Fatalf("round trip = %+v", got)
	}
	if d := cmp.Diff(s.Sources, *got.Sources); d != "" {
		t.Fatalf("sources (-want +got):\n%s", d)
	}
}
