package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

func TestEntryOp_Apply(t *testing.T) {
	t.Parallel()
	ids := []int64{1, 2, 3, 4}
	tests := []struct {
		name string
		form url.Values
		add  []int64
		want []int64
	}{
		{"up", url.Values{"op": {"up:3"}}, nil, []int64{1, 3, 2, 4}},
		{"up at the top stays", url.Values{"op": {"up:1"}}, nil, []int64{1, 2, 3, 4}},
		{"down", url.Values{"op": {"down:1"}}, nil, []int64{2, 1, 3, 4}},
		{"down at the bottom stays", url.Values{"op": {"down:4"}}, nil, []int64{1, 2, 3, 4}},
		{"to a position", url.Values{"op": {"to:4"}, "pos:4": {"1"}}, nil, []int64{4, 1, 2, 3}},
		{"to beyond the end", url.Values{"op": {"to:1"}, "pos:1": {"99"}}, nil, []int64{2, 3, 4, 1}},
		{"remove", url.Values{"op": {"remove:2"}}, nil, []int64{1, 3, 4}},
		{"an id not in the list", url.Values{"op": {"up:9"}}, nil, []int64{1, 2, 3, 4}},
		{"add, known ones kept in place", url.Values{"op": {"add"}}, []int64{9, 2, 8}, []int64{1, 2, 3, 4, 9, 8}},
		{"apply every changed position", url.Values{"op": {"apply"}, "pos:1": {"1"}, "pos:2": {"2"}, "pos:3": {"1"}, "pos:4": {"4"}},
			nil, []int64{3, 1, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op, err := parseEntryOp(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			got := op.apply(ids, tt.add, positionFields(tt.form))
			if !slices.Equal(got, tt.want) {
				t.Fatalf("apply(%v) = %v, want %v", tt.form, got, tt.want)
			}
		})
	}
	for _, bad := range []url.Values{{"op": {"up:x"}}, {"op": {"drop:1"}}, {"op": {"to:1"}, "pos:1": {"0"}}, {}} {
		if _, err := parseEntryOp(bad); err == nil {
			t.Errorf("parseEntryOp(%v) accepted it", bad)
		}
	}
}

// bouquetFixture makes live channels named names (the first one hostile) in a bouquet.
func bouquetFixture(t *testing.T, e *pagesEnv, names ...string) (editor.Bouquet, []int64) {
	t.Helper()
	var ids []int64
	for _, n := range names {
		s, err := e.api.d.Editor.CreateStream(t.Context(), testActor, editor.FamilyLive, editor.Stream{Name: n, Enabled: true,
			Sources: []editor.Source{{URL: fmt.Sprintf("http://up.example.com/%d.ts", len(ids))}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	b, err := e.api.d.Editor.CreateBouquet(t.Context(), testActor, editor.Bouquet{Name: "Basic", Position: -1, StreamIDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	return b, ids
}

const xssName = `<script>alert(1)</script>`

func TestBouquetPages_Ordering(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	admin := e.as(t, accounts.RoleAdmin)
	b, ids := bouquetFixture(t, e, xssName, "Two", `"><img src=x onerror=alert(2)>`)
	path := fmt.Sprintf("/admin/bouquets/%d", b.ID)

	page := e.do(t, admin, "GET", path, nil).want(t, "bouquet page", 200)
	if strings.Contains(page.html, xssName) || !strings.Contains(page.html, "&lt;script&gt;alert(1)&lt;/script&gt;") ||
		strings.Contains(page.html, `<img src=x`) {
		t.Fatalf("hostile names not escaped:\n%s", page.html)
	}
	order := func() []int64 {
		t.Helper()
		got, err := e.api.d.Editor.Bouquet(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.StreamIDs
	}
	post := func(form url.Values) answer {
		t.Helper()
		form.Set("list", "streams")
		return e.do(t, admin, "POST", path+"/entries", form).want(t, fmt.Sprint(form), 303)
	}
	a := post(url.Values{"op": {fmt.Sprintf("down:%d", ids[0])}})
	if want := []int64{ids[1], ids[0], ids[2]}; !slices.Equal(order(), want) {
		t.Fatalf("after down: %v, want %v", order(), want)
	}
	// Back on the page, the moved entry's button has the focus.
	if !strings.Contains(a.redirect, fmt.Sprintf("focus=down%%3A%d", ids[0])) {
		t.Fatalf("redirect %q does not focus the button", a.redirect)
	}
	again := e.do(t, admin, "GET", strings.Split(a.redirect, "#")[0], nil).want(t, "page after the move", 200)
	if !strings.Contains(again.html, fmt.Sprintf(`value="down:%d" autofocus`, ids[0])) {
		t.Fatalf("moved entry's button not focused:\n%s", again.html)
	}
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
	add := e.do(t, admin, "GET", path+"/add?list=streams&kind=live", nil).want(t, "add page", 200)
	if !strings.Contains(add.html, fmt.Sprintf(`value="%d"`, ids[2])) || strings.Contains(add.html, fmt.Sprintf(`id="add-%d"`, ids[0])) {
		t.Fatalf("add page offers:\n%s", add.html)
	}
	post(url.Values{"op": {"add"}, "add": {fmt.Sprint(ids[2])}})
	if want := []int64{ids[0], ids[1], ids[2]}; !slices.Equal(order(), want) {
		t.Fatalf("after add: %v, want %v", order(), want)
	}
	if a := post(url.Values{"op": {"add"}, "add": {"999999"}}); !strings.Contains(a.flash, "Nothing changed") {
		t.Fatalf("adding an unknown id: %+v", a.pageResult)
	}
	// The bouquet's own fields, refused next to the field.
	r := e.do(t, admin, "POST", path, url.Values{"name": {""}}).want(t, "empty name", 422)
	if r.fieldError("name") == "" {
		t.Fatalf("no refusal next to name:\n%s", r.html)
	}
	e.do(t, admin, "POST", path, url.Values{"name": {"Renamed"}, "position": {"3"}}).want(t, "rename", 303)
	if got, _ := e.api.d.Editor.Bouquet(t.Context(), b.ID); got.Name != "Renamed" || got.Position != 3 {
		t.Fatalf("renamed bouquet = %+v", got)
	}
	created := e.do(t, admin, "POST", "/admin/bouquets", url.Values{"name": {"Renamed"}}).want(t, "duplicate name", 422)
	if created.fieldError("name") == "" {
		t.Fatalf("no refusal of the duplicate next to name:\n%s", created.html)
	}
	e.do(t, admin, "POST", path+"/delete", nil).want(t, "delete", 303)
	e.do(t, admin, "GET", path, nil).want(t, "deleted bouquet", 404)
}

func TestBouquetPages_Roles(t *testing.T) {
	t.Parallel()
	e := newPagesEnv(t)
	viewer, reseller := e.as(t, accounts.RoleViewer), e.as(t, accounts.RoleReseller)
	b, ids := bouquetFixture(t, e, "One", "Two")
	path := fmt.Sprintf("/admin/bouquets/%d", b.ID)
	for _, p := range []accounts.Principal{viewer, reseller} {
		page := e.do(t, p, "GET", path, nil).want(t, string(p.Role)+" reads", 200)
		if strings.Contains(page.html, "Move up") || strings.Contains(page.html, "Add channels") {
			t.Fatalf("%s is offered changes:\n%s", p.Role, page.html)
		}
		e.do(t, p, "POST", path+"/entries", url.Values{"op": {fmt.Sprintf("down:%d", ids[0])}}).want(t, string(p.Role)+" moves", 403)
		e.do(t, p, "POST", path, url.Values{"name": {"X"}}).want(t, string(p.Role)+" renames", 403)
		e.do(t, p, "POST", "/admin/bouquets", url.Values{"name": {"X"}}).want(t, string(p.Role)+" creates", 403)
		e.do(t, p, "GET", path+"/add", nil).want(t, string(p.Role)+" add page", 403)
	}
	if got, _ := e.api.d.Editor.Bouquet(t.Context(), b.ID); !slices.Equal(got.StreamIDs, ids) || got.Name != "Basic" {
		t.Fatalf("bouquet after refused changes = %+v", got)
	}
}
