package admin_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
)

type deviceBody struct {
	ID     int64  `json:"id"`
	MAC    string `json:"mac"`
	LineID int64  `json:"line_id"`
	Line   *struct {
		ID       int64  `json:"id"`
		Password string `json:"password"`
		IsMAG    bool   `json:"is_mag"`
	} `json:"line"`
	LockDevice bool `json:"lock_device"`
}

func TestDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	// A new MAG line for the box, the MAC normalised.
	r := e.call(t, http.MethodPost, "/devices", admin, map[string]any{"mac": "00-1a-79-0a-0b-0c", "max_connections": 1})
	wantStatus(t, "create device", r, 201)
	var d deviceBody
	r.json(t, &d)
	if d.MAC != "00:1A:79:0A:0B:0C" || d.Line == nil || !d.Line.IsMAG || len(d.Line.Password) != 10 || d.LineID != d.Line.ID {
		t.Fatalf("device = %+v", d)
	}
	// An existing line.
	l := e.createLine(t, admin, map[string]any{})
	r = e.call(t, http.MethodPost, "/devices", admin, map[string]any{"mac": "00:1A:79:00:00:02", "line_id": l.ID})
	wantStatus(t, "bind device", r, 201)
	var bound deviceBody
	r.json(t, &bound)
	if bound.Line != nil || bound.LineID != l.ID {
		t.Fatalf("bound device = %+v", bound)
	}
	if got, _ := e.st.LineByID(t.Context(), l.ID); !got.IsMAG {
		t.Fatal("binding a device did not mark the line a MAG line")
	}
	for name, c := range map[string]struct {
		body   any
		status int
		field  string
	}{
		"same MAC":           {map[string]any{"mac": "00:1a:79:0a:0b:0c"}, 409, "mac"},
		"line with a device": {map[string]any{"mac": "00:1A:79:00:00:03", "line_id": l.ID}, 409, "line_id"},
		"bad MAC":            {map[string]any{"mac": "00:1A:79:00:00"}, 400, "mac"},
		"no MAC":             {map[string]any{}, 400, "mac"},
		"unknown line":       {map[string]any{"mac": "00:1A:79:00:00:04", "line_id": 99999}, 404, "line_id"},
	} {
		wantProblem(t, name, e.call(t, http.MethodPost, "/devices", admin, c.body), c.status, c.field)
	}
	r = e.call(t, http.MethodGet, "/devices?mac=00:1a:79:00:00:02", admin, nil)
	wantStatus(t, "find by MAC", r, 200)
	if !strings.Contains(string(r.body), fmt.Sprintf(`"id":%d`, bound.ID)) || strings.Contains(string(r.body), "0A:0B:0C") {
		t.Fatalf("devices with one MAC = %s", r.body)
	}
	wantProblem(t, "bad MAC filter", e.call(t, http.MethodGet, "/devices?mac=zz", admin, nil), 400, "mac")
	r = e.call(t, http.MethodPatch, fmt.Sprintf("/devices/%d", bound.ID), admin, map[string]any{"lock_device": true, "mac": "00:1a:79:00:00:05"})
	wantStatus(t, "patch device", r, 200)
	var patched deviceBody
	r.json(t, &patched)
	if !patched.LockDevice || patched.MAC != "00:1A:79:00:00:05" {
		t.Fatalf("patched device = %+v", patched)
	}
	wantProblem(t, "patch to a taken MAC", e.call(t, http.MethodPatch, fmt.Sprintf("/devices/%d", bound.ID), admin,
		map[string]any{"mac": "00:1A:79:0A:0B:0C"}), 409, "mac")
	wantStatus(t, "delete device", e.call(t, http.MethodDelete, fmt.Sprintf("/devices/%d", bound.ID), admin, nil), 204)
	wantProblem(t, "get deleted device", e.call(t, http.MethodGet, fmt.Sprintf("/devices/%d", bound.ID), admin, nil), 404, "id")
	if strings.Contains(e.logs(), "0A:0B:0C") || strings.Contains(e.logs(), "0a-0b-0c") {
		t.Fatal("a full MAC reached the log")
	}
	audit, err := e.st.SearchAudit(t.Context(), store.AuditFilter{Action: "device."})
	must(t, err)
	for _, a := range audit {
		if strings.Contains(fmt.Sprint(a.Detail), "0A:0B:0C") || strings.Contains(fmt.Sprint(a.Detail), "00:00:05") {
			t.Fatalf("audit %s holds a full MAC: %v", a.Action, a.Detail)
		}
	}
}
