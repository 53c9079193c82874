package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

func TestWebCategories(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	b.get("/admin/categories")
	for _, f := range []url.Values{{"kind": {"live"}, "name": {"News"}}, {"kind": {"live"}, "name": {xssScript}, "is_adult": {"true"}},
		{"kind": {"radio"}, "name": {"News"}}} {
		if p := b.post("/admin/categories", f); p.status != http.StatusSeeOther {
			t.Fatalf("create %v = %d\n%s", f, p.status, p.body)
		}
	}
	wantFieldError(t, "duplicate", b.post("/admin/categories", url.Values{"kind": {"live"}, "name": {"News"}}), http.StatusConflict, "name")
	p := b.get("/admin/categories?kind=live")
	wantPage(t, "list", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;")
	if strings.Contains(p.body, xssScript) {
		t.Fatal("a hostile category name is not escaped")
	}
	cats, err := e.ed().Categories(t.Context(), "live", "", editor.Query{Sort: "position", Limit: 10})
	must(t, err)
	if len(cats) != 2 || !cats[1].IsAdult {
		t.Fatalf("categories = %+v", cats)
	}
	news, hostile := cats[0], cats[1]
	row := fmt.Sprintf("/admin/categories/%d", news.ID)
	if p := b.post(row, url.Values{"_fields": {"name position is_adult"}, "name": {"World news"}, "position": {"5"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save row = %d\n%s", p.status, p.body)
	}
	p = b.post(fmt.Sprintf("/admin/categories/%d", hostile.ID), url.Values{"name": {"World news"}, "position": {"-1"}})
	wantFieldError(t, "a refused row", p, http.StatusBadRequest, "position")
	if strings.Count(p.body, `class="error"`) != 1 || !strings.Contains(p.body, fmt.Sprintf(`id="c-%d-position" name="position" form="cf-%d" type="number" min="0" inputmode="numeric" value="-1" aria-invalid="true"`, hostile.ID, hostile.ID)) {
		t.Fatalf("the refusal is not in its row:\n%s", p.body)
	}
	if got, _ := e.ed().Category(t.Context(), news.ID); got.Name != "World news" || got.Position != 5 || got.IsAdult {
		t.Fatalf("saved category = %+v", got)
	}

	vb, _ := e.webAs(t, accounts.RoleViewer)
	p = vb.get("/admin/categories?kind=live")
	wantPage(t, "viewer's list", p, http.StatusOK, "World news")
	if strings.Contains(p.body, "/admin/categories/") {
		t.Fatalf("a viewer is offered changes:\n%s", p.body)
	}
	wantPage(t, "viewer saves", vb.post(row, url.Values{"name": {"X"}}), http.StatusForbidden)
	wantPage(t, "viewer creates", vb.post("/admin/categories", url.Values{"kind": {"live"}, "name": {"X"}}), http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller", rb.get("/admin/categories"), http.StatusForbidden)
	if p := b.post(row+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete = %d", p.status)
	}
	if _, err := e.ed().Category(t.Context(), news.ID); err == nil {
		t.Fatal("the deleted category is still there")
	}
}
