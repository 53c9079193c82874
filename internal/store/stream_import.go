package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MatchBy is the idempotency key of ImportStreams: how an import entry finds "its" stream.
type MatchBy uint8

// The import keys.
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

// The statements of ImportStreams, in the order they run. The entries are staged in the
// temporary table stream_import: ord is the entry's index, stream_id its matched (or newly
// allocated) stream, outcome what the merge does to it.
const (
	qImportDrop   = `DROP TABLE IF EXISTS pg_temp.stream_import` // a second import in one outer transaction
	qImportCreate = `CREATE TEMP TABLE stream_import (
		ord integer NOT NULL, kind text NOT NULL, name text NOT NULL, category_id bigint, icon text NOT NULL,
		epg_channel_id text, custom_sid text NOT NULL, direct_source boolean NOT NULL, tv_archive_days integer NOT NULL,
		catchup_source text, container_extension text, info jsonb, enabled boolean NOT NULL,
		url text NOT NULL, source_kind text NOT NULL, stream_id bigint, outcome text
	) ON COMMIT DROP`
	qImportMatchSource = `UPDATE stream_import i SET stream_id = m.id FROM (
			SELECT DISTINCT ON (s.kind, ss.url) s.kind, ss.url, s.id
			FROM streams s JOIN stream_sources ss ON ss.stream_id = s.id AND ss.position = 0
			ORDER BY s.kind, ss.url, s.id) m
		WHERE m.kind = i.kind AND m.url = i.url`
	qImportMatchName = `UPDATE stream_import i SET stream_id = m.id FROM (
			SELECT DISTINCT ON (kind, category_id, name) kind, category_id, name, id
			FROM streams ORDER BY kind, category_id, name, id) m
		WHERE m.kind = i.kind AND m.name = i.name AND m.category_id IS NOT DISTINCT FROM i.category_id`
	qImportClassify = `UPDATE stream_import i SET outcome = CASE
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
	qImportCount = `SELECT count(*) FILTER (WHERE outcome = 'added'), count(*) FILTER (WHERE outcome = 'updated')
		FROM stream_import`
	qImportAllocate = `UPDATE stream_import SET stream_id = nextval(pg_get_serial_sequence('streams', 'id'))
		WHERE outcome = 'added'`
	qImportInsert = `INSERT INTO streams (id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
			tv_archive_days, catchup_source, container_extension, info, enabled)
		OVERRIDING SYSTEM VALUE
		SELECT stream_id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
			tv_archive_days, catchup_source, container_extension, coalesce(info, '{}'), enabled
		FROM stream_import WHERE outcome = 'added' ORDER BY ord`
	qImportUpdate = `UPDATE streams s SET name = i.name, category_id = i.category_id, icon = i.icon,
			epg_channel_id = i.epg_channel_id, tv_archive_days = i.tv_archive_days, catchup_source = i.catchup_source,
			container_extension = coalesce(i.container_extension, s.container_extension), info = coalesce(i.info, s.info)
		FROM stream_import i
		WHERE s.id = i.stream_id AND i.outcome = 'updated' AND
			(s.name, s.category_id, s.icon, s.epg_channel_id, s.tv_archive_days, s.catchup_source,
			 s.container_extension, s.info) IS DISTINCT FROM
			(i.name, i.category_id, i.icon, i.epg_channel_id, i.tv_archive_days, i.catchup_source,
			 coalesce(i.container_extension, s.container_extension), coalesce(i.info, s.info))`
	qImportSources = `INSERT INTO stream_sources (stream_id, position, url, kind)
		SELECT stream_id, 0, url, source_kind FROM stream_import i
		WHERE outcome = 'added' OR (outcome = 'updated' AND NOT EXISTS (
			SELECT 1 FROM stream_sources ss WHERE ss.stream_id = i.stream_id AND ss.position = 0
				AND ss.url = i.url AND ss.kind = i.source_kind))
		ON CONFLICT (stream_id, position) DO UPDATE SET url = EXCLUDED.url, kind = EXCLUDED.kind`
	qImportResult = `SELECT ord, stream_id, outcome FROM stream_import ORDER BY ord`
)

// ImportStreams idempotently upserts many streams at once: the entries are copied into a
// temporary table, matched against the catalog by the key match names, and merged with a
// handful of set-based statements in one transaction. A matched stream gets the entry's name,
// category, icon, EPG channel id, archive days, catch-up source, and (when given) container
// extension and info, plus its source 0; its other sources, custom_sid, direct_source and
// enabled flag stay as an operator set them. An entry repeating an earlier entry's key is
// Duplicate. Results are in entry order. Every entry needs Sources[0].
func (s *Store) ImportStreams(ctx context.Context, match MatchBy, items []StreamInput) ([]ImportedStream, error) {
	out, rows, err := importRows(match, items)
	if err != nil {
		return nil, fmt.Errorf("import streams: %w", err)
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.stageStreams(ctx, rows); err != nil {
			return err
		}
		if err := tx.mergeStreams(ctx, match); err != nil {
			return err
		}
		return tx.importOutcomes(ctx, out)
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

// importRows turns items into the rows to stage, one per key. An entry that repeats an earlier
// entry's key is left out and marked Duplicate in out, its ID (until ImportStreams resolves it)
// -1 - the index of that earlier entry.
func importRows(match MatchBy, items []StreamInput) ([]ImportedStream, [][]any, error) {
	out := make([]ImportedStream, len(items))
	firstOf := make(map[string]int, len(items))
	var rows [][]any
	for i, in := range items {
		if len(in.Sources) == 0 {
			return nil, nil, fmt.Errorf("entry %d (%q) has no source: %w", i, in.Name, ErrInvalid)
		}
		key := in.Kind + "\x00" + in.Sources[0].URL
		if match == MatchByName {
			key = fmt.Sprintf("%s\x00%v\x00%s", in.Kind, deref(in.CategoryID), in.Name)
		}
		if first, dup := firstOf[key]; dup {
			out[i] = ImportedStream{ID: int64(-first - 1), Outcome: Duplicate}
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
	return out, rows, nil
}

// importColumns are the columns of stream_import that importRows fills, in its order.
var importColumns = []string{"ord", "kind", "name", "category_id", "icon", "epg_channel_id", "custom_sid",
	"direct_source", "tv_archive_days", "catchup_source", "container_extension", "info", "enabled",
	"url", "source_kind"}

// stageStreams copies rows into a new stream_import (dropped at commit).
func (s *Store) stageStreams(ctx context.Context, rows [][]any) error {
	for _, q := range []string{qImportDrop, qImportCreate} {
		if _, err := s.q.Exec(ctx, q); err != nil {
			return err
		}
	}
	_, err := s.q.CopyFrom(ctx, pgx.Identifier{"stream_import"}, importColumns, pgx.CopyFromRows(rows))
	return err
}

// mergeStreams matches the staged entries to streams by match, classifies them, and runs only
// the writes that something needs.
func (s *Store) mergeStreams(ctx context.Context, match MatchBy) error {
	qMatch := qImportMatchSource
	if match == MatchByName {
		qMatch = qImportMatchName
	}
	for _, q := range []string{qMatch, qImportClassify} {
		if _, err := s.q.Exec(ctx, q); err != nil {
			return err
		}
	}
	var added, updated int64
	if err := s.q.QueryRow(ctx, qImportCount).Scan(&added, &updated); err != nil {
		return err
	}
	var writes []string
	if added > 0 {
		writes = append(writes, qImportAllocate, qImportInsert)
	}
	if updated > 0 {
		writes = append(writes, qImportUpdate)
	}
	if added+updated > 0 {
		writes = append(writes, qImportSources)
	}
	for _, q := range writes {
		if _, err := s.q.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// importOutcomes reads each staged entry's stream id and outcome into out.
func (s *Store) importOutcomes(ctx context.Context, out []ImportedStream) error {
	rows, _ := s.q.Query(ctx, qImportResult)
	var (
		ord     int32
		id      int64
		outcome string
	)
	_, err := pgx.ForEachRow(rows, []any{&ord, &id, &outcome}, func() error {
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
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
