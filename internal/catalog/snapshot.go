// Package catalog keeps the catalog (categories, live channels, movies, series, episodes and
// bouquets) as an immutable in-memory Snapshot per catalog version, rebuilt when the database
// says the catalog changed, and answers the player surfaces' questions from it without SQL:
// which streams, movies, series and categories a line's bouquets entitle it to, in bouquet
// order, and whether a stream id is in them (the NOT_IN_BOUQUET step).
//
// A Snapshot is never modified after Build, so any number of requests read it without locks
// while a newer one is being built; the Catalog swaps the pointer atomically.
package catalog

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Category is a live, radio, movie or series category.
type Category struct {
	ID       int64
	Kind     string // store.KindLive, KindRadio, KindMovie or KindSeries
	Name     string
	Position int32
	IsAdult  bool

	json []byte // {"category_id":"12","category_name":"News","parent_id":0}
}

// IDString is the id as the wire spells it ("12").
func (c *Category) IDString() string { return strconv.FormatInt(c.ID, 10) }

// AppendJSON appends the category's get_*_categories entry (spec §1.4).
func (c *Category) AppendJSON(buf []byte) []byte { return append(buf, c.json...) }

// Source is one upstream of a stream, in failover order.
type Source struct {
	URL  string
	Kind string // store.SourceAuto, SourceTS, SourceHLS or SourceFile
}

// Stream is a live channel (live, created_live, radio), a movie or an episode.
type Stream struct {
	ID                 int64
	Kind               string // store.KindLive, KindCreatedLive, KindRadio, KindMovie, KindEpisode
	Name               string
	Category           *Category // nil when uncategorised (always nil for episodes)
	Icon               string    // stream_icon; for movies falls back to info.movie_image / cover_big
	EPGChannelID       string    // XMLTV channel id, "" when none
	CustomSID          string
	DirectSource       bool     // clients get Sources[0].URL instead of a relayed URL
	Sources            []Source // failover order; never empty for a playable stream
	TVArchiveDays      int32
	CatchupSource      string
	ContainerExtension string          // movies and episodes: the extension of /movie and /series URLs
	Info               json.RawMessage // movies and episodes: the stored metadata object ({} when none)
	AddedUnix          int64           // created_at, the wire's "added"
	Rating             string          // movies: info.rating as a decimal string ("" when none)
	Rating5            float64         // movies: rating × 0.5, one decimal
	Episode            *EpisodeRef     // episodes only

	listJSON []byte // the list entry after its "num" (see AppendListJSON)
}

// EpisodeRef places an episode stream in its series.
type EpisodeRef struct {
	Series        *Series
	SeasonNumber  int32
	EpisodeNumber int32
}

// IsLive reports whether the stream is a live-type stream (live, created_live or radio): the
// ones get_live_streams lists.
func (s *Stream) IsLive() bool {
	return s.Kind == store.KindLive || s.Kind == store.KindCreatedLive || s.Kind == store.KindRadio
}

// StreamType is the wire's stream_type: live, created_live, radio_streams, movie or series.
func (s *Stream) StreamType() string {
	switch s.Kind {
	case store.KindRadio:
		return "radio_streams"
	case store.KindEpisode:
		return "series"
	}
	return s.Kind
}

// DirectSourceURL is the wire's direct_source: the first source URL of a direct-source stream,
// else "".
func (s *Stream) DirectSourceURL() string {
	if s.DirectSource && len(s.Sources) > 0 {
		return s.Sources[0].URL
	}
	return ""
}

// CategoryIDString is the wire's category_id ("" when uncategorised; the wire has null then).
func (s *Stream) CategoryIDString() string {
	if s.Category == nil {
		return ""
	}
	return s.Category.IDString()
}

// AppendListJSON appends the stream's get_live_streams (spec §1.5) or get_vod_streams (§1.6)
// entry with running number num: `{"num":num,"name":…}`. Every other field is rendered once
// per snapshot, so a list of 10,000 channels is 10,000 appends. Episodes have no list entry.
func (s *Stream) AppendListJSON(buf []byte, num int) []byte {
	buf = append(buf, `{"num":`...)
	buf = strconv.AppendInt(buf, int64(num), 10)
	return append(buf, s.listJSON...)
}

// Series is a TV show with its seasons and episodes.
type Series struct {
	ID               int64
	Name             string
	Category         *Category
	Cover            string
	Plot             string
	Cast             string
	Director         string
	Genre            string
	ReleaseDate      string // "2006-01-02" or ""
	Rating           float64
	RatingString     string  // the wire's integer-valued string ("7"): "8.0" breaks strict clients
	Rating5          float64 // rating × 0.5, one decimal
	BackdropPaths    []string
	YoutubeTrailer   string
	EpisodeRunTime   int32
	TMDBID           int64
	LastModifiedUnix int64
	// Seasons by number: every season with a seasons row or with an episode (season 0 is
	// "Specials"), each with its episodes by episode number.
	Seasons []*Season

	listJSON []byte
}

// CategoryIDString is the wire's category_id ("" when uncategorised).
func (s *Series) CategoryIDString() string {
	if s.Category == nil {
		return ""
	}
	return s.Category.IDString()
}

// AppendListJSON appends the series' get_series entry (spec §1.8) with running number num.
func (s *Series) AppendListJSON(buf []byte, num int) []byte {
	buf = append(buf, `{"num":`...)
	buf = strconv.AppendInt(buf, int64(num), 10)
	return append(buf, s.listJSON...)
}

// Season is one season of a series.
type Season struct {
	Number      int32
	HasMetadata bool // a seasons row exists (else only episodes imply the season)
	Name        string
	Overview    string
	AirDate     string // "2006-01-02" or "" (never "0000-00-00")
	Cover       string
	CoverBig    string
	VoteAverage float64
	TMDBID      int64
	Episodes    []*Stream // by episode number
}

// bouquet is a bouquet resolved to snapshot pointers, entries in position order.
type bouquet struct {
	id     int64
	name   string
	live   []*Stream
	vod    []*Stream
	series []*Series
}

// Snapshot is one immutable version of the catalog.
type Snapshot struct {
	Version int64     // the catalog version it was built from (0: empty, never loaded)
	BuiltAt time.Time // when Build ran

	categories   map[int64]*Category
	liveCats     []*Category // live and radio categories by position
	vodCats      []*Category
	seriesCats   []*Category
	streams      map[int64]*Stream // every enabled stream, episodes included
	live         []*Stream         // every live-type stream, by id
	series       map[int64]*Series
	bouquets     map[int64]*bouquet
	bouquetOrder []*bouquet

	filterSeriesCats bool
	maxCached        int
	entMu            sync.RWMutex
	ents             map[string]*Entitlement
}

// BuildOptions tune Build.
type BuildOptions struct {
	// FilterSeriesCategories lists only series categories holding an entitled series, as XUI
	// does. XC 2.9 lists every series category (the default).
	FilterSeriesCategories bool
	// MaxCachedEntitlements bounds the per-snapshot entitlement cache (default 1024 distinct
	// bouquet lists); past it, entitlements are built per call and not kept.
	MaxCachedEntitlements int
	Now                   func() time.Time
}

// Empty returns the snapshot of an empty catalog (version 0), served until the first load.
func Empty() *Snapshot { return Build(store.CatalogData{}, BuildOptions{}) }

// Build resolves a catalog read into a Snapshot: pointers instead of ids, bouquets in entry
// order, seasons with their episodes, and the list entries pre-rendered.
func Build(d store.CatalogData, opts BuildOptions) *Snapshot {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.MaxCachedEntitlements <= 0 {
		opts.MaxCachedEntitlements = 1024
	}
	s := &Snapshot{
		Version:          d.Version,
		BuiltAt:          now(),
		categories:       make(map[int64]*Category, len(d.Categories)),
		streams:          make(map[int64]*Stream, len(d.Streams)),
		series:           make(map[int64]*Series, len(d.Series)),
		bouquets:         make(map[int64]*bouquet, len(d.Bouquets)),
		filterSeriesCats: opts.FilterSeriesCategories,
		maxCached:        opts.MaxCachedEntitlements,
		ents:             make(map[string]*Entitlement),
	}
	enc := newEncoder()
	for _, c := range d.Categories { // by (position, id)
		cat := &Category{ID: c.ID, Kind: c.Kind, Name: c.Name, Position: c.Position, IsAdult: c.IsAdult}
		cat.json = enc.marshal(categoryEntry{ID: cat.IDString(), Name: cat.Name})
		s.categories[c.ID] = cat
		switch c.Kind {
		case store.KindLive, store.KindRadio:
			s.liveCats = append(s.liveCats, cat)
		case store.KindMovie:
			s.vodCats = append(s.vodCats, cat)
		case store.KindSeries:
			s.seriesCats = append(s.seriesCats, cat)
		}
	}

	streams := make([]Stream, len(d.Streams)) // one allocation for all
	for i, r := range d.Streams {
		st := &streams[i]
		*st = Stream{ID: r.ID, Kind: r.Kind, Name: r.Name, Icon: r.Icon, CustomSID: r.CustomSID,
			DirectSource: r.DirectSource, TVArchiveDays: r.TVArchiveDays, Info: r.Info, AddedUnix: r.CreatedAt.Unix()}
		if r.CategoryID != nil {
			st.Category = s.categories[*r.CategoryID]
		}
		st.EPGChannelID = deref(r.EPGChannelID)
		st.CatchupSource = deref(r.CatchupSource)
		st.ContainerExtension = deref(r.ContainerExtension)
		if len(st.Info) == 0 {
			st.Info = json.RawMessage("{}")
		}
		s.streams[r.ID] = st
		if st.IsLive() {
			s.live = append(s.live, st)
		}
	}
	for i := 0; i < len(d.Sources); { // by (stream_id, position): one sub-slice per stream
		j := i
		for j < len(d.Sources) && d.Sources[j].StreamID == d.Sources[i].StreamID {
			j++
		}
		if st := s.streams[d.Sources[i].StreamID]; st != nil {
			st.Sources = make([]Source, j-i)
			for k := i; k < j; k++ {
				st.Sources[k-i] = Source{URL: d.Sources[k].URL, Kind: d.Sources[k].Kind}
			}
		}
		i = j
	}

	for _, r := range d.Series {
		se := &Series{ID: r.ID, Name: r.Name, Cover: r.Cover, Plot: r.Plot, Cast: r.Cast, Director: r.Director,
			Genre: r.Genre, Rating: r.Rating, BackdropPaths: r.BackdropPaths, YoutubeTrailer: r.YoutubeTrailer,
			EpisodeRunTime: r.EpisodeRunTime, LastModifiedUnix: r.UpdatedAt.Unix()}
		if se.BackdropPaths == nil {
			se.BackdropPaths = []string{}
		}
		if r.CategoryID != nil {
			se.Category = s.categories[*r.CategoryID]
		}
		if r.ReleaseDate != nil {
			se.ReleaseDate = r.ReleaseDate.Format(time.DateOnly)
		}
		if r.TMDBID != nil {
			se.TMDBID = *r.TMDBID
		}
		se.RatingString = strconv.Itoa(int(math.Round(r.Rating)))
		se.Rating5 = math.Round(r.Rating*5) / 10
		s.series[r.ID] = se
	}
	for _, r := range d.Seasons { // by (series_id, season_number)
		se := s.series[r.SeriesID]
		if se == nil {
			continue
		}
		sn := &Season{Number: r.SeasonNumber, HasMetadata: true, Name: r.Name, Overview: r.Overview,
			Cover: r.Cover, CoverBig: r.CoverBig, VoteAverage: r.VoteAverage}
		if r.AirDate != nil {
			sn.AirDate = r.AirDate.Format(time.DateOnly)
		}
		if r.TMDBID != nil {
			sn.TMDBID = *r.TMDBID
		}
		se.Seasons = append(se.Seasons, sn)
	}
	for _, e := range d.Episodes { // by (series_id, season_number, episode_number)
		st, se := s.streams[e.StreamID], s.series[e.SeriesID]
		if st == nil || se == nil {
			continue
		}
		st.Episode = &EpisodeRef{Series: se, SeasonNumber: e.SeasonNumber, EpisodeNumber: e.EpisodeNumber}
		sn := se.season(e.SeasonNumber)
		sn.Episodes = append(sn.Episodes, st)
	}

	for i := range streams {
		switch st := &streams[i]; {
		case st.IsLive():
			st.listJSON = enc.tail(liveEntryOf(st))
		case st.Kind == store.KindMovie:
			st.Rating, st.Rating5, st.Icon = movieRating(st.Info, st.Icon)
			st.listJSON = enc.tail(vodEntryOf(st))
		}
	}
	for _, se := range s.series {
		se.listJSON = enc.tail(seriesEntryOf(se))
	}

	for _, b := range d.Bouquets { // by (position, id)
		bq := &bouquet{id: b.ID, name: b.Name}
		s.bouquets[b.ID] = bq
		s.bouquetOrder = append(s.bouquetOrder, bq)
	}
	for _, it := range d.BouquetStreams { // by (bouquet_id, position, stream_id)
		bq, st := s.bouquets[it.BouquetID], s.streams[it.ItemID]
		if bq == nil || st == nil { // a disabled stream is not in the snapshot
			continue
		}
		if st.IsLive() {
			bq.live = append(bq.live, st)
		} else if st.Kind == store.KindMovie {
			bq.vod = append(bq.vod, st)
		}
	}
	for _, it := range d.BouquetSeries {
		if bq, se := s.bouquets[it.BouquetID], s.series[it.ItemID]; bq != nil && se != nil {
			bq.series = append(bq.series, se)
		}
	}
	return s
}

// season returns the season numbered n, adding it in order when missing.
func (se *Series) season(n int32) *Season {
	i, found := slices.BinarySearchFunc(se.Seasons, n, func(s *Season, n int32) int { return int(s.Number) - int(n) })
	if found {
		return se.Seasons[i]
	}
	sn := &Season{Number: n}
	se.Seasons = slices.Insert(se.Seasons, i, sn)
	return sn
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Stream returns any enabled stream by id (live, movie or episode).
func (s *Snapshot) Stream(id int64) (*Stream, bool) {
	st, ok := s.streams[id]
	return st, ok
}

// Movie returns a movie by id.
func (s *Snapshot) Movie(id int64) (*Stream, bool) {
	st, ok := s.streams[id]
	if !ok || st.Kind != store.KindMovie {
		return nil, false
	}
	return st, true
}

// Episode returns an episode stream by id, with its series in st.Episode.
func (s *Snapshot) Episode(streamID int64) (*Stream, bool) {
	st, ok := s.streams[streamID]
	if !ok || st.Episode == nil {
		return nil, false
	}
	return st, true
}

// Series returns a series by id, with its seasons and episodes.
func (s *Snapshot) Series(id int64) (*Series, bool) {
	se, ok := s.series[id]
	return se, ok
}

// Category returns a category by id.
func (s *Snapshot) Category(id int64) (*Category, bool) {
	c, ok := s.categories[id]
	return c, ok
}

// LiveStreams returns every enabled live-type stream by id, entitled or not (xmltv.php lists
// every channel with EPG; the relay needs sources by id).
func (s *Snapshot) LiveStreams() []*Stream { return s.live }

// Counts reports the snapshot's size, for logs and metrics.
func (s *Snapshot) Counts() (streams, series, bouquets int) {
	return len(s.streams), len(s.series), len(s.bouquets)
}
