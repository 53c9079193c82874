-- Connection leases (who is watching what, right now), the activity log (who watched what) and
-- the client log (why a request was refused).

-- A lease is one open viewer connection. It expires unless its instance renews it, so a crashed
-- instance leaves no ghost connections. Times are the database's now(), never an app clock.
-- UNLOGGED: leases are ephemeral; after a database crash everyone simply reconnects.
CREATE UNLOGGED TABLE connection_leases (
    id                uuid PRIMARY KEY,
    line_id           bigint NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
    stream_id         bigint NOT NULL,
    instance_id       text NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 128),
    container         text NOT NULL CHECK (container IN ('ts', 'hls', 'vod', 'timeshift')),
    client_ip         inet NOT NULL,
    user_agent        text NOT NULL DEFAULT '',
    country           text NOT NULL DEFAULT '',
    isp               text NOT NULL DEFAULT '',
    started_at        timestamptz NOT NULL DEFAULT now(),
    renewed_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    kill_requested_at timestamptz,
    CONSTRAINT connection_leases_expiry_after_start CHECK (expires_at > started_at)
);
CREATE INDEX connection_leases_line_idx ON connection_leases (line_id, expires_at);
CREATE INDEX connection_leases_instance_idx ON connection_leases (instance_id);
-- One HLS session per (line, IP, user agent, stream): playlist polls refresh it.
CREATE UNIQUE INDEX connection_leases_hls_session_idx
    ON connection_leases (line_id, stream_id, client_ip, md5(user_agent)) WHERE container = 'hls';

CREATE TABLE activity_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lease_id   uuid NOT NULL,
    line_id    bigint REFERENCES lines (id) ON DELETE SET NULL,
    username   text NOT NULL DEFAULT '',
    stream_id  bigint,
    container  text NOT NULL,
    client_ip  inet NOT NULL,
    country    text NOT NULL DEFAULT '',
    isp        text NOT NULL DEFAULT '',
    user_agent text NOT NULL DEFAULT '',
    started_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL DEFAULT now(),
    bytes_out  bigint NOT NULL DEFAULT 0 CHECK (bytes_out >= 0),
    end_reason text NOT NULL DEFAULT '',
    CONSTRAINT activity_log_lease_id_key UNIQUE (lease_id),
    CONSTRAINT activity_log_end_after_start CHECK (ended_at >= started_at)
);
CREATE INDEX activity_log_line_started_idx ON activity_log (line_id, started_at DESC);
CREATE INDEX activity_log_started_idx ON activity_log (started_at DESC);

-- Refused requests with their code (AUTH_FAILED ... NOT_IN_BOUQUET). Never a password or token.
CREATE TABLE client_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    line_id    bigint REFERENCES lines (id) ON DELETE SET NULL,
    username   text NOT NULL DEFAULT '',
    code       text NOT NULL CHECK (code ~ '^[A-Z_]{2,64}$'),
    surface    text NOT NULL DEFAULT '',
    client_ip  inet,
    user_agent text NOT NULL DEFAULT '',
    stream_id  bigint
);
CREATE INDEX client_log_at_idx ON client_log (at DESC);
CREATE INDEX client_log_line_idx ON client_log (line_id, at DESC);

---- create above / drop below ----

DROP TABLE client_log;
DROP TABLE activity_log;
DROP TABLE connection_leases;
