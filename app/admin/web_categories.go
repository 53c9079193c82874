package admin

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// The categories page: one kind at a time (live, radio, movie, series), each category a row
// edited in place (name, position, adult), and a form for a new one. Players list categories
// by position. The operations are /api/v1/categories'.

// categoryKinds are the kinds of category in the page's order, with their labels.
var categoryKinds = []option{{"live", "Live"}, {"radio", "Radio"}, {"movie", "Movies"}, {"series", "Series"}}

var categoryOpIDs = []string{"createCategory", "updateCategory", "deleteCategory"}

var categoryNotices = map[string]string{
	"created": "The category was created.", "saved": "The category was saved.", "deleted": "The category was deleted.",
}

// categoriesData is the categories of one kind.
type categoriesData struct {
	listData[Category]
	Kind  string
	Kinds []option
	Can   map[string]bool
	// Edited is the row whose change was refused: it shows Posted and RowErrors, the other rows
	// their stored values (a refused new category is the framework's form, Fields and Form).
	Edited    int64
	Posted    url.Values
	RowErrors map[string]string
}

// RowValue is the value of field in category c's row: as posted when c is the refused row.
func (d categoriesData) RowValue(c Category, field string) string {
	if d.Edited == c.ID && d.Posted != nil {
		return d.Posted.Get(field)
	}
	switch field {
	case "name":
		return c.Name
	case "position":
		return strconv.Itoa(int(c.Position))
	}
	return strconv.FormatBool(c.IsAdult)
}

// RowError is the refusal of field in category c's row.
func (d categoriesData) RowError(c Category, field string) string {
	if d.Edited != c.ID {
		return ""
	}
	return d.RowErrors[field]
}

func (a *API) webCategoryRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/categories", Handler: a.categoriesPage},
		{Method: fiber.MethodPost, Path: "/categories", Handler: a.categoryCreate},
		{Method: fiber.MethodPost, Path: "/categories/:id", Handler: a.categoryUpdate},
		{Method: fiber.MethodPost, Path: "/categories/:id/delete", Handler: a.categoryDelete},
	}
}

// kindOf is the category kind of s (live when s is none).
func kindOf(s string) string {
	for _, k := range categoryKinds {
		if s == k.Value {
			return s
		}
	}
	return "live"
}

// categoriesView lists the categories of kind by position (?cursor= pages them).
func (a *API) categoriesView(w *webCall, kind string) (*view, error) {
	v := w.view("Categories", "/categories", nil)
	q := url.Values{"kind": {kind}, "sort": {"position"}, "limit": {"200"}, "cursor": {w.c.Query("cursor")}}
	page, err := webRun[Page[Category]](w, "listCategories", q, nil)
	if err != nil {
		if !v.refused(err) {
			return nil, err
		}
		page = Page[Category]{Items: []Category{}}
	}
	v.Data = categoriesData{listData: webList(page, url.Values{"kind": {kind}}, "/admin/categories"), Kind: kind,
		Kinds: categoryKinds, Can: w.can(categoryOpIDs...)}
	return v, nil
}

func (a *API) categoriesPage(w *webCall) error {
	v, err := a.categoriesView(w, kindOf(w.c.Query("kind")))
	if err != nil {
		return err
	}
	v.Notice = notice(w.c, categoryNotices)
	return a.render(w.c, "categories", v)
}

func (a *API) categoryCreate(w *webCall) error {
	c, err := webSubmit[Category](w, "createCategory")
	if err != nil {
		return a.refusedOn(w, "categories", "Categories", "/categories", err, func() (*view, error) {
			return a.categoriesView(w, kindOf(w.c.FormValue("kind")))
		})
	}
	return w.c.Redirect("/admin/categories?done=created&kind="+c.Kind, fiber.StatusSeeOther)
}

func (a *API) categoryUpdate(w *webCall) error {
	c, err := webSubmit[Category](w, "updateCategory")
	if err == nil {
		return w.c.Redirect(fmt.Sprintf("/admin/categories?done=saved&kind=%s#c-%d", c.Kind, c.ID), fiber.StatusSeeOther)
	}
	cur, gerr := webRun[Category](w, "getCategory", nil, nil)
	if gerr != nil {
		return a.failed(w, "Category", "/categories", gerr)
	}
	v, verr := a.categoriesView(w, cur.Kind)
	if verr != nil {
		return verr
	}
	if !v.refused(err) {
		return err
	}
	d := v.Data.(categoriesData)
	d.Edited, d.Posted, d.RowErrors = cur.ID, formValues(w.c), v.Fields
	v.Data, v.Fields = d, nil // the row shows its refusal, not the new category's form
	return a.render(w.c, "categories", v)
}

func (a *API) categoryDelete(w *webCall) error {
	cur, err := webRun[Category](w, "getCategory", nil, nil)
	if err == nil {
		_, err = webSubmit[NoContent](w, "deleteCategory")
	}
	if err != nil {
		return a.failed(w, "Category", "/categories", err)
	}
	return w.c.Redirect("/admin/categories?done=deleted&kind="+cur.Kind, fiber.StatusSeeOther)
}
