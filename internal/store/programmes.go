package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

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
