package player_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parsedM3U and parsedXMLTV are what playlists.mjs prints: the playlists as the npm M3U parser
// @iptv/playlist read them and the guide as the npm XMLTV parser @iptv/xmltv read it.
type parsedM3U struct {
	Headers  map[string]string `json:"headers"`
	Channels []m3uEntry        `json:"channels"`
}

type m3uEntry struct {
	Name        string  `json:"name"`
	TvgID       *string `json:"tvgId"`
	TvgName     *string `json:"tvgName"`
	TvgLogo     *string `json:"tvgLogo"`
	GroupTitle  *string `json:"groupTitle"`
	Catchup     *string `json:"catchup"`
	CatchupDays *string `json:"catchupDays"`
	Duration    float64 `json:"duration"`
	URL         string  `json:"url"`
}

type parsedXMLTV struct {
	Channels []struct {
		ID           string   `json:"id"`
		DisplayNames []string `json:"displayNames"`
		Icons        []string `json:"icons"`
	} `json:"channels"`
	Programmes []struct {
		Channel string   `json:"channel"`
		Start   float64  `json:"start"`
		Stop    float64  `json:"stop"`
		Titles  []string `json:"titles"`
		Descs   []string `json:"descs"`
	} `json:"programmes"`
}

// TestPlaylistParsers reads alice's get.php playlists and xmltv.php guide with the npm parsers
// @iptv/playlist and @iptv/xmltv (pinned in testdata/npm) and checks that they find exactly
// what the player API lists, decoded strictly: every live channel, movie and episode once,
// with its name, guide id, logo, group and stream URL; every guide channel with its name;
// every programme at the times and with the title get_simple_data_table gives. The golden
// files pin the bytes; this proves a third-party parser reads them as meant (quotes, "&" and
// "<" in names, direct sources with a query string, time zones).
func TestPlaylistParsers(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node := nodeWithPackages(ctx, t)
	f := newFixture(t)
	base := serve(t, f.srv.App(), "")

	cmd := exec.CommandContext(ctx, node, "playlists.mjs")
	cmd.Dir = npmDir
	cmd.Env = append(os.Environ(), "XTREAM_URL="+base, "XTREAM_USER=alice", "XTREAM_PASS="+alicePass)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("playlists.mjs: %v\n%s", err, stderr.String())
	}
	var parsed struct {
		M3U   map[string]parsedM3U `json:"m3u"`
		XMLTV parsedXMLTV          `json:"xmltv"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatalf("playlists.mjs printed %s: %v", out, err)
	}

	want := alicePlaylist(t, f)
	for name, ext := range map[string]string{"m3u_plus_ts": "ts", "m3u_plus_m3u8": "m3u8"} {
		got := parsed.M3U[name]
		if xtvg := got.Headers["xTvgUrl"]; xtvg != want.public+"/xmltv.php?username=alice&password="+alicePass {
			t.Errorf("%s: x-tvg-url %q", name, xtvg)
		}
		compareEntries(t, name, got.Channels, want.entries(ext), true)
	}
	compareEntries(t, "m3u_ts", parsed.M3U["m3u_ts"].Channels, want.entries("ts"), false)
	compareGuide(t, f, parsed.XMLTV, want.live)
}

// playlistWant is what alice's lists say her playlist must hold.
type playlistWant struct {
	public  string // scheme://host:port the answers advertise
	live    []LiveStream
	vod     []VODStream
	groups  map[int64]string // category id → name, every kind
	series  []SeriesEntry
	seasons map[int64][]Episode // series id → its episodes
}

func alicePlaylist(t *testing.T, f *fixture) playlistWant {
	t.Helper()
	get := func(kv ...string) []byte {
		t.Helper()
		code, _, body := f.get(t, api(playerAPI, append([]string{"username", "alice", "password", alicePass}, kv...)...))
		if code != 200 {
			t.Fatalf("player_api %v: %d", kv, code)
		}
		return body
	}
	login := decodeStrict[Login](t, get())
	w := playlistWant{
		public:  login.ServerInfo.ServerProtocol.V + "://" + login.ServerInfo.URL.V + ":" + strconv.FormatInt(login.ServerInfo.Port.V, 10),
		live:    decodeStrict[[]LiveStream](t, get("action", "get_live_streams")),
		vod:     decodeStrict[[]VODStream](t, get("action", "get_vod_streams")),
		series:  decodeStrict[[]SeriesEntry](t, get("action", "get_series")),
		groups:  map[int64]string{},
		seasons: map[int64][]Episode{},
	}
	for _, action := range []string{"get_live_categories", "get_vod_categories", "get_series_categories"} {
		for _, c := range decodeStrict[[]Category](t, get("action", action)) {
			w.groups[c.CategoryID.V] = c.CategoryName.V
		}
	}
	for _, s := range w.series {
		info := decodeStrict[SeriesInfo](t, get("action", "get_series_info", "series_id", strconv.FormatInt(s.SeriesID.V, 10)))
		for _, season := range slices.Sorted(maps.Keys(info.Episodes)) {
			w.seasons[s.SeriesID.V] = append(w.seasons[s.SeriesID.V], info.Episodes[season]...)
		}
	}
	if len(w.live) == 0 || len(w.vod) == 0 || len(w.seasons) == 0 {
		t.Fatalf("the fixture lists %d live, %d movies, %d series with episodes: nothing to compare", len(w.live), len(w.vod), len(w.seasons))
	}
	return w
}

// entries are the playlist entries the lists make, by stream URL, with live streams in
// output ext.
func (w playlistWant) entries(ext string) map[string]m3uEntry {
	out := map[string]m3uEntry{}
	str := func(s string) *string { return &s }
	group := func(id NullDigits) *string {
		if id.Null {
			return str("")
		}
		return str(w.groups[id.V])
	}
	add := func(e m3uEntry) {
		// An attribute value carries no double quote (spec §7 #20): tvg-name has single ones.
		e.TvgName, e.Duration = str(strings.ReplaceAll(e.Name, `"`, `'`)), -1
		out[e.URL] = e
	}
	for _, s := range w.live {
		e := m3uEntry{Name: s.Name.V, TvgID: str(s.EPGChannelID.V), TvgLogo: str(s.StreamIcon.V), GroupTitle: group(s.CategoryID),
			URL: fmt.Sprintf("%s/live/alice/%s/%d.%s", w.public, alicePass, s.StreamID.V, ext)}
		if s.DirectSource.V != "" {
			e.URL = s.DirectSource.V
		}
		if s.TVArchive.V == 1 {
			e.Catchup, e.CatchupDays = str("xc"), str(strconv.FormatInt(s.TVArchiveDuration.V, 10))
		}
		add(e)
	}
	for _, s := range w.vod {
		add(m3uEntry{Name: s.Name.V, TvgID: str(""), TvgLogo: str(s.StreamIcon.V), GroupTitle: group(s.CategoryID),
			URL: fmt.Sprintf("%s/movie/alice/%s/%d.%s", w.public, alicePass, s.StreamID.V, s.ContainerExtension.V)})
	}
	for _, s := range w.series {
		for _, ep := range w.seasons[s.SeriesID.V] {
			add(m3uEntry{Name: fmt.Sprintf("%s S%02d E%02d", s.Name.V, ep.Season.V, ep.EpisodeNum.V), TvgID: str(""),
				TvgLogo: str(s.Cover.V), GroupTitle: group(s.CategoryID),
				URL: fmt.Sprintf("%s/series/alice/%s/%d.%s", w.public, alicePass, ep.ID.V, ep.ContainerExtension.V)})
		}
	}
	return out
}

// compareEntries checks that the parser found each wanted entry once and nothing else; plain
// M3U (plus false) carries the name and URL only.
func compareEntries(t *testing.T, name string, got []m3uEntry, want map[string]m3uEntry, plus bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		w, ok := want[g.URL]
		switch {
		case !ok:
			t.Errorf("%s: the parser found %q at %q, which no list has", name, g.Name, g.URL)
			continue
		case seen[g.URL]:
			t.Errorf("%s: %q twice", name, g.URL)
		}
		seen[g.URL] = true
		if !plus {
			w = m3uEntry{Name: w.Name, Duration: -1, URL: w.URL}
		}
		if gj, wj := jsonOf(g), jsonOf(w); gj != wj {
			t.Errorf("%s: the parser read\n  %s\nwhere the lists say\n  %s", name, gj, wj)
		}
	}
	for u, w := range want {
		if !seen[u] {
			t.Errorf("%s: the parser did not find %q (%s)", name, w.Name, u)
		}
	}
}

// compareGuide checks the parsed guide: one channel per guide id of a listed live stream, named
// as the stream (first listed, as xmltv.php names it), with its logo; every programme on one of
// them, at the times and with the title and description get_simple_data_table gives. The
// parser hands text over with its XML entities as written (it decodes none), so they are
// decoded here as a player decodes them.
func compareGuide(t *testing.T, f *fixture, got parsedXMLTV, live []LiveStream) {
	t.Helper()
	type channel struct {
		name, icon string
		streamID   int64
	}
	want := map[string]channel{}
	for _, s := range live {
		if id := s.EPGChannelID.V; id != "" && !s.EPGChannelID.Null {
			if _, dup := want[id]; !dup {
				want[id] = channel{name: s.Name.V, icon: s.StreamIcon.V, streamID: s.StreamID.V}
			}
		}
	}
	seen := map[string]bool{}
	for _, c := range got.Channels {
		w, ok := want[c.ID]
		if !ok || seen[c.ID] {
			t.Errorf("guide channel %q: not a listed channel's guide id, or twice", c.ID)
			continue
		}
		seen[c.ID] = true
		if len(c.DisplayNames) != 1 || html.UnescapeString(c.DisplayNames[0]) != w.name {
			t.Errorf("guide channel %q is named %q, want %q", c.ID, c.DisplayNames, w.name)
		}
		if icons := strings.Join(c.Icons, " "); icons != w.icon {
			t.Errorf("guide channel %q has icons %q, want %q", c.ID, icons, w.icon)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("the guide has %d of the %d listed guide channels", len(seen), len(want))
	}

	type slot struct{ start, stop int64 }
	table := map[string]map[slot]TableListing{} // guide id → its listings by time
	for id, w := range want {
		code, _, body := f.get(t, api(playerAPI, "username", "alice", "password", alicePass,
			"action", "get_simple_data_table", "stream_id", strconv.FormatInt(w.streamID, 10)))
		if code != 200 {
			t.Fatalf("get_simple_data_table %d: %d", w.streamID, code)
		}
		table[id] = map[slot]TableListing{}
		for _, l := range decodeStrict[SimpleDataTable](t, body).EPGListings {
			table[id][slot{l.StartTimestamp.V, l.StopTimestamp.V}] = l
		}
	}
	if len(got.Programmes) == 0 {
		t.Fatal("the parser found no programme")
	}
	for _, p := range got.Programmes {
		at := slot{int64(p.Start), int64(p.Stop)}
		l, ok := table[p.Channel][at]
		switch {
		case !ok:
			t.Errorf("programme %q on %q at %v–%v: get_simple_data_table has none then", p.Titles, p.Channel,
				time.Unix(at.start, 0).UTC(), time.Unix(at.stop, 0).UTC())
		case len(p.Titles) != 1 || html.UnescapeString(p.Titles[0]) != l.Title.V:
			t.Errorf("programme on %q at %d: title %q, want %q", p.Channel, at.start, p.Titles, l.Title.V)
		case l.Description.V == "" && len(p.Descs) != 0,
			l.Description.V != "" && (len(p.Descs) != 1 || html.UnescapeString(p.Descs[0]) != l.Description.V):
			t.Errorf("programme on %q at %d: description %q, want %q", p.Channel, at.start, p.Descs, l.Description.V)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
