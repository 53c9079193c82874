package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// collectProgrammes appends the rows of programmeColumns to dst and closes rows. One scan
// target serves every row, so a row costs its strings only: pgx.RowToStructByName resolves
// the struct's fields again for each row, which was half the CPU of a 60,000-row read
// (the portal's get_epg_info of 10,000 channels).
func collectProgrammes(rows pgx.Rows, dst []Programme) ([]Programme, error) {
	defer rows.Close()
	var p Programme
	scan := []any{&p.ID, &p.ChannelID, &p.StartAt, &p.StopAt, &p.Title, &p.Description, &p.Lang, &p.Category}
	for rows.Next() {
		if err := rows.Scan(scan...); err != nil {
			return dst, err
		}
		dst = append(dst, p)
	}
	return dst, rows.Err()
}

// ProgrammesNowNext returns the programme on air at `at` on channelID and the ones after it,
// at most limit, by start (get_short_epg). It walks the (channel_id, stop_at) index.
func (s *Store) ProgrammesNowNext(ctx context.Context, channelID string, at time.Time, limit int) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes
		WHERE channel_id = $1 AND stop_at > $2 ORDER BY stop_at, start_at LIMIT $3`
	rows, err := s.q.Query(ctx, q, channelID, at, limit)
	var ps []Programme
	if err == nil {
		ps, err = collectProgrammes(rows, []Programme{})
	}
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
	rows, err := s.q.Query(ctx, q, channelIDs, at, limit)
	var ps []Programme
	if err == nil {
		ps, err = collectProgrammes(rows, make([]Programme, 0, len(channelIDs)))
	}
	if err != nil {
		return nil, fmt.Errorf("programmes now/next of %d channels: %w", len(channelIDs), interpret(err))
	}
	// The lateral join returns each channel's rows together: each channel's entry is its run
	// of ps (capped, so that an append by a caller copies).
	out := make(map[string][]Programme, len(channelIDs))
	for i := 0; i < len(ps); {
		j := i + 1
		for j < len(ps) && ps[j].ChannelID == ps[i].ChannelID {
			j++
		}
		if prev := out[ps[i].ChannelID]; len(prev) > 0 { // a channel asked for twice
			out[ps[i].ChannelID] = append(prev, ps[i:j]...)
		} else {
			out[ps[i].ChannelID] = ps[i:j:j]
		}
		i = j
	}
	return out, nil
}

// ProgrammesOfChannel returns every stored programme of a channel by start
// (get_simple_data_table).
func (s *Store) ProgrammesOfChannel(ctx context.Context, channelID string) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes WHERE channel_id = $1 ORDER BY start_at`
	rows, err := s.q.Query(ctx, q, channelID)
	var ps []Programme
	if err == nil {
		ps, err = collectProgrammes(rows, []Programme{})
	}
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
	rows, err := s.q.Query(ctx, q, channelID, from, to)
	var ps []Programme
	if err == nil {
		ps, err = collectProgrammes(rows, []Programme{})
	}
	if err != nil {
		return nil, fmt.Errorf("programmes of %q: %w", channelID, interpret(err))
	}
	return ps, nil
}

// Guide export paging: a page is at most programmePageRows rows (about 150 KB of typical
// programmes, 9 MB at the importer's text caps), read by one short query over a window of at
// most programmeWindow channels.
const (
	programmePageRows = 500
	programmeWindow   = 64
	programmePageWait = 30 * time.Second // one page query, queueing for a bulk slot included
)

// EachProgramme hands the programmes overlapping [from, to) to fn, by channel then start
// (xmltv.php). channelIDs nil means every channel. fn's error ends the walk and is returned.
//
// The walk reads bounded pages (programmePageRows rows), each with one short query under the
// bulk-read limit (see bulkRead), and calls fn only between queries, with no connection held:
// fn may block on a slow client for as long as it likes without taking a connection from
// checks, leases or heartbeats, and memory stays at one page however large the guide.
// A page continues after the last row of the one before (keyset), so a page costs one index
// descent per channel of its window, wherever the walk is.
func (s *Store) EachProgramme(ctx context.Context, from, to time.Time, channelIDs []string, fn func(Programme) error) error {
	ids, err := s.programmeChannels(ctx, channelIDs)
	if err != nil {
		return fmt.Errorf("programmes between %s and %s: %w", from, to, err)
	}
	var (
		page  = make([]Programme, 0, programmePageRows)
		i     int                                                                          // ids[i] is the window's first channel
		after = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true} // ids[i]'s last start read
	)
	for i < len(ids) {
		win := ids[i:min(len(ids), i+programmeWindow)]
		if page, err = s.programmePage(ctx, from, to, win, after, page[:0]); err != nil {
			return fmt.Errorf("programmes between %s and %s: %w", from, to, err)
		}
		for _, p := range page {
			if err := fn(p); err != nil {
				return err
			}
		}
		if len(page) < programmePageRows { // the window is done
			i += len(win)
			after = pgtype.Timestamptz{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
			continue
		}
		last := page[len(page)-1]
		for ids[i] != last.ChannelID { // the channels before it in the window are done
			i++
		}
		after = pgtype.Timestamptz{Time: last.StartAt, Valid: true}
	}
	return nil
}

// programmeChannels returns the channels to walk, unique and in the database's order of
// channel_id (the order of the pages' keyset, whatever the collation): every EPG channel when
// ids is nil.
func (s *Store) programmeChannels(ctx context.Context, ids []string) ([]string, error) {
	const qAll = `SELECT id FROM epg_channels ORDER BY id`
	const qSome = `SELECT DISTINCT id FROM unnest($1::text[]) AS c(id) ORDER BY id`
	q, args := qSome, []any{ids}
	if ids == nil {
		q, args = qAll, nil
	}
	var out []string
	err := s.bulkRead(ctx, func(ctx context.Context) error {
		rows, _ := s.q.Query(ctx, q, args...)
		var err error
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("channels: %w", interpret(err))
	}
	return out, nil
}

// programmePage appends to page the next programmes of the window's channels: the first
// channel's after its start `after`, the others' from their first, at most programmePageRows.
func (s *Store) programmePage(ctx context.Context, from, to time.Time, win []string, after pgtype.Timestamptz, page []Programme) ([]Programme, error) {
	const q = `SELECT ` + programmeColumns + ` FROM epg_programmes
		WHERE channel_id = ANY($1) AND stop_at > $2 AND start_at < $3 AND (channel_id, start_at) > ($4, $5)
		ORDER BY channel_id, start_at LIMIT $6`
	err := s.bulkRead(ctx, func(ctx context.Context) error {
		rows, err := s.q.Query(ctx, q, win, from, to, win[0], after, programmePageRows)
		if err != nil {
			return err
		}
		page, err = collectProgrammes(rows, page)
		return err
	})
	if err != nil {
		return page, fmt.Errorf("page: %w", interpret(err))
	}
	return page, nil
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
