package portal

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/mag"
)

// VOD and series (spec §5.6): categories, then pages of 14 items whose cmd create_link plays.
// Series open as their seasons (movie_id=<series>), a season's create_link naming the episode
// by its number (series=N). Items of adult categories are left out unless their category is
// asked for, as XC 2.9 does.

// categoryEntry is a vod/series get_categories item.
type categoryEntry struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Alias    string `json:"alias"`
	Censored int    `json:"censored"`
}

func categoriesOf(cats []*catalog.Category) []categoryEntry {
	out := make([]categoryEntry, 0, len(cats)+1)
	out = append(out, categoryEntry{ID: "*", Title: "All", Alias: "*"})
	for _, c := range cats {
		out = append(out, categoryEntry{ID: c.IDString(), Title: c.Name, Alias: c.Name, Censored: censored(c)})
	}
	return out
}

func vodCategories(h *Handler, k *call) error {
	return writeJS(k.c, categoriesOf(k.entitlement(h).VODCategories()))
}

func seriesCategories(h *Handler, k *call) error {
	return writeJS(k.c, categoriesOf(k.entitlement(h).SeriesCategories()))
}

// vodItem is a vod or series list item (XC 2.9's shape, the fields clients read).
type vodItem struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	OName         string  `json:"o_name"`
	Description   string  `json:"description"`
	Pic           string  `json:"pic"`
	Time          int     `json:"time"` // minutes
	Censored      int     `json:"censored"`
	Series        []int32 `json:"series"`
	CategoryID    string  `json:"category_id"`
	CatGenreID1   string  `json:"cat_genre_id_1"`
	GenreID       int     `json:"genre_id"`
	HD            int     `json:"hd"`
	Director      string  `json:"director"`
	Actors        string  `json:"actors"`
	Year          string  `json:"year"`
	Added         string  `json:"added"`
	RatingIMDB    string  `json:"rating_imdb"`
	RatingKP      string  `json:"rating_kinopoisk"`
	ScreenshotURI string  `json:"screenshot_uri"`
	GenresStr     string  `json:"genres_str"`
	Cmd           string  `json:"cmd"`
	IsSeries      int     `json:"is_series"`
	IsMovie       int     `json:"is_movie"`
	HasFiles      int     `json:"has_files"`
	Fav           int     `json:"fav"`
	Lock          int     `json:"lock"`
	Status        int     `json:"status"`
	Accessed      int     `json:"accessed"`
	Today         string  `json:"today,omitempty"`
	Yesterday     string  `json:"yesterday,omitempty"`
	WeekAndMore   string  `json:"week_and_more,omitempty"`
	ContainerExt  string  `json:"container_extension,omitempty"`
	SeasonNumber  *int32  `json:"season_number,omitempty"`
}

// movieInfo is what a list item shows of a movie's stored metadata.
type movieInfo struct {
	Plot         string  `json:"plot"`
	Description  string  `json:"description"`
	Director     string  `json:"director"`
	Cast         string  `json:"cast"`
	Actors       string  `json:"actors"`
	ReleaseDate  string  `json:"releasedate"`
	Genre        string  `json:"genre"`
	DurationSecs float64 `json:"duration_secs"`
	Cover        string  `json:"cover_big"`
	MovieImage   string  `json:"movie_image"`
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

// addedLabel sets the today / yesterday / week_and_more label of an item added at added.
func (it *vodItem) addedLabel(added, now time.Time) {
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	switch {
	case added.After(midnight):
		it.Today = "Today"
	case added.After(midnight.AddDate(0, 0, -1)):
		it.Yesterday = "Yesterday"
	case added.After(midnight.AddDate(0, 0, -7)):
		it.WeekAndMore = "Last week"
	default:
		it.WeekAndMore = added.Format("January 2006")
	}
}

func (h *Handler) movieItem(st *catalog.Stream, fav bool, tz *time.Location) vodItem {
	var info movieInfo
	_ = json.Unmarshal(st.Info, &info) // the stored object; what does not fit stays empty
	added := time.Unix(st.AddedUnix, 0).In(tz)
	it := vodItem{
		ID: itoa(st.ID), Name: st.Name, OName: st.Name, Description: orNA(orDefault(info.Plot, info.Description)),
		Pic: st.Icon, Time: int(info.DurationSecs / 60), Series: []int32{}, CategoryID: st.CategoryIDString(),
		CatGenreID1: st.CategoryIDString(), HD: 1, Director: orNA(info.Director), Actors: orNA(orDefault(info.Cast, info.Actors)),
		Year: orNA(info.ReleaseDate), Added: added.Format(dateTimeLayout), RatingIMDB: orNA(st.Rating), RatingKP: "N/A",
		ScreenshotURI: st.Icon, GenresStr: info.Genre, IsMovie: 1, Status: 1, Accessed: 1, ContainerExt: st.ContainerExtension,
		Cmd: vodCmd{Type: "movie", StreamID: st.ID, TargetContainer: st.ContainerExtension}.encode(),
	}
	if st.Category != nil && st.Category.IsAdult {
		it.Censored, it.Lock = 1, 1
	}
	if fav {
		it.Fav = 1
	}
	it.addedLabel(added, h.now().In(tz))
	return it
}

// vodOrderedList is vod/get_ordered_list (category, p, sortby, search, abc, fav).
func vodOrderedList(h *Handler, k *call) error {
	p := &k.req.p
	favs := idSet(k.dev.Favourites.Movie)
	list := make([]*catalog.Stream, 0)
	for _, st := range k.entitlement(h).VOD(p.genre) {
		if (p.genre == 0 && st.Category != nil && st.Category.IsAdult) || (p.fav && !favs[st.ID]) || !matches(st.Name, p.search) {
			continue
		}
		list = append(list, st)
	}
	sortItems(list, p.sortBy, movieKeys)
	pg := pageOf(len(list), p.page, 0, pageItems)
	tz := h.zones.of(k.req.cookies.Timezone)
	items := make([]vodItem, 0, pg.to-pg.from)
	for _, st := range list[pg.from:pg.to] {
		items = append(items, h.movieItem(st, favs[st.ID], tz))
	}
	return writeJS(k.c, pagedOf(len(list), pg, items))
}

// matches applies search: the name contains it, in any case.
func matches(name, search string) bool {
	return search == "" || strings.Contains(strings.ToLower(name), strings.ToLower(search))
}

// sortKeys are what a vod or series list sorts by.
type sortKeys[T any] struct {
	name   func(T) string
	rating func(T) float64
	added  func(T) int64
}

// sortItems orders a list by sortby: added (newest first, the default), name, rating or top
// (best first), number (bouquet order, as listed).
func sortItems[T any](list []T, by string, k sortKeys[T]) {
	switch by {
	case "name":
		slices.SortStableFunc(list, func(a, b T) int {
			return strings.Compare(strings.ToLower(k.name(a)), strings.ToLower(k.name(b)))
		})
	case "rating", "top":
		slices.SortStableFunc(list, func(a, b T) int { return cmp.Compare(k.rating(b), k.rating(a)) })
	case "number":
	default:
		slices.SortStableFunc(list, func(a, b T) int { return cmp.Compare(k.added(b), k.added(a)) })
	}
}

var (
	movieKeys = sortKeys[*catalog.Stream]{
		name:   func(s *catalog.Stream) string { return s.Name },
		rating: func(s *catalog.Stream) float64 { return s.Rating5 },
		added:  func(s *catalog.Stream) int64 { return s.AddedUnix },
	}
	seriesKeys = sortKeys[*catalog.Series]{
		name:   func(s *catalog.Series) string { return s.Name },
		rating: func(s *catalog.Series) float64 { return s.Rating },
		added:  func(s *catalog.Series) int64 { return s.LastModifiedUnix },
	}
)

// vodFav is vod/set_fav and del_fav (video_id) for movies (list mag.FavMovie) and series
// (mag.FavSeries).
func vodFav(list string, add bool) func(h *Handler, k *call) error {
	return func(h *Handler, k *call) error {
		id := k.req.p.videoID
		if id > 0 {
			cur := k.dev.Favourites.Movie
			if list == mag.FavSeries {
				cur = k.dev.Favourites.Series
			}
			next := slices.DeleteFunc(slices.Clone(cur), func(x int64) bool { return x == id })
			if add {
				next = append(next, id)
			}
			if err := h.devices.SetFavourites(k.ctx, k.dev, list, next); err != nil {
				return err
			}
		}
		return writeJS(k.c, true)
	}
}

// seriesOrderedList is series/get_ordered_list: the series (category, p, sortby, search, fav),
// or with movie_id=<series> that series' seasons.
func seriesOrderedList(h *Handler, k *call) error {
	p := &k.req.p
	ent := k.entitlement(h)
	tz := h.zones.of(k.req.cookies.Timezone)
	if p.movieID != "" {
		sid, _, _ := strings.Cut(p.movieID, ":")
		return h.seasonsList(k, ent, idOf(sid), tz)
	}
	favs := idSet(k.dev.Favourites.Series)
	list := make([]*catalog.Series, 0)
	for _, se := range ent.Series(p.genre) {
		if (p.genre == 0 && se.Category != nil && se.Category.IsAdult) || (p.fav && !favs[se.ID]) || !matches(se.Name, p.search) {
			continue
		}
		list = append(list, se)
	}
	sortItems(list, p.sortBy, seriesKeys)
	pg := pageOf(len(list), p.page, 0, pageItems)
	items := make([]vodItem, 0, pg.to-pg.from)
	for _, se := range list[pg.from:pg.to] {
		it := h.seriesItem(se, tz)
		it.ID, it.IsSeries, it.HasFiles = itoa(se.ID), 1, 1
		if favs[se.ID] {
			it.Fav = 1
		}
		items = append(items, it)
	}
	return writeJS(k.c, pagedOf(len(list), pg, items))
}

// seriesItem is the part a series and its seasons share.
func (h *Handler) seriesItem(se *catalog.Series, tz *time.Location) vodItem {
	modified := time.Unix(se.LastModifiedUnix, 0).In(tz)
	it := vodItem{
		Name: se.Name, OName: se.Name, Description: orNA(se.Plot), Pic: se.Cover, Series: []int32{},
		CategoryID: se.CategoryIDString(), CatGenreID1: se.CategoryIDString(), HD: 1, Director: orNA(se.Director),
		Actors: orNA(se.Cast), Year: orNA(se.ReleaseDate), Added: modified.Format(dateTimeLayout),
		RatingIMDB: orNA(se.RatingString), RatingKP: "N/A", ScreenshotURI: se.Cover, GenresStr: se.Genre,
		Status: 1, Accessed: 1,
	}
	if se.Category != nil && se.Category.IsAdult {
		it.Censored, it.Lock = 1, 1
	}
	it.addedLabel(modified, h.now().In(tz))
	return it
}

// seasonsList is a series' seasons: id "{series}:{season}", name "Season N" (0: "Specials"),
// series the episode numbers, cmd the season's.
func (h *Handler) seasonsList(k *call, ent *catalog.Entitlement, seriesID int64, tz *time.Location) error {
	se, ok := ent.Snapshot().Series(seriesID)
	if !ok || !ent.HasSeries(seriesID) {
		return writeJS(k.c, pagedOf(0, pageOf(0, k.req.p.page, 0, pageItems), []vodItem{}))
	}
	seasons := make([]*catalog.Season, 0, len(se.Seasons))
	for _, s := range se.Seasons {
		if len(s.Episodes) > 0 {
			seasons = append(seasons, s)
		}
	}
	pg := pageOf(len(seasons), k.req.p.page, 0, pageItems)
	items := make([]vodItem, 0, pg.to-pg.from)
	for _, s := range seasons[pg.from:pg.to] {
		it := h.seriesItem(se, tz)
		n := s.Number
		it.ID, it.IsSeries, it.HasFiles, it.SeasonNumber = itoa(se.ID)+":"+strconv.Itoa(int(n)), 1, 1, &n
		it.Name = "Season " + strconv.Itoa(int(n))
		if n == 0 {
			it.Name = "Specials"
		}
		it.OName = it.Name
		if s.Name != "" {
			it.OName = s.Name
		}
		for _, ep := range s.Episodes {
			it.Series = append(it.Series, ep.Episode.EpisodeNumber)
		}
		it.Cmd = vodCmd{Type: "series", SeriesID: se.ID, SeasonNum: &n}.encode()
		items = append(items, it)
	}
	return writeJS(k.c, pagedOf(len(seasons), pg, items))
}
