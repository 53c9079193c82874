package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Source kinds (stream_sources.kind).
const (
	SourceAuto = "auto"
	SourceTS   = "ts"
	SourceHLS  = "hls"
	SourceFile = "file"
)

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
	AlwaysOn           bool            `db:"always_on"` // keep the upstream pulled with no viewer (relay.Manager.Keep)
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
	AlwaysOn           bool
	Sources            []Source // failover order; imports use Sources[0] only
}

func (in StreamInput) info() json.RawMessage {
	if len(in.Info) == 0 {
		return json.RawMessage("{}")
	}
	return in.Info
}

// streamColumns matches Stream field for field.
const streamColumns = `id, kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
	tv_archive_days, catchup_source, container_extension, info, enabled, always_on, created_at, updated_at`

// StreamByID reads one stream, enabled or not.
func (s *Store) StreamByID(ctx context.Context, id int64) (Stream, error) {
	return one[Stream](ctx, s, fmt.Sprintf("stream %d", id), `SELECT `+streamColumns+` FROM streams WHERE id = $1`, id)
}

// StreamSources lists a stream's sources in failover order.
func (s *Store) StreamSources(ctx context.Context, streamID int64) ([]StreamSource, error) {
	const q = `SELECT stream_id, position, url, kind FROM stream_sources WHERE stream_id = $1 ORDER BY position`
	return many[StreamSource](ctx, s, fmt.Sprintf("sources of stream %d", streamID), q, streamID)
}

// CreateStream inserts a stream with its sources and returns its id.
func (s *Store) CreateStream(ctx context.Context, in StreamInput) (int64, error) {
	const q = `INSERT INTO streams (kind, name, category_id, icon, epg_channel_id, custom_sid, direct_source,
		tv_archive_days, catchup_source, container_extension, info, enabled, always_on)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
	var id int64
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.q.QueryRow(ctx, q, in.Kind, in.Name, in.CategoryID, in.Icon, in.EPGChannelID, in.CustomSID,
			in.DirectSource, in.TVArchiveDays, in.CatchupSource, in.ContainerExtension, in.info(), !in.Disabled,
			in.AlwaysOn).Scan(&id); err != nil {
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
		enabled = $12, always_on = $13 WHERE id = $1`
	return s.execOne(ctx, fmt.Sprintf("update stream %d", id), q, id, in.Name, in.CategoryID, in.Icon,
		in.EPGChannelID, in.CustomSID, in.DirectSource, in.TVArchiveDays, in.CatchupSource, in.ContainerExtension,
		in.info(), !in.Disabled, in.AlwaysOn)
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
		SameJSON(cur.Info, in.info()) && cur.Enabled == !in.Disabled && cur.AlwaysOn == in.AlwaysOn
}

// SameJSON compares two JSON documents as values (jsonb normalises key order and spacing), so
// a write can be skipped when a stored document already holds what would be written.
func SameJSON(a, b json.RawMessage) bool {
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

// StreamFilter selects streams for an admin list; zero fields match everything.
type StreamFilter struct {
	Kinds         []string // any of these kinds (live, created_live, radio / movie / episode)
	CategoryID    int64    // in this category
	Uncategorised bool     // only streams without a category (CategoryID is ignored)
	Name          string   // the name contains this, ignoring case
	EPGChannelID  string   // exactly this EPG channel id
	Enabled       *bool
	IDs           []int64 // only these streams
	Page          Keyset  // sorts: "name", "created_at"
}

// streamSorts are the sorts a stream list allows.
var streamSorts = map[string]sortKey{
	"name":       {expr: "name", cast: "text"},
	"created_at": {expr: "created_at", cast: "timestamptz"},
}

// ListStreams returns one page of the streams f selects (their sources are read apart, with
// SourcesOf).
func (s *Store) ListStreams(ctx context.Context, f StreamFilter) ([]Stream, error) {
	var lq listQuery
	if len(f.Kinds) > 0 {
		lq.cond("kind = ANY(%s)", f.Kinds)
	}
	switch {
	case f.Uncategorised:
		lq.where = append(lq.where, "category_id IS NULL")
	case f.CategoryID != 0:
		lq.cond("category_id = %s", f.CategoryID)
	}
	if f.Name != "" {
		lq.cond("strpos(lower(name), lower(%s)) > 0", f.Name)
	}
	if f.EPGChannelID != "" {
		lq.cond("epg_channel_id = %s", f.EPGChannelID)
	}
	if f.Enabled != nil {
		lq.cond("enabled = %s", *f.Enabled)
	}
	if f.IDs != nil {
		lq.cond("id = ANY(%s)", f.IDs)
	}
	return list(ctx, s, "streams", &lq, `SELECT `+streamColumns+` FROM streams`, "id", streamSorts, f.Page,
		pgx.RowToStructByName[Stream])
}

// SourcesOf returns the sources of the given streams in failover order, by stream id.
func (s *Store) SourcesOf(ctx context.Context, streamIDs []int64) (map[int64][]StreamSource, error) {
	const q = `SELECT stream_id, position, url, kind FROM stream_sources WHERE stream_id = ANY($1)
		ORDER BY stream_id, position`
	rows, _ := s.q.Query(ctx, q, streamIDs)
	srcs, err := pgx.CollectRows(rows, pgx.RowToStructByName[StreamSource])
	if err != nil {
		return nil, fmt.Errorf("sources of streams: %w", interpret(err))
	}
	out := make(map[int64][]StreamSource, len(streamIDs))
	for _, src := range srcs {
		out[src.StreamID] = append(out[src.StreamID], src)
	}
	return out, nil
}
