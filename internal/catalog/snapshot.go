package catalog

import (
	"encoding/json"
	"iter"
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
	// Index is the category's place in the snapshot (0 … n-1, see AllCategories): a surface's
	// per-snapshot tables (a View) are slices indexed by it.
	Index int
}

// IDString is the id as the wire spells it ("12").
func (c *Category) IDString() string { return strconv.FormatInt(c.ID, 10) }

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
	AlwaysOn           bool     // live: the relay keeps pulling it with no viewer (relay.Manager.Keep)
	Sources            []Source // failover order; never empty for a playable stream
	TVArchiveDays      int32
	CatchupSource      string
	ContainerExtension string          // movies and episodes: the extension of /movie and /series URLs
	Info               json.RawMessage // movies and episodes: the stored metadata object ({} when none)
	AddedUnix          int64           // created_at, the wire's "added"
	Rating             string          // movies: info.rating as a decimal string ("" when none)
	Rating5            float64         // movies: rating × 0.5, one decimal
	Episode            *EpisodeRef     // episodes only
	// Index is the stream's place in the snapshot (0 … n-1, see AllStreams): a surface's
	// per-snapshot tables (a View) are slices indexed by it, so a list of 10,000 channels
	// costs 10,000 slice reads, not map lookups.
	Index int
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
	// Index is the series' place in the snapshot (0 … n-1, see AllSeries), for a View.
	Index int
}

// CategoryIDString is the wire's category_id ("" when uncategorised).
func (s *Series) CategoryIDString() string {
	if s.Category == nil {
		return ""
	}
	return s.Category.IDString()
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

	allStreams   []Stream    // every enabled stream, by Index (one allocation for all)
	allSeries    []*Series   // by Index
	allCats      []*Category // by Index
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
	views            sync.Map // *View[T] → *viewSlot[T]
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

// AllStreams yields every enabled stream (live, movie, episode) in Index order.
func (s *Snapshot) AllStreams() iter.Seq[*Stream] {
	return func(yield func(*Stream) bool) {
		for i := range s.allStreams {
			if !yield(&s.allStreams[i]) {
				return
			}
		}
	}
}

// AllSeries yields every series in Index order.
func (s *Snapshot) AllSeries() iter.Seq[*Series] { return slices.Values(s.allSeries) }

// AllCategories yields every category in Index order.
func (s *Snapshot) AllCategories() iter.Seq[*Category] { return slices.Values(s.allCats) }

// Counts reports the snapshot's size, for logs and metrics.
func (s *Snapshot) Counts() (streams, series, bouquets int) {
	return len(s.streams), len(s.series), len(s.bouquets)
}
