package player

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// The list entries of get_live_streams, get_vod_streams and get_series, and the categories of
// get_*_categories, are rendered once per catalog snapshot, by the catalog refresh that builds
// it (listsView is attached to the Catalog in New), so a list of 10,000 channels is 10,000
// appends of ready bytes. They carry the wire types of spec §1.4–§1.8: ids as numbers except
// category_id (a string, or null when uncategorised), "added" and "last_modified" as numeric
// strings, series "rating" as an integer-valued string, backdrop_path always an array. Only
// "num" depends on the request (its place in the answer), so it is written first, per request.
//
// After the XC 2.9 fields come the XUI-era ones of spec §1.5–§1.9 (category_ids as an int
// array, thumbnail, title, year and the movie metadata): clients written against XUI
// (npm @iptv/xtream-api) map them unconditionally, and XC clients ignore keys they do not know.

// lists is the player's rendering of one snapshot. Each table is indexed by the catalog's
// Index of its value; all entries share one buffer.
type lists struct {
	stream   [][]byte // by Stream.Index: the entry after `{"num":N`; nil for episodes
	series   [][]byte // by Series.Index: likewise
	category [][]byte // by Category.Index: the whole entry
	// movieXUI, by Stream.Index for movies, is what get_vod_info's movie_data adds in XUI
	// (`,"title":…,"year":…,"category_ids":[…]`): the year comes out of the stored metadata,
	// which is parsed here, once per snapshot, not per request.
	movieXUI [][]byte
}

// listsView is the player's per-snapshot rendering. A View keeps nothing itself (the values
// live in the snapshots), so one for the package is no shared state.
var listsView = catalog.NewView(renderLists)

func renderLists(snap *catalog.Snapshot) *lists {
	nStreams, nSeries, _ := snap.Counts()
	r := newRenderer()
	l := &lists{stream: make([][]byte, 0, nStreams), series: make([][]byte, 0, nSeries),
		movieXUI: make([][]byte, nStreams)}
	for st := range snap.AllStreams() { // in Index order, so appending fills each table by Index
		var e []byte // episodes are listed by get_series_info, not as entries
		switch {
		case st.IsLive():
			e = r.tail(liveEntryOf(st))
		case st.StreamType() == "movie":
			meta := movieMetaOf(st.Info)
			e = r.tail(vodEntryOf(st, &meta))
			l.movieXUI[st.Index] = r.tail(movieDataXUI{Title: st.Name, Year: meta.year, CategoryIDs: categoryIDs(st.Category)})
		}
		l.stream = append(l.stream, e)
	}
	for se := range snap.AllSeries() {
		l.series = append(l.series, r.tail(seriesEntryOf(se)))
	}
	for c := range snap.AllCategories() {
		l.category = append(l.category, r.whole(categoryEntry{ID: c.IDString(), Name: c.Name}))
	}
	return l
}

// appendNum opens an entry: `{"num":N`, N the 1-based place in this answer (spec §1.5).
func appendNum(b []byte, num int) []byte {
	b = append(b, `{"num":`...)
	return strconv.AppendInt(b, int64(num), 10)
}

// appendStream appends the get_live_streams (spec §1.5) or get_vod_streams (§1.6) entry of st
// with running number num.
func (l *lists) appendStream(b []byte, st *catalog.Stream, num int) []byte {
	return append(appendNum(b, num), l.stream[st.Index]...)
}

// appendSeries appends the get_series entry (spec §1.8) of se with running number num.
func (l *lists) appendSeries(b []byte, se *catalog.Series, num int) []byte {
	return append(appendNum(b, num), l.series[se.Index]...)
}

// appendCategories appends a get_*_categories list (spec §1.4). A nil l has no entries, so it
// serves only an empty list (panel_api of a line that is not Active).
func (l *lists) appendCategories(b []byte, cats []*catalog.Category) []byte {
	b = append(b, '[')
	for i, c := range cats {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, l.category[c.Index]...)
	}
	return append(b, ']')
}

// appendStreams appends a get_live_streams / get_vod_streams list; num counts from 1 in this
// answer.
func (l *lists) appendStreams(b []byte, list []*catalog.Stream) []byte {
	return appendList(b, list, l.appendStream)
}

// appendSeriesList appends a get_series list.
func (l *lists) appendSeriesList(b []byte, list []*catalog.Series) []byte {
	return appendList(b, list, l.appendSeries)
}

// appendList appends a JSON array of the entries of list, numbered from 1.
func appendList[T any](b []byte, list []T, entry func(b []byte, v T, num int) []byte) []byte {
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = entry(b, v, i+1)
	}
	return append(b, ']')
}

type categoryEntry struct {
	ID       string `json:"category_id"`
	Name     string `json:"category_name"`
	ParentID int    `json:"parent_id"`
}

type liveEntry struct {
	Name              string  `json:"name"`
	StreamType        string  `json:"stream_type"`
	StreamID          int64   `json:"stream_id"`
	StreamIcon        string  `json:"stream_icon"`
	EPGChannelID      *string `json:"epg_channel_id"`
	Added             string  `json:"added"`
	CategoryID        *string `json:"category_id"`
	CustomSID         string  `json:"custom_sid"`
	TVArchive         int     `json:"tv_archive"`
	DirectSource      string  `json:"direct_source"`
	TVArchiveDuration int32   `json:"tv_archive_duration"`
	// XUI
	CategoryIDs []int64 `json:"category_ids"`
	Thumbnail   string  `json:"thumbnail"` // XUI's channel cover; we store none
}

func liveEntryOf(s *catalog.Stream) liveEntry {
	e := liveEntry{Name: s.Name, StreamType: s.StreamType(), StreamID: s.ID, StreamIcon: s.Icon,
		EPGChannelID: nullable(s.EPGChannelID), Added: strconv.FormatInt(s.AddedUnix, 10),
		CategoryID: nullable(s.CategoryIDString()), CustomSID: s.CustomSID, DirectSource: s.DirectSourceURL(),
		CategoryIDs: categoryIDs(s.Category)}
	if s.TVArchiveDays > 0 {
		e.TVArchive, e.TVArchiveDuration = 1, s.TVArchiveDays
	}
	return e
}

type vodEntry struct {
	Name               string  `json:"name"`
	StreamType         string  `json:"stream_type"`
	StreamID           int64   `json:"stream_id"`
	StreamIcon         string  `json:"stream_icon"`
	Rating             string  `json:"rating"`
	Rating5            float64 `json:"rating_5based"`
	Added              string  `json:"added"`
	CategoryID         *string `json:"category_id"`
	ContainerExtension string  `json:"container_extension"`
	CustomSID          string  `json:"custom_sid"`
	DirectSource       string  `json:"direct_source"`
	// XUI
	Title          string  `json:"title"`
	Year           *string `json:"year"`
	Plot           string  `json:"plot"`
	Cast           string  `json:"cast"`
	Director       string  `json:"director"`
	Genre          string  `json:"genre"`
	ReleaseDate    string  `json:"release_date"`
	YoutubeTrailer string  `json:"youtube_trailer"`
	EpisodeRunTime int64   `json:"episode_run_time"` // minutes
	CategoryIDs    []int64 `json:"category_ids"`
}

func vodEntryOf(s *catalog.Stream, m *movieMeta) vodEntry {
	return vodEntry{Name: s.Name, StreamType: s.StreamType(), StreamID: s.ID, StreamIcon: s.Icon, Rating: s.Rating,
		Rating5: s.Rating5, Added: strconv.FormatInt(s.AddedUnix, 10), CategoryID: nullable(s.CategoryIDString()),
		ContainerExtension: s.ContainerExtension, CustomSID: s.CustomSID, DirectSource: s.DirectSourceURL(),
		Title: s.Name, Year: m.year, Plot: m.plot, Cast: m.cast, Director: m.director, Genre: m.genre,
		ReleaseDate: m.releaseDate, YoutubeTrailer: m.youtubeTrailer, EpisodeRunTime: m.runTime,
		CategoryIDs: categoryIDs(s.Category)}
}

// movieDataXUI is what XUI adds to get_vod_info's movie_data (spec §1.7).
type movieDataXUI struct {
	Title       string  `json:"title"`
	Year        *string `json:"year"`
	CategoryIDs []int64 `json:"category_ids"`
}

type seriesEntry struct {
	Name           string   `json:"name"`
	SeriesID       int64    `json:"series_id"`
	Cover          string   `json:"cover"`
	Plot           string   `json:"plot"`
	Cast           string   `json:"cast"`
	Director       string   `json:"director"`
	Genre          string   `json:"genre"`
	ReleaseDate    string   `json:"releaseDate"`
	LastModified   string   `json:"last_modified"`
	Rating         string   `json:"rating"`
	Rating5        float64  `json:"rating_5based"`
	BackdropPath   []string `json:"backdrop_path"`
	YoutubeTrailer string   `json:"youtube_trailer"`
	EpisodeRunTime string   `json:"episode_run_time"`
	CategoryID     *string  `json:"category_id"`
	// XUI
	Title         string  `json:"title"`
	Year          *string `json:"year"`
	ReleaseDateUS string  `json:"release_date"` // XUI's snake_case twin of releaseDate
	CategoryIDs   []int64 `json:"category_ids"`
}

func seriesEntryOf(s *catalog.Series) seriesEntry {
	return seriesEntry{Name: s.Name, SeriesID: s.ID, Cover: s.Cover, Plot: s.Plot, Cast: s.Cast, Director: s.Director,
		Genre: s.Genre, ReleaseDate: s.ReleaseDate, LastModified: strconv.FormatInt(s.LastModifiedUnix, 10),
		Rating: s.RatingString, Rating5: s.Rating5, BackdropPath: s.BackdropPaths, YoutubeTrailer: s.YoutubeTrailer,
		EpisodeRunTime: strconv.Itoa(int(s.EpisodeRunTime)), CategoryID: nullable(s.CategoryIDString()),
		Title: s.Name, Year: yearOf(s.ReleaseDate), ReleaseDateUS: s.ReleaseDate, CategoryIDs: categoryIDs(s.Category)}
}

// categoryIDs is XUI's category_ids: every category of the entry, as numbers. A stream has at
// most one here, so it is [id], or [] when uncategorised (never null: clients map over it).
func categoryIDs(c *catalog.Category) []int64 {
	if c == nil {
		return []int64{}
	}
	return []int64{c.ID}
}

// yearOf is XUI's year: the four-digit year a "2006-01-02" date starts with, or nil (null on
// the wire) when the date is missing or starts with no plausible year ("0000-00-00").
func yearOf(date string) *string {
	if len(date) < 4 || date[:4] == "0000" {
		return nil
	}
	for i := 0; i < 4; i++ {
		if date[i] < '0' || date[i] > '9' {
			return nil
		}
	}
	y := date[:4]
	return &y
}

// movieMeta holds the fields XUI lifts out of a movie's stored metadata into its list entry.
// The metadata is whatever an import stored, so each field takes the first usable spelling
// and anything of another JSON kind counts as absent.
type movieMeta struct {
	plot, cast, director, genre, releaseDate, youtubeTrailer string
	runTime                                                  int64
	year                                                     *string
}

func movieMetaOf(info json.RawMessage) movieMeta {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(info, &m) // not an object: every field absent
	str := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if json.Unmarshal(m[k], &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	meta := movieMeta{plot: str("plot", "description"), cast: str("cast", "actors"), director: str("director"),
		genre: str("genre"), releaseDate: str("release_date", "releasedate"), youtubeTrailer: str("youtube_trailer")}
	if err := json.Unmarshal(m["episode_run_time"], &meta.runTime); err != nil {
		meta.runTime, _ = strconv.ParseInt(str("episode_run_time"), 10, 64)
	}
	meta.runTime = max(meta.runTime, 0)
	meta.year = yearOf(str("year"))
	if meta.year == nil {
		var n int64
		if json.Unmarshal(m["year"], &n) == nil && n > 0 {
			meta.year = yearOf(strconv.FormatInt(n, 10))
		}
	}
	if meta.year == nil {
		meta.year = yearOf(meta.releaseDate)
	}
	return meta
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// renderer encodes entries with encoding/json, without HTML escaping (URLs keep their '&'),
// and keeps them in 64 KiB blocks rather than one allocation each: a 10,000-channel catalog
// is some 50 blocks instead of 10,000 small objects for the collector to trace.
type renderer struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	block []byte
}

const renderBlock = 64 << 10

func newRenderer() *renderer {
	r := &renderer{}
	r.enc = json.NewEncoder(&r.buf)
	r.enc.SetEscapeHTML(false)
	return r
}

// encode renders v without the encoder's trailing newline; values JSON cannot hold render as
// {} (our entries have none). The result is valid until the next encode.
func (r *renderer) encode(v any) []byte {
	r.buf.Reset()
	if err := r.enc.Encode(v); err != nil {
		return []byte("{}")
	}
	return bytes.TrimSuffix(r.buf.Bytes(), []byte("\n"))
}

// keep copies b into the current block (a new one when b does not fit) and returns the copy,
// capped so that nothing appended to it can reach its neighbour.
func (r *renderer) keep(b []byte) []byte {
	if len(b) > cap(r.block)-len(r.block) {
		r.block = make([]byte, 0, max(renderBlock, len(b)))
	}
	start := len(r.block)
	r.block = append(r.block, b...)
	return r.block[start:len(r.block):len(r.block)]
}

// whole renders v.
func (r *renderer) whole(v any) []byte { return r.keep(r.encode(v)) }

// tail renders v with its opening '{' turned into ',', ready to follow `{"num":N`.
func (r *renderer) tail(v any) []byte {
	b := r.encode(v)
	b[0] = ','
	return r.keep(b)
}
