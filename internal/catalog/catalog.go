package catalog

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Options tune a Catalog.
type Options struct {
	// Debounce is the shortest time between two rebuilds: the first change notification after
	// a quiet spell rebuilds at once, and later ones wait for the end of the window, so that a
	// burst (an import's statements, an admin's edits) costs one rebuild per window. Default
	// 250ms.
	Debounce time.Duration
	// CheckEvery is the period of the version check that heals a missed NOTIFY. Default 30s.
	CheckEvery time.Duration
	// Build is passed to Build for every snapshot.
	Build BuildOptions
}

// Catalog owns the current Snapshot and replaces it when the catalog version changes.
//
// Wiring: run Run in the server's errgroup; subscribe OnChange to store.Listener's catalog
// changes and OnReconnect to its reconnects. Requests call Current (one atomic load) and keep
// the snapshot they got for the whole request.
type Catalog struct {
	store *store.Store
	log   *slog.Logger
	opts  Options

	cur       atomic.Pointer[Snapshot]
	kick      chan struct{} // buffered 1: pending rebuild requests coalesce into one
	refreshMu sync.Mutex    // one load at a time
	swapMu    sync.Mutex
	swapped   chan struct{} // closed and replaced at each swap (WaitVersion)
	views     []Warmer      // built for each new snapshot before its swap (Attach); under refreshMu
	onSwap    []func(*Snapshot)
}

// New returns a Catalog serving Empty() until its first load (Run or Refresh).
func New(st *store.Store, log *slog.Logger, opts Options) *Catalog {
	if opts.Debounce <= 0 {
		opts.Debounce = 250 * time.Millisecond
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = 30 * time.Second
	}
	c := &Catalog{store: st, log: log, opts: opts, kick: make(chan struct{}, 1), swapped: make(chan struct{})}
	c.cur.Store(Build(store.CatalogData{}, opts.Build))
	return c
}

// Current returns the newest snapshot. It never returns nil.
func (c *Catalog) Current() *Snapshot { return c.cur.Load() }

// Run loads the catalog, then rebuilds it after change notifications (at most once per
// Debounce) and checks the version every CheckEvery, until ctx ends. A failed load is logged
// and retried with a backoff (1 s doubling up to CheckEvery); the previous snapshot keeps
// serving meanwhile. Call Refresh once before serving when the first requests must see the
// catalog.
func (c *Catalog) Run(ctx context.Context) error {
	tick := time.NewTicker(c.opts.CheckEvery)
	defer tick.Stop()
	var retry <-chan time.Time
	backoff := time.Second
	for {
		last := time.Now()
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("catalog refresh failed; serving the previous snapshot", "err", err,
				"version", c.Current().Version, "retry_in", backoff)
			retry = time.After(backoff)
			backoff = min(2*backoff, c.opts.CheckEvery)
		} else {
			retry, backoff = nil, time.Second
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-retry:
		case <-c.kick:
			// The first change after a quiet spell rebuilds at once (a bouquet change ends the
			// streams it no longer holds within a second, and every re-check waits for this);
			// changes within Debounce of the last rebuild wait for the window's end, so a burst
			// (an import) still costs one rebuild per window.
			if d := c.opts.Debounce - time.Since(last); d > 0 {
				wait := time.NewTimer(d)
				select {
				case <-ctx.Done():
					wait.Stop()
					return nil
				case <-wait.C:
				}
			}
			select { // a kick that arrived while waiting is served by this rebuild
			case <-c.kick:
			default:
			}
		}
	}
}

// OnChange handles a change from store.Listener (subscribed to catalog changes): a catalog
// version other than the current snapshot's schedules a rebuild. It never blocks.
func (c *Catalog) OnChange(ch store.Change) {
	if ch.Kind != store.ChangeCatalog || ch.Version == c.Current().Version {
		return
	}
	c.schedule()
}

// OnReconnect schedules a version check: notifications sent while the listener was away are
// lost.
func (c *Catalog) OnReconnect() { c.schedule() }

func (c *Catalog) schedule() {
	select {
	case c.kick <- struct{}{}:
	default: // one is pending already
	}
}

// Refresh reads the catalog version and, when it differs from the current snapshot's, loads
// the catalog and swaps in a new snapshot. Concurrent calls run one after the other, and the
// later ones find the version current.
func (c *Catalog) Refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	cur := c.Current()
	v, err := c.store.CatalogVersion(ctx)
	if err != nil {
		return fmt.Errorf("catalog refresh: %w", err)
	}
	if v == cur.Version {
		return nil
	}
	start := time.Now()
	d, err := c.store.LoadCatalog(ctx)
	if err != nil {
		return fmt.Errorf("catalog refresh: %w", err)
	}
	snap := Build(d, c.opts.Build)
	for _, v := range c.views {
		v.warm(snap)
	}
	c.swap(snap)
	streams, series, bouquets := snap.Counts()
	c.log.Info("catalog snapshot built", "version", snap.Version, "streams", streams, "series", series,
		"bouquets", bouquets, "dur_ms", time.Since(start).Milliseconds())
	return nil
}

func (c *Catalog) swap(s *Snapshot) {
	c.swapMu.Lock()
	c.cur.Store(s)
	close(c.swapped)
	c.swapped = make(chan struct{})
	fns := c.onSwap
	c.swapMu.Unlock()
	for _, fn := range fns {
		fn(s)
	}
}

// OnSwap has fn called with every new snapshot once it is current (on the refreshing
// goroutine; fn must be quick): what was decided under the previous one, such as the bouquet
// step of an open stream, can be decided again.
func (c *Catalog) OnSwap(fn func(*Snapshot)) {
	c.swapMu.Lock()
	c.onSwap = append(c.onSwap, fn)
	c.swapMu.Unlock()
}

// WaitVersion blocks until the current snapshot's version is at least v (or ctx ends) and
// returns it: read-your-writes for an admin change, and the bounded wait of tests.
func (c *Catalog) WaitVersion(ctx context.Context, v int64) (*Snapshot, error) {
	for {
		c.swapMu.Lock()
		s, ch := c.cur.Load(), c.swapped
		c.swapMu.Unlock()
		if s.Version >= v {
			return s, nil
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-ch:
		}
	}
}
