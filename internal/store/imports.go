package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Import job states (import_jobs.state, 008_admin_catalog).
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// ImportJob is one row of import_jobs: a background import and everything known about it.
type ImportJob struct {
	ID          int64           `db:"id"`
	Kind        string          `db:"kind"` // m3u or xmltv
	State       string          `db:"state"`
	Origin      string          `db:"origin"`
	Options     json.RawMessage `db:"options"`
	AdminID     *int64          `db:"admin_id"`
	Actor       string          `db:"actor"`
	InstanceID  string          `db:"instance_id"`
	BytesRead   int64           `db:"bytes_read"`
	BytesTotal  *int64          `db:"bytes_total"`
	Summary     json.RawMessage `db:"summary"` // nil until done
	Error       string          `db:"error"`
	CreatedAt   time.Time       `db:"created_at"`
	StartedAt   *time.Time      `db:"started_at"`
	FinishedAt  *time.Time      `db:"finished_at"`
	HeartbeatAt time.Time       `db:"heartbeat_at"`
}

const importJobColumns = `id, kind, state, origin, options, admin_id, actor, instance_id, bytes_read, bytes_total,
	summary, error, created_at, started_at, finished_at, heartbeat_at`

// CreateImportJob inserts a queued job (ID, state and times are the database's) and returns it.
func (s *Store) CreateImportJob(ctx context.Context, j ImportJob) (ImportJob, error) {
	const q = `INSERT INTO import_jobs (kind, origin, options, admin_id, actor, instance_id, bytes_total)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ` + importJobColumns
	opts := j.Options
	if len(opts) == 0 {
		opts = json.RawMessage("{}")
	}
	return one[ImportJob](ctx, s, "create import job", q, j.Kind, truncateUTF8(j.Origin, 4096), opts, j.AdminID,
		truncateUTF8(j.Actor, 128), j.InstanceID, j.BytesTotal)
}

// ImportJobByID reads one job.
func (s *Store) ImportJobByID(ctx context.Context, id int64) (ImportJob, error) {
	return one[ImportJob](ctx, s, fmt.Sprintf("import job %d", id), `SELECT `+importJobColumns+` FROM import_jobs WHERE id = $1`, id)
}

// ListImportJobs returns the jobs newest first; beforeID pages (jobs with a smaller id).
func (s *Store) ListImportJobs(ctx context.Context, beforeID int64, limit int) ([]ImportJob, error) {
	const q = `SELECT ` + importJobColumns + ` FROM import_jobs WHERE $1::bigint = 0 OR id < $1
		ORDER BY id DESC LIMIT $2`
	return many[ImportJob](ctx, s, "list import jobs", q, beforeID, clampLimit(limit))
}

// StartImportJob marks a queued job running.
func (s *Store) StartImportJob(ctx context.Context, id int64) error {
	const q = `UPDATE import_jobs SET state = 'running', started_at = now(), heartbeat_at = now()
		WHERE id = $1 AND state = 'queued'`
	return s.execOne(ctx, fmt.Sprintf("start import job %d", id), q, id)
}

// ImportProgress is how far a running job has read its input.
type ImportProgress struct {
	ID         int64
	BytesRead  int64
	BytesTotal *int64
}

// HeartbeatImportJobs renews the heartbeat of this instance's unfinished jobs and records
// their progress, in one statement.
func (s *Store) HeartbeatImportJobs(ctx context.Context, jobs []ImportProgress) error {
	if len(jobs) == 0 {
		return nil
	}
	ids, read := make([]int64, len(jobs)), make([]int64, len(jobs))
	total := make([]*int64, len(jobs))
	for i, j := range jobs {
		ids[i], read[i], total[i] = j.ID, j.BytesRead, j.BytesTotal
	}
	const q = `UPDATE import_jobs j SET heartbeat_at = now(), bytes_read = greatest(j.bytes_read, p.bytes_read),
		bytes_total = coalesce(p.bytes_total, j.bytes_total)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS p(id, bytes_read, bytes_total)
		WHERE j.id = p.id AND j.state IN ('queued', 'running')`
	if _, err := s.q.Exec(ctx, q, ids, read, total); err != nil {
		return fmt.Errorf("heartbeat import jobs: %w", interpret(err))
	}
	return nil
}

// FinishImportJob records a job's end: how much it read, and done with its summary, or failed
// with errText (and the summary so far, or nil).
func (s *Store) FinishImportJob(ctx context.Context, id int64, bytesRead int64, summary any, errText string) error {
	var raw []byte // nil: NULL, no summary
	if summary != nil {
		var err error
		if raw, err = json.Marshal(summary); err != nil {
			return fmt.Errorf("finish import job %d: summary: %w", id, err)
		}
	}
	state := JobDone
	if errText != "" {
		state = JobFailed
	}
	const q = `UPDATE import_jobs SET state = $2, summary = $3, error = $4, finished_at = now(), heartbeat_at = now(),
		bytes_read = greatest(bytes_read, $5) WHERE id = $1 AND state IN ('queued', 'running')`
	return s.execOne(ctx, fmt.Sprintf("finish import job %d", id), q, id, state, raw, truncateUTF8(errText, 4096), bytesRead)
}

// FailStaleImportJobs marks failed the unfinished jobs whose heartbeat is older than staleAfter
// (their instance stopped) and returns how many.
func (s *Store) FailStaleImportJobs(ctx context.Context, staleAfter time.Duration, reason string) (int64, error) {
	const q = `UPDATE import_jobs SET state = 'failed', error = $2, finished_at = now()
		WHERE state IN ('queued', 'running') AND heartbeat_at < now() - $1 * interval '1 second'`
	tag, err := s.q.Exec(ctx, q, staleAfter.Seconds(), reason)
	if err != nil {
		return 0, fmt.Errorf("fail stale import jobs: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}
