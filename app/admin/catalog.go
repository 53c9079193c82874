package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// The catalog resources (categories here; streams.go, series.go, bouquets.go) are the
// editor's (internal/catalog/editor): every change is validated, written in one transaction
// with its audit entry, and reaches every instance's snapshot through the catalog triggers.
// Admins change the catalog; viewers read it; resellers read only the bouquets they assign.

// The permissions of the catalog-side resources.
var (
	adminsAndViewers = []accounts.Role{accounts.RoleAdmin, accounts.RoleViewer}
	adminsOnly       = []accounts.Role{accounts.RoleAdmin}
)

func readPerm(scope string) Perm  { return Perm{Scope: scope, Roles: adminsAndViewers} }
func writePerm(scope string) Perm { return Perm{Scope: scope, Write: true, Roles: adminsOnly} }

// keysetPage answers one page of a keyset list: sortParam is the request's sort ("name",
// "-created_at"; "id" or "" by id), fetch reads the rows after the cursor (asked one more than
// the page, to learn whether another follows), and cursor is where a page ending at an item
// continues in the order of a sort key.
func keysetPage[T any](pq PageQuery, sortParam string, fetch func(editor.Query) ([]T, error),
	cursor func(item T, sortKey string) editor.Cursor) (Page[T], error) {
	if sortParam == "" {
		sortParam = "id"
	}
	key, desc := sortOrder(sortParam)
	if key == "id" {
		key = ""
	}
	var after editor.Cursor
	var target any
	if key != "" {
		target = &after.Key
	}
	id, bad := pq.decodeCursor(sortParam, target)
	if bad != nil {
		return Page[T]{}, bad
	}
	after.ID = id
	rows, err := fetch(editor.Query{Sort: key, Desc: desc, After: after, Limit: pq.limit() + 1})
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf(rows, pq.limit(), func(last T) *string {
		c := cursor(last, key)
		if key == "" {
			return encodeCursor(sortParam, nil, c.ID)
		}
		return encodeCursor(sortParam, c.Key, c.ID)
	}), nil
}

// Category is a category of live channels, radio stations, movies or series.
type Category struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind" api:"enum=live|radio|movie|series" doc:"What the category holds; fixed once created."`
	Name     string `json:"name" doc:"Unique among the categories of its kind."`
	Position int32  `json:"position" doc:"Order among the categories of its kind (players list them so)."`
	IsAdult  bool   `json:"is_adult"`
}

func categoryOut(c editor.Category) Category { return Category(c) }

type newCategory struct {
	Kind     string `json:"kind" api:"required,enum=live|radio|movie|series"`
	Name     string `json:"name" api:"required,minlen=1,maxlen=256"`
	Position *int32 `json:"position" api:"min=0" doc:"Absent: after the kind's last category."`
	IsAdult  bool   `json:"is_adult"`
}

type categoryPatch struct {
	Name     *string `json:"name" api:"minlen=1,maxlen=256"`
	Position *int32  `json:"position" api:"min=0"`
	IsAdult  *bool   `json:"is_adult"`
}

type categoryList struct {
	PageQuery
	Kind string `query:"kind" api:"enum=live|radio|movie|series" doc:"Only categories of this kind."`
	Name string `query:"name" api:"maxlen=256" doc:"Only categories whose name contains this, ignoring case."`
	Sort string `query:"sort" api:"enum=id|-id|position|-position|name|-name" doc:"Order (a leading - reverses it); default id."`
}

func (a *API) categoryOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/categories", ID: "listCategories", Tag: "Categories", Summary: "List categories",
			Perm: readPerm("catalog"), Handler: Handle(a.listCategories)},
		{Method: fiber.MethodPost, Path: "/categories", ID: "createCategory", Tag: "Categories", Summary: "Create a category",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createCategory)},
		{Method: fiber.MethodGet, Path: "/categories/{id}", ID: "getCategory", Tag: "Categories", Summary: "Get a category",
			Perm: readPerm("catalog"), Handler: Handle(a.getCategory)},
		{Method: fiber.MethodPatch, Path: "/categories/{id}", ID: "updateCategory", Tag: "Categories", Summary: "Change a category",
			Doc:  "Sets the members given; the kind cannot change.",
			Perm: writePerm("catalog"), Errors: []int{409}, Handler: Handle(a.updateCategory)},
		{Method: fiber.MethodDelete, Path: "/categories/{id}", ID: "deleteCategory", Tag: "Categories", Summary: "Delete a category",
			Doc:  "Its streams and series become uncategorised.",
			Perm: writePerm("catalog"), Handler: Handle(a.deleteCategory)},
	}
}

func (a *API) listCategories(c *Call, q categoryList, _ NoBody) (Page[Category], error) {
	return keysetPage(q.PageQuery, q.Sort, func(eq editor.Query) ([]Category, error) {
		rows, err := a.d.Editor.Categories(c.Context(), q.Kind, q.Name, eq)
		return mapSlice(rows, categoryOut), err
	}, func(it Category, key string) editor.Cursor { return editor.Category(it).Cursor(key) })
}

func (a *API) createCategory(c *Call, _ NoParams, in newCategory) (Category, error) {
	pos := int32(-1)
	if in.Position != nil {
		pos = *in.Position
	}
	out, err := a.d.Editor.CreateCategory(c.Context(), c.Principal.Actor,
		editor.Category{Kind: in.Kind, Name: in.Name, Position: pos, IsAdult: in.IsAdult})
	return categoryOut(out), err
}

func (a *API) getCategory(c *Call, p ByID, _ NoBody) (Category, error) {
	out, err := a.d.Editor.Category(c.Context(), p.ID)
	return categoryOut(out), err
}

func (a *API) updateCategory(c *Call, p ByID, in categoryPatch) (Category, error) {
	out, err := a.d.Editor.UpdateCategory(c.Context(), c.Principal.Actor, p.ID, func(cat *editor.Category) error {
		set(&cat.Name, in.Name)
		set(&cat.Position, in.Position)
		set(&cat.IsAdult, in.IsAdult)
		return nil
	})
	return categoryOut(out), err
}

func (a *API) deleteCategory(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteCategory(c.Context(), c.Principal.Actor, p.ID)
}

// set applies a PATCH member: *dst = *v when v was given.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// setOptional applies a clearable PATCH member: given, it sets *dst (nil for null).
func setOptional[T any](dst **T, o Optional[T]) {
	switch {
	case !o.Set:
	case o.Null:
		*dst = nil
	default:
		v := o.Value
		*dst = &v
	}
}

// mapSlice converts every element of in with f.
func mapSlice[S, T any](in []S, f func(S) T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
