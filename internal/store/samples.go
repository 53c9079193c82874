package store

import (
	"context"
	"fmt"
	"time"
)

// SampleConnections records this minute's live connections and delivery rate of instance
// (its own leases only: every instance samples itself), replacing a sample of the same minute.
func (s *Store) SampleConnections(ctx context.Context, instance string) error {
	const q = `INSERT INTO connection_samples (at, instance_id, connections, bytes_per_second)
		SELECT date_trunc('minute', now()), $1, count(*), coalesce(sum(bytes_per_second), 0)::bigint
		FROM connection_leases WHERE instance_id = $1 AND expires_at > now() AND kill_requested_at IS NULL
		ON CONFLICT (at, instance_id) DO UPDATE
			SET connections = EXCLUDED.connections, bytes_per_second = EXCLUDED.bytes_per_second`
	if _, err := s.q.Exec(ctx, q, instance); err != nil {
		return fmt.Errorf("sample connections: %w", interpret(err))
	}
	return nil
}

// SweepSamples deletes connection samples older than before.
func (s *Store) SweepSamples(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.q.Exec(ctx, `DELETE FROM connection_samples WHERE at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("sweep connection samples: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// SamplePoint is the whole panel's connections in one bucket of time: the most at once (the
// largest per-minute sum over the instances) and the mean delivery rate.
type SamplePoint struct {
	At             time.Time `db:"at"`
	Connections    int       `db:"connections"`
	BytesPerSecond int64     `db:"bytes_per_second"`
}

// ConnectionSeries returns the samples since since, summed over the instances per minute and
// reduced to buckets of bucket (the peak connections of each), oldest first; buckets without
// a sample are absent.
func (s *Store) ConnectionSeries(ctx context.Context, since time.Time, bucket time.Duration) ([]SamplePoint, error) {
	const q = `SELECT to_timestamp(floor(extract(epoch FROM at) / $2) * $2) AS at,
			max(connections)::int AS connections, avg(bytes_per_second)::bigint AS bytes_per_second
		FROM (SELECT at, sum(connections) AS connections, sum(bytes_per_second) AS bytes_per_second
			FROM connection_samples WHERE at >= $1 GROUP BY at) m
		GROUP BY 1 ORDER BY 1`
	return many[SamplePoint](ctx, s, "connection series", q, since, bucket.Seconds())
}
