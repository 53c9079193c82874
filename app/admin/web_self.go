package admin

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// The caller's own account: the optional TOTP second factor. Enrolment shows a QR code (drawn
// here as SVG squares, no image from elsewhere) and the secret to type; the first right code
// turns it on and shows ten recovery codes, once. Turning it off asks for the password again.

func (a *API) webSelfRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/account", Handler: a.selfPage},
		{Method: fiber.MethodPost, Path: "/account/totp/start", Handler: a.totpStart},
		{Method: fiber.MethodPost, Path: "/account/totp/confirm", Handler: a.totpConfirm},
		{Method: fiber.MethodPost, Path: "/account/totp/disable", Handler: a.totpDisable},
	}
}

// selfData is the account page's data.
type selfData struct {
	Status   accounts.TOTPStatus
	Enrol    *enrolView
	Recovery []string // shown once, right after enabling
}

// enrolView is a started enrolment as the page shows it.
type enrolView struct {
	Secret string
	QRSize int
	QRPath string // SVG path data: numbers and M/h/v/z only
}

var selfNotices = map[string]string{"totp-off": "The second factor is off."}

func (a *API) selfView(w *webCall) (*view, selfData, error) {
	st, err := a.d.Sessions.SecondFactorStatus(w.c.UserContext(), w.p.AdminID())
	if err != nil {
		return nil, selfData{}, err
	}
	d := selfData{Status: st}
	return w.view("My account", "/account", d), d, nil
}

func (a *API) selfPage(w *webCall) error {
	v, _, err := a.selfView(w)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, selfNotices)
	return a.render(w.c, "account", v)
}

func (a *API) totpStart(w *webCall) error {
	v, d, err := a.selfView(w)
	if err != nil {
		return err
	}
	e, err := a.d.Sessions.StartTOTP(w.c.UserContext(), w.p.Principal)
	if err != nil {
		return a.renderForm(w, "account", v, err)
	}
	if d.Enrol, err = enrolOf(e); err != nil {
		return err
	}
	v.Data = d
	return a.render(w.c, "account", v)
}

func (a *API) totpConfirm(w *webCall) error {
	v, d, err := a.selfView(w)
	if err != nil {
		return err
	}
	codes, err := a.d.Sessions.ConfirmTOTP(w.c.UserContext(), w.p.Principal, clip(w.c.FormValue("code"), 64))
	if err != nil {
		if e, perr := a.d.Sessions.PendingTOTP(w.c.UserContext(), w.p.Principal); perr == nil {
			if d.Enrol, perr = enrolOf(e); perr != nil {
				return perr
			}
		}
		v.Data = d
		return a.renderForm(w, "account", v, err)
	}
	d.Status = accounts.TOTPStatus{Enabled: true, RecoveryCodes: len(codes)}
	for _, c := range codes {
		d.Recovery = append(d.Recovery, c.Reveal())
	}
	v.Data, v.Notice = d, "The second factor is on. Every login now asks for a code."
	return a.render(w.c, "account", v)
}

func (a *API) totpDisable(w *webCall) error {
	if err := a.d.Sessions.DisableTOTP(w.c.UserContext(), w.p.Principal, clip(w.c.FormValue("password"), 1024)); err != nil {
		v, _, verr := a.selfView(w)
		if verr != nil {
			return verr
		}
		return a.renderForm(w, "account", v, err)
	}
	return w.c.Redirect("/admin/account?done=totp-off", fiber.StatusSeeOther)
}

// enrolOf draws an enrolment's QR code.
func enrolOf(e accounts.TOTPEnrolment) (*enrolView, error) {
	q, err := qrcode.New(e.URI.Reveal(), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("totp qr code: %w", err)
	}
	bm := q.Bitmap() // with its quiet zone
	var b strings.Builder
	for y, row := range bm {
		for x, on := range row {
			if on {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x, y)
			}
		}
	}
	return &enrolView{Secret: e.Secret.Reveal(), QRSize: len(bm), QRPath: b.String()}, nil
}
