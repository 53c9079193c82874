package catalog

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Empty returns the snapshot of an empty catalog (version 0), served until the first load.
func Empty() *Snapshot { return Build(store.CatalogData{}, BuildOptions{}) }

// Build resolves a catalog read into a Snapshot: pointers instead of ids, bouquets in entry
// order, seasons with their episodes. Each step below reads one table of the read, in the
// order the pointers need (categories before the streams that point at them, and so on).
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
	s.addCategories(d.Categories)
	s.addStreams(d.Streams)
	s.addSources(d.Sources)
	s.addSeries(d.Series)
	s.addSeasons(d.Seasons)
	s.addEpisodes(d.Episodes)
	s.addBouquets(d.Bouquets, d.BouquetStreams, d.BouquetSeries)
	return s
}

// addCategories reads the categories, by (position, id).
func (s *Snapshot) addCategories(rows []store.Category) {
	s.allCats = make([]*Category, len(rows))
	for i, c := range rows {
		cat := &Category{ID: c.ID, Kind: c.Kind, Name: c.Name, Position: c.Position, IsAdult: c.IsAdult, Index: i}
		s.allCats[i] = cat
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
}

// addStreams reads the enabled streams, by id. A movie's rating and poster come from its info.
func (s *Snapshot) addStreams(rows []store.Stream) {
	s.allStreams = make([]Stream, len(rows))
	for i, r := range rows {
		st := &s.allStreams[i]
		*st = Stream{ID: r.ID, Kind: r.Kind, Name: r.Name, Icon: r.Icon, CustomSID: r.CustomSID,
			DirectSource: r.DirectSource, TVArchiveDays: r.TVArchiveDays, Info: r.Info, AddedUnix: r.CreatedAt.Unix(),
			Index: i}
		st.AlwaysOn = r.AlwaysOn && st.IsLive() // a movie has no upstream to keep
		if r.CategoryID != nil {
			st.Category = s.categories[*r.CategoryID]
		}
		st.EPGChannelID = deref(r.EPGChannelID)
		st.CatchupSource = deref(r.CatchupSource)
		st.ContainerExtension = deref(r.ContainerExtension)
		if len(st.Info) == 0 {
			st.Info = json.RawMessage("{}")
		}
		if st.Kind == store.KindMovie {
			st.Rating, st.Rating5, st.Icon = movieRating(st.Info, st.Icon)
		}
		s.streams[r.ID] = st
		if st.IsLive() {
			s.live = append(s.live, st)
		}
	}
}

// addSources reads the sources, by (stream_id, position): one sub-slice per stream.
func (s *Snapshot) addSources(rows []store.StreamSource) {
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].StreamID == rows[i].StreamID {
			j++
		}
		if st := s.streams[rows[i].StreamID]; st != nil {
			st.Sources = make([]Source, j-i)
			for k := i; k < j; k++ {
				st.Sources[k-i] = Source{URL: rows[k].URL, Kind: rows[k].Kind}
			}
		}
		i = j
	}
}

// addSeries reads the series.
func (s *Snapshot) addSeries(rows []store.Series) {
	s.allSeries = make([]*Series, len(rows))
	for i, r := range rows {
		se := &Series{ID: r.ID, Name: r.Name, Cover: r.Cover, Plot: r.Plot, Cast: r.Cast, Director: r.Director,
			Genre: r.Genre, Rating: r.Rating, BackdropPaths: r.BackdropPaths, YoutubeTrailer: r.YoutubeTrailer,
			EpisodeRunTime: r.EpisodeRunTime, LastModifiedUnix: r.UpdatedAt.Unix(), Index: i}
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
		s.allSeries[i] = se
		s.series[r.ID] = se
	}
}

// addSeasons reads the seasons rows, by (series_id, season_number).
func (s *Snapshot) addSeasons(rows []store.Season) {
	for _, r := range rows {
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
}

// addEpisodes places the episode streams in their seasons, by (series_id, season_number,
// episode_number); an episode of a season without a seasons row implies the season.
func (s *Snapshot) addEpisodes(rows []store.Episode) {
	for _, e := range rows {
		st, se := s.streams[e.StreamID], s.series[e.SeriesID]
		if st == nil || se == nil {
			continue
		}
		st.Episode = &EpisodeRef{Series: se, SeasonNumber: e.SeasonNumber, EpisodeNumber: e.EpisodeNumber}
		sn := se.season(e.SeasonNumber)
		sn.Episodes = append(sn.Episodes, st)
	}
}

// addBouquets reads the bouquets, by (position, id), and their entries, by (bouquet_id,
// position, item id). A disabled stream is not in the snapshot, so its entries are dropped.
func (s *Snapshot) addBouquets(rows []store.Bouquet, streams, series []store.BouquetItem) {
	for _, b := range rows {
		bq := &bouquet{id: b.ID, name: b.Name}
		s.bouquets[b.ID] = bq
		s.bouquetOrder = append(s.bouquetOrder, bq)
	}
	for _, it := range streams {
		bq, st := s.bouquets[it.BouquetID], s.streams[it.ItemID]
		if bq == nil || st == nil {
			continue
		}
		if st.IsLive() {
			bq.live = append(bq.live, st)
		} else if st.Kind == store.KindMovie {
			bq.vod = append(bq.vod, st)
		}
	}
	for _, it := range series {
		if bq, se := s.bouquets[it.BouquetID], s.series[it.ItemID]; bq != nil && se != nil {
			bq.series = append(bq.series, se)
		}
	}
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

// movieRating reads a movie's rating (a number or a numeric string in its info) and, when the
// stream has no icon, its poster.
func movieRating(info json.RawMessage, icon string) (rating string, rating5 float64, poster string) {
	var m struct {
		Rating     json.RawMessage `json:"rating"`
		MovieImage string          `json:"movie_image"`
		CoverBig   string          `json:"cover_big"`
	}
	_ = json.Unmarshal(info, &m) // a malformed info leaves the zero values
	poster = icon
	if poster == "" {
		poster = m.MovieImage
	}
	if poster == "" {
		poster = m.CoverBig
	}
	raw := strings.Trim(string(m.Rating), `"`)
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return "", 0, poster
	}
	return strconv.FormatFloat(f, 'f', -1, 64), math.Round(f*5) / 10, poster
}
