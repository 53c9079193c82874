package player_test

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/url"
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

// TestPlaylistParsers reads alice's and bob's get.php playlists and xmltv.php guide with the npm parsers
// @iptv/playlist and @iptv/xmltv (pinned in testdata/npm) and checks that they find exactly
// what the player API lists, decoded strictly: every live channel, movie and episode once,
// with its name, guide id, logo, group and stream URL; every guide channel with its name;
// every programme at the times and with the title get_simple_data_table gives. The golden
// files pin the bytes; this proves a third-party parser reads them as meant (quotes, "&" and
// "<" in names, direct sources with a query string, bob's password full of URL syntax, time
// zones).
func TestPlaylistParsers(t *testing.T) {
	t.Parallel()
	ctx, node, f, base := nodeAndServer(t)
	for _, line := range []struct{ user, pass string }{{"alice", alicePass}, {"bob", bobPass}} {
		t.Run(line.user, func(t *testing.T) {
			out, stderr, err := runScript(ctx, node, "playlists.mjs", base, line.user, line.pass)
			if err != nil {
				t.Fatalf("playlists.mjs: %v\n%s", err, stderr)
			}
			var parsed struct {
				M3U   map[string]parsedM3U `json:"m3u"`
				XMLTV parsedXMLTV          `json:"xmltv"`
			}
			if err := json.Unmarshal(out, &parsed); err != nil {
				t.Fatalf("playlists.mjs printed %s: %v", out, err)
			}

			want := linePlaylist(t, f, line.user, line.pass)
			for name, ext := range map[string]string{"m3u_plus_ts": "ts", "m3u_plus_m3u8": "m3u8"} {
				got := parsed.M3U[name]
				u, err := url.Parse(got.Headers["xTvgUrl"])
				if err != nil || u.Scheme+"://"+u.Host+u.Path != want.public+"/xmltv.php" || u.Query().Get("username") != line.user ||
					u.Query().Get("password") != line.pass {
					t.Errorf("%s: x-tvg-url %q", name, got.Headers["xTvgUrl"])
				}
				compareEntries(t, name, want, got.Channels, want.entries(ext), true)
			}
			compareEntries(t, "m3u_ts", want, parsed.M3U["m3u_ts"].Channels, want.entries("ts"), false)
			compareGuide(t, f, want, parsed.XMLTV)
		})
	}
}

// playlistWant is what a line's lists say its playlist must hold.
type playlistWant struct {
	user, pass string
	public     string // scheme://host:port the answers advertise
	live       []LiveStream
	vod        []VODStream
	groups     map[int64]string // category id → name, every kind
	series     []SeriesEntry
	seasons    map[int64][]Episode // series id → its episodes
}

func linePlaylist(t *testing.T, f *fixture, user, pass string) playlistWant {
	t.Helper()
	get := func(kv ...string) []byte {
		t.Helper()
		code, _, body := f.get(t, api(playerAPI, append([]string{"username", user, "password", pass}, kv...)...))
		if code != 200 {
			t.Fatalf("player_api %v: %d", kv, code)
		}
		return body
	}
	login := decodeStrict[Login](t, get())
	w := playlistWant{
		user: user, pass: pass,
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

// entries are the playlist entries the lists make, by urlKey of their stream URL, with live
// streams in output ext.
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
		out[w.urlKey(e.URL)] = e
	}
	for _, s := range w.live {
		e := m3uEntry{Name: s.Name.V, TvgID: str(s.EPGChannelID.V), TvgLogo: str(s.StreamIcon.V), GroupTitle: group(s.CategoryID),
			URL: w.streamURL("live", s.StreamID.V, ext)}
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
			URL: w.streamURL("movie", s.StreamID.V, s.ContainerExtension.V)})
	}
	for _, s := range w.series {
		for _, ep := range w.seasons[s.SeriesID.V] {
			add(m3uEntry{Name: fmt.Sprintf("%s S%02d E%02d", s.Name.V, ep.Season.V, ep.EpisodeNum.V), TvgID: str(""),
				TvgLogo: str(s.Cover.V), GroupTitle: group(s.CategoryID),
				URL: w.streamURL("series", ep.ID.V, ep.ContainerExtension.V)})
		}
	}
	return out
}

// streamURL is a stream's URL for the line, its credentials escaped as path segments; what
// matters is what a player's URL parser makes of it (urlKey), not the escaping chosen.
func (w playlistWant) streamURL(kind string, id int64, ext string) string {
	return fmt.Sprintf("%s/%s/%s/%s/%d.%s", w.public, kind, url.PathEscape(w.user), url.PathEscape(w.pass), id, ext)
}

// urlKey is a URL of ours as its decoded path segments, a direct source as it is.
func (w playlistWant) urlKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme+"://"+u.Host != w.public {
		return raw
	}
	var segs []string
	for _, s := range strings.Split(u.EscapedPath(), "/") {
		d, err := url.PathUnescape(s)
		if err != nil {
			return raw
		}
		segs = append(segs, strconv.Quote(d))
	}
	return w.public + " " + strings.Join(segs, " ")
}

// compareEntries checks that the parser found each wanted entry once and nothing else; plain
// M3U (plus false) carries the name and URL only.
func compareEntries(t *testing.T, name string, lw playlistWant, got []m3uEntry, want map[string]m3uEntry, plus bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		key := lw.urlKey(g.URL)
		w, ok := want[key]
		switch {
		case !ok:
			t.Errorf("%s: the parser found %q at %q, which no list has", name, g.Name, g.URL)
			continue
		case seen[key]:
			t.Errorf("%s: %q twice", name, g.URL)
		}
		seen[key] = true
		g.URL, w.URL = key, key // compared as keys: the escaping is the server's choice
		if !plus {
			w = m3uEntry{Name: w.Name, Duration: -1, URL: w.URL}
		}
		if gj, wj := jsonOf(g), jsonOf(w); gj != wj {
			t.Errorf("%s: the parser read\n  %s\nwhere the lists say\n  %s", name, gj, wj)
		}
	}
	for key, w := range want {
		if !seen[key] {
			t.Errorf("%s: the parser did not find %q (%s)", name, w.Name, w.URL)
		}
	}
}

// compareGuide checks the parsed guide: one channel per guide id of a listed live stream, named
// as the stream (first listed, as xmltv.php names it), with its logo; every programme on one of
// them, at the times and with the title and description get_simple_data_table gives. The
// parser hands text over with its XML entities as written (it decodes none), so they are
// decoded here as a player decodes them.
func compareGuide(t *testing.T, f *fixture, lw playlistWant, got parsedXMLTV) {
	t.Helper()
	type channel struct {
		name, icon string
		streamID   int64
	}
	want := map[string]channel{}
	for _, s := range lw.live {
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
		code, _, body := f.get(t, api(playerAPI, "username", lw.user, "password", lw.pass,
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
