package admin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/mag"
)

func TestDevicePages(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	admin := e.as(t, accounts.RoleAdmin)

	// A new MAG line for the box: its password is on the answer page, this once.
	a := e.do(t, admin, "POST", "/admin/devices/new", url.Values{"mac": {"00-1a-79-0a-0b-0c"}, "max_connections": {"1"}}).
		want(t, "register with a new line", 201)
	made := a.data.(*createdDeviceView).Device
	if made.MAC != "00:1A:79:0A:0B:0C" || made.Line == nil || !strings.Contains(a.html, "<code>"+made.Line.Password+"</code>") {
		t.Fatalf("registered device = %+v\n%s", made, a.html)
	}

	// Refusals next to their fields, the form keeping what was typed.
	for _, tt := range []struct {
		name  string
		form  url.Values
		field string
	}{
		{"same MAC", url.Values{"mac": {"00:1a:79:0a:0b:0c"}}, "mac"},
		{"bad MAC", url.Values{"mac": {"00:1A:79:00:00"}}, "mac"},
		{"no MAC", url.Values{"mac": {""}}, "mac"},
		{"unknown line", url.Values{"mac": {"00:1A:79:00:00:04"}, "line": {"nobody"}}, "line"},
		{"connections", url.Values{"mac": {"00:1A:79:00:00:04"}, "max_connections": {"-1"}}, "max_connections"},
	} {
		a := e.do(t, admin, "POST", "/admin/devices/new", tt.form).want(t, tt.name, 422)
		if a.fieldError(tt.field) == "" {
			t.Errorf("%s: no refusal next to %s:\n%s", tt.name, tt.field, a.html)
		}
		if v := tt.form.Get("mac"); v != "" && !strings.Contains(a.html, `value="`+v+`"`) {
			t.Errorf("%s: the form lost the MAC typed", tt.name)
		}
	}

	// Bound to an existing line by its username; locked from the list; edited; unregistered.
	l, err := e.acc.CreateLine(t.Context(), accounts.NewLine{Username: "boxline"})
	if err != nil {
		t.Fatal(err)
	}
	a = e.do(t, admin, "POST", "/admin/devices/new", url.Values{"mac": {"00:1A:79:00:00:02"}, "line": {"boxline"}}).
		want(t, "bind to a line", 201)
	bound := a.data.(*createdDeviceView).Device
	if bound.LineID != l.ID || bound.Line != nil || strings.Contains(a.html, "Password") {
		t.Fatalf("bound device = %+v", bound)
	}
	path := fmt.Sprintf("/admin/devices/%d", bound.ID)
	e.do(t, admin, "POST", path+"/lock", url.Values{"lock_device": {"true"}}).want(t, "lock", 303)
	if d, _ := e.st.DeviceRecordByID(t.Context(), bound.ID); !d.LockDevice {
		t.Fatal("lock did not lock")
	}
	list := e.do(t, admin, "GET", "/admin/devices", nil).want(t, "list", 200)
	if !strings.Contains(list.html, "00:1A:79:00:00:02") || !strings.Contains(list.html, "Unlock") {
		t.Fatalf("list:\n%s", list.html)
	}
	edit := e.do(t, admin, "GET", path, nil).want(t, "edit form", 200)
	if !strings.Contains(edit.html, `value="boxline"`) || !strings.Contains(edit.html, `checked`) {
		t.Fatalf("edit form:\n%s", edit.html)
	}
	e.do(t, admin, "POST", path, url.Values{"mac": {"00:1a:79:00:00:05"}, "line": {"boxline"}, "lock_device": {"false"}}).
		want(t, "save", 303)
	if d, _ := e.st.DeviceRecordByID(t.Context(), bound.ID); d.LockDevice || d.MAC != "00:1A:79:00:00:05" {
		t.Fatalf("saved device = %+v", d)
	}
	a = e.do(t, admin, "POST", path, url.Values{"mac": {"00:1A:79:0A:0B:0C"}}).want(t, "save a taken MAC", 422)
	if a.fieldError("mac") == "" {
		t.Fatalf("no refusal next to mac:\n%s", a.html)
	}
	e.do(t, admin, "GET", path+"/delete", nil).want(t, "confirm", 200)
	e.do(t, admin, "POST", path+"/delete", nil).want(t, "unregister", 303)
	e.do(t, admin, "GET", path, nil).want(t, "unregistered device", 404)
	e.do(t, admin, "GET", "/admin/devices/x", nil).want(t, "not an id", 404)
	if a := e.do(t, admin, "GET", "/admin/devices?mac=zz", nil).want(t, "bad filter", 200); a.fieldError("mac") == "" {
		t.Fatalf("bad filter: no refusal next to mac:\n%s", a.html)
	}
}

func TestDevicePages_Roles(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	admin, viewer := e.as(t, accounts.RoleAdmin), e.as(t, accounts.RoleViewer)
	r1, r2 := e.as(t, accounts.RoleReseller), e.as(t, accounts.RoleReseller)
	owned := func(p accounts.Principal, mac string) int64 {
		t.Helper()
		l, err := e.acc.CreateLine(t.Context(), accounts.NewLine{OwnerID: &p.Actor.AdminID})
		if err != nil {
			t.Fatal(err)
		}
		d, _, err := e.acc.AddDevice(t.Context(), admin, accounts.NewDevice{MAC: mustMAC(t, mac), LineID: l.ID})
		if err != nil {
			t.Fatal(err)
		}
		return d.ID
	}
	mine, theirs := owned(r1, "00:1A:79:00:01:01"), owned(r2, "00:1A:79:00:02:02")

	list := e.do(t, r1, "GET", "/admin/devices", nil).want(t, "reseller's list", 200)
	if !strings.Contains(list.html, "00:1A:79:00:01:01") || strings.Contains(list.html, "00:1A:79:00:02:02") {
		t.Fatalf("reseller sees:\n%s", list.html)
	}
	e.do(t, r1, "GET", fmt.Sprintf("/admin/devices/%d", theirs), nil).want(t, "another reseller's device", 403)
	e.do(t, r1, "POST", fmt.Sprintf("/admin/devices/%d/lock", theirs), url.Values{"lock_device": {"true"}}).
		want(t, "lock another reseller's device", 403)
	e.do(t, r1, "POST", fmt.Sprintf("/admin/devices/%d/lock", mine), url.Values{"lock_device": {"true"}}).
		want(t, "lock own device", 303)

	// A viewer reads, changes nothing, and sees no button that would not work.
	vl := e.do(t, viewer, "GET", "/admin/devices", nil).want(t, "viewer's list", 200)
	if strings.Contains(vl.html, "Register a device") || strings.Contains(vl.html, "/lock") {
		t.Fatalf("viewer is offered changes:\n%s", vl.html)
	}
	e.do(t, viewer, "GET", "/admin/devices/new", nil).want(t, "viewer: new", 403)
	e.do(t, viewer, "POST", "/admin/devices/new", url.Values{"mac": {"00:1A:79:00:03:03"}}).want(t, "viewer: register", 403)
	e.do(t, viewer, "POST", fmt.Sprintf("/admin/devices/%d/delete", mine), nil).want(t, "viewer: delete", 403)
	if d, err := e.st.DeviceRecordByID(t.Context(), mine); err != nil || !d.LockDevice {
		t.Fatalf("device after the viewer's tries = %+v, %v", d, err)
	}
}

func mustMAC(t *testing.T, s string) mag.MAC {
	t.Helper()
	m, err := mag.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
