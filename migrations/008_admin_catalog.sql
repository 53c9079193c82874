-- Admin API (issue 12), the catalog side: the always-on flag of live streams, per-lease
-- delivery counters behind the dashboard's "bandwidth now", and the import jobs that run in
-- the background while the server serves.

-- Keep the stream's upstream pulled with no viewer. Stored and administered now; the relay
-- does not act on it yet.
ALTER TABLE streams ADD COLUMN always_on boolean NOT NULL DEFAULT false;

-- Delivery counters, written by the lease heartbeat of the instance serving the viewer:
-- bytes delivered so far and the rate over the last heartbeat interval, so the viewers of
-- every instance add up to one "bandwidth now" in the database.
ALTER TABLE connection_leases
    ADD COLUMN bytes_out        bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0),
    ADD COLUMN bytes_per_second bigint NOT NULL DEFAULT 0 CHECK (bytes_per_second >= 0),
    ADD COLUMN bytes_at         timestamptz;
-- The connection list filters by stream and the dashboard groups by it.
CREATE INDEX connection_leases_stream_idx ON connection_leases (stream_id);
CREATE INDEX activity_log_stream_started_idx ON activity_log (stream_id, started_at DESC);

-- An import (M3U playlist or XMLTV guide) started through the admin API or an EPG source's
-- "refresh now". The row is the job's whole state, so any instance answers its progress and
-- it outlives the process; the uploaded bytes do not (they are spooled to a temporary file of
-- the instance running the job). A job whose instance stops renewing heartbeat_at is marked
-- failed by the next sweep of any instance.
CREATE TABLE import_jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('m3u', 'xmltv')),
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    -- Where the input came from: a URL without credentials or query, or "upload: <name>".
    origin       text NOT NULL CHECK (length(origin) BETWEEN 1 AND 4096),
    -- The importer's options (bouquet, kind, EPG source), as given.
    options      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
    admin_id     bigint REFERENCES admins (id) ON DELETE SET NULL,
    actor        text NOT NULL,
    instance_id  text NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 128),
    bytes_read   bigint NOT NULL DEFAULT 0 CHECK (bytes_read >= 0),
    bytes_total  bigint CHECK (bytes_total >= 0), -- NULL: unknown
    -- The added/updated/unchanged/skipped summary with reasons, once done.
    summary      jsonb CHECK (summary IS NULL OR jsonb_typeof(summary) = 'object'),
    error        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT import_jobs_finished CHECK ((state IN ('done', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX import_jobs_unfinished_idx ON import_jobs (heartbeat_at) WHERE state IN ('queued', 'running');

---- create above / drop below ----

DROP TABLE import_jobs;
DROP INDEX activity_log_stream_started_idx;
DROP INDEX connection_leases_stream_idx;
ALTER TABLE connection_leases DROP COLUMN bytes_at, DROP COLUMN bytes_per_second, DROP COLUMN bytes_out;
ALTER TABLE streams DROP COLUMN always_on;
