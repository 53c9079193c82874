package store_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// loadPagedGuide stores a guide that crosses every paging boundary: 70 channels (more than
// one window) of 12 hourly programmes, and one long channel of 1,100 five-minute ones (more
// than two pages by itself), with ids whose order differs between bytes and words.
func loadPagedGuide(t testing.TB, st *store.Store) {
	t.Helper()
	testdb.MustExec(t, st, `INSERT INTO epg_channels (id) SELECT 'ch-'||c||'.tv' FROM generate_series(1, 70) c
		UNION ALL SELECT 'Long.TV'`)
	testdb.MustExec(t, st, `INSERT INTO epg_programmes (channel_id, start_at, stop_at, title)
		SELECT 'ch-'||c||'.tv', $1::timestamptz + h*interval '1 hour', $1::timestamptz + (h+1)*interval '1 hour', 'ch'||c||'-'||h
		FROM generate_series(1, 70) c, generate_series(0, 11) h
		UNION ALL SELECT 'Long.TV', $1::timestamptz + m*interval '5 min', $1::timestamptz + (m+1)*interval '5 min', 'long-'||m
		FROM generate_series(0, 1099) m`, t0)
}

// walk collects EachProgramme's titles.
func walk(t *testing.T, st *store.Store, from, to time.Time, ids []string) []string {
	t.Helper()
	var got []string
	if err := st.EachProgramme(t.Context(), from, to, ids, func(p store.Programme) error {
		got = append(got, p.Title)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// TestEachProgramme_Pages: the paged walk returns exactly what one query over the whole
// window returns, in the same order, for every channel and for a subset (with duplicates and
// unknown ids), across windows of channels and pages within one channel.
func TestEachProgramme_Pages(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	loadPagedGuide(t, st)
	reference := func(from, to time.Time, ids []string) []string {
		rows, _ := st.Pool().Query(t.Context(), `SELECT title FROM epg_programmes
			WHERE stop_at > $1 AND start_at < $2 AND ($3::text[] IS NULL OR channel_id = ANY($3))
			ORDER BY channel_id, start_at`, from, to, ids)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var subset []string
	for c := 70; c >= 1; c -= 3 {
		subset = append(subset, fmt.Sprintf("ch-%d.tv", c))
	}
	subset = append(subset, "Long.TV", "ch-1.tv", "ch-1.tv", "nope.tv")
	tests := []struct {
		name     string
		from, to time.Time
		ids      []string
		rows     int
	}{
		{"everything", t0.Add(-time.Hour), t0.Add(100 * time.Hour), nil, 70*12 + 1100},
		{"a window in time", t0.Add(150 * time.Minute), t0.Add(6 * time.Hour), nil, 70*4 + 42},
		{"a subset", t0.Add(-time.Hour), t0.Add(100 * time.Hour), subset, 24*12 + 1100},
		{"one long channel", t0.Add(10 * time.Minute), t0.Add(90 * time.Hour), []string{"Long.TV"}, 1078},
		{"no channel", t0, t0.Add(time.Hour), []string{}, 0},
		{"nothing in time", t0.Add(-10 * time.Hour), t0.Add(-9 * time.Hour), nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := walk(t, st, tt.from, tt.to, tt.ids)
			if len(got) != tt.rows {
				t.Errorf("EachProgramme = %d programmes, want %d", len(got), tt.rows)
			}
			want := reference(tt.from, tt.to, tt.ids)
			if len(want) == 0 || (len(tt.ids) == 0 && tt.ids != nil) {
				want = nil // an empty id list is no channel (for the SQL above, every channel)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("EachProgramme differs from one query (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEachProgramme_NoConnectionWhileCalling: fn runs with no connection of the pool held, so
// a client that stops reading a guide holds none; and however many walks run at once, their
// page queries hold at most the pool's bulk share (a quarter: 1 of the test pool's 4).
func TestEachProgramme_NoConnectionWhileCalling(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	loadPagedGuide(t, st)
	pool := st.Pool()
	if pool.Config().MaxConns != 4 {
		t.Skipf("the test pool has %d connections; the bounds below assume 4", pool.Config().MaxConns)
	}
	var held, calls atomic.Int64
	err := st.EachProgramme(t.Context(), t0, t0.Add(100*time.Hour), nil, func(store.Programme) error {
		calls.Add(1)
		held.Store(max(held.Load(), int64(pool.Stat().AcquiredConns())))
		return nil
	})
	if err != nil || calls.Load() == 0 || held.Load() != 0 {
		t.Fatalf("one walk: %d calls, %d connections held during fn (err %v), want none held", calls.Load(), held.Load(), err)
	}
	// Eight walks at once, each pausing on its rows as a slow client would.
	var wg sync.WaitGroup
	var peak atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = st.EachProgramme(context.Background(), t0, t0.Add(100*time.Hour), nil, func(store.Programme) error {
				peak.Store(max(peak.Load(), int64(pool.Stat().AcquiredConns())))
				return nil
			})
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > 1 {
		t.Errorf("8 concurrent walks held up to %d connections, want at most the bulk share of 1", p)
	}
}
