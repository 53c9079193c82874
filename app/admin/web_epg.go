package admin

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// The EPG sources page: the XMLTV guides the server fetches on its schedule, each with when it
// was last fetched and why that failed, a form for a new one, a page per source to change or
// remove it, and "Refresh now", which starts the same background import job as
// POST /api/v1/epg-sources/{id}/refresh and opens that job's page to watch it. The operations
// are /api/v1/epg-sources'.

var epgOpIDs = []string{"createEPGSource", "updateEPGSource", "deleteEPGSource", "refreshEPGSource"}

var epgNotices = map[string]string{
	"created": "The source was added; it is fetched at the next scheduled refresh, or now with Refresh now.",
	"saved":   "The source was saved.", "deleted": "The source was removed; the guide it brought stays until it ages out.",
}

// epgSourcesData is the EPG sources page's data.
type epgSourcesData struct {
	Items []EPGSource
	Can   map[string]bool
}

// epgSourceData is a source's page.
type epgSourceData struct {
	Source EPGSource
	Can    map[string]bool
}

func (a *API) webEPGRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/epg", Roles: staff, Handler: a.epgSourcesPage},
		{Method: fiber.MethodPost, Path: "/epg", Roles: staff, Handler: a.epgSourceCreate},
		{Method: fiber.MethodGet, Path: "/epg/:id", Roles: staff, Handler: a.epgSourcePage},
		{Method: fiber.MethodPost, Path: "/epg/:id", Roles: staff, Handler: a.epgSourceUpdate},
		{Method: fiber.MethodPost, Path: "/epg/:id/delete", Roles: staff, Handler: a.epgSourceDelete},
		{Method: fiber.MethodPost, Path: "/epg/:id/refresh", Roles: staff, Handler: a.epgSourceRefresh},
	}
}

// epgSourcesView is the list of sources.
func (a *API) epgSourcesView(w *webCall) (*view, error) {
	list, err := webRun[EPGSources](w, "listEPGSources", nil, nil)
	if err != nil {
		return nil, err
	}
	return w.view("EPG sources", "/epg", epgSourcesData{Items: list.Items, Can: w.can(epgOpIDs...)}), nil
}

func (a *API) epgSourcesPage(w *webCall) error {
	v, err := a.epgSourcesView(w)
	if err != nil {
		return a.failed(w, "EPG sources", "/epg", err)
	}
	v.Notice = notice(w.c, epgNotices)
	return a.render(w.c, "epg_sources", v)
}

// epgSourcesRefused shows the list again with a refused new source or refresh.
func (a *API) epgSourcesRefused(w *webCall, err error) error {
	return a.refusedOn(w, "epg_sources", "EPG sources", "/epg", err, func() (*view, error) { return a.epgSourcesView(w) })
}

func (a *API) epgSourceCreate(w *webCall) error {
	if _, err := webSubmit[EPGSource](w, "createEPGSource"); err != nil {
		return a.epgSourcesRefused(w, err)
	}
	return w.c.Redirect("/admin/epg?done=created", fiber.StatusSeeOther)
}

// epgSourceView is source :id's page (nil view: err is the refusal to show).
func (a *API) epgSourceView(w *webCall) (*view, error) {
	s, err := webRun[EPGSource](w, "getEPGSource", nil, nil)
	if err != nil {
		return nil, err
	}
	return w.view("EPG source "+s.Name, "/epg", epgSourceData{Source: s, Can: w.can(epgOpIDs...)}), nil
}

func (a *API) epgSourcePage(w *webCall) error {
	v, err := a.epgSourceView(w)
	if err != nil {
		return a.failed(w, "EPG source", "/epg", err)
	}
	v.Notice = notice(w.c, epgNotices)
	return a.render(w.c, "epg_source", v)
}

func (a *API) epgSourceUpdate(w *webCall) error {
	s, err := webSubmit[EPGSource](w, "updateEPGSource")
	if err == nil {
		return w.c.Redirect(fmt.Sprintf("/admin/epg/%d?done=saved", s.ID), fiber.StatusSeeOther)
	}
	return a.refusedOn(w, "epg_source", "EPG source", "/epg", err, func() (*view, error) { return a.epgSourceView(w) })
}

func (a *API) epgSourceDelete(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "deleteEPGSource"); err != nil {
		return a.failed(w, "EPG source", "/epg", err)
	}
	return w.c.Redirect("/admin/epg?done=deleted", fiber.StatusSeeOther)
}

// epgSourceRefresh starts the source's import now and opens the job's page.
func (a *API) epgSourceRefresh(w *webCall) error {
	j, err := webSubmit[ImportJob](w, "refreshEPGSource")
	if err != nil {
		return a.epgSourcesRefused(w, err)
	}
	return w.c.Redirect(fmt.Sprintf("/admin/imports/%d", j.ID), fiber.StatusSeeOther)
}
