package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

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
