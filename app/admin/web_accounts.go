package admin

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// The accounts pages: admins, resellers and viewers (listAdmins: a reseller sees itself and
// the resellers below it), a new account with its password shown once, an account's page
// (its settings, credits given or taken with its ledger, a password reset, deletion), and
// the packages resellers sell (admins change them; resellers see the enabled ones).

func (a *API) webAccountRoutes() []webRoute {
	admins := []accounts.Role{accounts.RoleAdmin}
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/accounts", Handler: a.accountsPage},
		{Method: fiber.MethodPost, Path: "/accounts", Handler: a.accountCreate},
		{Method: fiber.MethodGet, Path: "/accounts/:id", Handler: a.accountPage},
		{Method: fiber.MethodPost, Path: "/accounts/:id", Handler: a.accountUpdate},
		{Method: fiber.MethodPost, Path: "/accounts/:id/:action", Handler: a.accountAct},
		{Method: fiber.MethodGet, Path: "/packages", Handler: a.packagesPage},
		{Method: fiber.MethodPost, Path: "/packages", Roles: admins, Handler: a.packageCreate},
		{Method: fiber.MethodGet, Path: "/packages/:id", Roles: admins, Handler: a.packagePage},
		{Method: fiber.MethodPost, Path: "/packages/:id", Roles: admins, Handler: a.packageUpdate},
		{Method: fiber.MethodPost, Path: "/packages/:id/delete", Roles: admins, Handler: a.packageDelete},
	}
}

// accountsData is the accounts list's data.
type accountsData struct {
	listData[Admin]
	Created *CreatedAdmin // a new account, its password shown once
}

var accountNotices = map[string]string{"saved": "The account was saved.", "deleted": "The account was deleted.",
	"credits": "The credits were moved.", "package-saved": "The package was saved.", "package-deleted": "The package was deleted."}

func (a *API) accountsList(w *webCall, v *view) (accountsData, error) {
	q := requestQuery(w.c)
	page, err := webRun[Page[Admin]](w, "listAdmins", q, nil)
	if err != nil {
		if !v.refused(err) {
			return accountsData{}, err
		}
		page = Page[Admin]{Items: []Admin{}}
	}
	return accountsData{listData: webList(page, q, "/admin/accounts")}, nil
}

func (a *API) accountsPage(w *webCall) error {
	v := w.view("Accounts", "/accounts", nil)
	d, err := a.accountsList(w, v)
	if err != nil {
		return err
	}
	v.Data, v.Notice = d, notice(w.c, accountNotices)
	return a.render(w.c, "accounts", v)
}

func (a *API) accountCreate(w *webCall) error {
	created, err := webSubmit[CreatedAdmin](w, "createAdmin")
	v := w.view("Accounts", "/accounts", nil)
	d, lerr := a.accountsList(w, v)
	if lerr != nil {
		return lerr
	}
	v.Data = d
	if err != nil {
		return a.renderForm(w, "accounts", v, err)
	}
	d.Created = &created
	v.Data, v.Status = d, fiber.StatusCreated
	return a.render(w.c, "accounts", v)
}

// accountData is an account page's data.
type accountData struct {
	Account  Admin
	Ledger   []LedgerEntry
	Password string // a reset password, shown once
}

func (a *API) accountView(w *webCall) (*view, error) {
	ad, err := webRun[Admin](w, "getAdmin", nil, nil)
	if err != nil {
		return nil, err
	}
	d := accountData{Account: ad}
	if ad.Role == string(accounts.RoleReseller) {
		l, err := webRun[Page[LedgerEntry]](w, "listCreditMoves", url.Values{"limit": {"20"}}, nil)
		if err != nil {
			return nil, err
		}
		d.Ledger = l.Items
	}
	return w.view("Account "+ad.Username, "/accounts", d), nil
}

func (a *API) accountPage(w *webCall) error {
	v, err := a.accountView(w)
	if err != nil {
		return a.renderForm(w, "message", w.view("Account", "/accounts", nil), err)
	}
	v.Notice = notice(w.c, accountNotices)
	return a.render(w.c, "account_edit", v)
}

func (a *API) accountUpdate(w *webCall) error {
	return a.accountChange(w, "updateAdmin", "saved")
}

// accountChange runs an account's change opID from its page's form and comes back to the
// page with done, or with the refusal.
func (a *API) accountChange(w *webCall, opID, done string) error {
	_, err := webSubmit[any](w, opID)
	if err == nil {
		return w.c.Redirect("/admin/accounts/"+w.c.Params("id")+"?done="+done, fiber.StatusSeeOther)
	}
	v, verr := a.accountView(w)
	if verr != nil {
		return a.renderForm(w, "message", w.view("Account", "/accounts", nil), verr)
	}
	return a.renderForm(w, "account_edit", v, err)
}

func (a *API) accountAct(w *webCall) error {
	if _, err := strconv.ParseInt(w.c.Params("id"), 10, 64); err != nil {
		return a.webFail(w.c, fiber.StatusNotFound, "There is no such account.")
	}
	switch w.c.Params("action") {
	case "credits":
		return a.accountChange(w, "moveCredits", "credits")
	case "delete":
		if _, err := webSubmit[NoContent](w, "deleteAdmin"); err != nil {
			return a.renderForm(w, "message", w.view("Account", "/accounts", nil), err)
		}
		return w.c.Redirect("/admin/accounts?done=deleted", fiber.StatusSeeOther)
	case "reset-password":
		np, err := webSubmit[NewPassword](w, "resetAdminPassword")
		v, verr := a.accountView(w)
		if verr != nil {
			return verr
		}
		if err != nil {
			return a.renderForm(w, "account_edit", v, err)
		}
		d := v.Data.(accountData)
		d.Password = np.Password
		v.Data = d
		v.Notice = "The password was reset; every login of the account ended."
		return a.render(w.c, "account_edit", v)
	}
	return a.webFail(w.c, fiber.StatusNotFound, "There is no such action.")
}

// packagesData is the packages page's data.
type packagesData struct {
	Packages []Package
	Bouquets []BouquetSummary
	Package  Package // the one being edited
}

func (a *API) packagesView(w *webCall, title string) (*view, error) {
	pkgs, err := webRun[Page[Package]](w, "listPackages", url.Values{"limit": {"1000"}}, nil)
	if err != nil {
		return nil, err
	}
	d := packagesData{Packages: pkgs.Items}
	if w.p.Role == accounts.RoleAdmin {
		if d.Bouquets, err = a.webBouquets(w); err != nil {
			return nil, err
		}
	}
	return w.view(title, "/packages", d), nil
}

func (a *API) packagesPage(w *webCall) error {
	v, err := a.packagesView(w, "Packages")
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, accountNotices)
	return a.render(w.c, "packages", v)
}

func (a *API) packageCreate(w *webCall) error {
	if _, err := webSubmit[Package](w, "createPackage"); err != nil {
		v, verr := a.packagesView(w, "Packages")
		if verr != nil {
			return verr
		}
		return a.renderForm(w, "packages", v, err)
	}
	return w.c.Redirect("/admin/packages?done=package-saved", fiber.StatusSeeOther)
}

func (a *API) packagePage(w *webCall) error { return a.packageEdit(w, nil) }

// packageEdit renders a package's edit form, with the error of a refused change (nil: none).
func (a *API) packageEdit(w *webCall, formErr error) error {
	p, err := webRun[Package](w, "getPackage", nil, nil)
	if err != nil {
		return a.renderForm(w, "message", w.view("Package", "/packages", nil), err)
	}
	v, err := a.packagesView(w, "Package "+p.Name)
	if err != nil {
		return err
	}
	d := v.Data.(packagesData)
	d.Package = p
	v.Data = d
	if formErr == nil {
		return a.render(w.c, "package_edit", v)
	}
	return a.renderForm(w, "package_edit", v, formErr)
}

func (a *API) packageUpdate(w *webCall) error {
	if _, err := webSubmit[Package](w, "updatePackage"); err != nil {
		return a.packageEdit(w, err)
	}
	return w.c.Redirect("/admin/packages?done=package-saved", fiber.StatusSeeOther)
}

func (a *API) packageDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deletePackage"); err != nil {
		return a.renderForm(w, "message", w.view("Package", "/packages", nil), err)
	}
	return w.c.Redirect("/admin/packages?done=package-deleted", fiber.StatusSeeOther)
}
