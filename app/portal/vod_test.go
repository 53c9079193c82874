package portal_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

type vodPage struct {
	TotalItems   int              `json:"total_items"`
	MaxPageItems int              `json:"max_page_items"`
	SelectedItem int              `json:"selected_item"`
	CurPage      int              `json:"cur_page"`
	Data         []map[string]any `json:"data"`
}

type vodLink struct {
	ID        int64  `json:"id"`
	Cmd       string `json:"cmd"`
	Load      string `json:"load"`
	Subtitles []any  `json:"subtitles"`
	Error     string `json:"error"`
}

// TestVODAndSeries: the movie list, its cmd played through create_link, series → seasons →
// an episode played the same way.
func TestVODAndSeries(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	b.handshake("")

	var movies vodPage
	b.js(&movies, "vod", "get_ordered_list", "category", "*", "p", "1", "sortby", "added")
	// The adult film is left out when no category is asked for.
	if movies.TotalItems != 1 || len(movies.Data) != 1 || movies.Data[0]["name"] != "Film" || movies.MaxPageItems != 14 {
		t.Fatalf("vod list = %+v", movies)
	}
	m := movies.Data[0]
	kinds(t, "movie", m, map[string]string{"id": "string", "category_id": "string", "time": "number", "cmd": "string",
		"is_movie": "number", "series": "array"})
	if m["director"] != "D. Rector" || m["time"] != 10.0 || m["rating_imdb"] != "7.5" {
		t.Errorf("movie item = %v", m)
	}
	raw, err := base64.StdEncoding.DecodeString(m["cmd"].(string))
	if err != nil || !json.Valid(raw) {
		t.Fatalf("movie cmd %q is not base64 JSON", m["cmd"])
	}
	var link vodLink
	b.js(&link, "vod", "create_link", "cmd", m["cmd"].(string), "series", "")
	if link.Error != "" || link.ID != e.movie || link.Subtitles == nil {
		t.Fatalf("vod create_link = %+v", link)
	}
	if codecs := ffprobe(t, cmdURL(t, link.Cmd)); !strings.Contains(codecs, "h264") {
		t.Fatalf("ffprobe found %q in the movie link", codecs)
	}

	var series vodPage
	b.js(&series, "series", "get_ordered_list", "category", itoa(e.shows))
	if series.TotalItems != 1 || series.Data[0]["id"] != itoa(e.seriesID) || series.Data[0]["is_series"] != 1.0 {
		t.Fatalf("series list = %+v", series)
	}
	var seasons vodPage
	b.js(&seasons, "series", "get_ordered_list", "movie_id", itoa(e.seriesID), "season_id", "0", "episode_id", "0")
	if seasons.TotalItems != 2 || seasons.Data[0]["id"] != itoa(e.seriesID)+":1" || seasons.Data[0]["name"] != "Season 1" {
		t.Fatalf("seasons = %+v", seasons)
	}
	if eps := seasons.Data[0]["series"].([]any); len(eps) != 2 || eps[0] != 1.0 || eps[1] != 2.0 {
		t.Fatalf("season 1 episodes = %v", seasons.Data[0]["series"])
	}
	b.js(&link, "vod", "create_link", "cmd", seasons.Data[0]["cmd"].(string), "series", "2")
	if link.Error != "" || link.ID != e.episodes["1/2"] {
		t.Fatalf("episode create_link = %+v", link)
	}
	if codecs := ffprobe(t, cmdURL(t, link.Cmd)); !strings.Contains(codecs, "h264") {
		t.Fatalf("ffprobe found %q in the episode link", codecs)
	}
	b.js(&link, "series", "create_link", "cmd", seasons.Data[1]["cmd"].(string), "series", "9")
	if link.Error != "player_file_missing" || link.Cmd != "" {
		t.Fatalf("missing episode = %+v", link)
	}
	// Ministra's /media/ form names a movie too; garbage names nothing.
	b.js(&link, "vod", "create_link", "cmd", "/media/"+itoa(e.movie)+".mpg")
	if link.Error != "" || link.ID != e.movie {
		t.Fatalf("/media/ create_link = %+v", link)
	}
	for _, cmd := range []string{"", "garbage", base64.StdEncoding.EncodeToString([]byte(`{"type":"movie","stream_id":` + itoa(e.live) + `}`))} {
		b.js(&link, "vod", "create_link", "cmd", cmd)
		if link.Error != "nothing_to_play" || link.Cmd != "" {
			t.Errorf("create_link(%q) = %+v, want nothing_to_play", cmd, link)
		}
	}
	// Favourites are the device's.
	var yes bool
	b.js(&yes, "vod", "set_fav", "video_id", itoa(e.movie))
	b.js(&movies, "vod", "get_ordered_list", "fav", "1")
	if movies.TotalItems != 1 || movies.Data[0]["fav"] != 1.0 {
		t.Fatalf("favourite movies = %+v", movies)
	}
	b.js(&yes, "vod", "del_fav", "video_id", itoa(e.movie))
	b.js(&movies, "vod", "get_ordered_list", "fav", "1")
	if movies.TotalItems != 0 {
		t.Fatalf("after del_fav = %+v", movies)
	}
}

// TestCatchUp: a past programme of the archive channel, from get_simple_data_table through
// tv_archive/create_link to the recording, fetched from its upstream.
func TestCatchUp(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	b.handshake("")
	tz, _ := time.LoadLocation("Europe/Paris") // the box's timezone cookie
	yesterday := time.Now().In(tz).AddDate(0, 0, -1).Format("2006-01-02")
	var table struct {
		TotalItems   int              `json:"total_items"`
		MaxPageItems int              `json:"max_page_items"`
		CurPage      int              `json:"cur_page"`
		SelectedItem int              `json:"selected_item"`
		Data         []map[string]any `json:"data"`
	}
	b.js(&table, "epg", "get_simple_data_table", "ch_id", itoa(e.archive), "date", yesterday, "p", "1")
	if table.TotalItems < 23 || table.MaxPageItems != 10 || len(table.Data) != 10 { // 23 to 25 hours: DST
		t.Fatalf("yesterday's table = %d rows of %d", len(table.Data), table.TotalItems)
	}
	row := table.Data[3]
	kinds(t, "epg row", row, map[string]string{"id": "string", "ch_id": "string", "name": "string", "start_timestamp": "number",
		"mark_archive": "number", "t_time": "string"})
	if row["mark_archive"] != 1.0 || !strings.HasPrefix(row["name"].(string), "archive.test at ") {
		t.Fatalf("row = %v", row)
	}
	start := time.Unix(int64(row["start_timestamp"].(float64)), 0)
	if got := start.In(tz).Format("2006-01-02 15:04:05"); row["time"] != got {
		t.Errorf("row time %v, want %s in the box's zone", row["time"], got)
	}
	var link struct {
		ID          int    `json:"id"`
		Cmd         string `json:"cmd"`
		StorageID   string `json:"storage_id"`
		Load        int    `json:"load"`
		Error       string `json:"error"`
		DownloadCmd string `json:"download_cmd"`
		ToFile      string `json:"to_file"`
	}
	b.strict(&link, "tv_archive", "create_link", "cmd", "auto /media/"+row["id"].(string)+".mpg")
	if link.Error != "" {
		t.Fatalf("tv_archive create_link = %+v", link)
	}
	u := cmdURL(t, link.Cmd)
	if !strings.Contains(u, "/timeshift/") || !strings.Contains(u, "/60/") || !strings.Contains(u, "play_token=") {
		t.Fatalf("catch-up link %q", u)
	}
	resp, err := http.Get(u)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp2t" {
		t.Fatalf("GET catch-up link = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	select {
	case got := <-e.shiftReq:
		if want := "/archive/" + itoa(e.archive) + "/" + itoa(start.Unix()) + "/60.ts"; got != want {
			t.Errorf("upstream asked for %q, want %q", got, want)
		}
	case <-time.After(waitLimit):
		t.Fatal("the recording was not fetched")
	}
	if codecs := ffprobe(t, u); !strings.Contains(codecs, "h264") {
		t.Fatalf("ffprobe found %q in the catch-up link", codecs)
	}
	// The next part: the programme after this one.
	var next string
	b.js(&next, "tv_archive", "get_next_part_url", "id", itoa(e.archive)+"_"+itoa(start.Unix()))
	if !strings.Contains(next, "/timeshift/") || !strings.Contains(next, "play_token=") {
		t.Fatalf("next part = %q", next)
	}
	// A programme of a channel without archive, or in the future, has no recording.
	future := time.Now().Truncate(time.Hour).Add(3 * time.Hour).Unix()
	for _, cmd := range []string{itoa(future) + "_" + itoa(e.archive), itoa(start.Unix()) + "_" + itoa(e.live), "nonsense"} {
		b.strict(&link, "tv_archive", "create_link", "cmd", "auto /media/"+cmd+".mpg")
		if link.Error != "nothing_to_play" || link.Cmd != "" {
			t.Errorf("create_link(%s) = %+v, want nothing_to_play", cmd, link)
		}
	}
}
