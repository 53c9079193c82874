package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// Series is a TV show; its seasons and episodes are resources of their own.
type Series struct {
	ID             int64     `json:"id" doc:"The series id of get_series_info."`
	Name           string    `json:"name"`
	CategoryID     *int64    `json:"category_id" doc:"A series category; null: uncategorised."`
	Cover          string    `json:"cover"`
	Plot           string    `json:"plot"`
	Cast           string    `json:"cast"`
	Director       string    `json:"director"`
	Genre          string    `json:"genre"`
	ReleaseDate    *string   `json:"release_date" pattern:"^\\d{4}-\\d{2}-\\d{2}$" doc:"2006-01-02"`
	Rating         float64   `json:"rating" doc:"0 to 10."`
	BackdropPaths  []string  `json:"backdrop_paths"`
	YoutubeTrailer string    `json:"youtube_trailer"`
	EpisodeRunTime int32     `json:"episode_run_time" doc:"Minutes."`
	TMDBID         *int64    `json:"tmdb_id"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func seriesOut(s editor.Series) Series { return Series(s) }

// seriesBody is a series as a POST gives it (every member but the name may be left out).
type seriesBody struct {
	Name           string   `json:"name" api:"required,minlen=1,maxlen=512"`
	CategoryID     *int64   `json:"category_id" api:"nullable,min=1"`
	Cover          string   `json:"cover" api:"maxlen=4096"`
	Plot           string   `json:"plot" api:"maxlen=16384"`
	Cast           string   `json:"cast" api:"maxlen=4096"`
	Director       string   `json:"director" api:"maxlen=1024"`
	Genre          string   `json:"genre" api:"maxlen=1024"`
	ReleaseDate    *string  `json:"release_date" api:"nullable" pattern:"^\\d{4}-\\d{2}-\\d{2}$"`
	Rating         float64  `json:"rating" api:"min=0,max=10"`
	BackdropPaths  []string `json:"backdrop_paths" api:"maxitems=32,maxlen=4096"`
	YoutubeTrailer string   `json:"youtube_trailer" api:"maxlen=1024"`
	EpisodeRunTime int32    `json:"episode_run_time" api:"min=0"`
	TMDBID         *int64   `json:"tmdb_id" api:"nullable,min=0"`
}

type seriesPatch struct {
	Name           *string          `json:"name" api:"minlen=1,maxlen=512"`
	CategoryID     Optional[int64]  `json:"category_id" api:"min=1"`
	Cover          *string          `json:"cover" api:"maxlen=4096"`
	Plot           *string          `json:"plot" api:"maxlen=16384"`
	Cast           *string          `json:"cast" api:"maxlen=4096"`
	Director       *string          `json:"director" api:"maxlen=1024"`
	Genre          *string          `json:"genre" api:"maxlen=1024"`
	ReleaseDate    Optional[string] `json:"release_date" pattern:"^\\d{4}-\\d{2}-\\d{2}$"`
	Rating         *float64         `json:"rating" api:"min=0,max=10"`
	BackdropPaths  *[]string        `json:"backdrop_paths" api:"maxitems=32,maxlen=4096"`
	YoutubeTrailer *string          `json:"youtube_trailer" api:"maxlen=1024"`
	EpisodeRunTime *int32           `json:"episode_run_time" api:"min=0"`
	TMDBID         Optional[int64]  `json:"tmdb_id" api:"min=0"`
}

// Season is a season's metadata; episodes may sit in a season that has none.
type Season struct {
	SeasonNumber int32   `json:"season_number" doc:"0 holds the specials."`
	Name         string  `json:"name"`
	Overview     string  `json:"overview"`
	AirDate      *string `json:"air_date" doc:"2006-01-02"`
	Cover        string  `json:"cover"`
	CoverBig     string  `json:"cover_big"`
	VoteAverage  float64 `json:"vote_average"`
	TMDBID       *int64  `json:"tmdb_id"`
}

type seasonBody struct {
	Name        string  `json:"name" api:"maxlen=512"`
	Overview    string  `json:"overview" api:"maxlen=16384"`
	AirDate     *string `json:"air_date" api:"nullable" pattern:"^\\d{4}-\\d{2}-\\d{2}$"`
	Cover       string  `json:"cover" api:"maxlen=4096"`
	CoverBig    string  `json:"cover_big" api:"maxlen=4096"`
	VoteAverage float64 `json:"vote_average" api:"min=0,max=10"`
	TMDBID      *int64  `json:"tmdb_id" api:"nullable,min=0"`
}

// Episode is an episode of a series: a file players open as /series/u/p/{id}.{ext}.
type Episode struct {
	ID                 int64          `json:"id"`
	SeriesID           int64          `json:"series_id"`
	SeasonNumber       int32          `json:"season_number"`
	EpisodeNumber      int32          `json:"episode_number"`
	Name               string         `json:"name"`
	Icon               string         `json:"icon"`
	CustomSID          string         `json:"custom_sid"`
	DirectSource       bool           `json:"direct_source"`
	ContainerExtension string         `json:"container_extension"`
	Info               map[string]any `json:"info" doc:"The metadata get_series_info answers for the episode (plot, duration …)."`
	Enabled            bool           `json:"enabled"`
	Sources            []Source       `json:"sources"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

func episodeOut(e editor.Episode) Episode {
	m := movieOut(e.Stream)
	return Episode{ID: e.ID, SeriesID: e.SeriesID, SeasonNumber: e.SeasonNumber, EpisodeNumber: e.EpisodeNumber,
		Name: m.Name, Icon: m.Icon, CustomSID: m.CustomSID, DirectSource: m.DirectSource,
		ContainerExtension: m.ContainerExtension, Info: m.Info, Enabled: m.Enabled, Sources: m.Sources,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
}

type newEpisode struct {
	SeasonNumber  int32 `json:"season_number" api:"required,min=0,max=10000"`
	EpisodeNumber int32 `json:"episode_number" api:"required,min=0,max=100000"`
	FileFields
}

type episodePatch struct {
	SeasonNumber  *int32 `json:"season_number" api:"min=0,max=10000"`
	EpisodeNumber *int32 `json:"episode_number" api:"min=0,max=100000"`
	FilePatch
}

type seriesList struct {
	PageQuery
	CategoryID int64  `query:"category_id" api:"min=1" doc:"Only series of this category."`
	Name       string `query:"name" api:"maxlen=512" doc:"Only series whose name contains this, ignoring case."`
	Sort       string `query:"sort" api:"enum=id|-id|name|-name|created_at|-created_at" doc:"Order (a leading - reverses it); default id."`
}

type seasonParams struct {
	ID     int64 `path:"id" api:"min=1" doc:"The series id."`
	Number int32 `path:"number" api:"min=0,max=10000" doc:"The season number (0: specials)."`
}

// Seasons and Episodes are a series' lists (a series holds at most a few hundred of each).
type (
	Seasons struct {
		Items []Season `json:"items"`
	}
	Episodes struct {
		Items []Episode `json:"items"`
	}
)

func (a *API) seriesOps() []Op {
	series := []Op{
		{Method: fiber.MethodGet, Path: "/series", ID: "listSeries", Tag: "Series", Summary: "List series",
			Perm: readPerm("catalog"), Handler: Handle(a.listSeries)},
		{Method: fiber.MethodPost, Path: "/series", ID: "createSeries", Tag: "Series", Summary: "Create a series",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Handler: Handle(a.createSeries)},
		{Method: fiber.MethodGet, Path: "/series/{id}", ID: "getSeries", Tag: "Series", Summary: "Get a series",
			Perm: readPerm("catalog"), Handler: Handle(a.getSeries)},
		{Method: fiber.MethodPatch, Path: "/series/{id}", ID: "updateSeries", Tag: "Series", Summary: "Change a series",
			Perm: writePerm("catalog"), Handler: Handle(a.updateSeries)},
		{Method: fiber.MethodDelete, Path: "/series/{id}", ID: "deleteSeries", Tag: "Series", Summary: "Delete a series",
			Doc: "With its seasons and its episodes.", Perm: writePerm("catalog"), Handler: Handle(a.deleteSeries)},
		{Method: fiber.MethodGet, Path: "/series/{id}/seasons", ID: "listSeasons", Tag: "Series", Summary: "List a series' seasons",
			Perm: readPerm("catalog"), Handler: Handle(a.listSeasons)},
		{Method: fiber.MethodPut, Path: "/series/{id}/seasons/{number}", ID: "putSeason", Tag: "Series", Summary: "Set a season",
			Doc: "Creates or replaces the season's metadata.", Perm: writePerm("catalog"), Handler: Handle(a.putSeason)},
		{Method: fiber.MethodDelete, Path: "/series/{id}/seasons/{number}", ID: "deleteSeason", Tag: "Series",
			Summary: "Delete a season's metadata", Doc: "Its episodes stay.", Perm: writePerm("catalog"), Handler: Handle(a.deleteSeason)},
	}
	return append(series, a.episodeOps()...)
}

func (a *API) episodeOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/series/{id}/episodes", ID: "listEpisodes", Tag: "Series", Summary: "List a series' episodes",
			Doc: "By season and number.", Perm: readPerm("catalog"), Handler: Handle(a.listEpisodes)},
		{Method: fiber.MethodPost, Path: "/series/{id}/episodes", ID: "createEpisode", Tag: "Series", Summary: "Create an episode",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createEpisode)},
		{Method: fiber.MethodGet, Path: "/episodes/{id}", ID: "getEpisode", Tag: "Series", Summary: "Get an episode",
			Perm: readPerm("catalog"), Handler: Handle(a.getEpisode)},
		{Method: fiber.MethodPatch, Path: "/episodes/{id}", ID: "updateEpisode", Tag: "Series", Summary: "Change an episode",
			Doc:  "Its stream and its place in the series (season, number); it stays in its series.",
			Perm: writePerm("catalog"), Errors: []int{409}, Handler: Handle(a.updateEpisode)},
		{Method: fiber.MethodDelete, Path: "/episodes/{id}", ID: "deleteEpisode", Tag: "Series", Summary: "Delete an episode",
			Perm: writePerm("catalog"), Handler: Handle(a.deleteEpisode)},
	}
}

func (a *API) listSeries(c *Call, q seriesList, _ NoBody) (Page[Series], error) {
	return keysetPage(q.PageQuery, q.Sort, func(eq editor.Query) ([]Series, error) {
		rows, err := a.d.Editor.SeriesList(c.Context(), q.CategoryID, q.Name, eq)
		return mapSlice(rows, seriesOut), err
	}, func(s Series, key string) editor.Cursor { return streamCursor(s.ID, s.Name, s.CreatedAt, key) })
}

func (a *API) createSeries(c *Call, _ NoParams, in seriesBody) (Series, error) {
	out, err := a.d.Editor.CreateSeries(c.Context(), c.Principal.Actor, editor.Series{Name: in.Name, CategoryID: in.CategoryID,
		Cover: in.Cover, Plot: in.Plot, Cast: in.Cast, Director: in.Director, Genre: in.Genre, ReleaseDate: in.ReleaseDate,
		Rating: in.Rating, BackdropPaths: in.BackdropPaths, YoutubeTrailer: in.YoutubeTrailer,
		EpisodeRunTime: in.EpisodeRunTime, TMDBID: in.TMDBID})
	return seriesOut(out), err
}

func (a *API) getSeries(c *Call, p ByID, _ NoBody) (Series, error) {
	out, err := a.d.Editor.Series(c.Context(), p.ID)
	return seriesOut(out), err
}

func (a *API) updateSeries(c *Call, p ByID, in seriesPatch) (Series, error) {
	out, err := a.d.Editor.UpdateSeries(c.Context(), c.Principal.Actor, p.ID, func(s *editor.Series) error {
		set(&s.Name, in.Name)
		setOptional(&s.CategoryID, in.CategoryID)
		for _, f := range []struct{ dst, v *string }{{&s.Cover, in.Cover}, {&s.Plot, in.Plot}, {&s.Cast, in.Cast},
			{&s.Director, in.Director}, {&s.Genre, in.Genre}, {&s.YoutubeTrailer, in.YoutubeTrailer}} {
			set(f.dst, f.v)
		}
		setOptional(&s.ReleaseDate, in.ReleaseDate)
		set(&s.Rating, in.Rating)
		set(&s.BackdropPaths, in.BackdropPaths)
		set(&s.EpisodeRunTime, in.EpisodeRunTime)
		setOptional(&s.TMDBID, in.TMDBID)
		return nil
	})
	return seriesOut(out), err
}

func (a *API) deleteSeries(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteSeries(c.Context(), c.Principal.Actor, p.ID)
}

func seasonOut(s editor.Season) Season {
	return Season{SeasonNumber: s.Number, Name: s.Name, Overview: s.Overview, AirDate: s.AirDate, Cover: s.Cover,
		CoverBig: s.CoverBig, VoteAverage: s.VoteAverage, TMDBID: s.TMDBID}
}

func (a *API) listSeasons(c *Call, p ByID, _ NoBody) (Seasons, error) {
	rows, err := a.d.Editor.Seasons(c.Context(), p.ID)
	return Seasons{Items: mapSlice(rows, seasonOut)}, err
}

func (a *API) putSeason(c *Call, p seasonParams, in seasonBody) (Season, error) {
	out, _, err := a.d.Editor.PutSeason(c.Context(), c.Principal.Actor, p.ID, editor.Season{Number: p.Number,
		Name: in.Name, Overview: in.Overview, AirDate: in.AirDate, Cover: in.Cover, CoverBig: in.CoverBig,
		VoteAverage: in.VoteAverage, TMDBID: in.TMDBID})
	return seasonOut(out), err
}

func (a *API) deleteSeason(c *Call, p seasonParams, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteSeason(c.Context(), c.Principal.Actor, p.ID, p.Number)
}

func (a *API) listEpisodes(c *Call, p ByID, _ NoBody) (Episodes, error) {
	rows, err := a.d.Editor.Episodes(c.Context(), p.ID)
	return Episodes{Items: mapSlice(rows, episodeOut)}, err
}

func (a *API) createEpisode(c *Call, p ByID, in newEpisode) (Episode, error) {
	out, err := a.d.Editor.CreateEpisode(c.Context(), c.Principal.Actor, p.ID, editor.Episode{
		Stream: in.stream(), SeasonNumber: in.SeasonNumber, EpisodeNumber: in.EpisodeNumber})
	return episodeOut(out), err
}

func (a *API) getEpisode(c *Call, p ByID, _ NoBody) (Episode, error) {
	out, err := a.d.Editor.Episode(c.Context(), p.ID)
	return episodeOut(out), err
}

func (a *API) updateEpisode(c *Call, p ByID, in episodePatch) (Episode, error) {
	out, err := a.d.Editor.UpdateEpisode(c.Context(), c.Principal.Actor, p.ID, func(e *editor.Episode) error {
		set(&e.SeasonNumber, in.SeasonNumber)
		set(&e.EpisodeNumber, in.EpisodeNumber)
		in.apply(&e.Stream)
		return nil
	})
	return episodeOut(out), err
}

func (a *API) deleteEpisode(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteEpisode(c.Context(), c.Principal.Actor, p.ID)
}
