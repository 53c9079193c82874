package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// bouquetFixture makes live channels named names in a bouquet, in that order.
func (e *env) bouquetFixture(t *testing.T, names ...string) (editor.Bouquet, []int64) {
	t.Helper()
	var ids []int64
	for _, n := range names {
		ids = append(ids, e.liveFixture(t, n))
	}
	b, err := e.ed().CreateBouquet(t.Context(), fixture, editor.Bouquet{Name: fmt.Sprintf("Basic%d", e.n.Add(1)), Position: -1, StreamIDs: ids})
	must(t, err)
	return b, ids
}

func TestWebBouquets_Ordering(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	bq, ids := e.bouquetFixture(t, xssScript, "Two", xssImg)
	path := fmt.Sprintf("/admin/bouquets/%d", bq.ID)

	p := b.get(path)
	wantPage(t, "bouquet page", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x")
	if strings.Contains(p.body, xssScript) || strings.Contains(p.body, "<img src=x") {
		t.Fatalf("a hostile name is not escaped:\n%s", p.body)
	}
	order := func() []int64 {
		t.Helper()
		got, err := e.ed().Bouquet(t.Context(), bq.ID)
		must(t, err)
		return got.StreamIDs
	}
	post := func(form url.Values) webPage {
		t.Helper()
		form.Set("list", "streams")
		p := b.post(path+"/entries", form)
		if p.status != http.StatusSeeOther {
			t.Fatalf("%v = %d\n%s", form, p.status, p.body)
		}
		return p
	}
	p = post(url.Values{"op": {fmt.Sprintf("down:%d", ids[0])}})
	if want := []int64{ids[1], ids[0], ids[2]}; !slices.Equal(order(), want) {
		t.Fatalf("after down: %v, want %v", order(), want)
	}
	// Back on the page, the moved entry's button has the focus: Enter moves it again.
	loc := p.header.Get("Location")
	if !strings.Contains(loc, fmt.Sprintf("focus=down%%3A%d", ids[0])) {
		t.Fatalf("redirect %q does not focus the button", loc)
	}
	wantPage(t, "page after the move", b.get(strings.Split(loc, "#")[0]), http.StatusOK, "Moved.",
		fmt.Sprintf(`value="down:%d" class="small secondary" autofocus`, ids[0]))
	post(url.Values{"op": {fmt.Sprintf("to:%d", ids[2])}, fmt.Sprintf("pos:%d", ids[2]): {"1"}})
	if want := []int64{ids[2], ids[1], ids[0]}; !slices.Equal(order(), want) {
		t.Fatalf("after to: %v, want %v", order(), want)
	}
	post(url.Values{"op": {"apply"}, fmt.Sprintf("pos:%d", ids[2]): {"1"}, fmt.Sprintf("pos:%d", ids[1]): {"2"},
		fmt.Sprintf("pos:%d", ids[0]): {"1"}})
	if want := []int64{ids[0], ids[2], ids[1]}; !slices.Equal(order(), want) {
		t.Fatalf("after apply: %v, want %v", order(), want)
	}
	post(url.Values{"op": {fmt.Sprintf("remove:%d", ids[2])}})
	p = b.get(path + "/add?list=streams&kind=live")
	wantPage(t, "add page", p, http.StatusOK, fmt.Sprintf(`id="add-%d"`, ids[2]))
	if strings.Contains(p.body, fmt.Sprintf(`id="add-%d"`, ids[0])) {
		t.Fatal("the add page offers a channel the bouquet holds")
	}
	post(url.Values{"op": {"add"}, "add": {fmt.Sprint(ids[2])}})
	if want := []int64{ids[0], ids[1], ids[2]}; !slices.Equal(order(), want) {
		t.Fatalf("after add: %v, want %v", order(), want)
	}
	wantPage(t, "adding an unknown id", b.post(path+"/entries", url.Values{"list": {"streams"}, "op": {"add"}, "add": {"999999"}}),
		http.StatusNotFound, `id="e-stream_ids">holds an id that does not exist`)
	wantFieldError(t, "a bad op", b.post(path+"/entries", url.Values{"op": {"drop:1"}}), http.StatusBadRequest, "op")
	wantFieldError(t, "position 0", b.post(path+"/entries", url.Values{"op": {fmt.Sprintf("to:%d", ids[1])},
		fmt.Sprintf("pos:%d", ids[1]): {"0"}}), http.StatusBadRequest, fmt.Sprintf("pos:%d", ids[1]))

	// The bouquet's own fields, refused next to the field.
	b.get(path)
	wantFieldError(t, "empty name", b.post(path, url.Values{"_fields": {"name"}, "name": {""}}), http.StatusBadRequest, "name")
	if p := b.post(path, url.Values{"name": {"Renamed"}, "position": {"3"}}); p.status != http.StatusSeeOther {
		t.Fatalf("rename = %d\n%s", p.status, p.body)
	}
	if got, _ := e.ed().Bouquet(t.Context(), bq.ID); got.Name != "Renamed" || got.Position != 3 {
		t.Fatalf("renamed bouquet = %+v", got)
	}
	wantFieldError(t, "duplicate name", b.post("/admin/bouquets", url.Values{"name": {"Renamed"}}), http.StatusConflict, "name")
	if p := b.post("/admin/bouquets", url.Values{"name": {"Second"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", p.status, p.body)
	}
	wantPage(t, "bouquets page", b.get("/admin/bouquets"), http.StatusOK, "Renamed", "Second")
	wantDeleted(t, b, path)
}

func TestWebBouquets_Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bq, ids := e.bouquetFixture(t, "One", "Two")
	path := fmt.Sprintf("/admin/bouquets/%d", bq.ID)
	for _, role := range []accounts.Role{accounts.RoleViewer, accounts.RoleReseller} {
		b, _ := e.webAs(t, role)
		p := b.get(path)
		wantPage(t, string(role)+" reads", p, http.StatusOK, "One")
		if strings.Contains(p.body, "Move up") || strings.Contains(p.body, "/add?") {
			t.Fatalf("%s is offered changes:\n%s", role, p.body)
		}
		wantPage(t, string(role)+" moves", b.post(path+"/entries", url.Values{"op": {fmt.Sprintf("down:%d", ids[0])}}), http.StatusForbidden)
		wantPage(t, string(role)+" renames", b.post(path, url.Values{"name": {"X"}}), http.StatusForbidden)
		wantPage(t, string(role)+" creates", b.post("/admin/bouquets", url.Values{"name": {"X"}}), http.StatusForbidden)
		wantPage(t, string(role)+" add page", b.get(path+"/add"), http.StatusForbidden)
		wantPage(t, string(role)+" deletes", b.post(path+"/delete", url.Values{}), http.StatusForbidden)
	}
	if got, _ := e.ed().Bouquet(t.Context(), bq.ID); !slices.Equal(got.StreamIDs, ids) || got.Name != bq.Name {
		t.Fatalf("bouquet after the refused changes = %+v", got)
	}
}
