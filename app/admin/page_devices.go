package admin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The MAG devices pages: the list (filter by MAC or line), register a box (bound to an
// existing line, or with a new MAG line whose password is shown once), edit its MAC, line and
// lock, lock or unlock it from the list, unregister it. The operations are /api/v1/devices'.

// devicesView is the devices list.
type devicesView struct {
	pageBase
	Items []Device
	Next  string
}

// deviceFormView is the register or edit form of a device.
type deviceFormView struct {
	pageBase
	Device   *Device   // nil: a new one
	Packages []Package // for a new line
	Bouquets []BouquetSummary
}

// createdDeviceView shows a registered device and, when one was made, its line's password:
// the only time it is shown.
type createdDeviceView struct {
	pageBase
	Device CreatedDevice
}

var deviceOps = []string{"createDevice", "updateDevice", "deleteDevice"}

func (a *API) devicePages() []pageRoute {
	return []pageRoute{
		{fiber.MethodGet, "/devices", a.devicesPage},
		{fiber.MethodGet, "/devices/new", a.newDevicePage},
		{fiber.MethodPost, "/devices/new", a.createDevicePage},
		{fiber.MethodGet, "/devices/:id", a.editDevicePage},
		{fiber.MethodPost, "/devices/:id", a.updateDevicePage},
		{fiber.MethodPost, "/devices/:id/lock", a.lockDevicePage},
		{fiber.MethodGet, "/devices/:id/delete", a.confirmDeletePage("deleteDevice", "Unregister the MAG device", "The line stays.")},
		{fiber.MethodPost, "/devices/:id/delete", a.deleteDevicePage},
	}
}

func (a *API) devicesPage(r *pageRequest) (pageResult, error) {
	v := devicesView{pageBase: a.base(r, "MAG devices", deviceOps...)}
	v.Form = r.query
	page, fe, err := read(a, r, "listDevices", a.listDevices, &deviceQuery{PageQuery: PageQuery{Limit: 50}})
	if err != nil {
		return pageResult{}, err
	}
	v.Errors, v.Items, v.Next = fe, page.Items, r.nextPage("/admin/devices", page.NextCursor)
	return render("devices", &v), nil
}

func (a *API) newDevicePage(r *pageRequest) (pageResult, error) {
	if !a.may(r, "createDevice") {
		return pageResult{}, errForbidden
	}
	v, err := a.deviceForm(r, nil)
	return render("device-form", &v), err
}

// deviceForm is the device form's view: the choices of a new line when dev is nil.
func (a *API) deviceForm(r *pageRequest, dev *Device) (deviceFormView, error) {
	v := deviceFormView{pageBase: a.base(r, "Register a MAG device", deviceOps...), Device: dev}
	if dev != nil {
		v.Title = "MAG device " + dev.MAC
		return v, nil
	}
	pkgs, _, err := read(a, r, "listPackages", a.listPackages, &PageQuery{Limit: 1000})
	if err != nil && !errors.Is(err, errForbidden) {
		return v, err
	}
	bqs, _, err := read(a, r, "listBouquets", a.listBouquets, &bouquetList{PageQuery: PageQuery{Limit: 1000}, Sort: "position"})
	if err != nil && !errors.Is(err, errForbidden) {
		return v, err
	}
	v.Packages, v.Bouquets = pkgs.Items, bqs.Items
	return v, nil
}

func (a *API) createDevicePage(r *pageRequest) (pageResult, error) {
	v, err := a.deviceForm(r, nil)
	if err != nil {
		return pageResult{}, err
	}
	v.Form = r.form
	if fe := a.lineByUsername(r, "line"); fe != nil {
		v.Errors = fe
		return refused("device-form", &v), nil
	}
	out, fe, err := submit(a, r, "createDevice", a.createDevice, NoParams{})
	if err != nil || fe != nil {
		v.Errors = fe
		return refused("device-form", &v), err
	}
	res := render("device-created", &createdDeviceView{pageBase: a.base(r, "MAG device registered", deviceOps...), Device: out})
	res.status = fiber.StatusCreated
	return res, nil
}

// lineByUsername lets a form name the line by its username (field): it becomes line_id, as
// the operation takes it. The lookup sees only the lines the admin may see.
func (a *API) lineByUsername(r *pageRequest, field string) *formErrors {
	name := strings.TrimSpace(r.form.Get(field))
	if name == "" {
		return nil
	}
	l, err := a.d.Accounts.LineByUsername(r.ctx, r.principal, name)
	if err != nil {
		return &formErrors{Fields: map[string]string{field: "no such line of yours"}}
	}
	r.form.Set("line_id", strconv.FormatInt(l.ID, 10))
	return nil
}

func (a *API) editDevicePage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	d, err := a.getDevice(r.call(), ByID{ID: id}, NoBody{})
	if err != nil {
		return pageResult{}, err
	}
	v, err := a.deviceForm(r, &d)
	v.Form = editValues(d, a.d.Config.Timezone)
	v.Form.Set("line", d.Username)
	return render("device-form", &v), err
}

func (a *API) updateDevicePage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	d, err := a.getDevice(r.call(), ByID{ID: id}, NoBody{})
	if err != nil {
		return pageResult{}, err
	}
	v, _ := a.deviceForm(r, &d)
	v.Form = r.form
	if fe := a.lineByUsername(r, "line"); fe != nil {
		v.Errors = fe
		return refused("device-form", &v), nil
	}
	if _, fe, err := submit(a, r, "updateDevice", a.updateDevice, ByID{ID: id}); err != nil || fe != nil {
		v.Errors = fe
		return refused("device-form", &v), err
	}
	return redirect("/admin/devices", "Device saved."), nil
}

// lockDevicePage locks or unlocks a device to its box from the list (lock_device=true|false).
func (a *API) lockDevicePage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	d, fe, err := submit(a, r, "updateDevice", a.updateDevice, ByID{ID: id})
	if err != nil {
		return pageResult{}, err
	}
	if fe.Any() {
		return redirect("/admin/devices", "Not changed: "+fe.General+fe.For("lock_device")), nil
	}
	what := "unlocked"
	if d.LockDevice {
		what = "locked to its box"
	}
	return redirect("/admin/devices", fmt.Sprintf("Device %s %s.", d.MAC, what)), nil
}

func (a *API) deleteDevicePage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	if _, _, err := submit(a, r, "deleteDevice", a.deleteDevice, ByID{ID: id}); err != nil {
		return pageResult{}, err
	}
	return redirect("/admin/devices", "Device unregistered."), nil
}
