package admin

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// The categories page: one kind at a time (live, radio, movie, series), every category an
// editable row (name, position, adult), a form for a new one. Players list categories by
// position.

// categoryKinds are the kinds of category, in the page's order, with their labels.
var categoryKinds = []struct{ Kind, Label string }{
	{"live", "Live"}, {"radio", "Radio"}, {"movie", "Movies"}, {"series", "Series"},
}

// categoriesView is the categories of one kind.
type categoriesView struct {
	pageBase
	Kind  string
	Kinds []struct{ Kind, Label string }
	Items []Category
	Next  string
	// Edited is the row whose form was refused (0: the new category's form was); its fields
	// show the posted values and the refusals, the other rows their stored values.
	Edited int64
}

// RowValue is the value field shows in category c's row: posted, when c is the refused row.
func (v *categoriesView) RowValue(c Category, field string) string {
	if v.Edited == c.ID && v.Errors.Any() {
		return v.Form.Get(field)
	}
	switch field {
	case "name":
		return c.Name
	case "position":
		return strconv.Itoa(int(c.Position))
	}
	return strconv.FormatBool(c.IsAdult)
}

// RowErr is the refusal of field in category c's row.
func (v *categoriesView) RowErr(c Category, field string) string {
	if v.Edited != c.ID {
		return ""
	}
	return v.Errors.For(field)
}

var categoryOpsList = []string{"createCategory", "updateCategory", "deleteCategory"}

func (a *API) categoryPages() []pageRoute {
	return []pageRoute{
		{fiber.MethodGet, "/categories", a.categoriesPage},
		{fiber.MethodPost, "/categories", a.createCategoryPage},
		{fiber.MethodPost, "/categories/:id", a.updateCategoryPage},
		{fiber.MethodGet, "/categories/:id/delete", a.confirmDeletePage("deleteCategory", "Delete the category",
			"Its channels, movies or series become uncategorised.")},
		{fiber.MethodPost, "/categories/:id/delete", a.deleteCategoryPage},
	}
}

// categoryKind is the kind a request asks for (?kind= or the form's kind), live by default.
func categoryKind(vals ...string) string {
	for _, v := range vals {
		for _, k := range categoryKinds {
			if v == k.Kind {
				return v
			}
		}
	}
	return "live"
}

// categoriesView lists the categories of kind, sorted by position.
func (a *API) categoriesView(r *pageRequest, kind string) (*categoriesView, error) {
	v := &categoriesView{pageBase: a.base(r, "Categories", categoryOpsList...), Kind: kind, Kinds: categoryKinds}
	q := url.Values{"kind": {kind}}
	if c := r.query.Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	lr := *r
	lr.query = q
	page, fe, err := read(a, &lr, "listCategories", a.listCategories, &categoryList{PageQuery: PageQuery{Limit: 200}, Sort: "position"})
	if err != nil {
		return nil, err
	}
	v.Items, v.Errors = page.Items, fe
	v.Next = r.nextPage("/admin/categories", page.NextCursor)
	return v, nil
}

func (a *API) categoriesPage(r *pageRequest) (pageResult, error) {
	v, err := a.categoriesView(r, categoryKind(r.query.Get("kind")))
	if err != nil {
		return pageResult{}, err
	}
	v.Form.Set("kind", v.Kind)
	return render("categories", v), nil
}

func (a *API) createCategoryPage(r *pageRequest) (pageResult, error) {
	c, fe, err := submit(a, r, "createCategory", a.createCategory, NoParams{})
	if err != nil {
		return pageResult{}, err
	}
	kind := categoryKind(r.form.Get("kind"))
	if fe != nil {
		v, err := a.categoriesView(r, kind)
		if err != nil {
			return pageResult{}, err
		}
		v.Form, v.Errors = r.form, fe
		return refused("categories", v), nil
	}
	return redirect("/admin/categories?kind="+c.Kind, fmt.Sprintf("Category %s created.", c.Name)), nil
}

func (a *API) updateCategoryPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	c, fe, err := submit(a, r, "updateCategory", a.updateCategory, ByID{ID: id})
	if err != nil {
		return pageResult{}, err
	}
	if fe != nil {
		cur, err := a.getCategory(r.call(), ByID{ID: id}, NoBody{})
		if err != nil {
			return pageResult{}, err
		}
		v, err := a.categoriesView(r, cur.Kind)
		if err != nil {
			return pageResult{}, err
		}
		v.Form, v.Errors, v.Edited = r.form, fe, id
		return refused("categories", v), nil
	}
	return redirect(fmt.Sprintf("/admin/categories?kind=%s#c-%d", c.Kind, c.ID), "Category "+c.Name+" saved."), nil
}

func (a *API) deleteCategoryPage(r *pageRequest) (pageResult, error) {
	id, err := r.pathID("id")
	if err != nil {
		return pageResult{}, err
	}
	c, err := a.getCategory(r.call(), ByID{ID: id}, NoBody{})
	if err != nil {
		return pageResult{}, err
	}
	if _, _, err := submit(a, r, "deleteCategory", a.deleteCategory, ByID{ID: id}); err != nil {
		return pageResult{}, err
	}
	return redirect("/admin/categories?kind="+c.Kind, "Category "+c.Name+" deleted."), nil
}
