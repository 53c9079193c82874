package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Series is one row of series.
type Series struct {
	ID             int64      `db:"id"`
	Name           string     `db:"name"`
	CategoryID     *int64     `db:"category_id"`
	Cover          string     `db:"cover"`
	Plot           string     `db:"plot"`
	Cast           string     `db:"cast_list"`
	Director       string     `db:"director"`
	Genre          string     `db:"genre"`
	ReleaseDate    *time.Time `db:"release_date"`
	Rating         float64    `db:"rating"`
	BackdropPaths  []string   `db:"backdrop_paths"`
	YoutubeTrailer string     `db:"youtube_trailer"`
	EpisodeRunTime int32      `db:"episode_run_time"`
	TMDBID         *int64     `db:"tmdb_id"`
	CreatedAt      time.Time  `db:"created_at"`
	UpdatedAt      time.Time  `db:"updated_at"`
}

// Season is one row of seasons (optional metadata of a series' season).
type Season struct {
	SeriesID     int64      `db:"series_id"`
	SeasonNumber int32      `db:"season_number"`
	Name         string     `db:"name"`
	Overview     string     `db:"overview"`
	AirDate      *time.Time `db:"air_date"`
	Cover        string     `db:"cover"`
	CoverBig     string     `db:"cover_big"`
	VoteAverage  float64    `db:"vote_average"`
	TMDBID       *int64     `db:"tmdb_id"`
}

// Episode ties an episode stream to its series, season and number.
type Episode struct {
	StreamID      int64 `db:"stream_id"`
	SeriesID      int64 `db:"series_id"`
	SeasonNumber  int32 `db:"season_number"`
	EpisodeNumber int32 `db:"episode_number"`
}

// SeriesInput is what a caller writes into a series (ID and timestamps of Series are ignored).
type SeriesInput = Series

// UpsertSeries writes a series keyed by (name, category): inserted when missing, updated when
// any field differs, untouched otherwise.
func (s *Store) UpsertSeries(ctx context.Context, in SeriesInput) (int64, Outcome, error) {
	const qSelect = `SELECT id, name, category_id, cover, plot, cast_list, director, genre, release_date,
		rating, backdrop_paths, youtube_trailer, episode_run_time, tmdb_id, created_at, updated_at
		FROM series WHERE name = $1 AND category_id IS NOT DISTINCT FROM $2 ORDER BY id LIMIT 1`
	const qInsert = `INSERT INTO series (name, category_id, cover, plot, cast_list, director, genre, release_date,
		rating, backdrop_paths, youtube_trailer, episode_run_time, tmdb_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	const qUpdate = `UPDATE series SET cover = $2, plot = $3, cast_list = $4, director = $5, genre = $6,
		release_date = $7, rating = $8, backdrop_paths = $9, youtube_trailer = $10, episode_run_time = $11,
		tmdb_id = $12 WHERE id = $1`
	if in.BackdropPaths == nil {
		in.BackdropPaths = []string{}
	}
	rows, _ := s.q.Query(ctx, qSelect, in.Name, in.CategoryID)
	cur, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Series])
	switch {
	case err == nil:
		if sameSeries(cur, in) {
			return cur.ID, Unchanged, nil
		}
		if _, err := s.q.Exec(ctx, qUpdate, cur.ID, in.Cover, in.Plot, in.Cast, in.Director, in.Genre,
			in.ReleaseDate, in.Rating, in.BackdropPaths, in.YoutubeTrailer, in.EpisodeRunTime, in.TMDBID); err != nil {
			return 0, 0, fmt.Errorf("update series %q: %w", in.Name, interpret(err))
		}
		return cur.ID, Updated, nil
	case interpret(err) != ErrNotFound:
		return 0, 0, fmt.Errorf("upsert series %q: %w", in.Name, interpret(err))
	}
	var id int64
	if err := s.q.QueryRow(ctx, qInsert, in.Name, in.CategoryID, in.Cover, in.Plot, in.Cast, in.Director, in.Genre,
		in.ReleaseDate, in.Rating, in.BackdropPaths, in.YoutubeTrailer, in.EpisodeRunTime, in.TMDBID).Scan(&id); err != nil {
		return 0, 0, fmt.Errorf("create series %q: %w", in.Name, interpret(err))
	}
	return id, Added, nil
}

func sameSeries(a, b Series) bool {
	return a.Cover == b.Cover && a.Plot == b.Plot && a.Cast == b.Cast && a.Director == b.Director &&
		a.Genre == b.Genre && sameDate(a.ReleaseDate, b.ReleaseDate) && sameNumeric(a.Rating, b.Rating) &&
		slices.Equal(a.BackdropPaths, b.BackdropPaths) && a.YoutubeTrailer == b.YoutubeTrailer &&
		a.EpisodeRunTime == b.EpisodeRunTime && samePtr(a.TMDBID, b.TMDBID)
}

func sameDate(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// sameNumeric compares at the two decimals of numeric(4, 2).
func sameNumeric(a, b float64) bool { return math.Round(a*100) == math.Round(b*100) }

// DeleteSeries deletes a series with its seasons and episode rows (the episode streams stay).
func (s *Store) DeleteSeries(ctx context.Context, id int64) error {
	const q = `DELETE FROM series WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete series %d", id), q, id)
}

// UpsertSeason writes a season's metadata keyed by (series, season number).
func (s *Store) UpsertSeason(ctx context.Context, in Season) (Outcome, error) {
	const qSelect = `SELECT series_id, season_number, name, overview, air_date, cover, cover_big, vote_average, tmdb_id
		FROM seasons WHERE series_id = $1 AND season_number = $2`
	const qUpsert = `INSERT INTO seasons (series_id, season_number, name, overview, air_date, cover, cover_big,
		vote_average, tmdb_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (series_id, season_number) DO UPDATE SET name = EXCLUDED.name, overview = EXCLUDED.overview,
		air_date = EXCLUDED.air_date, cover = EXCLUDED.cover, cover_big = EXCLUDED.cover_big,
		vote_average = EXCLUDED.vote_average, tmdb_id = EXCLUDED.tmdb_id`
	rows, _ := s.q.Query(ctx, qSelect, in.SeriesID, in.SeasonNumber)
	cur, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Season])
	outcome := Added
	switch {
	case err == nil:
		if cur.Name == in.Name && cur.Overview == in.Overview && sameDate(cur.AirDate, in.AirDate) &&
			cur.Cover == in.Cover && cur.CoverBig == in.CoverBig && sameNumeric(cur.VoteAverage, in.VoteAverage) &&
			samePtr(cur.TMDBID, in.TMDBID) {
			return Unchanged, nil
		}
		outcome = Updated
	case interpret(err) != ErrNotFound:
		return 0, fmt.Errorf("upsert season %d of series %d: %w", in.SeasonNumber, in.SeriesID, interpret(err))
	}
	if _, err := s.q.Exec(ctx, qUpsert, in.SeriesID, in.SeasonNumber, in.Name, in.Overview, in.AirDate, in.Cover,
		in.CoverBig, in.VoteAverage, in.TMDBID); err != nil {
		return 0, fmt.Errorf("upsert season %d of series %d: %w", in.SeasonNumber, in.SeriesID, interpret(err))
	}
	return outcome, nil
}

// EpisodeInput is an episode to write: its place in a series and its stream (Kind is forced
// to episode; ContainerExtension is required).
type EpisodeInput struct {
	SeriesID      int64
	SeasonNumber  int32
	EpisodeNumber int32
	Stream        StreamInput
}

// UpsertEpisode writes an episode keyed by (series, season, episode number): a new episode
// stream with its sources when missing, else the stream's fields and sources when they differ.
// It returns the episode's stream id.
func (s *Store) UpsertEpisode(ctx context.Context, in EpisodeInput) (int64, Outcome, error) {
	const qSelect = `SELECT stream_id FROM episodes WHERE series_id = $1 AND season_number = $2 AND episode_number = $3`
	const qInsert = `INSERT INTO episodes (stream_id, series_id, season_number, episode_number) VALUES ($1, $2, $3, $4)`
	in.Stream.Kind = KindEpisode
	var (
		id      int64
		outcome = Unchanged
	)
	err := s.InTx(ctx, func(tx *Store) error {
		err := tx.q.QueryRow(ctx, qSelect, in.SeriesID, in.SeasonNumber, in.EpisodeNumber).Scan(&id)
		if interpret(err) == ErrNotFound {
			if id, err = tx.CreateStream(ctx, in.Stream); err != nil {
				return err
			}
			outcome = Added
			_, err = tx.q.Exec(ctx, qInsert, id, in.SeriesID, in.SeasonNumber, in.EpisodeNumber)
			return err
		}
		if err != nil {
			return err
		}
		changed, err := tx.syncStream(ctx, id, in.Stream)
		if changed {
			outcome = Updated
		}
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("upsert episode S%02dE%02d of series %d: %w", in.SeasonNumber, in.EpisodeNumber,
			in.SeriesID, interpret(err))
	}
	return id, outcome, nil
}

const seriesColumns = `id, name, category_id, cover, plot, cast_list, director, genre, release_date,
	rating, backdrop_paths, youtube_trailer, episode_run_time, tmdb_id, created_at, updated_at`

// SeriesByID reads one series.
func (s *Store) SeriesByID(ctx context.Context, id int64) (Series, error) {
	return one[Series](ctx, s, fmt.Sprintf("series %d", id), `SELECT `+seriesColumns+` FROM series WHERE id = $1`, id)
}

// CreateSeries inserts a series and returns its id.
func (s *Store) CreateSeries(ctx context.Context, in SeriesInput) (int64, error) {
	const q = `INSERT INTO series (name, category_id, cover, plot, cast_list, director, genre, release_date,
		rating, backdrop_paths, youtube_trailer, episode_run_time, tmdb_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, in.Name, in.CategoryID, in.Cover, in.Plot, in.Cast, in.Director, in.Genre,
		in.ReleaseDate, in.Rating, nonNilStrings(in.BackdropPaths), in.YoutubeTrailer, in.EpisodeRunTime,
		in.TMDBID).Scan(&id); err != nil {
		return 0, fmt.Errorf("create series %q: %w", in.Name, interpret(err))
	}
	return id, nil
}

// UpdateSeries overwrites a series' fields (in.ID names it).
func (s *Store) UpdateSeries(ctx context.Context, in SeriesInput) error {
	const q = `UPDATE series SET name = $2, category_id = $3, cover = $4, plot = $5, cast_list = $6, director = $7,
		genre = $8, release_date = $9, rating = $10, backdrop_paths = $11, youtube_trailer = $12,
		episode_run_time = $13, tmdb_id = $14 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update series %d", in.ID), q, in.ID, in.Name, in.CategoryID, in.Cover,
		in.Plot, in.Cast, in.Director, in.Genre, in.ReleaseDate, in.Rating, nonNilStrings(in.BackdropPaths),
		in.YoutubeTrailer, in.EpisodeRunTime, in.TMDBID)
}

// SeriesFilter selects series for an admin list; zero fields match everything.
type SeriesFilter struct {
	CategoryID int64
	Name       string  // the name contains this, ignoring case
	IDs        []int64 // only these series
	Page       Keyset  // sorts: "name", "created_at"
}

// ListSeries returns one page of the series f selects.
func (s *Store) ListSeries(ctx context.Context, f SeriesFilter) ([]Series, error) {
	var lq listQuery
	if f.CategoryID != 0 {
		lq.cond("category_id = %s", f.CategoryID)
	}
	if f.Name != "" {
		lq.cond("strpos(lower(name), lower(%s)) > 0", f.Name)
	}
	if f.IDs != nil {
		lq.cond("id = ANY(%s)", f.IDs)
	}
	return list(ctx, s, "series", &lq, `SELECT `+seriesColumns+` FROM series`, "id", streamSorts, f.Page,
		pgx.RowToStructByName[Series])
}

// DeleteEpisodeStreams deletes the episode streams of a series (with their sources and episode
// rows), before the series itself goes.
func (s *Store) DeleteEpisodeStreams(ctx context.Context, seriesID int64) error {
	const q = `DELETE FROM streams WHERE id IN (SELECT stream_id FROM episodes WHERE series_id = $1)`
	if _, err := s.q.Exec(ctx, q, seriesID); err != nil {
		return fmt.Errorf("delete episodes of series %d: %w", seriesID, interpret(err))
	}
	return nil
}

// SeasonsOf lists a series' season rows by number.
func (s *Store) SeasonsOf(ctx context.Context, seriesID int64) ([]Season, error) {
	const q = `SELECT series_id, season_number, name, overview, air_date, cover, cover_big, vote_average, tmdb_id
		FROM seasons WHERE series_id = $1 ORDER BY season_number`
	return many[Season](ctx, s, fmt.Sprintf("seasons of series %d", seriesID), q, seriesID)
}

// DeleteSeason deletes a season's metadata row (its episodes stay).
func (s *Store) DeleteSeason(ctx context.Context, seriesID int64, number int32) error {
	const q = `DELETE FROM seasons WHERE series_id = $1 AND season_number = $2`
	return s.execOne(ctx, fmt.Sprintf("delete season %d of series %d", number, seriesID), q, seriesID, number)
}

// EpisodesOf lists a series' episodes by season and number.
func (s *Store) EpisodesOf(ctx context.Context, seriesID int64) ([]Episode, error) {
	const q = `SELECT stream_id, series_id, season_number, episode_number FROM episodes
		WHERE series_id = $1 ORDER BY season_number, episode_number`
	return many[Episode](ctx, s, fmt.Sprintf("episodes of series %d", seriesID), q, seriesID)
}

// EpisodeByStreamID reads the place of episode stream id in its series.
func (s *Store) EpisodeByStreamID(ctx context.Context, streamID int64) (Episode, error) {
	const q = `SELECT stream_id, series_id, season_number, episode_number FROM episodes WHERE stream_id = $1`
	return one[Episode](ctx, s, fmt.Sprintf("episode %d", streamID), q, streamID)
}

// CreateEpisode inserts an episode stream with its sources and its place in the series, and
// returns the stream id. A taken (series, season, episode) is ErrConflict.
func (s *Store) CreateEpisode(ctx context.Context, in EpisodeInput) (int64, error) {
	const q = `INSERT INTO episodes (stream_id, series_id, season_number, episode_number) VALUES ($1, $2, $3, $4)`
	in.Stream.Kind = KindEpisode
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		var err error
		if id, err = tx.CreateStream(ctx, in.Stream); err != nil {
			return err
		}
		_, err = tx.q.Exec(ctx, q, id, in.SeriesID, in.SeasonNumber, in.EpisodeNumber)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create episode S%02dE%02d of series %d: %w", in.SeasonNumber, in.EpisodeNumber,
			in.SeriesID, interpret(err))
	}
	return id, nil
}

// MoveEpisode sets an episode's season and number; a taken place is ErrConflict.
func (s *Store) MoveEpisode(ctx context.Context, e Episode) error {
	const q = `UPDATE episodes SET season_number = $2, episode_number = $3 WHERE stream_id = $1`
	return s.execOne(ctx, fmt.Sprintf("move episode %d", e.StreamID), q, e.StreamID, e.SeasonNumber, e.EpisodeNumber)
}
