package admin

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

func TestCategoryPages(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	admin, viewer := e.as(t, accounts.RoleAdmin), e.as(t, accounts.RoleViewer)
	e.do(t, admin, "POST", "/admin/categories", url.Values{"kind": {"live"}, "name": {"News"}}).want(t, "create", 303)
	e.do(t, admin, "POST", "/admin/categories", url.Values{"kind": {"live"}, "name": {xssName}, "is_adult": {"false", "true"}}).
		want(t, "create a hostile one", 303)
	e.do(t, admin, "POST", "/admin/categories", url.Values{"kind": {"radio"}, "name": {"News"}}).want(t, "same name, other kind", 303)
	dup := e.do(t, admin, "POST", "/admin/categories", url.Values{"kind": {"live"}, "name": {"News"}}).want(t, "duplicate", 422)
	if dup.fieldError("name") == "" {
		t.Fatalf("no refusal next to the new category's name:\n%s", dup.html)
	}
	list := e.do(t, admin, "GET", "/admin/categories?kind=live", nil).want(t, "list", 200)
	if strings.Contains(list.html, xssName) || !strings.Contains(list.html, "&lt;script&gt;") {
		t.Fatalf("list:\n%s", list.html)
	}
	cats, err := e.api.d.Editor.Categories(t.Context(), "live", "", editorQuery(100))
	if err != nil || len(cats) != 2 || !cats[1].IsAdult {
		t.Fatalf("categories = %+v, %v", cats, err)
	}
	news, hostile := cats[0], cats[1]
	row := fmt.Sprintf("/admin/categories/%d", news.ID)
	e.do(t, admin, "POST", row, url.Values{"name": {"World news"}, "position": {"5"}, "is_adult": {"false"}}).want(t, "save row", 303)
	bad := e.do(t, admin, "POST", fmt.Sprintf("/admin/categories/%d", hostile.ID), url.Values{"name": {"World news"}, "position": {"-1"}}).
		want(t, "save a refused row", 422)
	if !strings.Contains(bad.html, fmt.Sprintf(`id="c-%d-position-note"`, hostile.ID)) || strings.Count(bad.html, `class="field-error"`) != 1 {
		t.Fatalf("refusal not next to the row's field:\n%s", bad.html)
	}
	if got, _ := e.api.d.Editor.Category(t.Context(), news.ID); got.Name != "World news" || got.Position != 5 {
		t.Fatalf("saved category = %+v", got)
	}
	vl := e.do(t, viewer, "GET", "/admin/categories?kind=live", nil).want(t, "viewer's list", 200)
	if strings.Contains(vl.html, "<form") || !strings.Contains(vl.html, "World news") {
		t.Fatalf("viewer's list:\n%s", vl.html)
	}
	e.do(t, viewer, "POST", row, url.Values{"name": {"X"}}).want(t, "viewer saves", 403)
	e.do(t, viewer, "POST", "/admin/categories", url.Values{"kind": {"live"}, "name": {"X"}}).want(t, "viewer creates", 403)
	e.do(t, e.as(t, accounts.RoleReseller), "GET", "/admin/categories", nil).want(t, "reseller", 403)
	e.do(t, admin, "POST", row+"/delete", nil).want(t, "delete", 303)
	if _, err := e.api.d.Editor.Category(t.Context(), news.ID); err == nil {
		t.Fatal("deleted category still there")
	}
}
