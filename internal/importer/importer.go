// Package importer runs imports while the server serves: an M3U playlist or an XMLTV guide,
// from a URL or an uploaded file, through the same idempotent importers as `xtreamd import`
// (catalog.ImportM3U, epg.Import), as background jobs whose progress and summary any instance
// can answer.
//
// A job is a row of import_jobs (migration 012) from its start to its end: queued, running
// (bytes read so far, renewed by a heartbeat), then done with its added/updated/unchanged/
// skipped summary or failed with why. The row survives a restart; the work does not: an
// uploaded file is spooled to a temporary file of the instance that took it, and a job whose
// instance stops (its heartbeat goes stale) is marked failed by the next sweep of any
// instance. Nothing is half-imported then: an M3U import is one transaction, and an XMLTV
// import writes in one short transaction at its end.
package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/relay"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Errors a surface answers in its own way.
var (
	// ErrTooLarge: the input is larger than the limit (an upload's or a fetch's).
	ErrTooLarge = errors.New("importer: input too large")
	// ErrBusy: the queue of this instance is full; try again later.
	ErrBusy = errors.New("importer: too many imports queued")
)

// Options tune a Runner; the zero value is production's.
type Options struct {
	InstanceID string        // recorded on the jobs this instance runs
	MaxUpload  int64         // the largest uploaded file; default 64 MiB
	MaxFetch   int64         // the most a job reads from a URL (and a compressed upload unpacks to); default 2 GiB
	Workers    int           // imports run at once on this instance; default 1 (each is one big transaction)
	Queue      int           // imports waiting on this instance; default 64, ErrBusy beyond
	SpoolDir   string        // where uploads wait for their job; default os.TempDir()
	Client     *http.Client  // fetches URLs; default relay.NewHTTPClient
	Heartbeat  time.Duration // how often progress is written and jobs renewed; default 2 s
	StaleAfter time.Duration // a job not renewed this long is failed by the sweep; default 1 min
}

// Runner takes import requests (Start, RefreshSource) and runs them in the background (Run).
type Runner struct {
	store     *store.Store
	log       *slog.Logger
	opts      Options
	refresher *epg.Refresher
	queue     chan *job

	mu       sync.Mutex
	inflight map[int64]*job // queued or running here
}

// New returns a Runner over st; its jobs run once Run runs.
func New(st *store.Store, log *slog.Logger, opts Options) *Runner {
	if opts.InstanceID == "" {
		opts.InstanceID = "xtreamd"
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 64 << 20
	}
	if opts.MaxFetch <= 0 {
		opts.MaxFetch = 2 << 30
	}
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Queue <= 0 {
		opts.Queue = 64
	}
	if opts.SpoolDir == "" {
		opts.SpoolDir = os.TempDir()
	}
	if opts.Client == nil {
		opts.Client = relay.NewHTTPClient(relay.HTTPOptions{})
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 2 * time.Second
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = time.Minute
	}
	return &Runner{
		store: st, log: log, opts: opts, queue: make(chan *job, opts.Queue), inflight: map[int64]*job{},
		refresher: epg.NewRefresher(st, log, epg.RefresherOptions{Client: opts.Client}),
	}
}

// MaxUpload is the largest file Start accepts.
func (r *Runner) MaxUpload() int64 { return r.opts.MaxUpload }

// Run runs the queued jobs, renews their heartbeat with their progress, and fails the jobs of
// stopped instances, until ctx ends. Then the running jobs are cancelled (their transaction
// rolls back) and every unfinished job of this instance is recorded as interrupted.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range r.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	r.sweep(ctx)
	beat := time.NewTicker(r.opts.Heartbeat)
	defer beat.Stop()
	sweep := time.NewTicker(r.opts.StaleAfter / 2)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			r.abandon()
			return nil
		case <-beat.C:
			r.heartbeat(ctx)
		case <-sweep.C:
			r.sweep(ctx)
		}
	}
}

func (r *Runner) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.queue:
			r.run(ctx, j)
		}
	}
}

// heartbeat renews this instance's jobs and records their progress, in one statement.
func (r *Runner) heartbeat(ctx context.Context) {
	r.mu.Lock()
	progress := make([]store.ImportProgress, 0, len(r.inflight))
	for _, j := range r.inflight {
		progress = append(progress, j.progress())
	}
	r.mu.Unlock()
	if err := r.store.HeartbeatImportJobs(ctx, progress); err != nil && ctx.Err() == nil {
		r.log.Warn("import heartbeat failed", "err", err)
	}
}

// sweep fails the jobs whose instance stopped renewing them.
func (r *Runner) sweep(ctx context.Context) {
	n, err := r.store.FailStaleImportJobs(ctx, r.opts.StaleAfter, "interrupted: the instance running it stopped")
	if err != nil && ctx.Err() == nil {
		r.log.Warn("import sweep failed", "err", err)
	}
	if n > 0 {
		r.log.Warn("import jobs interrupted by a stopped instance", "count", n)
	}
}

// abandon records every job still here as interrupted (the workers have stopped).
func (r *Runner) abandon() {
	r.mu.Lock()
	left := make([]*job, 0, len(r.inflight))
	for _, j := range r.inflight {
		left = append(left, j)
	}
	r.inflight = map[int64]*job{}
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, j := range left {
		j.discard()
		if err := r.store.FinishImportJob(ctx, j.id, j.read.Load(), nil, "interrupted: the server stopped"); err != nil && !errors.Is(err, store.ErrNotFound) {
			r.log.Warn("recording an interrupted import", "job_id", j.id, "err", err)
		}
	}
}

// run executes one job and records its end.
func (r *Runner) run(ctx context.Context, j *job) {
	defer func() {
		j.discard()
		r.mu.Lock()
		delete(r.inflight, j.id)
		r.mu.Unlock()
	}()
	if err := r.store.StartImportJob(ctx, j.id); err != nil {
		if ctx.Err() == nil {
			r.log.Warn("starting an import", "job_id", j.id, "err", err)
		}
		return
	}
	start := time.Now()
	sum, err := r.execute(ctx, j)
	var summary any = sum
	msg := ""
	if err != nil {
		summary, msg = nil, failure(ctx, err)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := r.store.FinishImportJob(fctx, j.id, j.read.Load(), summary, msg); ferr != nil {
		r.log.Warn("recording an import's end", "job_id", j.id, "err", ferr)
	}
	r.log.Info("import finished", "job_id", j.id, "kind", j.req.Kind, "ok", err == nil, "added", sum.Added,
		"updated", sum.Updated, "unchanged", sum.Unchanged, "skipped", sum.Skipped, "dur_ms", time.Since(start).Milliseconds())
}

// failure is what a failed job's row says.
func failure(ctx context.Context, err error) string {
	switch {
	case ctx.Err() != nil:
		return "interrupted: the server stopped"
	case errors.Is(err, ErrTooLarge):
		return "the input is larger than the import limit"
	}
	return fmt.Sprint(err)
}
