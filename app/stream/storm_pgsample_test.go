package stream_test

// What PostgreSQL was doing during a storm phase (XTREAMD_STORM_PGSAMPLE=1): pg_stat_activity
// sampled every 50 ms from the benchmark's own connection (not the server's pool), so a phase
// whose pool acquires waited says what the server's connections were waiting on and whether a
// checkpoint or an autovacuum ran meanwhile.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSampler collects pg_stat_activity samples until stop.
type pgSampler struct {
	pool    *pgxpool.Pool
	done    chan struct{}
	wg      sync.WaitGroup
	samples int
	// active counts, per "wait event | query", the samples in which one of the server's
	// connections was active on it; maxActive is the most active at once.
	active    map[string]int
	maxActive int
	longest   time.Duration // the longest-running active statement seen
	longestQ  string
	workers   map[string]int // background work seen (autovacuum, checkpointer writing), by what
	cp0       pgCheckpoints
}

// pgCheckpoints is pg_stat_bgwriter's checkpoint counters (PostgreSQL 15) and pg_stat_wal's syncs.
type pgCheckpoints struct {
	timed, requested       int64
	writeMS, syncMS        float64
	walSyncs, walFullPages int64
}

func readCheckpoints(ctx context.Context, pool *pgxpool.Pool) pgCheckpoints {
	var c pgCheckpoints
	_ = pool.QueryRow(ctx, `SELECT b.checkpoints_timed, b.checkpoints_req, b.checkpoint_write_time, b.checkpoint_sync_time,
		w.wal_sync, w.wal_fpi FROM pg_stat_bgwriter b, pg_stat_wal w`).
		Scan(&c.timed, &c.requested, &c.writeMS, &c.syncMS, &c.walSyncs, &c.walFullPages)
	return c
}

func startPGSampler(pool *pgxpool.Pool) *pgSampler {
	s := &pgSampler{pool: pool, done: make(chan struct{}), active: map[string]int{}, workers: map[string]int{}}
	s.cp0 = readCheckpoints(context.Background(), pool)
	s.wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
				s.sample()
			}
		}
	})
	return s
}

func (s *pgSampler) sample() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT backend_type, coalesce(application_name, ''), coalesce(state, ''),
			coalesce(wait_event_type, '') || ':' || coalesce(wait_event, ''), left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 70),
			coalesce(extract(epoch FROM now() - query_start), 0)
		FROM pg_stat_activity WHERE pid <> pg_backend_pid()`)
	if err != nil {
		return
	}
	defer rows.Close()
	s.samples++
	active := 0
	for rows.Next() {
		var backend, app, state, wait, query string
		var secs float64
		if rows.Scan(&backend, &app, &state, &wait, &query, &secs) != nil {
			return
		}
		switch {
		case backend == "client backend" && strings.HasPrefix(app, "xtreamd") && state != "idle":
			active++
			s.active[state+" "+wait+" | "+query]++
			if d := time.Duration(secs * float64(time.Second)); state == "active" && d > s.longest {
				s.longest, s.longestQ = d, query
			}
		case backend == "autovacuum worker":
			s.workers["autovacuum: "+query]++
		case backend == "checkpointer" && wait != "Activity:CheckpointerMain":
			s.workers["checkpointer "+wait]++
		case backend == "walwriter" && wait != "Activity:WalWriterMain":
			s.workers["walwriter "+wait]++
		}
	}
	s.maxActive = max(s.maxActive, active)
}

// stop ends the sampling and renders what it saw.
func (s *pgSampler) stop() string {
	close(s.done)
	s.wg.Wait()
	cp := readCheckpoints(context.Background(), s.pool)
	top := func(m map[string]int, n int) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return m[b] - m[a] })
		var out []string
		for _, k := range keys[:min(n, len(keys))] {
			out = append(out, fmt.Sprintf("%d× %s", m[k], k))
		}
		return strings.Join(out, "; ")
	}
	return fmt.Sprintf("pg: %d samples, at most %d of the server's connections busy; busy on: %s; longest statement %v (%s); "+
		"background: %s; checkpoints +%d timed +%d requested (write %.0f ms, sync %.0f ms); WAL syncs +%d, full-page images +%d",
		s.samples, s.maxActive, top(s.active, 6), s.longest.Round(time.Millisecond), s.longestQ, top(s.workers, 4),
		cp.timed-s.cp0.timed, cp.requested-s.cp0.requested, cp.writeMS-s.cp0.writeMS, cp.syncMS-s.cp0.syncMS,
		cp.walSyncs-s.cp0.walSyncs, cp.walFullPages-s.cp0.walFullPages)
}
