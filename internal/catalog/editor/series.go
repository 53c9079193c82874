package editor

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Series is a TV show as the admin edits it; its seasons and episodes are edited apart.
type Series struct {
	ID             int64     `json:"id" audit:"-"`
	Name           string    `json:"name"`
	CategoryID     *int64    `json:"category_id"` // a series category
	Cover          string    `json:"cover"`
	Plot           string    `json:"plot"`
	Cast           string    `json:"cast"`
	Director       string    `json:"director"`
	Genre          string    `json:"genre"`
	ReleaseDate    *string   `json:"release_date"` // 2006-01-02
	Rating         float64   `json:"rating"`       // 0–10, two decimals
	BackdropPaths  []string  `json:"backdrop_paths"`
	YoutubeTrailer string    `json:"youtube_trailer"`
	EpisodeRunTime int32     `json:"episode_run_time"` // minutes
	TMDBID         *int64    `json:"tmdb_id"`
	CreatedAt      time.Time `json:"created_at" audit:"-"`
	UpdatedAt      time.Time `json:"updated_at" audit:"-"`
}

// Cursor is where a page ending at s continues, in the order of sort ("name", "created_at" or "").
func (s Series) Cursor(sort string) Cursor {
	return Stream{ID: s.ID, Name: s.Name, CreatedAt: s.CreatedAt}.Cursor(sort)
}

const dateLayout = "2006-01-02"

func seriesOf(r store.Series) Series {
	return Series{ID: r.ID, Name: r.Name, CategoryID: r.CategoryID, Cover: r.Cover, Plot: r.Plot, Cast: r.Cast,
		Director: r.Director, Genre: r.Genre, ReleaseDate: dateString(r.ReleaseDate), Rating: r.Rating,
		BackdropPaths: nonNil(r.BackdropPaths), YoutubeTrailer: r.YoutubeTrailer, EpisodeRunTime: r.EpisodeRunTime,
		TMDBID: r.TMDBID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (s Series) input() store.SeriesInput {
	return store.SeriesInput{ID: s.ID, Name: s.Name, CategoryID: s.CategoryID, Cover: s.Cover, Plot: s.Plot,
		Cast: s.Cast, Director: s.Director, Genre: s.Genre, ReleaseDate: parseDate(s.ReleaseDate), Rating: s.Rating,
		BackdropPaths: s.BackdropPaths, YoutubeTrailer: s.YoutubeTrailer, EpisodeRunTime: s.EpisodeRunTime,
		TMDBID: s.TMDBID}
}

func dateString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.Format(dateLayout)
	return &s
}

// parseDate reads a date checkDate accepted.
func parseDate(s *string) *time.Time {
	if s == nil {
		return nil
	}
	t, err := time.Parse(dateLayout, *s)
	if err != nil {
		return nil
	}
	return &t
}

func checkDate(field string, s *string) (*string, error) {
	if s = none(s); s == nil {
		return nil, nil
	}
	if _, err := time.Parse(dateLayout, *s); err != nil {
		return nil, input.Invalid(field, "a date as 2006-01-02")
	}
	return s, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func checkSeries(s *Series) error {
	for _, c := range []struct {
		field string
		v     string
		req   bool
		max   int
	}{{"name", s.Name, true, 512}, {"cover", s.Cover, false, maxURL}, {"plot", s.Plot, false, 16 << 10},
		{"cast", s.Cast, false, 4096}, {"director", s.Director, false, 1024}, {"genre", s.Genre, false, 1024},
		{"youtube_trailer", s.YoutubeTrailer, false, 1024}} {
		if err := checkText(c.field, c.v, c.req, c.max); err != nil {
			return err
		}
	}
	var err error
	if s.ReleaseDate, err = checkDate("release_date", s.ReleaseDate); err != nil {
		return err
	}
	if s.Rating < 0 || s.Rating > 10 || math.IsNaN(s.Rating) {
		return input.Invalid("rating", "0 to 10")
	}
	s.Rating = math.Round(s.Rating*100) / 100
	if s.EpisodeRunTime < 0 {
		return input.Invalid("episode_run_time", "minutes, 0 or more")
	}
	s.BackdropPaths = nonNil(s.BackdropPaths)
	if len(s.BackdropPaths) > 32 {
		return input.Invalid("backdrop_paths", "at most 32")
	}
	for i, p := range s.BackdropPaths {
		if err := checkText(fmt.Sprintf("backdrop_paths[%d]", i), p, true, maxURL); err != nil {
			return err
		}
	}
	return nil
}

var seriesRefusals = input.Refusals{
	NotFound: &input.FieldError{Field: "id", Reason: "no such series", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "series", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

// SeriesList returns one page of the series in category (0: any) whose name holds name.
// Sorts: "name", "created_at".
func (e *Editor) SeriesList(ctx context.Context, category int64, name string, q Query) ([]Series, error) {
	rows, err := e.store.ListSeries(ctx, store.SeriesFilter{CategoryID: category, Name: name, Page: q.keyset()})
	if err != nil {
		return nil, fmt.Errorf("series: %w", refused(badSort, err))
	}
	out := make([]Series, len(rows))
	for i, r := range rows {
		out[i] = seriesOf(r)
	}
	return out, nil
}

// Series reads one series.
func (e *Editor) Series(ctx context.Context, id int64) (Series, error) {
	r, err := e.store.SeriesByID(ctx, id)
	if err != nil {
		return Series{}, fmt.Errorf("series %d: %w", id, refused(seriesRefusals, err))
	}
	return seriesOf(r), nil
}

// CreateSeries creates a series.
func (e *Editor) CreateSeries(ctx context.Context, a audit.Actor, in Series) (Series, error) {
	if err := checkSeries(&in); err != nil {
		return Series{}, fmt.Errorf("create series: %w", err)
	}
	var out Series
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := checkCategoryRef(ctx, tx, in.CategoryID, store.KindSeries); err != nil {
			return err
		}
		id, err := tx.CreateSeries(ctx, in.input())
		if err != nil {
			return err
		}
		r, err := tx.SeriesByID(ctx, id)
		if err != nil {
			return err
		}
		out = seriesOf(r)
		return record(ctx, tx, a, "series.create", "series", id, Series{}, out)
	})
	if err != nil {
		return Series{}, fmt.Errorf("create series: %w", refused(seriesRefusals, err))
	}
	return out, nil
}

// UpdateSeries applies edit to series id, writing only when something changed.
func (e *Editor) UpdateSeries(ctx context.Context, a audit.Actor, id int64, edit func(*Series) error) (Series, error) {
	var out Series
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableSeries, id); err != nil {
			return err
		}
		r, err := tx.SeriesByID(ctx, id)
		if err != nil {
			return err
		}
		before := seriesOf(r)
		next := before
		next.BackdropPaths = slices.Clone(before.BackdropPaths)
		if err := edit(&next); err != nil {
			return err
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, before.CreatedAt, before.UpdatedAt
		if err := checkSeries(&next); err != nil {
			return err
		}
		if err := checkCategoryRef(ctx, tx, next.CategoryID, store.KindSeries); err != nil {
			return err
		}
		if b, _ := audit.Diff(before, next); len(b) == 0 {
			out = before
			return nil
		}
		if err := tx.UpdateSeries(ctx, next.input()); err != nil {
			return err
		}
		if r, err = tx.SeriesByID(ctx, id); err != nil {
			return err
		}
		out = seriesOf(r)
		return record(ctx, tx, a, "series.update", "series", id, before, out)
	})
	if err != nil {
		return Series{}, fmt.Errorf("update series %d: %w", id, refused(seriesRefusals, err))
	}
	return out, nil
}

// DeleteSeries deletes a series with its seasons and its episodes (their streams too).
func (e *Editor) DeleteSeries(ctx context.Context, a audit.Actor, id int64) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		r, err := tx.SeriesByID(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteEpisodeStreams(ctx, id); err != nil {
			return err
		}
		if err := tx.DeleteSeries(ctx, id); err != nil {
			return err
		}
		return record(ctx, tx, a, "series.delete", "series", id, seriesOf(r), Series{})
	})
	if err != nil {
		return fmt.Errorf("delete series %d: %w", id, refused(seriesRefusals, err))
	}
	return nil
}

// Season is a season's metadata (optional: episodes may sit in a season without one).
type Season struct {
	SeriesID    int64   `json:"series_id" audit:"-"`
	Number      int32   `json:"season_number" audit:"-"` // 0 holds the specials
	Name        string  `json:"name"`
	Overview    string  `json:"overview"`
	AirDate     *string `json:"air_date"` // 2006-01-02
	Cover       string  `json:"cover"`
	CoverBig    string  `json:"cover_big"`
	VoteAverage float64 `json:"vote_average"`
	TMDBID      *int64  `json:"tmdb_id"`
}

func seasonOf(r store.Season) Season {
	return Season{SeriesID: r.SeriesID, Number: r.SeasonNumber, Name: r.Name, Overview: r.Overview,
		AirDate: dateString(r.AirDate), Cover: r.Cover, CoverBig: r.CoverBig, VoteAverage: r.VoteAverage, TMDBID: r.TMDBID}
}

func checkSeason(s *Season) error {
	if s.Number < 0 || s.Number > 10_000 {
		return input.Invalid("season_number", "0 (specials) to 10000")
	}
	for _, c := range []struct {
		field, v string
		max      int
	}{{"name", s.Name, 512}, {"overview", s.Overview, 16 << 10}, {"cover", s.Cover, maxURL}, {"cover_big", s.CoverBig, maxURL}} {
		if err := checkText(c.field, c.v, false, c.max); err != nil {
			return err
		}
	}
	if s.VoteAverage < 0 || s.VoteAverage > 10 || math.IsNaN(s.VoteAverage) {
		return input.Invalid("vote_average", "0 to 10")
	}
	s.VoteAverage = math.Round(s.VoteAverage*100) / 100
	var err error
	s.AirDate, err = checkDate("air_date", s.AirDate)
	return err
}

// Seasons lists the season rows of series id by number.
func (e *Editor) Seasons(ctx context.Context, seriesID int64) ([]Season, error) {
	if _, err := e.Series(ctx, seriesID); err != nil {
		return nil, err
	}
	rows, err := e.store.SeasonsOf(ctx, seriesID)
	if err != nil {
		return nil, fmt.Errorf("seasons: %w", err)
	}
	out := make([]Season, len(rows))
	for i, r := range rows {
		out[i] = seasonOf(r)
	}
	return out, nil
}

// PutSeason creates or replaces the metadata of season in.Number of series seriesID and
// reports whether it created it.
func (e *Editor) PutSeason(ctx context.Context, a audit.Actor, seriesID int64, in Season) (Season, bool, error) {
	in.SeriesID = seriesID
	if err := checkSeason(&in); err != nil {
		return Season{}, false, fmt.Errorf("put season: %w", err)
	}
	created := false
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableSeries, seriesID); err != nil {
			return err
		}
		before := Season{SeriesID: seriesID, Number: in.Number}
		cur, err := tx.SeasonsOf(ctx, seriesID)
		if err != nil {
			return err
		}
		if i := slices.IndexFunc(cur, func(s store.Season) bool { return s.SeasonNumber == in.Number }); i >= 0 {
			before = seasonOf(cur[i])
		}
		outcome, err := tx.UpsertSeason(ctx, store.Season{SeriesID: seriesID, SeasonNumber: in.Number, Name: in.Name,
			Overview: in.Overview, AirDate: parseDate(in.AirDate), Cover: in.Cover, CoverBig: in.CoverBig,
			VoteAverage: in.VoteAverage, TMDBID: in.TMDBID})
		if err != nil || outcome == store.Unchanged {
			return err
		}
		created = outcome == store.Added
		return recordWith(ctx, tx, a, "season.put", "series", seriesID, before, in,
			map[string]any{"season_number": in.Number})
	})
	if err != nil {
		return Season{}, false, fmt.Errorf("put season %d of series %d: %w", in.Number, seriesID, refused(seriesRefusals, err))
	}
	return in, created, nil
}

// DeleteSeason deletes the metadata of a season (its episodes stay).
func (e *Editor) DeleteSeason(ctx context.Context, a audit.Actor, seriesID int64, number int32) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSeason(ctx, seriesID, number); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "season.delete", TargetType: "series",
			TargetID: strconv.FormatInt(seriesID, 10), Extra: map[string]any{"season_number": number}})
	})
	if err != nil {
		return fmt.Errorf("delete season %d of series %d: %w", number, seriesID, refused(input.Refusals{
			NotFound: &input.FieldError{Field: "season_number", Reason: "no such season", Kind: input.ErrNotFound}}, err))
	}
	return nil
}
