package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outcome says what an idempotent write did to one row.
type Outcome uint8

// Outcomes of an upsert or an import entry.
const (
	Unchanged Outcome = iota // the row already held these values; nothing was written
	Added                    // a new row was inserted
	Updated                  // an existing row was changed
	Duplicate                // the entry repeats an earlier entry's key in the same import; ignored
)

func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Writes here are idempotent and write only when something differs: the catalog triggers are
// statement-level, so even a statement that changes no row would bump the catalog version and
// make every instance rebuild its snapshot. A re-run that changes nothing therefore leaves the
// version alone.

// EnsureCategories returns the ids of the categories of kind named names, creating the missing
// ones after the kind's last position, in the order given (so a playlist's group order is kept).
// Existing categories are not modified. added counts the created ones.
func (s *Store) EnsureCategories(ctx context.Context, kind string, names []string) (ids map[string]int64, added int, err error) {
	const qSelect = `SELECT id, name FROM categories WHERE kind = $1 AND name = ANY($2)`
	const qInsert = `INSERT INTO categories (kind, name, position)
		SELECT $1, n.name, (SELECT coalesce(max(position), -1) FROM categories WHERE kind = $1) + n.ord::integer
		FROM unnest($2::text[]) WITH ORDINALITY AS n(name, ord)
		ON CONFLICT (kind, name) DO NOTHING
		RETURNING id, name`
	type idName struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	ids = make(map[string]int64, len(names))
	rows, _ := s.q.Query(ctx, qSelect, kind, names)
	found, err := pgx.CollectRows(rows, pgx.RowToStructByName[idName])
	if err != nil {
		return nil, 0, fmt.Errorf("ensure %s categories: %w", kind, interpret(err))
	}
	for _, r := range found {
		ids[r.Name] = r.ID
	}
	var missing []string
	for _, n := range names {
		if _, ok := ids[n]; !ok && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return ids, 0, nil
	}
	rows, _ = s.q.Query(ctx, qInsert, kind, missing)
	created, err := pgx.CollectRows(rows, pgx.RowToStructByName[idName])
	if err != nil {
		return nil, 0, fmt.Errorf("ensure %s categories: %w", kind, interpret(err))
	}
	for _, r := range created {
		ids[r.Name] = r.ID
	}
	if len(created) < len(missing) { // created meanwhile by someone else
		rows, _ := s.q.Query(ctx, qSelect, kind, missing)
		again, err := pgx.CollectRows(rows, pgx.RowToStructByName[idName])
		if err != nil {
			return nil, 0, fmt.Errorf("ensure %s categories: %w", kind, interpret(err))
		}
		for _, r := range again {
			ids[r.Name] = r.ID
		}
	}
	return ids, len(created), nil
}

// UpdateCategory sets a category's name, position and adult flag.
func (s *Store) UpdateCategory(ctx context.Context, c Category) error {
	const q = `UPDATE categories SET name = $2, position = $3, is_adult = $4 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update category %d", c.ID), q, c.ID, c.Name, c.Position, c.IsAdult)
}

// DeleteCategory deletes a category; its streams and series become uncategorised.
func (s *Store) DeleteCategory(ctx context.Context, id int64) error {
	const q = `DELETE FROM categories WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete category %d", id), q, id)
}

func (s *Store) execOne(ctx context.Context, op, q string, args ...any) error {
	tag, err := s.q.Exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", op, interpret(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return nil
}

// Source is one source of a stream, as written.
type Source struct {
	URL  string
	Kind string // SourceAuto, SourceTS, SourceHLS or SourceFile; "" means SourceAuto
}

func (src Source) kind() string {
	if src.Kind == "" {
		return SourceAuto
	}
	return src.Kind
}

// StreamInput is what a caller writes into a stream.
type StreamInput struct {
	Kind               string
	Name               string
	CategoryID         *int64
	Icon               string
	EPGChannelID       *string
	CustomSID          string
	DirectSource       bool
	TVArchiveDays      int32
	CatchupSource      *string
	ContainerExtension *string
	Info               json.RawMessage // nil: {} on insert, kept on import
	Disabled           bool
	Sources            []Source // failover order; imports use Sources[0] only
}

func (in StreamInput) info() json.RawMessage {
	if len(in.Info) == 0 {
		return json.RawMessage("{}")
	}
	return in.Info
}

// CreateStream inserts a stream with its sources and returns its id.
func (s *Store) CreateStream(ctx context.Context, in StreamInput) (int64, error) {
	const q = `INSERT INTO streams (kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
		tv_archive_days, catchup_source, container_extension, info, enabled)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q.QueryRow(ctx, q, in.Kind, in.Name, in.CategoryID, in.Icon, in.EPGChannelID, in.CustomSID,
			in.DirectSource, in.TVArchiveDays, in.CatchupSource, in.ContainerExtension, in.info(), !in.Disabled).Scan(&id); err != nil {
			return err
		}
		if len(in.Sources) == 0 {
			return nil
		}
		_, err := tx.SetStreamSources(ctx, id, in.Sources)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create stream %q: %w", in.Name, interpret(err))
	}
	return id, nil
}

// UpdateStream overwrites a stream's fields (not its kind, not its sources).
func (s *Store) UpdateStream(ctx context.Context, id int64, in StreamInput) error {
	const q = `UPDATE streams SET name = $2, category_id = $3, icon = $4, epg_channel_id = $5, custom_sid = $6,
		direct_source = $7, tv_archive_days = $8, catchup_source = $9, container_extension = $10, info = $11,
		enabled = $12 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update stream %d", id), q, id, in.Name, in.CategoryID, in.Icon,
		in.EPGChannelID, in.CustomSID, in.DirectSource, in.TVArchiveDays, in.CatchupSource, in.ContainerExtension,
		in.info(), !in.Disabled)
}

// DeleteStream deletes a stream, its sources, bouquet entries and episode row.
func (s *Store) DeleteStream(ctx context.Context, id int64) error {
	const q = `DELETE FROM streams WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete stream %d", id), q, id)
}

// SetStreamSources replaces a stream's sources with srcs (position = index). It writes nothing
// and reports false when the stream already has exactly these sources.
func (s *Store) SetStreamSources(ctx context.Context, streamID int64, srcs []Source) (changed bool, err error) {
	const qDelete = `DELETE FROM stream_sources WHERE stream_id = $1`
	const qInsert = `INSERT INTO stream_sources (stream_id, position, url, kind)
		SELECT $1, (u.ord - 1)::integer, u.url, u.kind FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u(url, kind, ord)`
	cur, err := s.StreamSources(ctx, streamID)
	if err != nil {
		return false, err
	}
	if sameSources(cur, srcs) {
		return false, nil
	}
	urls, kinds := make([]string, len(srcs)), make([]string, len(srcs))
	for i, src := range srcs {
		urls[i], kinds[i] = src.URL, src.kind()
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if len(cur) > 0 {
			if _, err := tx.q.Exec(ctx, qDelete, streamID); err != nil {
				return err
			}
		}
		if len(srcs) > 0 {
			if _, err := tx.q.Exec(ctx, qInsert, streamID, urls, kinds); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("set sources of stream %d: %w", streamID, interpret(err))
	}
	return true, nil
}

func sameSources(cur []StreamSource, want []Source) bool {
	if len(cur) != len(want) {
		return false
	}
	for i := range cur {
		if cur[i].URL != want[i].URL || cur[i].Kind != want[i].kind() {
			return false
		}
	}
	return true
}

// MatchBy is the idempotency key of ImportStreams: how an import entry finds "its" stream.
type MatchBy uint8

const (
	// MatchBySource matches on (kind, URL of source 0), the rule of the original panel's M3U
	// import: the upstream URL is what identifies a channel of a provider's playlist, and it
	// survives renames and regrouping, so stream ids (and with them favourites, bouquets and
	// EPG mappings) stay stable across re-imports. A changed upstream URL makes a new stream.
	MatchBySource MatchBy = iota
	// MatchByName matches on (kind, category, name), for catalogs whose entries share a source
	// (the demo's channels all loop one file) or whose URLs rotate.
	MatchByName
)

// ImportedStream is the result for one ImportStreams entry.
type ImportedStream struct {
	ID      int64
	Outcome Outcome
}

// ImportStreams idempotently upserts many streams at once: the entries are copied into a
// temporary table, matched against the catalog by the key match names, and merged with a
// handful of set-based statements in one transaction. A matched stream gets the entry's name,
// category, icon, EPG channel id, archive days, catch-up source, and (when given) container
// extension and info, plus its source 0; its other sources, custom_sid, direct_source and
// enabled flag stay as an operator set them. An entry repeating an earlier entry's key is
// Duplicate. Results are in entry order. Every entry needs Sources[0].
func (s *Store) ImportStreams(ctx context.Context, match MatchBy, items []StreamInput) ([]ImportedStream, error) {
	const qDrop = `DROP TABLE IF EXISTS pg_temp.stream_import` // a second import in one outer transaction
	const qCreate = `CREATE TEMP TABLE stream_import (
		ord integer NOT NULL, kind text NOT NULL, name text NOT NULL, category_id bigint, icon text NOT NULL,
		epg_channel_id text, custom_sid text NOT NULL, direct_source boolean NOT NULL, tv_archive_days integer NOT NULL,
		catchup_source text, container_extension text, info jsonb, enabled boolean NOT NULL,
		url text NOT NULL, source_kind text NOT NULL, stream_id bigint, outcome text
	) ON COMMIT DROP`
	const qMatchSource = `UPDATE stream_import i SET stream_id = m.id FROM (
			SELECT DISTINCT ON (s.kind, ss.url) s.kind, ss.url, s.id
			FROM streams s JOIN stream_sources ss ON ss.stream_id = s.id AND ss.position = 0
			ORDER BY s.kind, ss.url, s.id) m
		WHERE m.kind = i.kind AND m.url = i.url`
	const qMatchName = `UPDATE stream_import i SET stream_id = m.id FROM (
			SELECT DISTINCT ON (kind, category_id, name) kind, category_id, name, id
			FROM streams ORDER BY kind, category_id, name, id) m
		WHERE m.kind = i.kind AND m.name = i.name AND m.category_id IS NOT DISTINCT FROM i.category_id`
	const qClassify = `UPDATE stream_import i SET outcome = CASE
			WHEN i.stream_id IS NULL THEN 'added'
			WHEN EXISTS (SELECT 1 FROM streams s LEFT JOIN stream_sources ss ON ss.stream_id = s.id AND ss.position = 0
				WHERE s.id = i.stream_id AND (
					(s.name, s.category_id, s.icon, s.epg_channel_id, s.tv_archive_days, s.catchup_source,
					 s.container_extension, s.info, ss.url, ss.kind)
					IS DISTINCT FROM
					(i.name, i.category_id, i.icon, i.epg_channel_id, i.tv_archive_days, i.catchup_source,
					 coalesce(i.container_extension, s.container_extension), coalesce(i.info, s.info), i.url, i.source_kind)))
				THEN 'updated'
			ELSE 'unchanged' END`
	const qCount = `SELECT count(*) FILTER (WHERE outcome = 'added'), count(*) FILTER (WHERE outcome = 'updated')
		FROM stream_import`
	const qAllocate = `UPDATE stream_import SET stream_id = nextval(pg_get_serial_sequence('streams', 'id'))
		WHERE outcome = 'added'`
	const qInsert = `INSERT INTO streams (id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
			tv_archive_days, catchup_source, container_extension, info, enabled)
		OVERRIDING SYSTEM VALUE
		SELECT stream_id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
			tv_archive_days, catchup_source, container_extension, coalesce(info, '{}'), enabled
		FROM stream_import WHERE outcome = 'added' ORDER BY ord`
	const qUpdate = `UPDATE streams s SET name = i.name, category_id = i.category_id, icon = i.icon,
			epg_channel_id = i.epg_channel_id, tv_archive_days = i.tv_archive_days, catchup_source = i.catchup_source,
			container_extension = coalesce(i.container_extension, s.container_extension), info = coalesce(i.info, s.info)
		FROM stream_import i
		WHERE s.id = i.stream_id AND i.outcome = 'updated' AND
			(s.name, s.category_id, s.icon, s.epg_channel_id, s.tv_archive_days, s.catchup_source,
			 s.container_extension, s.info) IS DISTINCT FROM
			(i.name, i.category_id, i.icon, i.epg_channel_id, i.tv_archive_days, i.catchup_source,
			 coalesce(i.container_extension, s.container_extension), coalesce(i.info, s.info))`
	const qSources = `INSERT INTO stream_sources (stream_id, position, url, kind)
		SELECT stream_id, 0, url, source_kind FROM stream_import i
		WHERE outcome = 'added' OR (outcome = 'updated' AND NOT EXISTS (
			SELECT 1 FROM stream_sources ss WHERE ss.stream_id = i.stream_id AND ss.position = 0
				AND ss.url = i.url AND ss.kind = i.source_kind))
		ON CONFLICT (stream_id, position) DO UPDATE SET url = EXCLUDED.url, kind = EXCLUDED.kind`
	const qResult = `SELECT ord, stream_id, outcome FROM stream_import ORDER BY ord`

	out := make([]ImportedStream, len(items))
	firstOf := make(map[string]int, len(items))
	var rows [][]any
	for i, in := range items {
		if len(in.Sources) == 0 {
			return nil, fmt.Errorf("import streams: entry %d (%q) has no source: %w", i, in.Name, ErrInvalid)
		}
		key := in.Kind + "\x00" + in.Sources[0].URL
		if match == MatchByName {
			key = fmt.Sprintf("%s\x00%v\x00%s", in.Kind, deref(in.CategoryID), in.Name)
		}
		if first, dup := firstOf[key]; dup {
			out[i] = ImportedStream{ID: int64(-first - 1), Outcome: Duplicate} // resolved below
			continue
		}
		firstOf[key] = i
		var info any
		if len(in.Info) > 0 {
			info = in.Info
		}
		rows = append(rows, []any{int32(i), in.Kind, in.Name, in.CategoryID, in.Icon, in.EPGChannelID, in.CustomSID,
			in.DirectSource, in.TVArchiveDays, in.CatchupSource, in.ContainerExtension, info, !in.Disabled,
			in.Sources[0].URL, in.Sources[0].kind()})
	}
	err := s.InTx(ctx, func(tx *Store) error {
		for _, q := range []string{qDrop, qCreate} {
			if _, err := tx.q.Exec(ctx, q); err != nil {
				return err
			}
		}
		cols := []string{"ord", "kind", "name", "category_id", "icon", "epg_channel_id", "custom_sid",
			"direct_source", "tv_archive_days", "catchup_source", "container_extension", "info", "enabled",
			"url", "source_kind"}
		if _, err := tx.q.CopyFrom(ctx, pgx.Identifier{"stream_import"}, cols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		qMatch := qMatchSource
		if match == MatchByName {
			qMatch = qMatchName
		}
		for _, q := range []string{qMatch, qClassify} {
			if _, err := tx.q.Exec(ctx, q); err != nil {
				return err
			}
		}
		var added, updated int64
		if err := tx.q.QueryRow(ctx, qCount).Scan(&added, &updated); err != nil {
			return err
		}
		var writes []string
		if added > 0 {
			writes = append(writes, qAllocate, qInsert)
		}
		if updated > 0 {
			writes = append(writes, qUpdate)
		}
		if added+updated > 0 {
			writes = append(writes, qSources)
		}
		for _, q := range writes {
			if _, err := tx.q.Exec(ctx, q); err != nil {
				return err
			}
		}
		res, _ := tx.q.Query(ctx, qResult)
		var (
			ord     int32
			id      int64
			outcome string
		)
		_, err := pgx.ForEachRow(res, []any{&ord, &id, &outcome}, func() error {
			o := Unchanged
			switch outcome {
			case "added":
				o = Added
			case "updated":
				o = Updated
			}
			out[ord] = ImportedStream{ID: id, Outcome: o}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("import streams: %w", interpret(err))
	}
	for i := range out {
		if out[i].Outcome == Duplicate {
			out[i].ID = out[-out[i].ID-1].ID
		}
	}
	return out, nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
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

func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

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

// syncStream makes stream id hold in's fields and sources, writing only what differs.
func (s *Store) syncStream(ctx context.Context, id int64, in StreamInput) (bool, error) {
	cur, err := s.StreamByID(ctx, id)
	if err != nil {
		return false, err
	}
	changed := false
	if !sameStream(cur, in) {
		if err := s.UpdateStream(ctx, id, in); err != nil {
			return false, err
		}
		changed = true
	}
	srcChanged, err := s.SetStreamSources(ctx, id, in.Sources)
	return changed || srcChanged, err
}

func sameStream(cur Stream, in StreamInput) bool {
	return cur.Name == in.Name && samePtr(cur.CategoryID, in.CategoryID) && cur.Icon == in.Icon &&
		samePtr(cur.EPGChannelID, in.EPGChannelID) && cur.CustomSID == in.CustomSID &&
		cur.DirectSource == in.DirectSource && cur.TVArchiveDays == in.TVArchiveDays &&
		samePtr(cur.CatchupSource, in.CatchupSource) && samePtr(cur.ContainerExtension, in.ContainerExtension) &&
		sameJSON(cur.Info, in.info()) && cur.Enabled == !in.Disabled
}

// sameJSON compares two JSON documents as values (jsonb normalises key order and spacing).
func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	ca, _ := json.Marshal(va) // Marshal sorts map keys
	cb, _ := json.Marshal(vb)
	return bytes.Equal(ca, cb)
}

// EnsureBouquet returns the id of the bouquet named name, creating it (last in position) when
// missing.
func (s *Store) EnsureBouquet(ctx context.Context, name string) (id int64, created bool, err error) {
	const qInsert = `INSERT INTO bouquets (name, position)
		SELECT $1, coalesce(max(position), -1) + 1 FROM bouquets
		ON CONFLICT (name) DO NOTHING RETURNING id`
	b, err := s.BouquetByName(ctx, name)
	if err == nil {
		return b.ID, false, nil
	}
	if !isNotFound(err) {
		return 0, false, err
	}
	err = s.q.QueryRow(ctx, qInsert, name).Scan(&id)
	if interpret(err) == ErrNotFound { // created meanwhile
		b, err := s.BouquetByName(ctx, name)
		return b.ID, false, err
	}
	if err != nil {
		return 0, false, fmt.Errorf("create bouquet %q: %w", name, interpret(err))
	}
	return id, true, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// DeleteBouquet deletes a bouquet and its entries (lines lose it).
func (s *Store) DeleteBouquet(ctx context.Context, id int64) error {
	const q = `DELETE FROM bouquets WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("delete bouquet %d", id), q, id)
}

// SetBouquetStreams replaces a bouquet's streams (live, radio, movies) with ids, in that order.
// An episode or unknown id is ErrInvalid / ErrNotFound. Nothing is written when the bouquet
// already holds exactly ids.
func (s *Store) SetBouquetStreams(ctx context.Context, bouquetID int64, ids []int64) (changed bool, err error) {
	const qDelete = `DELETE FROM bouquet_streams WHERE bouquet_id = $1`
	const qInsert = `INSERT INTO bouquet_streams (bouquet_id, stream_id, stream_kind, position)
		SELECT $1, s.id, s.kind, (u.ord - 1 + $3)::integer
		FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN streams s ON s.id = u.id`
	return s.setBouquetItems(ctx, "streams", bouquetID, ids, s.BouquetStreamIDs, qDelete, qInsert)
}

// SetBouquetSeries replaces a bouquet's series with ids, in that order.
func (s *Store) SetBouquetSeries(ctx context.Context, bouquetID int64, ids []int64) (changed bool, err error) {
	const qDelete = `DELETE FROM bouquet_series WHERE bouquet_id = $1`
	const qInsert = `INSERT INTO bouquet_series (bouquet_id, series_id, position)
		SELECT $1, s.id, (u.ord - 1 + $3)::integer
		FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN series s ON s.id = u.id`
	return s.setBouquetItems(ctx, "series", bouquetID, ids, s.BouquetSeriesIDs, qDelete, qInsert)
}

func (s *Store) setBouquetItems(ctx context.Context, what string, bouquetID int64, ids []int64,
	current func(context.Context, int64) ([]int64, error), qDelete, qInsert string) (bool, error) {
	ids = dedupe(ids)
	cur, err := current(ctx, bouquetID)
	if err != nil {
		return false, err
	}
	if slices.Equal(cur, ids) {
		return false, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if len(cur) > 0 {
			if _, err := tx.q.Exec(ctx, qDelete, bouquetID); err != nil {
				return err
			}
		}
		if len(ids) == 0 {
			return nil
		}
		tag, err := tx.q.Exec(ctx, qInsert, bouquetID, ids, 0)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != len(ids) {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("set %s of bouquet %d: %w", what, bouquetID, interpret(err))
	}
	return true, nil
}

// AppendBouquetStreams adds the streams of ids that the bouquet lacks after its last entry, in
// the order given, and returns how many it added. Entries already present keep their place.
func (s *Store) AppendBouquetStreams(ctx context.Context, bouquetID int64, ids []int64) (int, error) {
	const qInsert = `INSERT INTO bouquet_streams (bouquet_id, stream_id, stream_kind, position)
		SELECT $1, s.id, s.kind, (u.ord - 1 + $3)::integer
		FROM unnest($2::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN streams s ON s.id = u.id`
	const qNext = `SELECT coalesce(max(position), -1) + 1 FROM bouquet_streams WHERE bouquet_id = $1`
	return s.appendBouquetItems(ctx, "streams", bouquetID, ids, s.BouquetStreamIDs, qNext, qInsert)
}

func (s *Store) appendBouquetItems(ctx context.Context, what string, bouquetID int64, ids []int64,
	current func(context.Context, int64) ([]int64, error), qNext, qInsert string) (int, error) {
	cur, err := current(ctx, bouquetID)
	if err != nil {
		return 0, err
	}
	have := make(map[int64]bool, len(cur))
	for _, id := range cur {
		have[id] = true
	}
	var missing []int64
	for _, id := range ids {
		if !have[id] {
			have[id] = true
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return 0, nil
	}
	err = s.InTx(ctx, func(tx *Store) error {
		var next int32
		if err := tx.q.QueryRow(ctx, qNext, bouquetID).Scan(&next); err != nil {
			return err
		}
		tag, err := tx.q.Exec(ctx, qInsert, bouquetID, missing, next)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != len(missing) {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("append %s to bouquet %d: %w", what, bouquetID, interpret(err))
	}
	return len(missing), nil
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
