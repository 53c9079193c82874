package editor

import (
	"context"
	"fmt"
	"maps"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Episode is an episode stream and its place in its series. Its id is the stream id players
// open (/series/u/p/{id}.{ext}).
type Episode struct {
	Stream
	SeriesID      int64 `json:"series_id"`
	SeasonNumber  int32 `json:"season_number"`
	EpisodeNumber int32 `json:"episode_number"`
}

var episodeRefusals = input.Refusals{
	Conflict: &input.FieldError{Field: "episode_number", Reason: "the season has an episode with this number", Kind: input.ErrConflict},
	NotFound: &input.FieldError{Field: "id", Reason: "no such episode", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "episode", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

func checkPlacement(e Episode) error {
	if e.SeasonNumber < 0 || e.SeasonNumber > 10_000 {
		return input.Invalid("season_number", "0 (specials) to 10000")
	}
	if e.EpisodeNumber < 0 || e.EpisodeNumber > 100_000 {
		return input.Invalid("episode_number", "0 to 100000")
	}
	return nil
}

// Episodes lists the episodes of series id by season and number, with their sources.
func (e *Editor) Episodes(ctx context.Context, seriesID int64) ([]Episode, error) {
	if _, err := e.Series(ctx, seriesID); err != nil {
		return nil, err
	}
	places, err := e.store.EpisodesOf(ctx, seriesID)
	if err != nil {
		return nil, fmt.Errorf("episodes: %w", err)
	}
	ids := make([]int64, len(places))
	for i, p := range places {
		ids[i] = p.StreamID
	}
	streams, err := e.Streams(ctx, FamilyEpisode, StreamQuery{Query: Query{Limit: store.MaxPage}, ids: ids})
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]Stream, len(streams))
	for _, s := range streams {
		byID[s.ID] = s
	}
	out := make([]Episode, 0, len(places))
	for _, p := range places {
		if s, ok := byID[p.StreamID]; ok {
			out = append(out, Episode{Stream: s, SeriesID: p.SeriesID, SeasonNumber: p.SeasonNumber, EpisodeNumber: p.EpisodeNumber})
		}
	}
	return out, nil
}

// Episode reads episode (stream) id.
func (e *Editor) Episode(ctx context.Context, id int64) (Episode, error) {
	ep, err := readEpisode(ctx, e.store, id)
	if err != nil {
		return Episode{}, fmt.Errorf("episode %d: %w", id, refused(episodeRefusals, err))
	}
	return ep, nil
}

func readEpisode(ctx context.Context, st *store.Store, id int64) (Episode, error) {
	s, err := readStream(ctx, st, FamilyEpisode, id)
	if err != nil {
		return Episode{}, err
	}
	p, err := st.EpisodeByStreamID(ctx, id)
	if err != nil {
		return Episode{}, err
	}
	return Episode{Stream: s, SeriesID: p.SeriesID, SeasonNumber: p.SeasonNumber, EpisodeNumber: p.EpisodeNumber}, nil
}

// CreateEpisode creates an episode of series seriesID with its sources.
func (e *Editor) CreateEpisode(ctx context.Context, a audit.Actor, seriesID int64, in Episode) (Episode, error) {
	in.SeriesID = seriesID
	if err := checkPlacement(in); err != nil {
		return Episode{}, fmt.Errorf("create episode: %w", err)
	}
	if err := checkStream(FamilyEpisode, &in.Stream); err != nil {
		return Episode{}, fmt.Errorf("create episode: %w", err)
	}
	var out Episode
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.LockRow(ctx, store.TableSeries, seriesID); err != nil {
			return refused(seriesRefusals, err)
		}
		id, err := tx.CreateEpisode(ctx, store.EpisodeInput{SeriesID: seriesID, SeasonNumber: in.SeasonNumber,
			EpisodeNumber: in.EpisodeNumber, Stream: in.input()})
		if err != nil {
			return err
		}
		if out, err = readEpisode(ctx, tx, id); err != nil {
			return err
		}
		return recordEpisode(ctx, tx, a, "episode.create", Episode{}, out)
	})
	if err != nil {
		return Episode{}, fmt.Errorf("create episode: %w", refused(episodeRefusals, err))
	}
	return out, nil
}

// UpdateEpisode applies edit to episode id: its stream fields and sources, and its season and
// number within the series (it cannot move to another series).
func (e *Editor) UpdateEpisode(ctx context.Context, a audit.Actor, id int64, edit func(*Episode) error) (Episode, error) {
	var out Episode
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		place, err := tx.EpisodeByStreamID(ctx, id)
		if err != nil {
			return err
		}
		next := Episode{SeriesID: place.SeriesID, SeasonNumber: place.SeasonNumber, EpisodeNumber: place.EpisodeNumber}
		before, after, changed, err := updateStream(ctx, tx, FamilyEpisode, id, func(s *Stream) error {
			next.Stream = *s
			if err := edit(&next); err != nil {
				return err
			}
			if next.SeriesID != place.SeriesID {
				return input.Invalid("series_id", "an episode cannot move to another series")
			}
			*s = next.Stream
			return checkPlacement(next)
		})
		if err != nil {
			return err
		}
		moved := next.SeasonNumber != place.SeasonNumber || next.EpisodeNumber != place.EpisodeNumber
		if moved {
			if err := tx.MoveEpisode(ctx, store.Episode{StreamID: id, SeasonNumber: next.SeasonNumber,
				EpisodeNumber: next.EpisodeNumber}); err != nil {
				return err
			}
		}
		out = Episode{Stream: after, SeriesID: place.SeriesID, SeasonNumber: next.SeasonNumber, EpisodeNumber: next.EpisodeNumber}
		if !changed && !moved {
			return nil
		}
		return recordEpisode(ctx, tx, a, "episode.update",
			Episode{Stream: before, SeriesID: place.SeriesID, SeasonNumber: place.SeasonNumber, EpisodeNumber: place.EpisodeNumber}, out)
	})
	if err != nil {
		return Episode{}, fmt.Errorf("update episode %d: %w", id, refused(episodeRefusals, err))
	}
	return out, nil
}

// DeleteEpisode deletes episode id (its stream, sources and place).
func (e *Editor) DeleteEpisode(ctx context.Context, a audit.Actor, id int64) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		before, err := readEpisode(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteStream(ctx, id); err != nil {
			return err
		}
		return recordEpisode(ctx, tx, a, "episode.delete", before, Episode{})
	})
	if err != nil {
		return fmt.Errorf("delete episode %d: %w", id, refused(episodeRefusals, err))
	}
	return nil
}

// recordEpisode audits an episode change: the stream's changed fields (audit.Diff sees the
// embedded stream as one field) and its placement, which names the series.
func recordEpisode(ctx context.Context, tx *store.Store, a audit.Actor, action string, before, after Episode) error {
	b, aft := audit.Diff(before.Stream, after.Stream)
	pb, pa := audit.Diff(placement(before), placement(after))
	maps.Copy(b, pb)
	maps.Copy(aft, pa)
	id := max(before.ID, after.ID)
	series := max(before.SeriesID, after.SeriesID)
	return audit.Record(ctx, tx, a, audit.Entry{Action: action, TargetType: "episode", TargetID: fmt.Sprint(id),
		Before: b, After: aft, Extra: map[string]any{"series_id": series}})
}

type episodePlace struct {
	SeasonNumber  int32 `json:"season_number"`
	EpisodeNumber int32 `json:"episode_number"`
}

func placement(e Episode) episodePlace {
	return episodePlace{SeasonNumber: e.SeasonNumber, EpisodeNumber: e.EpisodeNumber}
}
