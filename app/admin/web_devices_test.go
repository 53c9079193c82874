package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/mag"
)

var devicePasswordRE = regexp.MustCompile(`class="secret" id="pw-0">([^<]+)<`)

func TestWebDevices(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	wantPage(t, "devices page", b.get("/admin/devices"), http.StatusOK, "No devices.", "Register a device")
	wantPage(t, "register page", b.get("/admin/devices/new"), http.StatusOK, `name="mac"`, `name="package_id"`)

	// A new MAG line for the box: its password on the answer page, this once.
	p := b.post("/admin/devices", url.Values{"mac": {"00-1a-79-0a-0b-0c"}, "max_connections": {"1"}})
	wantPage(t, "register with a new line", p, http.StatusCreated, "00:1A:79:0A:0B:0C", "shown this once")
	if devicePasswordRE.FindStringSubmatch(p.body) == nil {
		t.Fatalf("no password on the answer:\n%s", p.body)
	}

	// Refusals next to their fields, with the API's statuses; the form keeps what was typed.
	for _, tt := range []refusal{
		{"same MAC", url.Values{"mac": {"00:1a:79:0a:0b:0c"}}, http.StatusConflict, "mac"},
		{"bad MAC", url.Values{"mac": {"00:1A:79:00:00"}}, http.StatusBadRequest, "mac"},
		{"no MAC", url.Values{"mac": {""}}, http.StatusBadRequest, "mac"},
		{"unknown line", url.Values{"mac": {"00:1A:79:00:00:04"}, "line": {"nobody"}}, http.StatusBadRequest, "line"},
		{"bad limit", url.Values{"mac": {"00:1A:79:00:00:04"}, "max_connections": {"-1"}}, http.StatusBadRequest, "max_connections"},
	} {
		p := b.post("/admin/devices", tt.form)
		wantFieldError(t, tt.name, p, tt.status, tt.field)
		if v := tt.form.Get("mac"); v != "" && !strings.Contains(p.body, `value="`+v+`"`) {
			t.Errorf("%s: the form lost the MAC typed", tt.name)
		}
	}

	// Bound to an existing line by its username; locked from the list; edited; unregistered.
	l, err := e.acc.CreateLine(t.Context(), accounts.NewLine{Username: "boxline"})
	must(t, err)
	p = b.post("/admin/devices", url.Values{"mac": {"00:1A:79:00:00:02"}, "line": {"boxline"}})
	wantPage(t, "bind to a line", p, http.StatusCreated, "boxline")
	if strings.Contains(p.body, "shown this once") {
		t.Fatal("a bound device shows a password")
	}
	m, _ := mag.ParseMAC("00:1A:79:00:00:02")
	d, err := e.acc.DeviceByMAC(t.Context(), accounts.System(fixture), m)
	must(t, err)
	if d.LineID != l.ID {
		t.Fatalf("device bound to line %d, want %d", d.LineID, l.ID)
	}
	path := fmt.Sprintf("/admin/devices/%d", d.ID)
	b.get("/admin/devices")
	if p := b.post(path+"/lock", url.Values{"lock_device": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("lock = %d\n%s", p.status, p.body)
	}
	wantPage(t, "list after the lock", b.get("/admin/devices?done=locked"), http.StatusOK, "locked to its box", ">Unlock<")
	wantPage(t, "device page", b.get(path), http.StatusOK, `value="boxline"`, `name="lock_device" value="true" checked`)
	p = b.post(path, url.Values{"_fields": {"lock_device"}, "mac": {"00:1a:79:00:00:05"}, "line": {"boxline"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", p.status, p.body)
	}
	if got, _ := e.st.DeviceRecordByID(t.Context(), d.ID); got.LockDevice || got.MAC != "00:1A:79:00:00:05" {
		t.Fatalf("saved device = %+v", got)
	}
	wantFieldError(t, "save a taken MAC", b.post(path, url.Values{"mac": {"00:1A:79:0A:0B:0C"}}), http.StatusConflict, "mac")
	wantDeleted(t, b, path)
	wantPage(t, "not an id", b.get("/admin/devices/x"), http.StatusBadRequest)
	wantFieldError(t, "bad filter", b.get("/admin/devices?mac=zz"), http.StatusBadRequest, "mac")
}

func TestWebDevices_Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r1b, r1 := e.webAs(t, accounts.RoleReseller)
	_, r2 := e.webAs(t, accounts.RoleReseller)
	vb, _ := e.webAs(t, accounts.RoleViewer)
	owned := func(owner int64, mac string) int64 {
		t.Helper()
		l, err := e.acc.CreateLine(t.Context(), accounts.NewLine{OwnerID: &owner})
		must(t, err)
		m, _ := mag.ParseMAC(mac)
		d, _, err := e.acc.AddDevice(t.Context(), accounts.System(fixture), accounts.NewDevice{MAC: m, LineID: l.ID})
		must(t, err)
		return d.ID
	}
	mine, theirs := owned(r1.id, "00:1A:79:00:01:01"), owned(r2.id, "00:1A:79:00:02:02")

	p := r1b.get("/admin/devices")
	wantPage(t, "reseller's list", p, http.StatusOK, "00:1A:79:00:01:01")
	if strings.Contains(p.body, "00:1A:79:00:02:02") {
		t.Fatal("a reseller sees another reseller's device")
	}
	wantPage(t, "another reseller's device", r1b.get(fmt.Sprintf("/admin/devices/%d", theirs)), http.StatusForbidden)
	wantPage(t, "lock another's", r1b.post(fmt.Sprintf("/admin/devices/%d/lock", theirs), url.Values{"lock_device": {"true"}}),
		http.StatusForbidden)
	if p := r1b.post(fmt.Sprintf("/admin/devices/%d/lock", mine), url.Values{"lock_device": {"true"}}); p.status != http.StatusSeeOther {
		t.Fatalf("lock own = %d\n%s", p.status, p.body)
	}
	// The reseller's line lookup sees only its own lines.
	other, err := e.acc.CreateLine(t.Context(), accounts.NewLine{Username: "theirline", OwnerID: &r2.id})
	must(t, err)
	wantFieldError(t, "bind to another's line", r1b.post("/admin/devices", url.Values{"mac": {"00:1A:79:00:01:09"},
		"line": {other.Username}}), http.StatusBadRequest, "line")

	// A viewer reads, changes nothing, and is offered no button that would not work.
	p = vb.get("/admin/devices")
	wantPage(t, "viewer's list", p, http.StatusOK, "00:1A:79:00:02:02")
	if strings.Contains(p.body, "Register a device") || strings.Contains(p.body, "/lock") {
		t.Fatalf("a viewer is offered changes:\n%s", p.body)
	}
	wantPage(t, "viewer: register page", vb.get("/admin/devices/new"), http.StatusForbidden)
	wantPage(t, "viewer: register", vb.post("/admin/devices", url.Values{"mac": {"00:1A:79:00:03:03"}}), http.StatusForbidden)
	wantPage(t, "viewer: delete", vb.post(fmt.Sprintf("/admin/devices/%d/delete", mine), url.Values{}), http.StatusForbidden)
	if d, err := e.st.DeviceRecordByID(t.Context(), mine); err != nil || !d.LockDevice {
		t.Fatalf("device after the viewer's tries = %+v, %v", d, err)
	}
}
