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

func TestWebLiveStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	cat, err := e.ed().CreateCategory(t.Context(), fixture, editor.Category{Kind: "live", Name: "News", Position: -1})
	must(t, err)
	wantPage(t, "new channel page", b.get("/admin/streams/new"), http.StatusOK, `name="sources[0].url"`, "News")
	form := url.Values{"_fields": {"name category_id icon epg_channel_id custom_sid direct_source tv_archive_days catchup_source enabled always_on sources"},
		"name": {xssScript}, "kind": {"live"}, "category_id": {fmt.Sprint(cat.ID)}, "epg_channel_id": {"news1.tv"},
		"enabled": {"true"}, "always_on": {"true"},
		"sources[0].url": {"http://up1.example.com/a.ts"}, "sources[0].kind": {"ts"}, "sources[0].pos": {"2"},
		"sources[1].url": {"https://up2.example.com/a.m3u8"}, "sources[1].kind": {"hls"}, "sources[1].pos": {"1"},
		"sources[2].url": {""}, "sources[2].pos": {"3"}}
	p := b.post("/admin/streams", form)
	if p.status != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", p.status, p.body)
	}
	list, err := e.ed().Streams(t.Context(), editor.FamilyLive, editor.StreamQuery{Query: editor.Query{Limit: 10}})
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("streams = %+v", list)
	}
	s := list[0]
	if s.Name != xssScript || !s.AlwaysOn || s.EPGChannelID == nil || *s.EPGChannelID != "news1.tv" || len(s.Sources) != 2 ||
		s.Sources[0].URL != "https://up2.example.com/a.m3u8" || s.Sources[1].Kind != "ts" {
		t.Fatalf("created stream = %+v (the sources in the order of their positions)", s)
	}
	path := fmt.Sprintf("/admin/streams/%d", s.ID)
	p = b.get(path)
	wantPage(t, "channel page", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="https://up2.example.com/a.m3u8" target="_blank" rel="noopener noreferrer"`, fmt.Sprintf("/live/USERNAME/PASSWORD/%d.ts", s.ID))
	if strings.Contains(p.body, xssScript) {
		t.Fatal("the channel name is not escaped on its page")
	}
	p = b.get("/admin/streams")
	wantPage(t, "list", p, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "news1.tv", "always on", "Test play")
	if strings.Contains(p.body, xssScript) {
		t.Fatal("the channel name is not escaped in the list")
	}

	// A refused source is marked in its row, as the page shows it (the blank first row dropped).
	bad := url.Values{"_fields": {"name sources"}, "name": {"News One"},
		"sources[0].url": {""}, "sources[1].url": {"http://ok.example.com/1.ts"}, "sources[2].url": {"rtmp://nope/x"}}
	wantFieldError(t, "bad source", b.post(path, bad), http.StatusBadRequest, "sources[1].url")
	wantFieldError(t, "no source", b.post(path, url.Values{"_fields": {"sources"}, "sources[0].url": {""}}), http.StatusBadRequest, "sources")
	wantFieldError(t, "bad archive", b.post(path, url.Values{"tv_archive_days": {"400"}}), http.StatusBadRequest, "tv_archive_days")
	wantFieldError(t, "bad category", b.post(path, url.Values{"category_id": {"999999"}}), http.StatusNotFound, "category_id")
	// Clearing the EPG id and turning always-on off.
	if p := b.post(path, url.Values{"_fields": {"epg_channel_id always_on"}, "epg_channel_id": {""}}); p.status != http.StatusSeeOther {
		t.Fatalf("save = %d\n%s", p.status, p.body)
	}
	got, err := e.ed().Stream(t.Context(), editor.FamilyLive, s.ID)
	must(t, err)
	if got.EPGChannelID != nil || got.AlwaysOn || len(got.Sources) != 2 {
		t.Fatalf("saved stream = %+v", got)
	}
	wantPage(t, "filtered list", b.get("/admin/streams?name=script&enabled=true"), http.StatusOK, fmt.Sprintf(`href="/admin/streams/%d"`, s.ID))
	wantFieldError(t, "bad filter", b.get("/admin/streams?kind=tv"), http.StatusBadRequest, "kind")

	vb, _ := e.webAs(t, accounts.RoleViewer)
	p = vb.get(path)
	wantPage(t, "viewer's page", p, http.StatusOK, "Test play")
	if strings.Contains(p.body, `method="post" action="/admin/streams/`) {
		t.Fatal("a viewer is offered the form")
	}
	wantPage(t, "viewer saves", vb.post(path, url.Values{"name": {"X"}}), http.StatusForbidden)
	wantPage(t, "viewer deletes", vb.post(path+"/delete", url.Values{}), http.StatusForbidden)
	rb, _ := e.webAs(t, accounts.RoleReseller)
	wantPage(t, "reseller", rb.get("/admin/streams"), http.StatusForbidden)
	wantDeleted(t, b, path)
}

func TestWebMovies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	b.get("/admin/vod/new")
	form := url.Values{"_fields": {"name category_id icon custom_sid direct_source container_extension info enabled sources"},
		"name": {xssImg}, "container_extension": {"mkv"}, "enabled": {"true"}, "info": {`{"plot": "<b>bold</b>", "rating": 7.5}`},
		"sources[0].url": {"http://vod.example.com/film.mkv"}}
	if p := b.post("/admin/vod", form); p.status != http.StatusSeeOther {
		t.Fatalf("create = %d\n%s", p.status, p.body)
	}
	movies, err := e.ed().Streams(t.Context(), editor.FamilyVOD, editor.StreamQuery{Query: editor.Query{Limit: 10}})
	must(t, err)
	if len(movies) != 1 || !strings.Contains(string(movies[0].Info), `"plot":"\u003cb\u003ebold\u003c/b\u003e"`) &&
		!strings.Contains(string(movies[0].Info), `"plot": "<b>bold</b>"`) {
		t.Fatalf("movies = %+v", movies)
	}
	path := fmt.Sprintf("/admin/vod/%d", movies[0].ID)
	p := b.get(path)
	wantPage(t, "movie page", p, http.StatusOK, "&#34;&gt;&lt;img src=x", "&lt;b&gt;bold&lt;/b&gt;", ".mkv")
	if strings.Contains(p.body, "<img src=x") || strings.Contains(p.body, "<b>bold") {
		t.Fatal("a movie's name or info is not escaped")
	}
	wantFieldError(t, "info not JSON", b.post(path, url.Values{"info": {"plot: x"}}), http.StatusBadRequest, "info")
	wantFieldError(t, "no container", b.post(path, url.Values{"_fields": {"container_extension"}, "container_extension": {""}}),
		http.StatusBadRequest, "container_extension")
	if p := b.post(path, url.Values{"_fields": {"info"}, "info": {""}}); p.status != http.StatusSeeOther {
		t.Fatalf("clear info = %d\n%s", p.status, p.body)
	}
	got, err := e.ed().Stream(t.Context(), editor.FamilyVOD, movies[0].ID)
	must(t, err)
	if string(got.Info) != "{}" {
		t.Fatalf("info after clearing = %s", got.Info)
	}
	wantPage(t, "list", b.get("/admin/vod"), http.StatusOK, "&#34;&gt;&lt;img src=x")
}
