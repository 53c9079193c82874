package admin

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The security pages: the blocked IPs and networks (with a reason and an expiry), user agents,
// ISPs and autonomous systems, and the allowed countries, each over /api/v1/security's
// operations (an admin changes them; a viewer reads them; a reseller has no page). A change
// reaches every instance's check within a second, as through the API.

// secList is one blocked list's pages: its path under /admin/security, its title and its
// operations (list, add, remove); T is its row.
type secList[T any] struct {
	slug, title          string
	list, create, remove string
}

var (
	secIPs   = secList[BlockedIP]{"ips", "Blocked IPs and networks", "listBlockedIPs", "blockIP", "unblockIP"}
	secUAs   = secList[BlockedUserAgent]{"user-agents", "Blocked user agents", "listBlockedUserAgents", "blockUserAgent", "unblockUserAgent"}
	secISPs  = secList[BlockedISP]{"isps", "Blocked ISPs and ASNs", "listBlockedISPs", "blockISP", "unblockISP"}
	secTabs  = []navItem{{Label: "IPs and networks", Path: "/security/ips"}, {Label: "User agents", Path: "/security/user-agents"}, {Label: "ISPs and ASNs", Path: "/security/isps"}, {Label: "Countries", Path: "/security/countries"}}
	secTexts = map[string]string{"added": "Added to the list; every instance applies it within a second.",
		"removed": "Removed from the list.", "countries": "The allowed countries were saved."}
)

// webPanelRoutes are the routes of the panel-wide pages: security lists, settings, the
// activity and audit logs.
func (a *API) webPanelRoutes() []webRoute {
	return slices.Concat(a.webSecurityRoutes(), a.webSettingsRoutes(), a.webLogRoutes())
}

func (a *API) webSecurityRoutes() []webRoute {
	routes := []webRoute{
		{Method: fiber.MethodGet, Path: "/security", Roles: staff, Handler: secIPs.page},
		{Method: fiber.MethodGet, Path: "/security/countries", Roles: staff, Handler: a.countriesPage},
		{Method: fiber.MethodPost, Path: "/security/countries", Roles: staff, Handler: a.countriesSubmit},
	}
	return slices.Concat(routes, secIPs.routes(), secUAs.routes(), secISPs.routes())
}

// securityData is a security page's data: the list's rows (T), which list it is, the tabs
// between the lists and what the caller may change.
type securityData[T any] struct {
	listData[T]
	tabs
	List      string
	Countries string // the allowed countries, one a line
	Can       map[string]bool
}

// tabs are the links between the pages of one section (the "tabs" template).
type tabs struct {
	Tabs      []navItem
	TabPath   string // the current page's
	TabsLabel string
}

func secTabsAt(slug string) tabs {
	return tabs{Tabs: secTabs, TabPath: "/security/" + slug, TabsLabel: "Security lists"}
}

func (l secList[T]) routes() []webRoute {
	path := "/security/" + l.slug
	return []webRoute{
		{Method: fiber.MethodGet, Path: path, Roles: staff, Handler: l.page},
		{Method: fiber.MethodPost, Path: path, Roles: staff, Handler: l.add},
		{Method: fiber.MethodPost, Path: path + "/:id/delete", Roles: staff, Handler: l.delete},
	}
}

// view is the list's page with the rows of the request's filters; a refused filter shows next
// to its field over an empty list.
func (l secList[T]) view(w *webCall) (*view, error) {
	q := requestQuery(w.c)
	v := w.view(l.title, "/security", nil)
	rows, err := webRun[Page[T]](w, l.list, q, nil)
	if err != nil {
		if !v.refused(err) {
			return nil, err
		}
		rows = Page[T]{Items: []T{}}
	}
	v.Data = securityData[T]{listData: webList(rows, q, "/admin/security/"+l.slug), List: l.slug,
		tabs: secTabsAt(l.slug), Can: w.can(l.create, l.remove)}
	return v, nil
}

func (l secList[T]) page(w *webCall) error {
	v, err := l.view(w)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, secTexts)
	return w.a.render(w.c, "security", v)
}

// add runs the list's add operation with the posted form, back to the list or to the form
// with its refusal.
func (l secList[T]) add(w *webCall) error {
	return l.change(w, l.create, "added")
}

func (l secList[T]) delete(w *webCall) error {
	if _, ok := w.pathID("id"); !ok {
		return w.a.notFound(w, "entry")
	}
	return l.change(w, l.remove, "removed")
}

func (l secList[T]) change(w *webCall, opID, done string) error {
	_, err := webSubmit[any](w, opID)
	if err == nil {
		return w.c.Redirect("/admin/security/"+l.slug+"?done="+done, fiber.StatusSeeOther)
	}
	v, verr := l.view(w)
	if verr != nil {
		return verr
	}
	return w.a.renderForm(w, "security", v, err)
}

// countriesView is the allowed countries' page.
func (a *API) countriesView(w *webCall) (*view, error) {
	cur, err := webRun[AllowedCountries](w, "getAllowedCountries", nil, nil)
	if err != nil {
		return nil, err
	}
	return w.view("Allowed countries", "/security", securityData[struct{}]{List: "countries", tabs: secTabsAt("countries"),
		Countries: strings.Join(cur.Countries, "\n"), Can: w.can("setAllowedCountries")}), nil
}

func (a *API) countriesPage(w *webCall) error {
	v, err := a.countriesView(w)
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, secTexts)
	return a.render(w.c, "security", v)
}

// countriesSubmit replaces the allowed countries with the codes typed (one a line, or
// separated by commas or spaces).
func (a *API) countriesSubmit(w *webCall) error {
	form := formValues(w.c)
	form.Set("countries", strings.Join(splitItems(form.Get("countries"), true), "\n"))
	form.Set("_fields", "countries")
	_, err := webSubmitForm[AllowedCountries](w, "setAllowedCountries", form)
	if err == nil {
		return w.c.Redirect("/admin/security/countries?done=countries", fiber.StatusSeeOther)
	}
	v, verr := a.countriesView(w)
	if verr != nil {
		return verr
	}
	return a.renderForm(w, "security", v, err)
}
