package admin

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The lines pages: a filtered, keyset-paged list (any size: each page costs the same), bulk
// actions on the ticked lines, a create form (credentials generated unless given, the
// password shown once), and a line's page with every control of spec §6.3 and its actions.
// Each goes through the REST operation of the same name (listLines, createLine, updateLine,
// banLine …), so a reseller sees and changes only what the API lets it.

func (a *API) webLineRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/lines", Handler: a.linesPage},
		{Method: fiber.MethodGet, Path: "/lines/new", Handler: a.lineNewPage},
		{Method: fiber.MethodPost, Path: "/lines", Handler: a.lineCreate},
		{Method: fiber.MethodPost, Path: "/lines/bulk-actions", Handler: a.lineBulk},
		{Method: fiber.MethodGet, Path: "/lines/:id", Handler: a.linePage},
		{Method: fiber.MethodPost, Path: "/lines/:id", Handler: a.lineUpdate},
		{Method: fiber.MethodPost, Path: "/lines/:id/:action", Handler: a.lineAct},
	}
}

// listData is a list page's data: its rows, the filters it was asked with, and the next
// page's cursor.
type listData[T any] struct {
	Items   []T
	Filters url.Values
	Next    string
	Path    string // the list page, for the pager's links
}

func webList[T any](p Page[T], filters url.Values, path string) listData[T] {
	d := listData[T]{Items: p.Items, Filters: filters, Path: path}
	if p.NextCursor != nil {
		d.Next = *p.NextCursor
	}
	return d
}

// linesData is the lines page's data.
type linesData struct {
	listData[Line]
	Packages []Package
}

// lineNotices are the messages a line change redirects with (?done=): fixed texts, so a
// link cannot make the page say anything else.
var lineNotices = map[string]string{
	"saved": "The line was saved.", "ban": "The line is banned.", "unban": "The line is no longer banned.",
	"disable": "The line is disabled.", "enable": "The line is enabled.", "extend": "The line was extended.",
	"kill": "Connections killed: ", "deleted": "The line was deleted.", "bulk": "Lines changed: ",
}

// notice is the page's message for ?done= (and ?n=, a count).
func notice(c *fiber.Ctx, texts map[string]string) string {
	msg, ok := texts[c.Query("done")]
	if !ok {
		return ""
	}
	if strings.HasSuffix(msg, ": ") {
		n, _ := strconv.Atoi(c.Query("n"))
		msg += strconv.Itoa(n)
	}
	return msg
}

func (a *API) linesPage(w *webCall) error {
	q := requestQuery(w.c)
	v := w.view("Lines", "/lines", nil)
	page, err := webRun[Page[Line]](w, "listLines", q, nil)
	if err != nil {
		if !v.refused(err) {
			return err
		}
		page = Page[Line]{Items: []Line{}}
	}
	pkgs, err := a.webPackages(w)
	if err != nil {
		return err
	}
	v.Data = linesData{listData: webList(page, q, "/admin/lines"), Packages: pkgs}
	v.Notice = notice(w.c, lineNotices)
	return a.render(w.c, "lines", v)
}

// webPackages are the packages the caller may use (a reseller: the enabled ones), at most
// 1000.
func (a *API) webPackages(w *webCall) ([]Package, error) {
	p, err := webRun[Page[Package]](w, "listPackages", url.Values{"limit": {"1000"}}, nil)
	return p.Items, err
}

// webBouquets are the bouquets in their order, at most 1000, for the lines' forms.
func (a *API) webBouquets(w *webCall) ([]BouquetSummary, error) {
	p, err := webRun[Page[BouquetSummary]](w, "listBouquets", url.Values{"limit": {"1000"}, "sort": {"position"}}, nil)
	return p.Items, err
}

// lineFormData is the data of the create and edit forms.
type lineFormData struct {
	Line     Line
	Packages []Package
	Bouquets []BouquetSummary
	Conns    []Connection // the line's live connections (edit form)
	Password string       // a new password, shown once
	Created  []CreatedLine
}

func (a *API) lineForm(w *webCall, title string, d lineFormData) (*view, error) {
	var err error
	if d.Packages, err = a.webPackages(w); err != nil {
		return nil, err
	}
	if d.Bouquets, err = a.webBouquets(w); err != nil {
		return nil, err
	}
	return w.view(title, "/lines", d), nil
}

func (a *API) lineNewPage(w *webCall) error {
	v, err := a.lineForm(w, "New line", lineFormData{})
	if err != nil {
		return err
	}
	return a.render(w.c, "line_new", v)
}

// lineCreate makes one line (createLine) or, with a count above one, that many from one
// template (createLines), and shows their passwords this once.
func (a *API) lineCreate(w *webCall) error {
	var created []CreatedLine
	var err error
	if n, _ := strconv.Atoi(w.c.FormValue("count")); n > 1 {
		var items Items[CreatedLine]
		items, err = webSubmit[Items[CreatedLine]](w, "createLines")
		created = items.Items
	} else {
		var one CreatedLine
		one, err = webSubmit[CreatedLine](w, "createLine")
		created = []CreatedLine{one}
	}
	if err != nil {
		v, ferr := a.lineForm(w, "New line", lineFormData{})
		if ferr != nil {
			return ferr
		}
		return a.renderForm(w, "line_new", v, err)
	}
	v := w.view("Line created", "/lines", lineFormData{Created: created})
	v.Status = fiber.StatusCreated
	return a.render(w.c, "line_created", v)
}

func (a *API) linePage(w *webCall) error {
	l, err := webRun[Line](w, "getLine", nil, nil)
	if err != nil {
		v := w.view("Line", "/lines", nil)
		if !v.refused(err) {
			return err
		}
		return a.render(w.c, "message", v)
	}
	conns, err := webRun[Page[Connection]](w, "listConnections", url.Values{"line_id": {strconv.FormatInt(l.ID, 10)}}, nil)
	if err != nil {
		return err
	}
	v, err := a.lineForm(w, "Line "+l.Username, lineFormData{Line: l, Conns: conns.Items})
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, lineNotices)
	return a.render(w.c, "line_edit", v)
}

func (a *API) lineUpdate(w *webCall) error {
	l, err := webSubmit[Line](w, "updateLine")
	if err != nil {
		cur, gerr := webRun[Line](w, "getLine", nil, nil)
		if gerr != nil {
			return a.renderForm(w, "message", w.view("Line", "/lines", nil), gerr)
		}
		v, ferr := a.lineForm(w, "Line "+cur.Username, lineFormData{Line: cur})
		if ferr != nil {
			return ferr
		}
		return a.renderForm(w, "line_edit", v, err)
	}
	return w.c.Redirect("/admin/lines/"+strconv.FormatInt(l.ID, 10)+"?done=saved", fiber.StatusSeeOther)
}

// lineActions are the per-line actions of the line page, by the operation they run.
var lineActions = map[string]string{
	"ban": "banLine", "unban": "unbanLine", "disable": "disableLine", "enable": "enableLine", "extend": "extendLine",
	"kill": "killLineConnections", "reset-password": "resetLinePassword", "delete": "deleteLine",
}

func (a *API) lineAct(w *webCall) error {
	action := w.c.Params("action")
	opID, ok := lineActions[action]
	if !ok {
		return a.webFail(w.c, fiber.StatusNotFound, "There is no such action.")
	}
	id, perr := strconv.ParseInt(w.c.Params("id"), 10, 64)
	if perr != nil || id <= 0 {
		return a.webFail(w.c, fiber.StatusNotFound, "There is no such line.")
	}
	back := "/admin/lines/" + strconv.FormatInt(id, 10)
	var err error
	switch action {
	case "reset-password":
		var np NewPassword
		if np, err = webSubmit[NewPassword](w, opID); err == nil {
			return a.showNewPassword(w, np)
		}
	case "delete":
		if _, err = webSubmit[NoContent](w, opID); err == nil {
			return w.c.Redirect("/admin/lines?done=deleted", fiber.StatusSeeOther)
		}
	case "kill":
		var k Killed
		if k, err = webSubmit[Killed](w, opID); err == nil {
			return w.c.Redirect(back+"?done=kill&n="+strconv.Itoa(k.Killed), fiber.StatusSeeOther)
		}
	default:
		if _, err = webSubmit[Line](w, opID); err == nil {
			return w.c.Redirect(back+"?done="+action, fiber.StatusSeeOther)
		}
	}
	return a.lineActionRefused(w, err)
}

// lineActionRefused shows the line page again with why an action was refused.
func (a *API) lineActionRefused(w *webCall, err error) error {
	l, gerr := webRun[Line](w, "getLine", nil, nil)
	if gerr != nil {
		return a.renderForm(w, "message", w.view("Line", "/lines", nil), err)
	}
	v, ferr := a.lineForm(w, "Line "+l.Username, lineFormData{Line: l})
	if ferr != nil {
		return ferr
	}
	if !v.refused(err) {
		return err
	}
	return a.render(w.c, "line_edit", v)
}

func (a *API) showNewPassword(w *webCall, np NewPassword) error {
	l, err := webRun[Line](w, "getLine", nil, nil)
	if err != nil {
		return err
	}
	v, err := a.lineForm(w, "Line "+l.Username, lineFormData{Line: l, Password: np.Password})
	if err != nil {
		return err
	}
	v.Notice = "The password was reset. It is shown below this once."
	return a.render(w.c, "line_edit", v)
}

// lineBulk runs one action on the ticked lines (actOnLines: all of them change, or none).
func (a *API) lineBulk(w *webCall) error {
	items, err := webSubmit[Items[Line]](w, "actOnLines")
	if err != nil {
		q := url.Values{}
		page, lerr := webRun[Page[Line]](w, "listLines", q, nil)
		if lerr != nil {
			return lerr
		}
		pkgs, perr := a.webPackages(w)
		if perr != nil {
			return perr
		}
		v := w.view("Lines", "/lines", linesData{listData: webList(page, q, "/admin/lines"), Packages: pkgs})
		return a.renderForm(w, "lines", v, err)
	}
	return w.c.Redirect("/admin/lines?done=bulk&n="+strconv.Itoa(len(items.Items)), fiber.StatusSeeOther)
}
