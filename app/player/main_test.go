package player_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var update = flag.Bool("update", false, "rewrite the golden files under testdata/player")

// fixedNow is the clock of every fixture server: Monday 3 March 2025, 13:45 UTC (14:45 in the
// panel's Europe/Berlin zone).
var fixedNow = time.Date(2025, 3, 3, 13, 45, 0, 0, time.UTC)

// Fixture credentials. Bob's password needs escaping in every URL form.
const (
	alicePass = "secret"
	bobPass   = "p@ss/w#rd+1 ?%"
	otherPass = "other-pass"
)

// fixture is a server over a small deterministic catalog:
//
//	categories  live: News, Sports, Hidden; radio: Radio; movie: Action, Drama, Secret Movies;
//	            series: Shows, Docs
//	streams     1 News One (News, archive 3 days, news1.test), 2 Sports "Max" & More <HD>
//	            (Sports, sports.test), 3 Hidden Channel (Hidden, hidden.test), 4 Direct Feed
//	            (no category, direct source), 5 Radio Wave (Radio), 6 The Matrix (Action, mkv,
//	            metadata needing repair), 7 Quiet Drama (Drama, mp4, no metadata), 8 Secret Movie
//	series      Show One (Shows; episodes S00E01, S01E01, S01E02, S02E01; a seasons row for 1
//	            only), Hidden Show (Docs; S01E01)
//	bouquets    Main: streams 2, 1, 4, 5, 6, 7 and Show One; Extra: 3, 8 and Hidden Show
//	lines       alice (Main), bob (Extra then Main, trial, never expires, m3u8+ts), carol
//	            (expired), dave (banned), erin (disabled), frank (Main, ts only), gina (allowed
//	            IPs elsewhere), hank (allowed user agent only), ivan (forced country)
type fixture struct {
	srv  *server.Server
	st   *store.Store
	pool *pgxpool.Pool
	logs *testkit.Buffer
}

func testConfig() config.Config {
	tz, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return config.Config{
		Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicPort: 8080, PublicHTTPSPort: 8443,
		PublicScheme: "http", PublicRTMPPort: 25462, TimezoneName: "Europe/Berlin", Timezone: tz,
		ShutdownTimeout: 5 * time.Second,
	}
}

// newFixture builds the catalog above in a fresh database and a server over it; setup runs
// between the two (settings, blocks ...).
func newFixture(t testing.TB, setup ...func(*store.Store)) *fixture {
	t.Helper()
	pool := testdb.New(t)
	st := store.New(pool)
	loadCatalog(t, st)
	for _, s := range []struct {
		key   string
		value any
	}{
		{"rate_limit_per_second", 0}, {"message", "Welcome to xtreamd"},
		// Refusal tests fail many logins from one address (0.0.0.0): no flood blocks unless a
		// test adds one itself.
		{"flood_auth_failures", 0},
	} {
		if err := st.SetSetting(context.Background(), s.key, s.value); err != nil {
			t.Fatal(err)
		}
	}
	for _, fn := range setup {
		fn(st)
	}
	return startServer(t, pool, st)
}

func startServer(t testing.TB, pool *pgxpool.Pool, st *store.Store) *fixture {
	t.Helper()
	logs := &testkit.Buffer{}
	srv, err := server.New(context.Background(), server.Deps{
		Config: testConfig(), Log: logx.New(logs, "text", slog.LevelWarn), Store: st,
		Now: func() time.Time { return fixedNow },
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, st: st, pool: pool, logs: logs}
}

func ptr[T any](v T) *T { return &v }

func loadCatalog(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cats := map[string]int64{}
	for _, kc := range []struct {
		kind  string
		names []string
	}{
		{store.KindLive, []string{"News", "Sports", "Hidden"}}, {store.KindRadio, []string{"Radio"}},
		{store.KindMovie, []string{"Action", "Drama", "Secret Movies"}}, {store.KindSeries, []string{"Shows", "Docs"}},
	} {
		ids, _, err := st.EnsureCategories(ctx, kc.kind, kc.names)
		must(err)
		for n, id := range ids {
			cats[n] = id
		}
	}
	src := func(u string) []store.Source { return []store.Source{{URL: u}} }
	matrixInfo := json.RawMessage(`{"tmdb_id":603,"name":"The Matrix","o_name":"The Matrix",
		"cover_big":"http://img.example/matrix-big.jpg","movie_image":"http://img.example/matrix.jpg",
		"releasedate":"1999-03-31","release_date":"1999-03-31","episode_run_time":null,"youtube_trailer":"vKQi3bBA1y8",
		"director":"Lana & Lilly Wachowski","actors":"Keanu Reeves","cast":"Keanu Reeves","description":"A hacker <learns>.",
		"plot":"A hacker <learns>.","age":"","mpaa_rating":"R","rating_count_kinopoisk":0,"country":"US",
		"genre":"Action, Sci-Fi","backdrop_path":"http://img.example/matrix-bd.jpg","duration_secs":8160,
		"duration":"02:16:00","bitrate":5000,"rating":8.7,"video":[],"audio":{"codec_name":"aac","channels":6}}`)
	streams := []store.StreamInput{
		{Kind: store.KindLive, Name: "News One", CategoryID: ptr(cats["News"]), Icon: "http://img.example/news1.png",
			EPGChannelID: ptr("news1.test"), TVArchiveDays: 3, Sources: src("http://up.example/news1.ts")},
		{Kind: store.KindLive, Name: `Sports "Max" & More <HD>`, CategoryID: ptr(cats["Sports"]),
			EPGChannelID: ptr("sports.test"), CustomSID: "1:0:1:2", Sources: src("http://up.example/sports.ts")},
		{Kind: store.KindLive, Name: "Hidden Channel", CategoryID: ptr(cats["Hidden"]), EPGChannelID: ptr("hidden.test"),
			Sources: src("http://up.example/hidden.ts")},
		{Kind: store.KindLive, Name: "Direct Feed", DirectSource: true, Sources: src("http://direct.example/feed.m3u8?a=1&b=2")},
		{Kind: store.KindRadio, Name: "Radio Wave", CategoryID: ptr(cats["Radio"]), Sources: src("http://up.example/radio.aac")},
		{Kind: store.KindMovie, Name: "The Matrix", CategoryID: ptr(cats["Action"]), ContainerExtension: ptr("mkv"),
			Info: matrixInfo, Sources: src("http://up.example/matrix.mkv")},
		{Kind: store.KindMovie, Name: "Quiet Drama", CategoryID: ptr(cats["Drama"]), ContainerExtension: ptr("mp4"),
			Icon: "http://img.example/drama.jpg", Sources: src("http://up.example/drama.mp4")},
		{Kind: store.KindMovie, Name: "Secret Movie", CategoryID: ptr(cats["Secret Movies"]), ContainerExtension: ptr("mp4"),
			Sources: src("http://up.example/secret.mp4")},
	}
	ids := make([]int64, len(streams))
	for i, in := range streams {
		id, err := st.CreateStream(ctx, in)
		must(err)
		ids[i] = id
	}
	showID, _, err := st.UpsertSeries(ctx, store.SeriesInput{
		Name: "Show One", CategoryID: ptr(cats["Shows"]), Cover: "http://img.example/show1.jpg", Plot: "Two engineers & a panel.",
		Cast: "Ada, Bob", Director: "C. Pattern", Genre: "Comedy / Drama", ReleaseDate: ptr(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)),
		Rating: 7.6, BackdropPaths: []string{"http://img.example/show1-bd.jpg"}, EpisodeRunTime: 45,
	})
	must(err)
	hiddenID, _, err := st.UpsertSeries(ctx, store.SeriesInput{Name: "Hidden Show", CategoryID: ptr(cats["Docs"]), Rating: 5})
	must(err)
	_, err = st.UpsertSeason(ctx, store.Season{SeriesID: showID, SeasonNumber: 1, Name: "Season 1", Overview: "It begins.",
		AirDate: ptr(time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)), Cover: "http://img.example/s1.jpg", VoteAverage: 7.5, TMDBID: ptr(int64(3572))})
	must(err)
	for _, ep := range []struct {
		series         int64
		season, number int32
		name           string
		info           json.RawMessage
	}{
		{showID, 0, 1, "Show One - S00E01 - Behind the Scenes", nil},
		{showID, 1, 1, "Show One - S01E01 - Pilot", json.RawMessage(`{"plot":"It starts.","duration_secs":2700,"duration":"00:45:00","rating":8,"movie_image":"http://img.example/e1.jpg"}`)},
		{showID, 1, 2, "Show One - S01E02 - The Handshake", nil},
		{showID, 2, 1, "Show One - S02E01 - Scale", nil},
		{hiddenID, 1, 1, "Hidden Show - S01E01", nil},
	} {
		_, _, err := st.UpsertEpisode(ctx, store.EpisodeInput{SeriesID: ep.series, SeasonNumber: ep.season, EpisodeNumber: ep.number,
			Stream: store.StreamInput{Name: ep.name, ContainerExtension: ptr("mkv"), Info: ep.info,
				Sources: src("http://up.example/ep-" + url.PathEscape(ep.name) + ".mkv")}})
		must(err)
	}
	mainID, _, err := st.EnsureBouquet(ctx, "Main")
	must(err)
	extraID, _, err := st.EnsureBouquet(ctx, "Extra")
	must(err)
	_, err = st.SetBouquetStreams(ctx, mainID, []int64{ids[1], ids[0], ids[3], ids[4], ids[5], ids[6]})
	must(err)
	_, err = st.SetBouquetSeries(ctx, mainID, []int64{showID})
	must(err)
	_, err = st.SetBouquetStreams(ctx, extraID, []int64{ids[2], ids[7]})
	must(err)
	_, err = st.SetBouquetSeries(ctx, extraID, []int64{hiddenID})
	must(err)

	loadGuide(t, st)

	newLine := func(name, password string, mod func(*store.LineInput)) {
		h, err := credential.Hash(password, testdb.FastHashParams)
		must(err)
		in := store.LineInput{Username: name, PasswordHash: h, MaxConnections: 2, BouquetIDs: []int64{mainID},
			ExpDate: ptr(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))}
		if mod != nil {
			mod(&in)
		}
		_, err = st.CreateLine(ctx, in)
		must(err)
	}
	newLine("alice", alicePass, nil)
	newLine("bob", bobPass, func(in *store.LineInput) {
		in.BouquetIDs, in.ExpDate, in.IsTrial, in.MaxConnections = []int64{extraID, mainID}, nil, true, 1
		in.AllowedOutputFormats = []string{"m3u8", "ts"}
	})
	newLine("carol", otherPass, func(in *store.LineInput) { in.ExpDate = ptr(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) })
	newLine("dave", otherPass, func(in *store.LineInput) { in.Banned = true })
	newLine("erin", otherPass, func(in *store.LineInput) { in.Disabled = true })
	newLine("frank", otherPass, func(in *store.LineInput) { in.AllowedOutputFormats = []string{"ts"} })
	// Policy refusals: requests in tests come from 0.0.0.0 with no GeoIP database.
	newLine("gina", otherPass, func(in *store.LineInput) { in.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")} })
	newLine("hank", otherPass, func(in *store.LineInput) { in.AllowedUserAgents = []string{"OnlyThisPlayer/1.0"} })
	newLine("ivan", otherPass, func(in *store.LineInput) { in.ForcedCountry = ptr("DE") })

	// Fixed creation and modification times, so "added", "created_at" and "last_modified"
	// are stable in the golden files. The touch trigger would overwrite series.updated_at.
	for _, q := range []string{
		`UPDATE lines SET created_at = '2024-01-01T00:00:00Z'`,
		`UPDATE streams SET created_at = '2024-06-01T12:00:00Z'`,
		`ALTER TABLE series DISABLE TRIGGER series_touch`,
		`UPDATE series SET updated_at = '2024-07-01T00:00:00Z'`,
		`ALTER TABLE series ENABLE TRIGGER series_touch`,
	} {
		testdb.MustExec(t, st, q)
	}
}

// loadGuide stores programmes around fixedNow: news1.test has an old one (past its 3-day
// archive), an archived one, the one on air with non-ASCII text, and four coming up.
func loadGuide(t testing.TB, st *store.Store) {
	t.Helper()
	at := func(day, hour, minute int) time.Time { return time.Date(2025, 3, day, hour, minute, 0, 0, time.UTC) }
	progs := []store.Programme{
		{ChannelID: "news1.test", StartAt: at(3, 13, 0), StopAt: at(3, 14, 0), Title: "Café Übersicht", Description: "Nachrichten & mehr <live>", Lang: "de"},
		{ChannelID: "news1.test", StartAt: at(1, 10, 0), StopAt: at(1, 11, 0), Title: "Morning News", Description: "The weekend.", Lang: "en"},
		{ChannelID: "news1.test", StartAt: at(3, 14, 0), StopAt: at(3, 15, 0), Title: "Afternoon", Lang: "en"},
		{ChannelID: "news1.test", StartAt: at(3, 15, 0), StopAt: at(3, 16, 0), Title: "Evening", Description: "Headlines.", Lang: "en"},
		{ChannelID: "news1.test", StartAt: at(3, 16, 0), StopAt: at(3, 17, 0), Title: "Night", Lang: "en"},
		{ChannelID: "news1.test", StartAt: at(3, 17, 0), StopAt: at(3, 18, 0), Title: "Late", Lang: "en"},
		{ChannelID: "news1.test", StartAt: time.Date(2025, 2, 20, 10, 0, 0, 0, time.UTC), StopAt: time.Date(2025, 2, 20, 11, 0, 0, 0, time.UTC), Title: "Old News", Lang: "en"},
		{ChannelID: "sports.test", StartAt: at(3, 13, 30), StopAt: at(3, 15, 30), Title: "Match Day", Description: "Live.", Lang: "en"},
		{ChannelID: "hidden.test", StartAt: at(3, 13, 0), StopAt: at(3, 15, 0), Title: "Secret", Lang: "en"},
	}
	_, err := st.ImportEPG(context.Background(), store.EPGFromSlices([]store.EPGChannel{{ID: "news1.test", DisplayName: "News One"},
		{ID: "sports.test", DisplayName: "Sports"}, {ID: "hidden.test", DisplayName: "Hidden"}}, progs))
	if err != nil {
		t.Fatal(err)
	}
}

// do sends a request through the production app and returns status, headers and body.
func (f *fixture) do(t testing.TB, method, target string, form url.Values, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.srv.App().Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp.StatusCode, resp.Header, b
}

func (f *fixture) get(t testing.TB, target string) (int, http.Header, []byte) {
	t.Helper()
	return f.do(t, http.MethodGet, target, nil, nil)
}

// api builds a player_api.php URL from key/value pairs.
func api(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return path + "?" + q.Encode()
}

// goldenPath is testdata/player/<name> at the module root.
func goldenPath(name string) string { return filepath.Join("..", "..", "testdata", "player", name) }

// golden compares got with testdata/player/<name>; -update rewrites the file. JSON (.json) is
// compared after canonical re-indenting, anything else byte for byte.
func golden(t testing.TB, name string, got []byte) {
	t.Helper()
	if strings.HasSuffix(name, ".json") {
		var buf bytes.Buffer
		if err := json.Indent(&buf, bytes.TrimSpace(got), "", "  "); err != nil {
			t.Fatalf("%s: answer is not JSON: %v\n%s", name, err, got)
		}
		buf.WriteByte('\n')
		got = buf.Bytes()
	}
	path := goldenPath(name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v (run go test ./app/player/ -update to create it)", name, err)
	}
	if strings.HasSuffix(name, ".json") {
		var buf bytes.Buffer
		if err := json.Indent(&buf, bytes.TrimSpace(want), "", "  "); err != nil {
			t.Fatalf("%s: golden is not JSON: %v", name, err)
		}
		buf.WriteByte('\n')
		want = buf.Bytes()
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-golden +got):\n%s", name, diff)
	}
}
