package store

import (
	"context"
	"fmt"

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

// EPGVersion reads the current EPG version: it moves with every write to the guide's
// channels and programmes (an import, an admin's edit, the retention sweep).
func (s *Store) EPGVersion(ctx context.Context) (int64, error) {
	return s.changeVersion(ctx, "epg")
}

// LoadCatalog reads everything a catalog snapshot needs in one round trip of set-based queries,
// inside one repeatable-read read-only transaction, so the rows and the version agree.
func (s *Store) LoadCatalog(ctx context.Context) (CatalogData, error) {
	const (
		qVersion    = `SELECT version FROM change_versions WHERE scope = 'catalog'`
		qCategories = `SELECT id, kind, name, position, is_adult FROM categories ORDER BY position, id`
		qStreams    = `SELECT ` + streamColumns + ` FROM streams WHERE enabled ORDER BY id`
		qSources    = `SELECT ss.stream_id, ss.position, ss.url, ss.kind
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
		r := &batchReader{br: br}
		collectInto(r, &d.Categories)
		collectInto(r, &d.Streams)
		collectInto(r, &d.Sources)
		collectInto(r, &d.Series)
		collectInto(r, &d.Seasons)
		collectInto(r, &d.Episodes)
		collectInto(r, &d.Bouquets)
		collectInto(r, &d.BouquetStreams)
		collectInto(r, &d.BouquetSeries)
		if r.err != nil {
			return r.err
		}
		return br.Close()
	})
	if err != nil {
		return CatalogData{}, fmt.Errorf("load catalog: %w", interpret(err))
	}
	return d, nil
}

// batchReader reads a batch's results in order and keeps the first error, so that a run of
// reads needs one check at its end.
type batchReader struct {
	br  pgx.BatchResults
	err error
}

// collectInto reads the rows of the next result into *dst, unless an earlier read failed.
func collectInto[T any](r *batchReader, dst *[]T) {
	if r.err != nil {
		return
	}
	rows, _ := r.br.Query() // a Query error resurfaces from CollectRows
	*dst, r.err = pgx.CollectRows(rows, pgx.RowToStructByName[T])
}
