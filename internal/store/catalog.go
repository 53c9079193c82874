package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Stream kinds (streams.kind) and category kinds (categories.kind) as the schema spells them.
const (
	KindLive        = "live"
	KindCreatedLive = "created_live"
	KindRadio       = "radio"
	KindMovie       = "movie"
	KindEpisode     = "episode"
	KindSeries      = "series" // categories only
)

// Source kinds (stream_sources.kind).
const (
	SourceAuto = "auto"
	SourceTS   = "ts"
	SourceHLS  = "hls"
	SourceFile = "file"
)

// Category is one row of categories.
type Category struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	Name     string `db:"name"`
	Position int32  `db:"position"`
	IsAdult  bool   `db:"is_adult"`
}

// Stream is one row of streams (live, radio, movie or episode). Sources are loaded apart.
type Stream struct {
	ID                 int64           `db:"id"`
	Kind               string          `db:"kind"`
	Name               string          `db:"name"`
	CategoryID         *int64          `db:"category_id"`
	Icon               string          `db:"icon"`
	EPGChannelID       *string         `db:"epg_channel_id"`
	CustomSID          string          `db:"custom_sid"`
	DirectSource       bool            `db:"direct_source"`
	TVArchiveDays      int32           `db:"tv_archive_days"`
	CatchupSource      *string         `db:"catchup_source"`
	ContainerExtension *string         `db:"container_extension"`
	Info               json.RawMessage `db:"info"`
	Enabled            bool            `db:"enabled"`
	CreatedAt          time.Time       `db:"created_at"`
	UpdatedAt          time.Time       `db:"updated_at"`
}

// StreamSource is one ordered source of a stream.
type StreamSource struct {
	StreamID int64  `db:"stream_id"`
	Position int32  `db:"position"`
	URL      string `db:"url"`
	Kind     string `db:"kind"`
}

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

// Bouquet is one row of bouquets.
type Bouquet struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Position int32  `db:"position"`
}

// BouquetItem is one entry of a bouquet: a stream (bouquet_streams) or a series (bouquet_series).
type BouquetItem struct {
	BouquetID int64 `db:"bouquet_id"`
	ItemID    int64 `db:"item_id"`
	Position  int32 `db:"position"`
}

// CatalogData is the whole catalog as one consistent read, for catalog.Snapshot.
type CatalogData struct {
	Version        int64 // change_versions 'catalog' at the time of the read
	Categories     []Category
	Streams        []Stream       // enabled streams only, by id
	Sources        []StreamSource // of those streams, by (stream_id, position)
	Series         []Series       // by id
	Seasons        []Season       // by (series_id, season_number)
	Episodes       []Episode      // of enabled episode streams, by (series_id, season_number, episode_number)
	Bouquets       []Bouquet      // by (position, id)
	BouquetStreams []BouquetItem  // by (bouquet_id, position, stream_id)
	BouquetSeries  []BouquetItem  // by (bouquet_id, position, series_id)
}

// CatalogVersion reads the current catalog version, a cheap check before a rebuild.
func (s *Store) CatalogVersion(ctx context.Context) (int64, error) {
	return s.changeVersion(ctx, "catalog")
}

func (s *Store) changeVersion(ctx context.Context, scope string) (int64, error) {
	const q = `SELECT version FROM change_versions WHERE scope = $1`
	var v int64
	if err := s.q.QueryRow(ctx, q, scope).Scan(&v); err != nil {
		return 0, fmt.Errorf("%s version: %w", scope, interpret(err))
	}
	return v, nil
}

// LoadCatalog reads everything a catalog snapshot needs in one round trip of set-based queries,
// inside one repeatable-read read-only transaction, so the rows and the version agree.
func (s *Store) LoadCatalog(ctx context.Context) (CatalogData, error) {
	const (
		qVersion    = `SELECT version FROM change_versions WHERE scope = 'catalog'`
		qCategories = `SELECT id, kind, name, position, is_adult FROM categories ORDER BY position, id`
		qStreams    = `SELECT id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
			tv_archive_days, catchup_source, container_extension, info, enabled, created_at, updated_at
			FROM streams WHERE enabled ORDER BY id`
		qSources = `SELECT ss.stream_id, ss.position, ss.url, ss.kind
			FROM stream_sources ss JOIN streams s ON s.id = ss.stream_id
			WHERE s.enabled ORDER BY ss.stream_id, ss.position`
		qSeries = `SELECT id, name, category_id, cover, plot, cast_list, director, genre, release_date,
			rating, backdrop_paths, youtube_trailer, episode_run_time, tmdb_id, created_at, updated_at
			FROM series ORDER BY id`
		qSeasons = `SELECT series_id, season_number, name, overview, air_date, cover, cover_big,
			vote_average, tmdb_id FROM seasons ORDER BY series_id, season_number`
		qEpisodes = `SELECT e.stream_id, e.series_id, e.season_number, e.episode_number
			FROM episodes e JOIN streams s ON s.id = e.stream_id
			WHERE s.enabled ORDER BY e.series_id, e.season_number, e.episode_number`
		qBouquets       = `SELECT id, name, position FROM bouquets ORDER BY position, id`
		qBouquetStreams = `SELECT bouquet_id, stream_id AS item_id, position FROM bouquet_streams
			ORDER BY bouquet_id, position, stream_id`
		qBouquetSeries = `SELECT bouquet_id, series_id AS item_id, position FROM bouquet_series
			ORDER BY bouquet_id, position, series_id`
	)
	var d CatalogData
	err := s.readOnly(ctx, func(q querier) error {
		b := &pgx.Batch{}
		b.Queue(qVersion)
		for _, sql := range []string{qCategories, qStreams, qSources, qSeries, qSeasons, qEpisodes,
			qBouquets, qBouquetStreams, qBouquetSeries} {
			b.Queue(sql)
		}
		br := q.SendBatch(ctx, b)
		defer br.Close()
		if err := br.QueryRow().Scan(&d.Version); err != nil {
			return err
		}
		var err error
		if d.Categories, err = collect[Category](br); err != nil {
			return err
		}
		if d.Streams, err = collect[Stream](br); err != nil {
			return err
		}
		if d.Sources, err = collect[StreamSource](br); err != nil {
			return err
		}
		if d.Series, err = collect[Series](br); err != nil {
			return err
		}
		if d.Seasons, err = collect[Season](br); err != nil {
			return err
		}
		if d.Episodes, err = collect[Episode](br); err != nil {
			return err
		}
		if d.Bouquets, err = collect[Bouquet](br); err != nil {
			return err
		}
		if d.BouquetStreams, err = collect[BouquetItem](br); err != nil {
			return err
		}
		if d.BouquetSeries, err = collect[BouquetItem](br); err != nil {
			return err
		}
		return br.Close()
	})
	if err != nil {
		return CatalogData{}, fmt.Errorf("load catalog: %w", interpret(err))
	}
	return d, nil
}

func collect[T any](br pgx.BatchResults) ([]T, error) {
	rows, _ := br.Query() // a Query error resurfaces from CollectRows
	return pgx.CollectRows(rows, pgx.RowToStructByName[T])
}

// readOnly runs fn in a repeatable-read read-only transaction (or in the current transaction
// when s already is one).
func (s *Store) readOnly(ctx context.Context, fn func(q querier) error) error {
	if _, inTx := s.q.(pgx.Tx); inTx || s.pool == nil {
		return fn(s.q)
	}
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(tx) })
}

// Categories lists the categories of kind (all kinds when kind is ""), by position.
func (s *Store) Categories(ctx context.Context, kind string) ([]Category, error) {
	const q = `SELECT id, kind, name, position, is_adult FROM categories
		WHERE $1 = '' OR kind = $1 ORDER BY position, id`
	rows, _ := s.q.Query(ctx, q, kind)
	cats, err := pgx.CollectRows(rows, pgx.RowToStructByName[Category])
	if err != nil {
		return nil, fmt.Errorf("categories: %w", interpret(err))
	}
	return cats, nil
}

// StreamByID reads one stream, enabled or not.
func (s *Store) StreamByID(ctx context.Context, id int64) (Stream, error) {
	const q = `SELECT id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
		tv_archive_days, catchup_source, container_extension, info, enabled, created_at, updated_at
		FROM streams WHERE id = $1`
	rows, _ := s.q.Query(ctx, q, id)
	st, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Stream])
	if err != nil {
		return Stream{}, fmt.Errorf("stream %d: %w", id, interpret(err))
	}
	return st, nil
}

// StreamSources lists a stream's sources in failover order.
func (s *Store) StreamSources(ctx context.Context, streamID int64) ([]StreamSource, error) {
	const q = `SELECT stream_id, position, url, kind FROM stream_sources WHERE stream_id = $1 ORDER BY position`
	rows, _ := s.q.Query(ctx, q, streamID)
	srcs, err := pgx.CollectRows(rows, pgx.RowToStructByName[StreamSource])
	if err != nil {
		return nil, fmt.Errorf("sources of stream %d: %w", streamID, interpret(err))
	}
	return srcs, nil
}

// BouquetByName reads a bouquet by its unique name.
func (s *Store) BouquetByName(ctx context.Context, name string) (Bouquet, error) {
	const q = `SELECT id, name, position FROM bouquets WHERE name = $1`
	rows, _ := s.q.Query(ctx, q, name)
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Bouquet])
	if err != nil {
		return Bouquet{}, fmt.Errorf("bouquet %q: %w", name, interpret(err))
	}
	return b, nil
}

// BouquetStreamIDs lists a bouquet's streams in position order.
func (s *Store) BouquetStreamIDs(ctx context.Context, bouquetID int64) ([]int64, error) {
	const q = `SELECT stream_id FROM bouquet_streams WHERE bouquet_id = $1 ORDER BY position, stream_id`
	rows, _ := s.q.Query(ctx, q, bouquetID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("streams of bouquet %d: %w", bouquetID, interpret(err))
	}
	return ids, nil
}

// BouquetSeriesIDs lists a bouquet's series in position order.
func (s *Store) BouquetSeriesIDs(ctx context.Context, bouquetID int64) ([]int64, error) {
	const q = `SELECT series_id FROM bouquet_series WHERE bouquet_id = $1 ORDER BY position, series_id`
	rows, _ := s.q.Query(ctx, q, bouquetID)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("series of bouquet %d: %w", bouquetID, interpret(err))
	}
	return ids, nil
}
