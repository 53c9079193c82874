package admin

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// The MAG devices pages: the list (filter by MAC or line), register a box (bound to an
// existing line named by its username, or with a new MAG line whose password is shown once),
// a device's page (its MAC, its line, the lock to its box), lock or unlock from the list, and
// unregister. The operations are /api/v1/devices': a reseller sees and changes only the
// devices of its lines.

func (a *API) webDeviceRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/devices", Handler: a.devicesPage},
		{Method: fiber.MethodGet, Path: "/devices/new", Handler: a.deviceNewPage},
		{Method: fiber.MethodPost, Path: "/devices", Handler: a.deviceCreate},
		{Method: fiber.MethodGet, Path: "/devices/:id", Handler: a.devicePage},
		{Method: fiber.MethodPost, Path: "/devices/:id", Handler: a.deviceUpdate},
		{Method: fiber.MethodPost, Path: "/devices/:id/lock", Handler: a.deviceLock},
		{Method: fiber.MethodPost, Path: "/devices/:id/delete", Handler: a.deviceDelete},
	}
}

var deviceOpIDs = []string{"createDevice", "updateDevice", "deleteDevice"}

var deviceNotices = map[string]string{
	"saved": "The device was saved.", "locked": "The device is locked to its box.",
	"unlocked": "The device is no longer locked to its box.", "deleted": "The device was unregistered.",
}

// devicesData is the devices page's data.
type devicesData struct {
	listData[Device]
	Can map[string]bool
}

// deviceFormData is the register and edit forms' data.
type deviceFormData struct {
	Device   Device // zero for a new one
	Packages []Package
	Bouquets []BouquetSummary
	Can      map[string]bool
}

// deviceCreatedData shows a registered device and, when one was made, its line's password.
type deviceCreatedData struct {
	Device CreatedDevice
}

func (a *API) devicesPage(w *webCall) error {
	q := requestQuery(w.c)
	v := w.view("MAG devices", "/devices", nil)
	page, err := webRun[Page[Device]](w, "listDevices", q, nil)
	if err != nil {
		if !v.refused(err) {
			return err
		}
		page = Page[Device]{Items: []Device{}}
	}
	v.Data = devicesData{listData: webList(page, q, "/admin/devices"), Can: w.can(deviceOpIDs...)}
	v.Notice = notice(w.c, deviceNotices)
	return a.render(w.c, "devices", v)
}

// deviceForm is the view of the device form: for a new device, the packages and bouquets its
// new line may get.
func (a *API) deviceForm(w *webCall, title string, d deviceFormData) (*view, error) {
	d.Can = w.can(deviceOpIDs...)
	if d.Device.ID == 0 {
		var err error
		if d.Packages, err = a.webPackages(w); err != nil {
			return nil, err
		}
		if d.Bouquets, err = a.webBouquets(w); err != nil {
			return nil, err
		}
	}
	return w.view(title, "/devices", d), nil
}

func (a *API) deviceNewPage(w *webCall) error {
	if !w.may("createDevice") {
		return a.forbidden(w)
	}
	v, err := a.deviceForm(w, "Register a MAG device", deviceFormData{})
	if err != nil {
		return err
	}
	return a.render(w.c, "device_edit", v)
}

func (a *API) deviceCreate(w *webCall) error {
	form, err := a.lineByUsername(w, formValues(w.c))
	var out CreatedDevice
	if err == nil {
		out, err = webSubmitForm[CreatedDevice](w, "createDevice", form)
	}
	if err != nil {
		v, ferr := a.deviceForm(w, "Register a MAG device", deviceFormData{})
		if ferr != nil {
			return ferr
		}
		return a.renderForm(w, "device_edit", v, err)
	}
	v := w.view("MAG device registered", "/devices", deviceCreatedData{Device: out})
	v.Status = fiber.StatusCreated
	return a.render(w.c, "device_created", v)
}

// lineByUsername lets a device form name its line by username (the field "line"): the
// operation takes line_id. The lookup sees only the lines the caller may see, so a reseller
// cannot learn that another reseller's username exists.
func (a *API) lineByUsername(w *webCall, form url.Values) (url.Values, error) {
	name := strings.TrimSpace(form.Get("line"))
	if name == "" {
		return form, nil
	}
	l, err := a.d.Accounts.LineByUsername(w.c.UserContext(), w.p.Principal, name)
	var fe *accounts.FieldError
	switch {
	case errors.As(err, &fe):
		return form, refuse("line", "no such line of yours")
	case err != nil:
		return form, err
	}
	form.Set("line_id", strconv.FormatInt(l.ID, 10))
	return form, nil
}

func (a *API) devicePage(w *webCall) error {
	d, err := webRun[Device](w, "getDevice", nil, nil)
	if err != nil {
		return a.failed(w, "MAG device", "/devices", err)
	}
	v, err := a.deviceForm(w, "MAG device "+d.MAC, deviceFormData{Device: d})
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, deviceNotices)
	return a.render(w.c, "device_edit", v)
}

func (a *API) deviceUpdate(w *webCall) error {
	form, err := a.lineByUsername(w, formValues(w.c))
	var d Device
	if err == nil {
		d, err = webSubmitForm[Device](w, "updateDevice", form)
	}
	if err != nil {
		cur, gerr := webRun[Device](w, "getDevice", nil, nil)
		if gerr != nil {
			return a.failed(w, "MAG device", "/devices", gerr)
		}
		v, ferr := a.deviceForm(w, "MAG device "+cur.MAC, deviceFormData{Device: cur})
		if ferr != nil {
			return ferr
		}
		return a.renderForm(w, "device_edit", v, err)
	}
	return w.c.Redirect("/admin/devices/"+strconv.FormatInt(d.ID, 10)+"?done=saved", fiber.StatusSeeOther)
}

// deviceLock locks or unlocks a device from the list (lock_device=true|false).
func (a *API) deviceLock(w *webCall) error {
	d, err := webSubmit[Device](w, "updateDevice")
	if err != nil {
		return a.failed(w, "MAG device", "/devices", err)
	}
	done := "unlocked"
	if d.LockDevice {
		done = "locked"
	}
	return w.c.Redirect("/admin/devices?done="+done, fiber.StatusSeeOther)
}

func (a *API) deviceDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deleteDevice"); err != nil {
		return a.failed(w, "MAG device", "/devices", err)
	}
	return w.c.Redirect("/admin/devices?done=deleted", fiber.StatusSeeOther)
}
