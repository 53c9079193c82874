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

func TestWebSeries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	b.get("/admin/series/new")
	wantFieldError(t, "bad rating", b.post("/admin/series", url.Values{"name": {"Show"}, "rating": {"11"}}), http.StatusBadRequest, "rating")
	if p := b.post("/admin/series", url.Values{"name": {xssScript}, "rating": {"7.5"}, "release_date": {"2020-03-01"},
		"backdrop_paths": {"http://i/1.jpg\nhttp://i/2.jpg"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", p.status, p.body)
	}
	all, err := e.ed().SeriesList(t.Context(), 0, "", editor.Query{Limit: 10})
	must(t, err)
	if len(all) != 1 || all[0].Rating != 7.5 || len(all[0].BackdropPaths) != 2 || *all[0].ReleaseDate != "2020-03-01" {
		t.Fatalf("series = %+v", all)
	}
	id := all[0].ID
	path := fmt.Sprintf("/admin/series/%d", id)
	p := b.get(path)
	wantPage(t, "series page", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "No episodes yet.")
	if strings.Contains(p.body, xssScript) {
		t.Fatal("the series name is not escaped")
	}
	wantPage(t, "list", b.get("/admin/series?name=script"), http.StatusOK, fmt.Sprintf(`href="/admin/series/%d"`, id))
	if p := b.post(path, url.Values{"_fields": {"name release_date"}, "name": {"Show"}, "release_date": {""}}); p.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", p.status, p.body)
	}
	if got, _ := e.ed().Series(t.Context(), id); got.Name != "Show" || got.ReleaseDate != nil || got.Rating != 7.5 {
		t.Fatalf("saved series = %+v", got)
	}

	// Seasons: a new one, a refused one next to the new season's field, a row edited in place.
	if p := b.post(path+"/seasons", url.Values{"season_number": {"1"}, "name": {"First"}}); p.status != http.StatusSeeOther {
		t.Fatalf("add season = %d\n%s", p.status, p.body)
	}
	p = b.post(path+"/seasons", url.Values{"season_number": {"-4"}, "name": {"Bad"}})
	wantFieldError(t, "bad season number", p, http.StatusBadRequest, "season_number")
	if !strings.Contains(p.body, `value="Bad"`) {
		t.Fatal("the refused new season lost what was typed")
	}
	wantFieldError(t, "bad air date", b.post(path+"/seasons", url.Values{"season_number": {"1"}, "edited": {"1"}, "air_date": {"31.12.2020"}}),
		http.StatusBadRequest, "air_date")
	if p := b.post(path+"/seasons", url.Values{"season_number": {"1"}, "edited": {"1"}, "name": {"Season one"}, "air_date": {"2020-03-01"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save season = %d\n%s", p.status, p.body)
	}
	seasons, err := e.ed().Seasons(t.Context(), id)
	must(t, err)
	if len(seasons) != 1 || seasons[0].Name != "Season one" || *seasons[0].AirDate != "2020-03-01" {
		t.Fatalf("seasons = %+v", seasons)
	}

	// Episodes.
	wantPage(t, "new episode page", b.get(path+"/episodes/new"), http.StatusOK, `name="episode_number"`)
	ep := url.Values{"_fields": {"season_number episode_number name icon custom_sid direct_source container_extension info enabled sources"},
		"season_number": {"1"}, "episode_number": {"1"}, "name": {xssImg}, "container_extension": {"mp4"}, "enabled": {"true"},
		"sources[0].url": {"http://vod.example.com/s1e1.mp4"}}
	if p := b.post(path+"/episodes", ep); p.status != http.StatusSeeOther {
		t.Fatalf("create episode = %d\n%s", p.status, p.body)
	}
	wantFieldError(t, "same number", b.post(path+"/episodes", ep), http.StatusConflict, "episode_number")
	eps, err := e.ed().Episodes(t.Context(), id)
	must(t, err)
	if len(eps) != 1 || eps[0].Name != xssImg {
		t.Fatalf("episodes = %+v", eps)
	}
	p = b.get(path)
	wantPage(t, "series page with its episode", p, http.StatusOK, "&#34;&gt;&lt;img src=x", "Test play", "Season one")
	epPath := fmt.Sprintf("/admin/episodes/%d", eps[0].ID)
	wantPage(t, "episode page", b.get(epPath), http.StatusOK, `value="http://vod.example.com/s1e1.mp4"`)
	if p := b.post(epPath, url.Values{"_fields": {"episode_number"}, "episode_number": {"2"}}); p.status != http.StatusSeeOther {
		t.Fatalf("save episode = %d\n%s", p.status, p.body)
	}
	wantFieldError(t, "bad source", b.post(epPath, url.Values{"_fields": {"sources"}, "sources[0].url": {"ftp://x/"}}), http.StatusBadRequest, "sources[0].url")

	vb, _ := e.webAs(t, accounts.RoleViewer)
	p = vb.get(path)
	wantPage(t, "viewer's page", p, http.StatusOK, "Season one")
	if strings.Contains(p.body, "/seasons\"") || strings.Contains(p.body, "New episode") {
		t.Fatalf("a viewer is offered changes:\n%s", p.body)
	}
	wantPage(t, "viewer adds a season", vb.post(path+"/seasons", url.Values{"season_number": {"2"}}), http.StatusForbidden)
	wantPage(t, "viewer edits an episode", vb.post(epPath, url.Values{"name": {"X"}}), http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller", rb.get(path), http.StatusForbidden)

	if p := b.post(epPath+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete episode = %d", p.status)
	}
	if p := b.post(path+"/seasons/1/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete season = %d\n%s", p.status, p.body)
	}
	wantDeleted(t, b, path)
}
