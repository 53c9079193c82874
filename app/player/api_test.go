package player_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

const playerAPI = "/player_api.php"

// The fixture's ids (see fixture): streams 1–8 in creation order, episodes 9–13, series 1–2.
const (
	newsOne, sportsMax, hiddenChannel, directFeed, radioWave = "1", "2", "3", "4", "5"
	theMatrix, quietDrama, secretMovie                       = "6", "7", "8"
	showOne, hiddenShow                                      = "1", "2"
)

// apiCase is one player_api.php request, its golden file and its strict decoding.
type apiCase struct {
	name   string
	user   string
	pass   string
	params []string
	decode func(t testing.TB, body []byte)
}

func decodeAs[T any]() func(testing.TB, []byte) {
	return func(t testing.TB, body []byte) { decodeStrict[T](t, body) }
}

// TestPlayerAPI_Golden sends every action (and the interesting variants of each) and compares
// the answers with testdata/player/player_api_<case>.golden.json, decoding each into structs
// whose field types enforce the wire types of spec §1.
func TestPlayerAPI_Golden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []apiCase{
		{"login_alice", "alice", alicePass, nil, decodeAs[Login]()},
		{"login_bob", "bob", bobPass, nil, decodeAs[Login]()},
		{"login_unknown_action", "alice", alicePass, []string{"action", "get_profile"}, decodeAs[Login]()},
		{"live_categories", "alice", alicePass, []string{"action", "get_live_categories"}, decodeAs[[]Category]()},
		{"live_categories_bob", "bob", bobPass, []string{"action", "get_live_categories"}, decodeAs[[]Category]()},
		{"live_streams", "alice", alicePass, []string{"action", "get_live_streams"}, decodeAs[[]LiveStream]()},
		{"live_streams_bob", "bob", bobPass, []string{"action", "get_live_streams"}, decodeAs[[]LiveStream]()},
		{"live_streams_category", "alice", alicePass, []string{"action", "get_live_streams", "category_id", "1"}, decodeAs[[]LiveStream]()},
		{"live_streams_hidden_category", "alice", alicePass, []string{"action", "get_live_streams", "category_id", "3"}, decodeAs[[]LiveStream]()},
		{"live_streams_paged", "alice", alicePass, []string{"action", "get_live_streams", "params[offset]", "1", "params[items_per_page]", "2"}, decodeAs[[]LiveStream]()},
		{"vod_categories", "alice", alicePass, []string{"action", "get_vod_categories"}, decodeAs[[]Category]()},
		{"vod_streams", "alice", alicePass, []string{"action", "get_vod_streams"}, decodeAs[[]VODStream]()},
		{"vod_streams_bob", "bob", bobPass, []string{"action", "get_vod_streams"}, decodeAs[[]VODStream]()},
		{"vod_info", "alice", alicePass, []string{"action", "get_vod_info", "vod_id", theMatrix}, decodeAs[VODInfo]()},
		{"vod_info_no_metadata", "alice", alicePass, []string{"action", "get_vod_info", "vod_id", quietDrama}, decodeAs[VODInfo]()},
		{"vod_info_not_entitled", "alice", alicePass, []string{"action", "get_vod_info", "vod_id", secretMovie}, decodeAs[EmptyVODInfo]()},
		{"vod_info_live_id", "alice", alicePass, []string{"action", "get_vod_info", "vod_id", newsOne}, decodeAs[EmptyVODInfo]()},
		{"series_categories", "alice", alicePass, []string{"action", "get_series_categories"}, decodeAs[[]Category]()},
		{"series", "alice", alicePass, []string{"action", "get_series"}, decodeAs[[]SeriesEntry]()},
		{"series_bob", "bob", bobPass, []string{"action", "get_series"}, decodeAs[[]SeriesEntry]()},
		{"series_info", "alice", alicePass, []string{"action", "get_series_info", "series_id", showOne}, decodeAs[SeriesInfo]()},
		{"series_info_not_entitled", "alice", alicePass, []string{"action", "get_series_info", "series_id", hiddenShow}, decodeAs[EmptySeriesInfo]()},
		{"short_epg", "alice", alicePass, []string{"action", "get_short_epg", "stream_id", newsOne}, decodeAs[ShortEPG]()},
		{"short_epg_limit", "alice", alicePass, []string{"action", "get_short_epg", "stream_id", newsOne, "limit", "2"}, decodeAs[ShortEPG]()},
		{"short_epg_no_guide", "alice", alicePass, []string{"action", "get_short_epg", "stream_id", directFeed}, decodeAs[ShortEPG]()},
		{"short_epg_not_entitled", "alice", alicePass, []string{"action", "get_short_epg", "stream_id", hiddenChannel}, decodeAs[ShortEPG]()},
		{"simple_data_table", "alice", alicePass, []string{"action", "get_simple_data_table", "stream_id", newsOne}, decodeAs[SimpleDataTable]()},
		{"simple_data_table_sports", "alice", alicePass, []string{"action", "get_simple_data_table", "stream_id", sportsMax}, decodeAs[SimpleDataTable]()},
		{"epg", "alice", alicePass, []string{"action", "get_epg", "stream_id", newsOne}, decodeAs[[]EPGRow]()},
		{"epg_from_now", "alice", alicePass, []string{"action", "get_epg", "stream_id", newsOne, "from_now", "1"}, decodeAs[[]EPGRow]()},
		{"epg_unknown", "alice", alicePass, []string{"action", "get_epg", "stream_id", "999"}, decodeAs[[]EPGRow]()},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, hdr, body := f.get(t, api(playerAPI, append([]string{"username", tt.user, "password", tt.pass}, tt.params...)...))
			if code != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, Content-Type %q, want 200 application/json", code, hdr.Get("Content-Type"))
			}
			tt.decode(t, body)
			golden(t, "player_api_"+tt.name+".golden.json", body)
		})
	}
}

// TestPlayerAPI_NumericAliases: action 200–209 answer exactly what the named actions do
// (spec §1.1).
func TestPlayerAPI_NumericAliases(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for alias, named := range map[string][]string{
		"200": {"action", "get_vod_categories"},
		"201": {"action", "get_live_categories"},
		"202": {"action", "get_live_streams"},
		"203": {"action", "get_vod_streams"},
		"204": {"action", "get_series_info", "series_id", showOne},
		"205": {"action", "get_short_epg", "stream_id", newsOne},
		"206": {"action", "get_series_categories"},
		"207": {"action", "get_simple_data_table", "stream_id", newsOne},
		"208": {"action", "get_series"},
		"209": {"action", "get_vod_info", "vod_id", theMatrix},
	} {
		creds := []string{"username", "alice", "password", alicePass}
		_, _, want := f.get(t, api(playerAPI, append(creds, named...)...))
		params := append(append(creds, "action", alias), named[2:]...)
		_, _, got := f.get(t, api(playerAPI, params...))
		if !bytes.Equal(got, want) {
			t.Errorf("action=%s answers\n%s\nwant (%s)\n%s", alias, clip(got), named[1], clip(want))
		}
	}
}

// TestPlayerAPI_POSTAndPathForms: credentials POSTed as a form (POST values win over the
// query) and XUI's /player_api/{user}/{pass}[/{action}] answer like the GET form.
func TestPlayerAPI_POSTAndPathForms(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, wantLogin := f.get(t, api(playerAPI, "username", "bob", "password", bobPass))
	_, _, wantStreams := f.get(t, api(playerAPI, "username", "bob", "password", bobPass, "action", "get_live_streams"))

	form := url.Values{"username": {"bob"}, "password": {bobPass}}
	if code, _, got := f.do(t, http.MethodPost, playerAPI, form, nil); code != 200 || !bytes.Equal(got, wantLogin) {
		t.Errorf("POST login = %d\n%s\nwant\n%s", code, clip(got), clip(wantLogin))
	}
	// The query's wrong password loses to the form's right one; the query's action stays.
	target := api(playerAPI, "username", "bob", "password", "wrong", "action", "get_live_streams")
	if code, _, got := f.do(t, http.MethodPost, target, form, nil); code != 200 || !bytes.Equal(got, wantStreams) {
		t.Errorf("POST with query = %d\n%s\nwant\n%s", code, clip(got), clip(wantStreams))
	}
	path := "/player_api/bob/" + url.PathEscape(bobPass)
	if code, _, got := f.get(t, path); code != 200 || !bytes.Equal(got, wantLogin) {
		t.Errorf("GET %s = %d\n%s", path, code, clip(got))
	}
	if code, _, got := f.get(t, path+"/get_live_streams"); code != 200 || !bytes.Equal(got, wantStreams) {
		t.Errorf("GET %s/get_live_streams = %d\n%s", path, code, clip(got))
	}
}

// TestPlayerAPI_LoginKinds pins the JSON kinds of the login object (spec §1.3, §7 #3/#4).
func TestPlayerAPI_LoginKinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, body := f.get(t, api(playerAPI, "username", "alice", "password", alicePass))
	requireKinds(t, body, map[string]string{
		"user_info.auth": "number", "user_info.status": "string", "user_info.exp_date": "string",
		"user_info.is_trial": "string", "user_info.active_cons": "string", "user_info.created_at": "string",
		"user_info.max_connections": "string", "user_info.allowed_output_formats": "array", "user_info.message": "string",
		"server_info.url": "string", "server_info.port": "string", "server_info.https_port": "string",
		"server_info.rtmp_port": "string", "server_info.timestamp_now": "number", "server_info.time_now": "string",
		"server_info.process": "bool", "server_info.timezone": "string",
	})
	login := decodeStrict[Login](t, body)
	if u := login.UserInfo; u.Auth.V != 1 || u.Status.V != "Active" || u.Password.V != alicePass || u.Message.V != "Welcome to xtreamd" {
		t.Errorf("user_info = auth %d status %q password %q message %q", u.Auth.V, u.Status.V, u.Password.V, u.Message.V)
	}
	s := login.ServerInfo
	if s.URL.V != "tv.example.com" || s.Port.V != 8080 || s.TimestampNow.V != fixedNow.Unix() ||
		s.TimeNow.V != "2025-03-03 14:45:00" || s.Timezone.V != "Europe/Berlin" {
		t.Errorf("server_info = %+v", s)
	}

	_, _, body = f.get(t, api(playerAPI, "username", "bob", "password", bobPass))
	requireKinds(t, body, map[string]string{"user_info.exp_date": "null", "user_info.is_trial": "string"})

	_, _, body = f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_live_streams"))
	requireKinds(t, body, map[string]string{
		"0.num": "number", "0.stream_id": "number", "0.added": "string", "0.category_id": "string",
		"0.tv_archive": "number", "0.tv_archive_duration": "number", "0.epg_channel_id": "string",
		"2.category_id": "null", "2.epg_channel_id": "null",
	})
	_, _, body = f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_series_info", "series_id", showOne))
	requireKinds(t, body, map[string]string{
		"episodes": "object", "episodes.0": "array", "episodes.1.0.id": "string", "episodes.1.0.info": "object",
		"episodes.1.1.info": "object", "info.backdrop_path": "array", "info.rating": "string", "info.episode_run_time": "string",
	})
	_, _, body = f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_vod_info", "vod_id", theMatrix))
	requireKinds(t, body, map[string]string{
		"info": "object", "info.backdrop_path": "array", "info.video": "object", "info.audio": "object",
		"info.episode_run_time": "number", "movie_data.stream_id": "number", "movie_data.category_id": "string",
	})
}

// TestPlayerAPI_Headers: JSON content type always, the Origin echoed, credentials allowed
// (spec §1.1) — on success and on failure alike.
func TestPlayerAPI_Headers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{
		api(playerAPI, "username", "alice", "password", alicePass),
		api(playerAPI, "username", "alice", "password", "wrong"),
		playerAPI,
	} {
		_, hdr, _ := f.do(t, http.MethodGet, target, nil, map[string]string{"Origin": "https://web.example"})
		if hdr.Get("Content-Type") != "application/json" || hdr.Get("Access-Control-Allow-Origin") != "https://web.example" ||
			hdr.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("%s headers = %v", target, hdr)
		}
	}
	_, hdr, _ := f.get(t, api(playerAPI, "username", "alice", "password", alicePass))
	if hdr.Get("Access-Control-Allow-Origin") != "" || hdr.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("without Origin: headers = %v", hdr)
	}
}

// TestPlayerAPI_BouquetFiltering: alice (Main) never sees Extra's channel, movie, series or
// category by any action; bob (Extra, Main) sees Extra's first.
func TestPlayerAPI_BouquetFiltering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, body := f.get(t, api(playerAPI, "username", "alice", "password", alicePass, "action", "get_live_streams"))
	var ids []int64
	for _, s := range decodeStrict[[]LiveStream](t, body) {
		ids = append(ids, s.StreamID.V)
	}
	if want := []int64{2, 1, 4, 5}; !equalInts(ids, want) {
		t.Errorf("alice's live stream ids = %v, want %v (bouquet order)", ids, want)
	}
	_, _, body = f.get(t, api(playerAPI, "username", "bob", "password", bobPass, "action", "get_live_streams"))
	ids = ids[:0]
	for _, s := range decodeStrict[[]LiveStream](t, body) {
		ids = append(ids, s.StreamID.V)
	}
	if want := []int64{3, 2, 1, 4, 5}; !equalInts(ids, want) {
		t.Errorf("bob's live stream ids = %v, want %v (Extra first)", ids, want)
	}
	for _, p := range [][]string{
		{"action", "get_live_categories"}, {"action", "get_vod_streams"}, {"action", "get_vod_categories"},
		{"action", "get_series"}, {"action", "get_live_streams", "category_id", "3"},
	} {
		_, _, body := f.get(t, api(playerAPI, append([]string{"username", "alice", "password", alicePass}, p...)...))
		for _, hidden := range []string{"Hidden Channel", "Secret Movie", "Hidden Show", `"Hidden"`, "Secret Movies"} {
			if bytes.Contains(body, []byte(hidden)) {
				t.Errorf("%v shows alice %s", p, hidden)
			}
		}
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPlayerAPI_ConcurrentAnswersIntact: answers are built in pooled buffers; many concurrent
// requests of different sizes over a real connection must each get exactly their own answer.
func TestPlayerAPI_ConcurrentAnswersIntact(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	base, client := f.listen(t)
	targets := []string{
		api(playerAPI, "username", "alice", "password", alicePass),
		api(playerAPI, "username", "bob", "password", bobPass, "action", "get_live_streams"),
		api(playerAPI, "username", "alice", "password", alicePass, "action", "get_series_info", "series_id", showOne),
		api(playerAPI, "username", "alice", "password", alicePass, "action", "get_simple_data_table", "stream_id", newsOne),
		api("/panel_api.php", "username", "bob", "password", bobPass),
		api("/enigma2.php", "username", "bob", "password", bobPass, "type", "get_vod_streams"),
	}
	fetch := func(target string) ([]byte, error) {
		resp, err := client.Get(base + target)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		return io.ReadAll(resp.Body)
	}
	want := make([][]byte, len(targets))
	for i, target := range targets {
		b, err := fetch(target)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = b
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 40; n++ {
				i := (g + n) % len(targets)
				got, err := fetch(targets[i])
				if err != nil || !bytes.Equal(got, want[i]) {
					select {
					case errs <- fmt.Sprintf("%s: %v\n%s", targets[i], err, clip(got)):
					default:
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
