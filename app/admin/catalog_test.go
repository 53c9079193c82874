package admin_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// The catalog resources over real HTTP: happy paths, the 400 (with the field) / 404 / 409
// answers, paging, and who may do what. Every answer is checked against the served document
// by e.call.

// created posts body to path and returns the created resource's id.
func (e *env) created(t *testing.T, a auth, path string, body any) int64 {
	t.Helper()
	r := e.call(t, http.MethodPost, path, a, body)
	wantStatus(t, "POST "+path, r, http.StatusCreated)
	var out struct {
		ID int64 `json:"id"`
	}
	r.json(t, &out)
	return out.ID
}

// get reads path (a 200 answer) into v.
func (e *env) get(t *testing.T, a auth, path string, v any) {
	t.Helper()
	r := e.call(t, http.MethodGet, path, a, nil)
	wantStatus(t, "GET "+path, r, http.StatusOK)
	r.json(t, v)
}

// problemCase is one refused request and the problem it must get.
type problemCase struct {
	name   string
	method string
	path   string
	body   any
	status int
	field  string
}

func (e *env) wantProblems(t *testing.T, a auth, cases []problemCase) {
	t.Helper()
	for _, tt := range cases {
		wantProblem(t, tt.name, e.call(t, tt.method, tt.path, a, tt.body), tt.status, tt.field)
	}
}

func TestCategories_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	news := e.created(t, root, "/categories", map[string]any{"kind": "live", "name": "News"})
	e.created(t, root, "/categories", map[string]any{"kind": "live", "name": "Sport", "position": 5})
	var got gotCategory
	e.call(t, http.MethodGet, fmt.Sprintf("/categories/%d", news), root, nil).json(t, &got)
	if got.Name != "News" || got.Kind != "live" || got.Position != 0 {
		t.Fatalf("GET category = %+v", got)
	}
	r := e.call(t, http.MethodPatch, fmt.Sprintf("/categories/%d", news), root, map[string]any{"name": "World", "is_adult": true})
	wantStatus(t, "PATCH category", r, 200)
	r.json(t, &got)
	if got.Name != "World" || !got.IsAdult {
		t.Fatalf("PATCH category = %+v", got)
	}
	e.wantProblems(t, root, []problemCase{
		{"duplicate", "POST", "/categories", map[string]any{"kind": "live", "name": "Sport"}, 409, "name"},
		{"bad kind", "POST", "/categories", map[string]any{"kind": "tv", "name": "X"}, 400, "kind"},
		{"no name", "POST", "/categories", map[string]any{"kind": "live"}, 400, "name"},
		{"blank name", "POST", "/categories", map[string]any{"kind": "live", "name": "  "}, 400, "name"},
		{"unknown member", "POST", "/categories", map[string]any{"kind": "live", "name": "X", "id": 3}, 400, "id"},
		{"kind is fixed", "PATCH", fmt.Sprintf("/categories/%d", news), map[string]any{"kind": "movie"}, 400, "kind"},
		{"rename onto another", "PATCH", fmt.Sprintf("/categories/%d", news), map[string]any{"name": "Sport"}, 409, "name"},
		{"unknown", "GET", "/categories/999", nil, 404, "id"},
		{"bad id", "GET", "/categories/abc", nil, 400, "id"},
		{"bad sort", "GET", "/categories?sort=icon", nil, 400, "sort"},
		{"bad cursor", "GET", "/categories?cursor=xyz", nil, 400, "cursor"},
	})
	var page gotPage[gotCategory]
	e.get(t, root, "/categories?kind=live&sort=-position", &page)
	if len(page.Items) != 2 || page.Items[0].Name != "Sport" || page.NextCursor != nil {
		t.Fatalf("list = %+v", page)
	}
	wantStatus(t, "DELETE", e.call(t, http.MethodDelete, fmt.Sprintf("/categories/%d", news), root, nil), 204)
	wantProblem(t, "DELETE again", e.call(t, http.MethodDelete, fmt.Sprintf("/categories/%d", news), root, nil), 404, "id")
}

// Page mirrors the API's page of T.
type gotPage[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// gotCategory, gotLive … mirror the answers the tests read.
type (
	gotCategory struct {
		ID       int64  `json:"id"`
		Kind     string `json:"kind"`
		Name     string `json:"name"`
		Position int32  `json:"position"`
		IsAdult  bool   `json:"is_adult"`
	}
	gotSource struct {
		URL  string `json:"url"`
		Kind string `json:"kind"`
	}
	gotLive struct {
		ID           int64       `json:"id"`
		Kind         string      `json:"kind"`
		Name         string      `json:"name"`
		CategoryID   *int64      `json:"category_id"`
		EPGChannelID *string     `json:"epg_channel_id"`
		Enabled      bool        `json:"enabled"`
		AlwaysOn     bool        `json:"always_on"`
		Sources      []gotSource `json:"sources"`
		UpdatedAt    string      `json:"updated_at"`
	}
	gotBouquet struct {
		ID        int64   `json:"id"`
		Name      string  `json:"name"`
		StreamIDs []int64 `json:"stream_ids"`
		SeriesIDs []int64 `json:"series_ids"`
	}
)

func TestLiveStreamsAndVOD_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	cat := e.created(t, root, "/categories", map[string]any{"kind": "live", "name": "News"})
	movies := e.created(t, root, "/categories", map[string]any{"kind": "movie", "name": "Films"})
	body := map[string]any{"name": "News One", "category_id": cat, "epg_channel_id": "news1.tv", "tv_archive_days": 3,
		"sources": []map[string]any{{"url": "http://up.example.com/1.ts"}, {"url": "https://b.example.com/1.m3u8", "kind": "hls"}}}
	id := e.created(t, root, "/live-streams", body)
	var s gotLive
	e.call(t, http.MethodGet, fmt.Sprintf("/live-streams/%d", id), root, nil).json(t, &s)
	if s.Kind != "live" || !s.Enabled || len(s.Sources) != 2 || s.Sources[0].Kind != "auto" || *s.EPGChannelID != "news1.tv" {
		t.Fatalf("GET live stream = %+v", s)
	}
	r := e.call(t, http.MethodPatch, fmt.Sprintf("/live-streams/%d", id), root, map[string]any{
		"epg_channel_id": nil, "always_on": true, "sources": []map[string]any{{"url": "https://b.example.com/1.m3u8", "kind": "hls"}}})
	wantStatus(t, "PATCH live", r, 200)
	r.json(t, &s)
	if s.EPGChannelID != nil || !s.AlwaysOn || len(s.Sources) != 1 {
		t.Fatalf("PATCH live = %+v", s)
	}
	mid := e.created(t, root, "/vod", map[string]any{"name": "A Film", "category_id": movies, "container_extension": "mkv",
		"info": map[string]any{"plot": "p", "rating": "7.5"}, "sources": []map[string]any{{"url": "file:///srv/media/a.mkv"}}})
	var m struct {
		ContainerExtension string         `json:"container_extension"`
		Info               map[string]any `json:"info"`
		Sources            []gotSource    `json:"sources"`
	}
	e.call(t, http.MethodGet, fmt.Sprintf("/vod/%d", mid), root, nil).json(t, &m)
	if m.ContainerExtension != "mkv" || m.Info["plot"] != "p" || m.Sources[0].Kind != "file" {
		t.Fatalf("GET movie = %+v", m)
	}
	live := fmt.Sprintf("/live-streams/%d", id)
	e.wantProblems(t, root, []problemCase{
		{"no sources", "POST", "/live-streams", map[string]any{"name": "X", "sources": []any{}}, 400, "sources"},
		{"bad source scheme", "POST", "/live-streams", map[string]any{"name": "X", "sources": []map[string]any{{"url": "rtmp://x/y"}}}, 400, "sources[0].url"},
		{"file escape", "POST", "/live-streams", map[string]any{"name": "X", "sources": []map[string]any{{"url": "file:///srv/../etc/passwd"}}}, 400, "sources[0].url"},
		{"movie category", "POST", "/live-streams", map[string]any{"name": "X", "category_id": movies,
			"sources": []map[string]any{{"url": "http://a/b"}}}, 400, "category_id"},
		{"unknown category", "PATCH", live, map[string]any{"category_id": 999}, 404, "category_id"},
		{"archive days", "PATCH", live, map[string]any{"tv_archive_days": 400}, 400, "tv_archive_days"},
		{"null name", "PATCH", live, map[string]any{"name": nil}, 400, "name"},
		{"movie is not live", "GET", fmt.Sprintf("/live-streams/%d", mid), nil, 404, "id"},
		{"live is not a movie", "PATCH", fmt.Sprintf("/vod/%d", id), map[string]any{"name": "x"}, 404, "id"},
		{"movie without container", "POST", "/vod", map[string]any{"name": "X", "sources": []map[string]any{{"url": "http://a/b"}}}, 400, "container_extension"},
		{"bad container", "PATCH", fmt.Sprintf("/vod/%d", mid), map[string]any{"container_extension": "MP4"}, 400, "container_extension"},
	})
	var vods gotPage[struct {
		ID int64 `json:"id"`
	}]
	e.get(t, root, fmt.Sprintf("/vod?category_id=%d", movies), &vods)
	if len(vods.Items) != 1 || vods.Items[0].ID != mid {
		t.Fatalf("movies = %+v", vods)
	}
	wantStatus(t, "DELETE movie", e.call(t, http.MethodDelete, fmt.Sprintf("/vod/%d", mid), root, nil), 204)
}

func TestStreams_Paging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	for _, n := range []string{"delta", "alpha", "echo", "charlie", "bravo"} {
		e.created(t, root, "/live-streams", map[string]any{"name": n, "sources": []map[string]any{{"url": "http://u/" + n}}})
	}
	var names []string
	path := "/live-streams?sort=-name&limit=2"
	for i := 0; i < 5; i++ {
		var page gotPage[gotLive]
		e.get(t, root, path, &page)
		for _, s := range page.Items {
			names = append(names, s.Name)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/live-streams?sort=-name&limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if strings.Join(names, ",") != "echo,delta,charlie,bravo,alpha" {
		t.Fatalf("pages = %v", names)
	}
	var page gotPage[gotLive]
	e.get(t, root, "/live-streams?name=RAV&enabled=true", &page)
	if len(page.Items) != 1 || page.Items[0].Name != "bravo" {
		t.Fatalf("filtered = %+v", page)
	}
	// A cursor made for one order is refused in another.
	first := gotPage[gotLive]{}
	e.get(t, root, "/live-streams?sort=name&limit=1", &first)
	wantProblem(t, "cursor of another sort", e.call(t, http.MethodGet,
		"/live-streams?sort=created_at&cursor="+url.QueryEscape(*first.NextCursor), root, nil), 400, "cursor")
}

func TestSeriesAndEpisodes_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	sid := e.created(t, root, "/series", map[string]any{"name": "Show", "release_date": "2020-01-02", "rating": 8.5})
	r := e.call(t, http.MethodPut, fmt.Sprintf("/series/%d/seasons/1", sid), root, map[string]any{"name": "Season One"})
	wantStatus(t, "PUT season", r, 200)
	ep := map[string]any{"season_number": 1, "episode_number": 1, "name": "Pilot", "container_extension": "mp4",
		"sources": []map[string]any{{"url": "http://v.example.com/s1e1.mp4"}}}
	eid := e.created(t, root, fmt.Sprintf("/series/%d/episodes", sid), ep)
	var eps struct {
		Items []struct {
			ID            int64  `json:"id"`
			SeasonNumber  int32  `json:"season_number"`
			EpisodeNumber int32  `json:"episode_number"`
			Name          string `json:"name"`
		} `json:"items"`
	}
	e.call(t, http.MethodGet, fmt.Sprintf("/series/%d/episodes", sid), root, nil).json(t, &eps)
	if len(eps.Items) != 1 || eps.Items[0].ID != eid || eps.Items[0].Name != "Pilot" {
		t.Fatalf("episodes = %+v", eps)
	}
	var seasons struct {
		Items []struct {
			SeasonNumber int32  `json:"season_number"`
			Name         string `json:"name"`
		} `json:"items"`
	}
	e.call(t, http.MethodGet, fmt.Sprintf("/series/%d/seasons", sid), root, nil).json(t, &seasons)
	if len(seasons.Items) != 1 || seasons.Items[0].Name != "Season One" {
		t.Fatalf("seasons = %+v", seasons)
	}
	wantStatus(t, "PATCH episode", e.call(t, http.MethodPatch, fmt.Sprintf("/episodes/%d", eid), root,
		map[string]any{"episode_number": 2, "info": map[string]any{"duration": "00:42:00"}}), 200)
	e.wantProblems(t, root, []problemCase{
		{"same number", "POST", fmt.Sprintf("/series/%d/episodes", sid), map[string]any{"season_number": 1, "episode_number": 2,
			"name": "Again", "container_extension": "mp4", "sources": []map[string]any{{"url": "http://v/x.mp4"}}}, 409, "episode_number"},
		{"series unknown", "POST", "/series/999/episodes", ep, 404, "id"},
		{"bad date", "PATCH", fmt.Sprintf("/series/%d", sid), map[string]any{"release_date": "2020-13-45"}, 400, "release_date"},
		{"rating", "POST", "/series", map[string]any{"name": "S", "rating": 11}, 400, "rating"},
		{"season number", "PUT", fmt.Sprintf("/series/%d/seasons/-1", sid), map[string]any{}, 400, "number"},
		{"no such season", "DELETE", fmt.Sprintf("/series/%d/seasons/7", sid), nil, 404, "season_number"},
	})
	var se struct {
		Name        string  `json:"name"`
		ReleaseDate *string `json:"release_date"`
		Rating      float64 `json:"rating"`
	}
	r = e.call(t, http.MethodPatch, fmt.Sprintf("/series/%d", sid), root, map[string]any{"name": "The Show", "release_date": nil})
	wantStatus(t, "PATCH series", r, 200)
	e.get(t, root, fmt.Sprintf("/series/%d", sid), &se)
	if se.Name != "The Show" || se.ReleaseDate != nil || se.Rating != 8.5 {
		t.Fatalf("series = %+v", se)
	}
	var list gotPage[struct {
		ID int64 `json:"id"`
	}]
	e.get(t, root, "/series?name=show&sort=-created_at", &list)
	if len(list.Items) != 1 {
		t.Fatalf("series list = %+v", list)
	}
	wantStatus(t, "DELETE season", e.call(t, http.MethodDelete, fmt.Sprintf("/series/%d/seasons/1", sid), root, nil), 204)
	e2 := e.created(t, root, fmt.Sprintf("/series/%d/episodes", sid), ep)
	wantStatus(t, "DELETE episode", e.call(t, http.MethodDelete, fmt.Sprintf("/episodes/%d", e2), root, nil), 204)
	wantStatus(t, "DELETE series", e.call(t, http.MethodDelete, fmt.Sprintf("/series/%d", sid), root, nil), 204)
	wantProblem(t, "episode gone with its series", e.call(t, http.MethodGet, fmt.Sprintf("/episodes/%d", eid), root, nil), 404, "id")
}

func TestBouquets_API(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	var ids []int64
	for _, n := range []string{"a", "b", "c"} {
		ids = append(ids, e.created(t, root, "/live-streams", map[string]any{"name": n, "sources": []map[string]any{{"url": "http://u/" + n}}}))
	}
	sid := e.created(t, root, "/series", map[string]any{"name": "Show"})
	bid := e.created(t, root, "/bouquets", map[string]any{"name": "Basic", "stream_ids": []int64{ids[2], ids[0]}, "series_ids": []int64{sid}})
	var b gotBouquet
	r := e.call(t, http.MethodPatch, fmt.Sprintf("/bouquets/%d", bid), root, map[string]any{"stream_ids": []int64{ids[1], ids[2], ids[0]}})
	wantStatus(t, "PATCH bouquet", r, 200)
	e.call(t, http.MethodGet, fmt.Sprintf("/bouquets/%d", bid), root, nil).json(t, &b)
	if fmt.Sprint(b.StreamIDs) != fmt.Sprint([]int64{ids[1], ids[2], ids[0]}) || len(b.SeriesIDs) != 1 {
		t.Fatalf("bouquet = %+v", b)
	}
	e.wantProblems(t, root, []problemCase{
		{"duplicate name", "POST", "/bouquets", map[string]any{"name": "Basic"}, 409, "name"},
		{"unknown stream", "PATCH", fmt.Sprintf("/bouquets/%d", bid), map[string]any{"stream_ids": []int64{999}}, 404, "stream_ids"},
		{"bad id", "PATCH", fmt.Sprintf("/bouquets/%d", bid), map[string]any{"stream_ids": []int64{0}}, 400, "stream_ids[0]"},
	})
	var list gotPage[struct {
		ID          int64 `json:"id"`
		StreamCount int   `json:"stream_count"`
	}]
	e.get(t, root, "/bouquets", &list)
	if len(list.Items) != 1 || list.Items[0].StreamCount != 3 {
		t.Fatalf("bouquet list = %+v", list)
	}
	wantStatus(t, "DELETE bouquet", e.call(t, http.MethodDelete, fmt.Sprintf("/bouquets/%d", e.created(t, root, "/bouquets",
		map[string]any{"name": "Spare"})), root, nil), 204)
	// A reseller reads the bouquets (it gives them to its lines) but changes nothing.
	_, reseller := e.as(t, accounts.RoleReseller)
	wantStatus(t, "reseller lists bouquets", e.call(t, http.MethodGet, "/bouquets", reseller, nil), 200)
	wantProblem(t, "reseller changes a bouquet", e.call(t, http.MethodPatch, fmt.Sprintf("/bouquets/%d", bid), reseller,
		map[string]any{"name": "Mine"}), 403, "")
}

// TestCatalog_Roles: viewers read the catalog and change nothing; resellers see none of it but
// the bouquets; nobody without a token gets anything.
func TestCatalog_Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, root := e.as(t, accounts.RoleAdmin)
	_, viewer := e.as(t, accounts.RoleViewer)
	_, reseller := e.as(t, accounts.RoleReseller)
	id := e.created(t, root, "/live-streams", map[string]any{"name": "x", "sources": []map[string]any{{"url": "http://u/x"}}})
	for _, path := range []string{"/categories", "/live-streams", "/vod", "/series", fmt.Sprintf("/live-streams/%d", id),
		"/epg-sources", "/security/blocked-ips", "/security/allowed-countries", "/settings", "/imports", "/audit"} {
		wantStatus(t, "viewer GET "+path, e.call(t, http.MethodGet, path, viewer, nil), 200)
		wantProblem(t, "reseller GET "+path, e.call(t, http.MethodGet, path, reseller, nil), 403, "")
		wantProblem(t, "anonymous GET "+path, e.call(t, http.MethodGet, path, anonymous, nil), 401, "")
	}
	for _, w := range []struct{ method, path string }{
		{"POST", "/categories"}, {"PATCH", fmt.Sprintf("/live-streams/%d", id)}, {"DELETE", fmt.Sprintf("/live-streams/%d", id)},
		{"POST", "/vod"}, {"POST", "/series"}, {"POST", "/bouquets"}, {"POST", "/epg-sources"}, {"POST", "/security/blocked-ips"},
		{"PUT", "/security/allowed-countries"}, {"PATCH", "/settings"}, {"POST", "/imports"},
	} {
		wantProblem(t, "viewer "+w.method+" "+w.path, e.call(t, w.method, w.path, viewer, map[string]any{}), 403, "")
		wantProblem(t, "reseller "+w.method+" "+w.path, e.call(t, w.method, w.path, reseller, map[string]any{}), 403, "")
	}
}
