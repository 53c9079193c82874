package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/store"
)

// A line's device credentials: what second-screen activation handed to its devices (an Xtream
// username and password of their own, or a MAG box's MAC bound to the line), listed and
// revoked one device at a time. The domain is internal/device.

// DeviceCredential is a device credential as the API shows it (never its password or hash).
type DeviceCredential struct {
	ID         int64     `json:"id"`
	LineID     int64     `json:"line_id"`
	Kind       string    `json:"kind" api:"enum=xtream|mag" doc:"xtream: a username and password of its own; mag: a MAG box's MAC bound to the line."`
	Username   *string   `json:"username" doc:"An xtream credential's username (players log in with it and its password); null for a MAG box."`
	MAC        *string   `json:"mac" doc:"A MAG box's MAC; null for an xtream credential."`
	ClientID   string    `json:"client_id" doc:"The app that asked for the code (its OAuth client id)."`
	DeviceID   string    `json:"device_id" doc:"The device's own identifier (a MAG box's MAC)."`
	DeviceName string    `json:"device_name"`
	CreatedAt  time.Time `json:"created_at" doc:"When it was approved (MAG) or picked up (xtream)."`
}

func deviceCredentialOf(c store.DeviceCredential) DeviceCredential {
	return DeviceCredential{ID: c.ID, LineID: c.LineID, Kind: c.Kind, Username: c.Username, MAC: c.MAC, ClientID: c.ClientID,
		DeviceID: c.DeviceID, DeviceName: c.DeviceName, CreatedAt: c.CreatedAt}
}

// byLineAndCredential are the parameters of one credential of one line.
type byLineAndCredential struct {
	ID           int64 `path:"id" api:"min=1" doc:"The line's id."`
	CredentialID int64 `path:"credential_id" api:"min=1" doc:"The device credential's id."`
}

func (a *API) deviceCredentialOps() []Op {
	const tag = "Device credentials"
	return []Op{
		{Method: fiber.MethodGet, Path: "/lines/{id}/device-credentials", ID: "listLineDeviceCredentials", Tag: tag,
			Summary: "List a line's device credentials",
			Doc:     "What second-screen activation gave the line's devices, oldest first (at most 20, one page).",
			Perm:    Perm{Scope: "lines"}, Handler: Handle(a.listDeviceCredentials)},
		{Method: fiber.MethodDelete, Path: "/lines/{id}/device-credentials/{credential_id}", ID: "revokeLineDeviceCredential",
			Tag: tag, Summary: "Revoke a device credential",
			Doc: "The device is signed out on every instance within a second and its open streams end; the line and its " +
				"other devices are untouched. A MAG box's binding to the line is removed with it.",
			Perm: Perm{Scope: "lines", Write: true}, Handler: Handle(a.revokeDeviceCredential)},
	}
}

func (a *API) listDeviceCredentials(c *Call, in ByID, _ NoBody) (Page[DeviceCredential], error) {
	rows, err := a.d.Activation.Credentials(c.Context(), c.Principal, in.ID)
	if err != nil {
		return Page[DeviceCredential]{}, err
	}
	out := make([]DeviceCredential, len(rows))
	for i, r := range rows {
		out[i] = deviceCredentialOf(r)
	}
	return Page[DeviceCredential]{Items: out}, nil
}

func (a *API) revokeDeviceCredential(c *Call, in byLineAndCredential, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Activation.Revoke(c.Context(), c.Principal, in.ID, in.CredentialID)
}
