package device

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The partner side of second-screen activation (seed 001): a partner backend that asked for a
// code on a device's behalf polls for its outcome (step 4, with the code's notAfter), lists a
// device's authenticated profiles (step 2), and logs a device out (step 7). Answers are JSON,
// refusals RFC 9457 problems.

// The problem types of these routes (RFC 9457 "type"): the same names as /api/v1's.
const (
	problemInvalid      = "urn:xtreamd:problem:invalid-request"
	problemUnauthorized = "urn:xtreamd:problem:unauthorized"
	problemForbidden    = "urn:xtreamd:problem:forbidden"
	problemNotFound     = "urn:xtreamd:problem:not-found"
	problemUnavailable  = "urn:xtreamd:problem:unavailable"
)

func writeProblem(c *fiber.Ctx, status int, typ, detail, field string) error {
	if status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="xtreamd", error="invalid_token"`)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return edge.WriteProblem(c, edge.Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail, Field: field})
}

func (h *Handler) problemUnavailable(c *fiber.Ctx, what string, err error) error {
	h.log.ErrorContext(c.UserContext(), "request failed", "route", what, "err", err)
	c.Set(fiber.HeaderRetryAfter, "5")
	return writeProblem(c, fiber.StatusServiceUnavailable, problemUnavailable, "try again shortly", "")
}

// deviceProfiles authenticates the partner and reads the profiles of the device the request
// names; ok false: the request was refused, and answered (err is the answer's).
func (h *Handler) deviceProfiles(c *fiber.Ctx) (p authPartner, dev string, ps []activation.Profile, ok bool, err error) {
	if p, ok, err = h.partner(c); !ok {
		return p, "", nil, false, err
	}
	if dev, ok = deviceHeader(c); !ok {
		return p, "", nil, false, writeProblem(c, fiber.StatusBadRequest, problemInvalid,
			"the device is named by "+HeaderDeviceIdentifier, HeaderDeviceIdentifier)
	}
	if ps, err = h.devices.Profiles(c.UserContext(), p.ClientID, dev); err != nil {
		return p, "", nil, false, h.problemUnavailable(c, "profiles", err)
	}
	return p, dev, ps, true, nil
}

// deviceHeader is the device a profiles request is about (seed 001's AP-Device-Identifier).
func deviceHeader(c *fiber.Ctx) (string, bool) {
	v := strings.TrimSpace(c.Get(HeaderDeviceIdentifier))
	if v == "" || !input.Text(v, maxDeviceID) {
		return "", false
	}
	return strings.Clone(v), true
}

// profileJSON is an authenticated profile on the wire (seed 001's notBefore / notAfter, in Unix
// seconds; notAfter null: the line never expires).
type profileJSON struct {
	Type      string     `json:"type"` // xtream or mag
	NotBefore int64      `json:"notBefore"`
	NotAfter  *int64     `json:"notAfter"`
	Line      lineJSON   `json:"line"`
	Device    deviceJSON `json:"device"`
}

type lineJSON struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// deviceJSON is the device and, once it picked it up, its credential (never a password).
type deviceJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	CredentialID int64  `json:"credentialId,omitempty"`
	Username     string `json:"username,omitempty"` // an Xtream credential's
	MAC          string `json:"mac,omitempty"`      // a MAG box's
}

func profileOf(p activation.Profile) profileJSON {
	out := profileJSON{Type: p.Kind, NotBefore: p.NotBefore.Unix(), Line: lineJSON{ID: p.Line.ID, Username: p.Line.Username},
		Device: deviceJSON{ID: p.DeviceID, Name: p.DeviceName}}
	if p.NotAfter != nil {
		n := p.NotAfter.Unix()
		out.NotAfter = &n
	}
	if k := p.Credential; k != nil {
		out.Device.CredentialID = k.ID
		if k.Username != nil {
			out.Device.Username = *k.Username
		}
		if k.MAC != nil {
			out.Device.MAC = *k.MAC
		}
	}
	return out
}

// profiles answers GET /api/v2/{partner}/profiles: the device's profiles of this partner, but
// those of lines outside its scope.
func (h *Handler) profiles(c *fiber.Ctx) error {
	p, _, ps, ok, err := h.deviceProfiles(c)
	if !ok {
		return err
	}
	out := struct {
		Profiles []profileJSON `json:"profiles"`
	}{Profiles: []profileJSON{}}
	for _, pr := range ps {
		if p.mayActFor(&pr.Line) {
			out.Profiles = append(out.Profiles, profileOf(pr))
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// codeStateJSON is a code's outcome so far: poll while status is pending, and not after
// notAfter (seed 001 step 4).
type codeStateJSON struct {
	Code     string       `json:"code"`
	Status   string       `json:"status"`
	NotAfter int64        `json:"notAfter"`
	Profile  *profileJSON `json:"profile"`
}

// profileByCode answers GET /api/v2/{partner}/profiles/code/{code}.
func (h *Handler) profileByCode(c *fiber.Ctx) error {
	p, ok, err := h.partner(c)
	if !ok {
		return err
	}
	code, perr := activation.ParseUserCode(c.Params("code"))
	if perr != nil {
		return writeProblem(c, fiber.StatusBadRequest, problemInvalid, "not a user code (8 letters, XXXX-XXXX)", "code")
	}
	st, err := h.devices.CodeState(c.UserContext(), p.ClientID, code)
	if errors.Is(err, activation.ErrNoSuchCode) {
		return writeProblem(c, fiber.StatusNotFound, problemNotFound, "no code of this partner has this user code", "code")
	}
	if err != nil {
		return h.problemUnavailable(c, "profile by code", err)
	}
	out := codeStateJSON{Code: code.String(), Status: st.Status, NotAfter: st.NotAfter.Unix()}
	if st.Profile != nil {
		if !p.mayActFor(&st.Profile.Line) {
			return writeProblem(c, fiber.StatusForbidden, problemForbidden, "the line signed in is outside this partner's scope", "code")
		}
		pj := profileOf(*st.Profile)
		out.Profile = &pj
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// logoutProfiles answers DELETE /api/v2/{partner}/profiles: the device's credentials of this
// partner are revoked (seed 001 step 7); nothing interactive remains to do.
func (h *Handler) logoutProfiles(c *fiber.Ctx) error {
	p, dev, ps, ok, err := h.deviceProfiles(c)
	if !ok {
		return err
	}
	for _, pr := range ps {
		if !p.mayActFor(&pr.Line) {
			return writeProblem(c, fiber.StatusForbidden, problemForbidden, "the device holds a line outside this partner's scope", "")
		}
	}
	n, err := h.devices.LogoutDevice(c.UserContext(), p.ClientID, dev, h.clientIP(c))
	if err != nil {
		return h.problemUnavailable(c, "logout", err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(loggedOut(n))
}
