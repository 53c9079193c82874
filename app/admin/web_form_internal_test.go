package admin

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestFormBody: a form becomes the operation's JSON body by the body type's members; the
// members an edit form lists in _fields are always sent (empty: "", null, false or []).
func TestFormBody(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("CET", 3600)
	}
	tests := []struct {
		name string
		typ  reflect.Type
		form url.Values
		want string
		bad  string // the refused field
	}{
		{name: "create: empty fields left out", typ: reflect.TypeFor[LineCreate](),
			form: url.Values{"username": {""}, "max_connections": {"2"}, "is_trial": {"true"}, "allowed_ips": {"10.0.0.1\r\n\r\n 10.1.0.0/16 "},
				"allowed_output_formats": {"ts", "m3u8"}, "exp_date": {"2030-06-01T12:00"}},
			want: `{"allowed_ips":["10.0.0.1","10.1.0.0/16"],"allowed_output_formats":["ts","m3u8"],"exp_date":"2030-06-01T12:00:00+02:00","is_trial":true,"max_connections":2}`},
		{name: "edit: listed members always sent", typ: reflect.TypeFor[LinePatchBody](),
			form: url.Values{"_fields": {"username exp_date forced_country owner_id is_trial bouquet_ids admin_notes"}, "username": {"u1"},
				"exp_date": {""}, "forced_country": {""}, "owner_id": {""}, "admin_notes": {""}},
			want: `{"admin_notes":"","bouquet_ids":[],"exp_date":null,"forced_country":null,"is_trial":false,"owner_id":null,"username":"u1"}`},
		{name: "nested lists of objects", typ: reflect.TypeFor[struct {
			Sources []struct {
				URL  string `json:"url"`
				Kind string `json:"kind"`
			} `json:"sources"`
		}](), form: url.Values{"sources[1].url": {"http://b"}, "sources[0].url": {"http://a"}, "sources[0].kind": {"hls"}, "sources[2].url": {""}},
			want: `{"sources":[{"kind":"hls","url":"http://a"},{"url":"http://b"}]}`},
		{name: "not a number", typ: reflect.TypeFor[LineCreate](), form: url.Values{"max_connections": {"two"}}, bad: "max_connections"},
		{name: "not a list of numbers", typ: reflect.TypeFor[LineCreate](), form: url.Values{"bouquet_ids": {"1", "x"}}, bad: "bouquet_ids[1]"},
		{name: "not a date", typ: reflect.TypeFor[LineCreate](), form: url.Values{"exp_date": {"soon"}}, bad: "exp_date"},
		{name: "not a yes or no", typ: reflect.TypeFor[LineCreate](), form: url.Values{"is_trial": {"maybe"}}, bad: "is_trial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, bad := formBody(tt.typ, tt.form, berlin)
			if tt.bad != "" {
				if bad == nil || bad.field != tt.bad {
					t.Fatalf("formBody = %s, %v; want a refusal of %s", got, bad, tt.bad)
				}
				return
			}
			if bad != nil {
				t.Fatalf("formBody refused %v", bad)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(w, g); d != "" {
				t.Fatalf("formBody (-want +got):\n%s", d)
			}
		})
	}
}

func TestFormField(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"username": "username", "allowed_ips[2]": "allowed_ips",
		"lines[3].username": "username", "sources[0].url": "sources[0].url", "": ""} {
		if got := formField(in); got != want {
			t.Errorf("formField(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"/admin/lines?x=1": "/admin/lines?x=1", "https://evil.example/": "/admin/",
		"//evil.example/admin/": "/admin/", "/admin//evil.example": "/admin/", "/admin/\\evil": "/admin/", "": "/admin/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
