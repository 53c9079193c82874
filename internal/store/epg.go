package store

import (
	"context"
	"fmt"
	"time"
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

// EPGSources lists the configured XMLTV sources (only the enabled ones when enabledOnly).
func (s *Store) EPGSources(ctx context.Context, enabledOnly bool) ([]EPGSource, error) {
	const q = `SELECT id, name, url, enabled, last_fetched_at, last_error, created_at FROM epg_sources
		WHERE enabled OR NOT $1 ORDER BY id`
	return many[EPGSource](ctx, s, "epg sources", q, enabledOnly)
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
	return many[EPGChannel](ctx, s, "epg channels", q)
}

const epgSourceColumns = `id, name, url, enabled, last_fetched_at, last_error, created_at`

// EPGSourceByID reads one XMLTV source.
func (s *Store) EPGSourceByID(ctx context.Context, id int64) (EPGSource, error) {
	return one[EPGSource](ctx, s, fmt.Sprintf("epg source %d", id), `SELECT `+epgSourceColumns+` FROM epg_sources WHERE id = $1`, id)
}

// CreateEPGSource registers an XMLTV source and returns its id; a taken URL is ErrConflict.
func (s *Store) CreateEPGSource(ctx context.Context, src EPGSource) (int64, error) {
	const q = `INSERT INTO epg_sources (name, url, enabled) VALUES ($1, $2, $3) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, src.Name, src.URL, src.Enabled).Scan(&id); err != nil {
		return 0, fmt.Errorf("create epg source %q: %w", src.Name, interpret(err))
	}
	return id, nil
}

// UpdateEPGSource sets a source's name, URL and enabled flag; a taken URL is ErrConflict.
func (s *Store) UpdateEPGSource(ctx context.Context, src EPGSource) error {
	const q = `UPDATE epg_sources SET name = $2, url = $3, enabled = $4 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update epg source %d", src.ID), q, src.ID, src.Name, src.URL, src.Enabled)
}

// DeleteEPGSource deletes a source; its channels and programmes stay (source_id becomes NULL).
func (s *Store) DeleteEPGSource(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete epg source %d", id), `DELETE FROM epg_sources WHERE id = $1`, id)
}
