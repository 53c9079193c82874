package admin

import (
	"github.com/gofiber/fiber/v2"
)

// The live connections page: every instance's open viewer connections (listConnections: a
// reseller sees its own lines'), filtered, with a kill button each (killConnection). Its table
// body refreshes itself every few seconds from /admin/connections/rows, the same rows
// rendered alone, so the page never reloads; the table's fixed layout and reserved height
// keep it from jumping.

func (a *API) webConnectionRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/connections", Handler: a.connectionsPage},
		{Method: fiber.MethodGet, Path: "/connections/rows", Handler: a.connectionRows},
		{Method: fiber.MethodPost, Path: "/connections/:id/kill", Handler: a.connectionKill},
	}
}

// connRow is a connection with its stream's name, as the table shows it.
type connRow struct {
	Connection
	StreamName string
}

// connectionsData is the page's data.
type connectionsData struct {
	listData[connRow]
	Query string // the filters as a query string, for the rows' refresh URL
}

var connNotices = map[string]string{"killed": "The connection was killed; its stream ends within a second."}

func (a *API) connectionsData(w *webCall, v *view) (connectionsData, error) {
	q := requestQuery(w.c)
	page, err := webRun[Page[Connection]](w, "listConnections", q, nil)
	if err != nil {
		if !v.refused(err) {
			return connectionsData{}, err
		}
		page = Page[Connection]{Items: []Connection{}}
	}
	snap := a.d.Catalog.Current()
	rows := make([]connRow, len(page.Items))
	for i, c := range page.Items {
		rows[i] = connRow{Connection: c}
		if s, ok := snap.Stream(c.StreamID); ok {
			rows[i].StreamName = s.Name
		}
	}
	d := connectionsData{listData: webList(Page[connRow]{Items: rows, NextCursor: page.NextCursor}, q, "/admin/connections"),
		Query: pageQuery(q)}
	return d, nil
}

func (a *API) connectionsPage(w *webCall) error {
	v := w.view("Live connections", "/connections", nil)
	d, err := a.connectionsData(w, v)
	if err != nil {
		return err
	}
	v.Data, v.Notice = d, notice(w.c, connNotices)
	return a.render(w.c, "connections", v)
}

// connectionRows is the table body alone, for the page's refresh.
func (a *API) connectionRows(w *webCall) error {
	v := w.view("Live connections", "/connections", nil)
	d, err := a.connectionsData(w, v)
	if err != nil {
		return err
	}
	v.Data = d
	return a.renderPartial(w.c, "connections", "rows", v)
}

func (a *API) connectionKill(w *webCall) error {
	if _, err := webSubmit[NoContent](w, "killConnection"); err != nil {
		v := w.view("Live connections", "/connections", nil)
		d, derr := a.connectionsData(w, v)
		if derr != nil {
			return derr
		}
		v.Data = d
		return a.renderForm(w, "connections", v, err)
	}
	return w.c.Redirect("/admin/connections?done=killed", fiber.StatusSeeOther)
}
