package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// EPGSource is a configured XMLTV source, fetched on a schedule by epg.Refresher.
type EPGSource struct {
	ID            int64      `db:"id"`
	Name          string     `db:"name"`
	URL           string     `db:"url"`
	Enabled       bool       `db:"enabled"`
	LastFetchedAt *time.Time `db:"last_fetched_at"`
	LastError     string     `db:"last_error"`
	CreatedAt     time.Time  `db:"created_at"`
}

// EPGChannel is an XMLTV channel (streams point at it by epg_channel_id).
type EPGChannel struct {
	ID          string    `db:"id"`
	DisplayName string    `db:"display_name"`
	Icon        string    `db:"icon"`
	SourceID    *int64    `db:"source_id"`
	UpdatedAt   time.Time `db:"updated_at"`
}

// Programme is one EPG entry. Times are instants; StopAt is after StartAt.
type Programme struct {
	ID          int64     `db:"id"`
	ChannelID   string    `db:"channel_id"`
	StartAt     time.Time `db:"start_at"`
	StopAt      time.Time `db:"stop_at"`
	Title       string    `db:"title"`
	Description string    `db:"description"`
	Lang        string    `db:"lang"`
	Category    string    `db:"category"`
}

const programmeColumns = `id, channel_id, start_at, stop_at, title, description, lang, category`

// EPGSources lists the configured XMLTV sources (only the enabled ones when enabledOnly).
func (s *Store) EPGSources(ctx context.Context, enabledOnly bool) ([]EPGSource, error) {
	const q = `SELECT id, name, url, enabled, last_fetched_at, last_error, created_at FROM epg_sources
		WHERE enabled OR NOT $1 ORDER BY id`
	rows, _ := s.q.Query(ctx, q, enabledOnly)
	srcs, err := pgx.CollectRows(rows, pgx.RowToStructByName[EPGSource])
	if err != nil {
		return nil, fmt.Errorf("epg sources: %w", interpret(err))
	}
	return srcs, nil
}

// UpsertEPGSource registers an XMLTV source by URL (renaming it if it exists) and returns its id.
func (s *Store) UpsertEPGSource(ctx context.Context, name, url string) (int64, error) {
	const q = `INSERT INTO epg_sources (name, url) VALUES ($1, $2)
		ON CONFLICT (url) DO UPDATE SET name = EXCLUDED.name RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, name, url).Scan(&id); err != nil {
		return 0, fmt.Errorf("upsert epg source %q: %w", name, interpret(err))
	}
	return id, nil
}

// RecordEPGFetch notes a fetch of a source: at is the attempt's time, fetchErr "" on success.
func (s *Store) RecordEPGFetch(ctx context.Context, sourceID int64, at time.Time, fetchErr string) error {
	const q = `UPDATE epg_sources SET last_fetched_at = $2, last_error = $3 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("record fetch of epg source %d", sourceID), q, sourceID, at, fetchErr)
}

// EPGChannels lists every EPG channel by id.
func (s *Store) EPGChannels(ctx context.Context) ([]EPGChannel, error) {
	const q = `SELECT id, display_name, icon, source_id, updated_at FROM epg_channels ORDER BY id`
	rows, _ := s.q.Query(ctx, q)
	chans, err := pgx.CollectRows(rows, pgx.RowToStructByName[EPGChannel])
	if err != nil {
		return nil, fmt.Errorf("epg channels: %w", interpret(err))
	}
	return chans, nil
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

// EPGImportResult counts what ImportEPG did.
type EPGImportResult struct {
	ChannelsAdded, ChannelsUpdated, ChannelsUnchanged int
	ChannelsImplied                                   int // created because a programme named an undeclared channel
	Added, Updated, Unchanged                         int64
	Duplicates                                        int64 // same (channel, start) more than once: the last one counted
	Removed                                           int64 // stale programmes inside an imported channel's time window
}

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

// withConn runs fn on one connection: the current transaction, or a connection held from the
// pool for fn's duration (session state such as temporary tables stays on it).
func (s *Store) withConn(ctx context.Context, fn func(c *Store) error) error {
	if _, inTx := s.q.(pgx.Tx); inTx {
		return fn(s)
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return fn(&Store{pool: s.pool, q: conn})
}

func (s *Store) importEPG(ctx context.Context, imp EPGImport) (EPGImportResult, error) {
	const qDrop = `DROP TABLE IF EXISTS pg_temp.epg_import, pg_temp.epg_merge`
	const qCreate = `CREATE TEMP TABLE epg_import (ord bigint NOT NULL, channel_id text NOT NULL,
		start_at timestamptz NOT NULL, stop_at timestamptz NOT NULL, title text NOT NULL,
		description text NOT NULL, lang text NOT NULL, category text NOT NULL)`
	const qDedupe = `CREATE TEMP TABLE epg_merge AS
		SELECT DISTINCT ON (channel_id, start_at) channel_id, start_at, stop_at, title, description, lang, category
		FROM epg_import WHERE stop_at > start_at ORDER BY channel_id, start_at, ord DESC`
	const qIndex = `CREATE UNIQUE INDEX ON epg_merge (channel_id, start_at)`
	const qAnalyze = `ANALYZE epg_merge`
	const qCounts = `SELECT (SELECT count(*) FROM epg_import) - (SELECT count(*) FROM epg_merge),
		count(*) FILTER (WHERE p.id IS NULL),
		count(*) FILTER (WHERE p.id IS NOT NULL AND (p.stop_at, p.title, p.description, p.lang, p.category)
			IS DISTINCT FROM (m.stop_at, m.title, m.description, m.lang, m.category)),
		count(*)
		FROM epg_merge m LEFT JOIN epg_programmes p ON p.channel_id = m.channel_id AND p.start_at = m.start_at`
	const qImplied = `SELECT array_agg(DISTINCT m.channel_id) FROM epg_merge m
		WHERE NOT EXISTS (SELECT 1 FROM epg_channels c WHERE c.id = m.channel_id)`
	const qImply = `INSERT INTO epg_channels (id, display_name, source_id)
		SELECT id, id, $2 FROM unnest($1::text[]) AS u(id) ON CONFLICT (id) DO NOTHING`
	const qStale = `SELECT count(*) FROM epg_programmes p
		JOIN (SELECT channel_id, min(start_at) AS lo, max(stop_at) AS hi FROM epg_merge GROUP BY channel_id) w
			ON p.channel_id = w.channel_id AND p.start_at >= w.lo AND p.start_at < w.hi
		WHERE NOT EXISTS (SELECT 1 FROM epg_merge m WHERE m.channel_id = p.channel_id AND m.start_at = p.start_at)`
	const qRemove = `DELETE FROM epg_programmes p
		USING (SELECT channel_id, min(start_at) AS lo, max(stop_at) AS hi FROM epg_merge GROUP BY channel_id) w
		WHERE p.channel_id = w.channel_id AND p.start_at >= w.lo AND p.start_at < w.hi
			AND NOT EXISTS (SELECT 1 FROM epg_merge m WHERE m.channel_id = p.channel_id AND m.start_at = p.start_at)`
	const qUpsert = `INSERT INTO epg_programmes AS p (channel_id, start_at, stop_at, title, description, lang, category)
		SELECT channel_id, start_at, stop_at, title, description, lang, category FROM epg_merge
		ON CONFLICT (channel_id, start_at) DO UPDATE SET stop_at = EXCLUDED.stop_at, title = EXCLUDED.title,
			description = EXCLUDED.description, lang = EXCLUDED.lang, category = EXCLUDED.category
		WHERE (p.stop_at, p.title, p.description, p.lang, p.category)
			IS DISTINCT FROM (EXCLUDED.stop_at, EXCLUDED.title, EXCLUDED.description, EXCLUDED.lang, EXCLUDED.category)`

	var res EPGImportResult
	cleanup := func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = s.q.Exec(dctx, qDrop)
	}
	if _, err := s.q.Exec(ctx, qDrop); err != nil {
		return res, err
	}
	defer cleanup()
	if _, err := s.q.Exec(ctx, qCreate); err != nil {
		return res, err
	}
	src := &programmeSource{next: imp.Next}
	cols := []string{"ord", "channel_id", "start_at", "stop_at", "title", "description", "lang", "category"}
	if _, err := s.q.CopyFrom(ctx, pgx.Identifier{"epg_import"}, cols, src); err != nil {
		if src.err != nil {
			return res, src.err // the reader's error, not COPY's echo of it
		}
		return res, fmt.Errorf("copy programmes: %w", err)
	}
	var chans []EPGChannel
	if imp.Channels != nil {
		chans = imp.Channels()
	}
	for _, q := range []string{qDedupe, qIndex, qAnalyze} {
		if _, err := s.q.Exec(ctx, q); err != nil {
			return res, err
		}
	}
	err := s.InTx(ctx, func(tx *Store) error {
		cc, err := tx.upsertEPGChannels(ctx, chans, imp.SourceID)
		if err != nil {
			return err
		}
		res.ChannelsAdded, res.ChannelsUpdated, res.ChannelsUnchanged = cc.added, cc.updated, cc.unchanged
		var implied []string
		if err := tx.q.QueryRow(ctx, qImplied).Scan(&implied); err != nil {
			return err
		}
		if len(implied) > 0 {
			if _, err := tx.q.Exec(ctx, qImply, implied, imp.SourceID); err != nil {
				return err
			}
			res.ChannelsImplied = len(implied)
		}
		var total int64
		if err := tx.q.QueryRow(ctx, qCounts).Scan(&res.Duplicates, &res.Added, &res.Updated, &total); err != nil {
			return err
		}
		res.Unchanged = total - res.Added - res.Updated
		if err := tx.q.QueryRow(ctx, qStale).Scan(&res.Removed); err != nil {
			return err
		}
		if res.Removed > 0 {
			if _, err := tx.q.Exec(ctx, qRemove); err != nil {
				return err
			}
		}
		if res.Added+res.Updated > 0 {
			if _, err := tx.q.Exec(ctx, qUpsert); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// programmeSource feeds COPY from EPGImport.Next.
type programmeSource struct {
	next func() (Programme, bool, error)
	cur  Programme
	ord  int64
	err  error
}

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

func (p *programmeSource) Values() ([]any, error) {
	pr := p.cur
	return []any{p.ord, pr.ChannelID, pr.StartAt, pr.StopAt, pr.Title, pr.Description, pr.Lang, pr.Category}, nil
}

func (p *programmeSource) Err() error { return p.err }

// DeleteProgrammesBefore deletes programmes that ended before t (the EPG retention sweep) and
// returns how many went.
func (s *Store) DeleteProgrammesBefore(ctx context.Context, t time.Time) (int64, error) {
	const qAny = `SELECT EXISTS (SELECT 1 FROM epg_programmes WHERE stop_at < $1)`
	const qDelete = `DELETE FROM epg_programmes WHERE stop_at < $1`
	var found bool
	if err := s.q.QueryRow(ctx, qAny, t).Scan(&found); err != nil {
		return 0, fmt.Errorf("delete old programmes: %w", interpret(err))
	}
	if !found { // a DELETE of nothing would still bump the EPG version
		return 0, nil
	}
	tag, err := s.q.Exec(ctx, qDelete, t)
	if err != nil {
		return 0, fmt.Errorf("delete old programmes: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// ProgrammesNowNext returns the programme on air at `at` on channelID and the ones after it,
// at most limit, by start (get_short_epg). It walks the (channel_id, stop_at) index.
func (s *Store) ProgrammesNowNext(ctx context.Context, channelID string, at time.Time, limit int) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes
		WHERE channel_id = $1 AND stop_at > $2 ORDER BY stop_at, start_at LIMIT $3`
	rows, _ := s.q.Query(ctx, q, channelID, at, limit)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Programme])
	if err != nil {
		return nil, fmt.Errorf("programmes now/next of %q: %w", channelID, interpret(err))
	}
	return ps, nil
}

// ProgrammesNowNextMany is ProgrammesNowNext for many channels in one round trip (lists that
// show now/next per channel, such as enigma2.php). Channels without programmes are absent.
func (s *Store) ProgrammesNowNextMany(ctx context.Context, channelIDs []string, at time.Time, limit int) (map[string][]Programme, error) {
	const q = `SELECT p.id, p.channel_id, p.start_at, p.stop_at, p.title, p.description, p.lang, p.category
		FROM unnest($1::text[]) AS c(id)
		CROSS JOIN LATERAL (SELECT ` + programmeColumns + ` FROM epg_programmes
			WHERE channel_id = c.id AND stop_at > $2 ORDER BY stop_at, start_at LIMIT $3) p`
	rows, _ := s.q.Query(ctx, q, channelIDs, at, limit)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Programme])
	if err != nil {
		return nil, fmt.Errorf("programmes now/next of %d channels: %w", len(channelIDs), interpret(err))
	}
	out := make(map[string][]Programme, len(channelIDs))
	for _, p := range ps {
		out[p.ChannelID] = append(out[p.ChannelID], p)
	}
	return out, nil
}

// ProgrammesOfChannel returns every stored programme of a channel by start
// (get_simple_data_table).
func (s *Store) ProgrammesOfChannel(ctx context.Context, channelID string) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes WHERE channel_id = $1 ORDER BY start_at`
	rows, _ := s.q.Query(ctx, q, channelID)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Programme])
	if err != nil {
		return nil, fmt.Errorf("programmes of %q: %w", channelID, interpret(err))
	}
	return ps, nil
}

// ProgrammesBetween returns a channel's programmes overlapping [from, to) by start (the MAG
// portal's day and period views).
func (s *Store) ProgrammesBetween(ctx context.Context, channelID string, from, to time.Time) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes
		WHERE channel_id = $1 AND stop_at > $2 AND start_at < $3 ORDER BY start_at`
	rows, _ := s.q.Query(ctx, q, channelID, from, to)
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByName[Programme])
	if err != nil {
		return nil, fmt.Errorf("programmes of %q: %w", channelID, interpret(err))
	}
	return ps, nil
}

// EachProgramme streams the programmes overlapping [from, to) to fn, by channel then start,
// one row at a time (xmltv.php export: memory stays flat however large the guide). channelIDs
// nil means every channel. fn's error ends the walk and is returned.
func (s *Store) EachProgramme(ctx context.Context, from, to time.Time, channelIDs []string, fn func(Programme) error) error {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes
		WHERE stop_at > $1 AND start_at < $2 AND ($3::text[] IS NULL OR channel_id = ANY($3))
		ORDER BY channel_id, start_at`
	rows, err := s.q.Query(ctx, q, from, to, channelIDs)
	if err != nil {
		return fmt.Errorf("programmes between %s and %s: %w", from, to, interpret(err))
	}
	defer rows.Close()
	var p Programme
	scan := []any{&p.ID, &p.ChannelID, &p.StartAt, &p.StopAt, &p.Title, &p.Description, &p.Lang, &p.Category}
	for rows.Next() {
		if err := rows.Scan(scan...); err != nil {
			return fmt.Errorf("programmes between %s and %s: %w", from, to, interpret(err))
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("programmes between %s and %s: %w", from, to, interpret(err))
	}
	return nil
}
