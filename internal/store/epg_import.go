package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EPGImport describes one bulk EPG import (see ImportEPG).
type EPGImport struct {
	// SourceID is recorded on the channels written; nil keeps each channel's source.
	SourceID *int64
	// Next returns the next programme, false at the end, or an error that aborts the import
	// (nothing is written then). It is pulled while the programmes are copied to the server,
	// so a whole XMLTV file never sits in memory.
	Next func() (Programme, bool, error)
	// Channels is called once Next is exhausted and returns the declared channels.
	Channels func() []EPGChannel
}

// EPGFromSlices is an import of programmes already in memory (the demo guide, fixtures), with
// the channels declared.
func EPGFromSlices(chans []EPGChannel, progs []Programme) EPGImport {
	i := 0
	return EPGImport{
		Next: func() (Programme, bool, error) {
			if i == len(progs) {
				return Programme{}, false, nil
			}
			i++
			return progs[i-1], true, nil
		},
		Channels: func() []EPGChannel { return chans },
	}
}

// EPGImportResult counts what ImportEPG did.
type EPGImportResult struct {
	ChannelsAdded, ChannelsUpdated, ChannelsUnchanged int
	ChannelsImplied                                   int // created because a programme named an undeclared channel
	Added, Updated, Unchanged                         int64
	Duplicates                                        int64 // same (channel, start) more than once: the last one counted
	Removed                                           int64 // stale programmes inside an imported channel's time window
}

// The statements of ImportEPG. The programmes are staged in the temporary table epg_import
// (ord: arrival order), and epg_merge keeps the last of each (channel, start).
const (
	qEPGDrop   = `DROP TABLE IF EXISTS pg_temp.epg_import, pg_temp.epg_merge`
	qEPGCreate = `CREATE TEMP TABLE epg_import (ord bigint NOT NULL, channel_id text NOT NULL,
		start_at timestamptz NOT NULL, stop_at timestamptz NOT NULL, title text NOT NULL,
		description text NOT NULL, lang text NOT NULL, category text NOT NULL)`
	qEPGDedupe = `CREATE TEMP TABLE epg_merge AS
		SELECT DISTINCT ON (channel_id, start_at) channel_id, start_at, stop_at, title, description, lang, category
		FROM epg_import WHERE stop_at > start_at ORDER BY channel_id, start_at, ord DESC`
	qEPGIndex   = `CREATE UNIQUE INDEX ON epg_merge (channel_id, start_at)`
	qEPGAnalyze = `ANALYZE epg_merge`
	qEPGCounts  = `SELECT (SELECT count(*) FROM epg_import) - (SELECT count(*) FROM epg_merge),
		count(*) FILTER (WHERE p.id IS NULL),
		count(*) FILTER (WHERE p.id IS NOT NULL AND (p.stop_at, p.title, p.description, p.lang, p.category)
			IS DISTINCT FROM (m.stop_at, m.title, m.description, m.lang, m.category)),
		count(*)
		FROM epg_merge m LEFT JOIN epg_programmes p ON p.channel_id = m.channel_id AND p.start_at = m.start_at`
	qEPGImplied = `SELECT array_agg(DISTINCT m.channel_id) FROM epg_merge m
		WHERE NOT EXISTS (SELECT 1 FROM epg_channels c WHERE c.id = m.channel_id)`
	qEPGImply = `INSERT INTO epg_channels (id, display_name, source_id)
		SELECT id, id, $2 FROM unnest($1::text[]) AS u(id) ON CONFLICT (id) DO NOTHING`
	qEPGStale = `SELECT count(*) FROM epg_programmes p
		JOIN (SELECT channel_id, min(start_at) AS lo, max(stop_at) AS hi FROM epg_merge GROUP BY channel_id) w
			ON p.channel_id = w.channel_id AND p.start_at >= w.lo AND p.start_at < w.hi
		WHERE NOT EXISTS (SELECT 1 FROM epg_merge m WHERE m.channel_id = p.channel_id AND m.start_at = p.start_at)`
	qEPGRemove = `DELETE FROM epg_programmes p
		USING (SELECT channel_id, min(start_at) AS lo, max(stop_at) AS hi FROM epg_merge GROUP BY channel_id) w
		WHERE p.channel_id = w.channel_id AND p.start_at >= w.lo AND p.start_at < w.hi
			AND NOT EXISTS (SELECT 1 FROM epg_merge m WHERE m.channel_id = p.channel_id AND m.start_at = p.start_at)`
	qEPGUpsert = `INSERT INTO epg_programmes AS p (channel_id, start_at, stop_at, title, description, lang, category)
		SELECT channel_id, start_at, stop_at, title, description, lang, category FROM epg_merge
		ON CONFLICT (channel_id, start_at) DO UPDATE SET stop_at = EXCLUDED.stop_at, title = EXCLUDED.title,
			description = EXCLUDED.description, lang = EXCLUDED.lang, category = EXCLUDED.category
		WHERE (p.stop_at, p.title, p.description, p.lang, p.category)
			IS DISTINCT FROM (EXCLUDED.stop_at, EXCLUDED.title, EXCLUDED.description, EXCLUDED.lang, EXCLUDED.category)`
)

// ImportEPG idempotently merges an XMLTV import: the programmes are streamed with COPY into a
// session temporary table on one connection (outside any transaction), then one short
// transaction upserts the channels, creates channels that programmes name without declaring,
// INSERT … ON CONFLICT (channel_id, start_at) DO UPDATEs the programmes that are new or differ,
// and removes, per channel, stored programmes inside the imported time window that the import
// no longer lists (a rescheduled day replaces the old one). Statements that would change
// nothing are skipped, so a re-import of the same file leaves the EPG version alone.
func (s *Store) ImportEPG(ctx context.Context, imp EPGImport) (EPGImportResult, error) {
	var res EPGImportResult
	err := s.withConn(ctx, func(c *Store) error {
		var err error
		res, err = c.importEPG(ctx, imp)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("import epg: %w", interpret(err))
	}
	return res, nil
}

func (s *Store) importEPG(ctx context.Context, imp EPGImport) (EPGImportResult, error) {
	var res EPGImportResult
	if _, err := s.q.Exec(ctx, qEPGDrop); err != nil {
		return res, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = s.q.Exec(dctx, qEPGDrop)
	}()
	chans, err := s.stageProgrammes(ctx, imp)
	if err != nil {
		return res, err
	}
	err = s.InTx(ctx, func(tx *Store) error { return tx.mergeEPG(ctx, chans, imp.SourceID, &res) })
	return res, err
}

// stageProgrammes copies imp's programmes into epg_import and builds epg_merge from them. It
// returns the channels imp declares (known once its programmes are read).
func (s *Store) stageProgrammes(ctx context.Context, imp EPGImport) ([]EPGChannel, error) {
	if _, err := s.q.Exec(ctx, qEPGCreate); err != nil {
		return nil, err
	}
	src := &programmeSource{next: imp.Next}
	cols := []string{"ord", "channel_id", "start_at", "stop_at", "title", "description", "lang", "category"}
	if _, err := s.q.CopyFrom(ctx, pgx.Identifier{"epg_import"}, cols, src); err != nil {
		if src.err != nil {
			return nil, src.err // the reader's error, not COPY's echo of it
		}
		return nil, fmt.Errorf("copy programmes: %w", err)
	}
	var chans []EPGChannel
	if imp.Channels != nil {
		chans = imp.Channels()
	}
	for _, q := range []string{qEPGDedupe, qEPGIndex, qEPGAnalyze} {
		if _, err := s.q.Exec(ctx, q); err != nil {
			return nil, err
		}
	}
	return chans, nil
}

// mergeEPG writes the staged import into the EPG (inside the import's transaction): the
// declared channels, the channels programmes imply, the stale programmes' removal and the
// programmes that are new or differ, each only when it changes something.
func (s *Store) mergeEPG(ctx context.Context, chans []EPGChannel, sourceID *int64, res *EPGImportResult) error {
	cc, err := s.upsertEPGChannels(ctx, chans, sourceID)
	if err != nil {
		return err
	}
	res.ChannelsAdded, res.ChannelsUpdated, res.ChannelsUnchanged = cc.added, cc.updated, cc.unchanged
	var implied []string
	if err := s.q.QueryRow(ctx, qEPGImplied).Scan(&implied); err != nil {
		return err
	}
	if len(implied) > 0 {
		if _, err := s.q.Exec(ctx, qEPGImply, implied, sourceID); err != nil {
			return err
		}
		res.ChannelsImplied = len(implied)
	}
	var total int64
	if err := s.q.QueryRow(ctx, qEPGCounts).Scan(&res.Duplicates, &res.Added, &res.Updated, &total); err != nil {
		return err
	}
	res.Unchanged = total - res.Added - res.Updated
	if err := s.q.QueryRow(ctx, qEPGStale).Scan(&res.Removed); err != nil {
		return err
	}
	if res.Removed > 0 {
		if _, err := s.q.Exec(ctx, qEPGRemove); err != nil {
			return err
		}
	}
	if res.Added+res.Updated > 0 {
		if _, err := s.q.Exec(ctx, qEPGUpsert); err != nil {
			return err
		}
	}
	return nil
}

type channelCounts struct{ added, updated, unchanged int }

// upsertEPGChannels writes chans in two set-based statements (count, then write only if
// needed). A nil sourceID keeps each channel's recorded source.
func (s *Store) upsertEPGChannels(ctx context.Context, chans []EPGChannel, sourceID *int64) (channelCounts, error) {
	const qDiff = `SELECT count(*) FILTER (WHERE c.id IS NULL),
			count(*) FILTER (WHERE c.id IS NOT NULL AND (c.display_name, c.icon, c.source_id)
				IS DISTINCT FROM (n.display_name, n.icon, coalesce($4, c.source_id)))
		FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, icon)
		LEFT JOIN epg_channels c ON c.id = n.id`
	const qUpsert = `INSERT INTO epg_channels AS c (id, display_name, icon, source_id)
		SELECT id, display_name, icon, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS n(id, display_name, icon)
		ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name, icon = EXCLUDED.icon,
			source_id = coalesce($4, c.source_id), updated_at = now()
		WHERE (c.display_name, c.icon, c.source_id)
			IS DISTINCT FROM (EXCLUDED.display_name, EXCLUDED.icon, coalesce($4, c.source_id))`
	seen := make(map[string]int, len(chans))
	var ids, names, icons []string
	for _, c := range chans {
		if i, ok := seen[c.ID]; ok { // the last declaration wins
			names[i], icons[i] = c.DisplayName, c.Icon
			continue
		}
		seen[c.ID] = len(ids)
		ids, names, icons = append(ids, c.ID), append(names, c.DisplayName), append(icons, c.Icon)
	}
	var n channelCounts
	if len(ids) == 0 {
		return n, nil
	}
	if err := s.q.QueryRow(ctx, qDiff, ids, names, icons, sourceID).Scan(&n.added, &n.updated); err != nil {
		return n, fmt.Errorf("upsert epg channels: %w", interpret(err))
	}
	n.unchanged = len(ids) - n.added - n.updated
	if n.added+n.updated == 0 {
		return n, nil
	}
	if _, err := s.q.Exec(ctx, qUpsert, ids, names, icons, sourceID); err != nil {
		return n, fmt.Errorf("upsert epg channels: %w", interpret(err))
	}
	return n, nil
}

// programmeSource feeds COPY from EPGImport.Next.
type programmeSource struct {
	next func() (Programme, bool, error)
	cur  Programme
	ord  int64
	err  error
}

// Next pulls the next programme (pgx.CopyFromSource).
func (p *programmeSource) Next() bool {
	if p.next == nil {
		return false
	}
	pr, ok, err := p.next()
	if err != nil {
		p.err = err
		return false
	}
	if !ok {
		return false
	}
	p.cur = pr
	p.ord++
	return true
}

// Values returns the current programme as a row of epg_import.
func (p *programmeSource) Values() ([]any, error) {
	pr := p.cur
	return []any{p.ord, pr.ChannelID, pr.StartAt, pr.StopAt, pr.Title, pr.Description, pr.Lang, pr.Category}, nil
}

// Err is the reader's error that ended the copy, if any.
func (p *programmeSource) Err() error { return p.err }
