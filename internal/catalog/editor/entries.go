package editor

import (
	"context"
	"fmt"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Entry is one stream or series of a bouquet's list, as an admin page names it: live
// channels, radio stations and movies share the stream list, so Kind says which; a disabled
// stream is still listed (it stays in its bouquets).
type Entry struct {
	ID         int64
	Kind       string // live, created_live, radio, movie; "series" for a series
	Name       string
	CategoryID *int64
	Enabled    bool
}

// Entries names the streams with streamIDs and the series with seriesIDs (a bouquet's page of
// entries, at most store.MaxPage of each), by id; an id that names nothing is left out.
func (e *Editor) Entries(ctx context.Context, streamIDs, seriesIDs []int64) (map[int64]Entry, map[int64]Entry, error) {
	streams := make(map[int64]Entry, len(streamIDs))
	series := make(map[int64]Entry, len(seriesIDs))
	if len(streamIDs) > store.MaxPage || len(seriesIDs) > store.MaxPage {
		return nil, nil, fmt.Errorf("bouquet entries: at most %d of each at once", store.MaxPage)
	}
	if len(streamIDs) > 0 {
		rows, err := e.store.ListStreams(ctx, store.StreamFilter{IDs: streamIDs, Page: store.Keyset{Limit: len(streamIDs)}})
		if err != nil {
			return nil, nil, fmt.Errorf("bouquet entries: %w", err)
		}
		for _, r := range rows {
			streams[r.ID] = Entry{ID: r.ID, Kind: r.Kind, Name: r.Name, CategoryID: r.CategoryID, Enabled: r.Enabled}
		}
	}
	if len(seriesIDs) > 0 {
		rows, err := e.store.ListSeries(ctx, store.SeriesFilter{IDs: seriesIDs, Page: store.Keyset{Limit: len(seriesIDs)}})
		if err != nil {
			return nil, nil, fmt.Errorf("bouquet entries: %w", err)
		}
		for _, r := range rows {
			series[r.ID] = Entry{ID: r.ID, Kind: "series", Name: r.Name, CategoryID: r.CategoryID, Enabled: true}
		}
	}
	return streams, series, nil
}
