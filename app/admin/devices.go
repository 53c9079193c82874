package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Device is a MAG device as the API shows it (never its session token or parental PIN).
type Device struct {
	ID           int64     `json:"id"`
	MAC          string    `json:"mac" doc:"Upper case, colon-separated: 00:1A:79:12:34:56."`
	LineID       int64     `json:"line_id" doc:"The line the box plays as."`
	Username     string    `json:"username" doc:"The line's username."`
	SerialNumber string    `json:"serial_number" doc:"As the box last reported it."`
	STBType      string    `json:"stb_type"`
	ImageVersion string    `json:"image_version"`
	LockDevice   bool      `json:"lock_device" doc:"Only the box with the recorded serial number and ids may use the MAC."`
	Locale       string    `json:"locale"`
	Timezone     string    `json:"timezone"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func deviceOf(d store.DeviceRecord) Device {
	return Device{ID: d.ID, MAC: d.MAC, LineID: d.LineID, Username: d.Username, SerialNumber: d.SerialNumber,
		STBType: d.STBType, ImageVersion: d.ImageVersion, LockDevice: d.LockDevice, Locale: d.Locale, Timezone: d.Timezone,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// DeviceCreate is POST /devices's body: a MAC, bound to an existing line or to a new one.
type DeviceCreate struct {
	MAC    string `json:"mac" api:"required" pattern:"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$" doc:"Any case, : or - separated; stored upper case with colons."`
	LineID *int64 `json:"line_id" api:"min=1" doc:"Bind the box to this line; left out: a new line is made from the other members."`
	LineControls
}

// CreatedDevice is a new device and, when one was made for it, its line with the password
// (shown this once).
type CreatedDevice struct {
	Device
	Line *CreatedLine `json:"line" doc:"The line made for the device, with its password; null when bound to an existing line."`
}

// DevicePatchBody is PATCH /devices/{id}'s body.
type DevicePatchBody struct {
	MAC        *string `json:"mac" pattern:"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$"`
	LineID     *int64  `json:"line_id" api:"min=1"`
	LockDevice *bool   `json:"lock_device"`
}

// deviceQuery are GET /devices's parameters.
type deviceQuery struct {
	PageQuery
	MAC    string `query:"mac" pattern:"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$" doc:"The device with this MAC."`
	LineID int64  `query:"line_id" api:"min=1"`
}

func parseMAC(s, field string) (mag.MAC, error) {
	m, err := mag.ParseMAC(s)
	if err != nil {
		return mag.MAC{}, refuse(field, "not a MAC address")
	}
	return m, nil
}

func (a *API) deviceOps() []Op {
	read, write := Perm{Scope: "devices"}, Perm{Scope: "devices", Write: true}
	return []Op{
		{Method: fiber.MethodGet, Path: "/devices", ID: "listDevices", Tag: "MAG devices", Summary: "List MAG devices",
			Doc: "A reseller sees the devices of its lines.", Perm: read, Handler: Handle(a.listDevices)},
		{Method: fiber.MethodPost, Path: "/devices", ID: "createDevice", Tag: "MAG devices", Summary: "Register a MAG device",
			Doc:  "Binds a MAC to an existing line, or makes a new MAG line for it (credentials generated, the password answered once; a reseller's from a package, paid in credits).",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{404, 409}, Handler: Handle(a.createDevice)},
		{Method: fiber.MethodGet, Path: "/devices/{id}", ID: "getDevice", Tag: "MAG devices", Summary: "Get a MAG device",
			Perm: read, Handler: Handle(a.getDevice)},
		{Method: fiber.MethodPatch, Path: "/devices/{id}", ID: "updateDevice", Tag: "MAG devices", Summary: "Change a MAG device",
			Perm: write, Errors: []int{409}, Handler: Handle(a.updateDevice)},
		{Method: fiber.MethodDelete, Path: "/devices/{id}", ID: "deleteDevice", Tag: "MAG devices", Summary: "Unregister a MAG device",
			Doc: "The line stays.", Perm: write, Handler: Handle(a.deleteDevice)},
	}
}

func (a *API) listDevices(c *Call, q deviceQuery, _ NoBody) (Page[Device], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[Device]{}, bad
	}
	f := store.DeviceFilter{LineID: q.LineID, AfterID: after, Limit: q.limit() + 1}
	if q.MAC != "" {
		m, err := parseMAC(q.MAC, "mac")
		if err != nil {
			return Page[Device]{}, err
		}
		f.MAC = m.String()
	}
	rows, err := a.d.Accounts.ListDevices(c.Context(), c.Principal, f)
	if err != nil {
		return Page[Device]{}, err
	}
	out := make([]Device, len(rows))
	for i, d := range rows {
		out[i] = deviceOf(d)
	}
	return pageOf(out, q.limit(), func(last Device) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createDevice(c *Call, _ NoParams, in DeviceCreate) (CreatedDevice, error) {
	m, err := parseMAC(in.MAC, "mac")
	if err != nil {
		return CreatedDevice{}, err
	}
	nd := accounts.NewDevice{MAC: m, LineID: deref(in.LineID)}
	if nd.Line, err = in.newLine(); err != nil {
		return CreatedDevice{}, err
	}
	d, made, err := a.d.Accounts.AddDevice(c.Context(), c.Principal, nd)
	if err != nil {
		return CreatedDevice{}, err
	}
	out := CreatedDevice{Device: deviceOf(d)}
	if made != nil {
		cl, err := a.created(c, *made)
		if err != nil {
			return CreatedDevice{}, err
		}
		out.Line = &cl
	}
	return out, nil
}

func (a *API) getDevice(c *Call, in ByID, _ NoBody) (Device, error) {
	d, err := a.d.Accounts.Device(c.Context(), c.Principal, in.ID)
	return deviceOf(d), err
}

func (a *API) updateDevice(c *Call, in ByID, body DevicePatchBody) (Device, error) {
	patch := accounts.DevicePatch{LineID: given(body.LineID), LockDevice: given(body.LockDevice)}
	if body.MAC != nil {
		m, err := parseMAC(*body.MAC, "mac")
		if err != nil {
			return Device{}, err
		}
		patch.MAC = accounts.Set(m)
	}
	d, err := a.d.Accounts.UpdateDevice(c.Context(), c.Principal, in.ID, patch)
	return deviceOf(d), err
}

func (a *API) deleteDevice(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.DeleteDevice(c.Context(), c.Principal, in.ID)
}
