package panel

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// The dashboard's 24-hour chart: each instance samples its own live connections once a minute
// into connection_samples (Sampler.Run), and the chart adds the instances up per minute
// (Overview.ConnectionSeries). A sample per instance, not one of the whole panel, because
// every instance knows its own leases and none has to be elected to count the others'.

// sampleKeep is how long samples are kept.
const sampleKeep = 48 * time.Hour

// Sampler records one instance's connection samples.
type Sampler struct {
	store    *store.Store
	instance string
	every    time.Duration
	log      *slog.Logger
}

// NewSampler returns the sampler of instance (its connections) over st.
func NewSampler(st *store.Store, instance string, log *slog.Logger) *Sampler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sampler{store: st, instance: instance, every: time.Minute, log: log}
}

// Sample records this minute's sample now.
func (s *Sampler) Sample(ctx context.Context) error {
	return s.store.SampleConnections(ctx, s.instance)
}

// Run samples every minute, and sweeps samples older than two days hourly, until ctx ends.
func (s *Sampler) Run(ctx context.Context) error {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for n := 0; ; n++ {
		if err := s.Sample(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sampling connections", "err", err)
		}
		if n%60 == 0 {
			if _, err := s.store.SweepSamples(ctx, time.Now().Add(-sampleKeep)); err != nil && ctx.Err() == nil {
				s.log.Warn("sweeping connection samples", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SeriesPoint is the panel's connections in one bucket of the chart: the most at once and the
// mean delivery rate.
type SeriesPoint struct {
	At             time.Time
	Connections    int
	BytesPerSecond int64
}

// ConnectionSeries returns the whole panel's connections since since, in buckets of bucket
// (at least a minute), oldest first; a bucket without samples is absent.
func (o *Overview) ConnectionSeries(ctx context.Context, since time.Time, bucket time.Duration) ([]SeriesPoint, error) {
	bucket = max(bucket, time.Minute)
	rows, err := o.store.ConnectionSeries(ctx, since, bucket)
	if err != nil {
		return nil, fmt.Errorf("connection series: %w", err)
	}
	out := make([]SeriesPoint, len(rows))
	for i, r := range rows {
		out[i] = SeriesPoint(r)
	}
	return out, nil
}
