-- The admin web page (issue 14): browser sessions on top of the admin sessions (one
-- revocation path with the API), the optional TOTP second factor with its recovery codes, and
-- the per-minute connection samples behind the dashboard's 24-hour chart.

-- A browser login: the cookie's token, kept only as its SHA-256, on an admin session. Revoking
-- the admin session (logout, an account disabled, demoted, deleted or given a new password)
-- ends the browser login with it; deleting the admin session deletes the row. The CSRF token
-- is the synchronizer token of every form of this login.
CREATE TABLE admin_web_sessions (
    token_sha256    bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    session_id      bigint NOT NULL REFERENCES admin_sessions (id) ON DELETE CASCADE,
    csrf_token      text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    created_at      timestamptz NOT NULL DEFAULT now(),
    seen_at         timestamptz NOT NULL DEFAULT now(),
    idle_expires_at timestamptz NOT NULL
);
CREATE INDEX admin_web_sessions_session_id_idx ON admin_web_sessions (session_id);
CREATE INDEX admin_web_sessions_idle_idx ON admin_web_sessions (idle_expires_at);

-- An admin's TOTP secret (RFC 6238), sealed with AES-256-GCM under a key derived from the
-- token secret: it is never shown again after enrolment. enabled_at is NULL while enrolment
-- waits for its first code. last_step is the last 30-second step a code was accepted for, so
-- a code works once.
CREATE TABLE admin_totp (
    admin_id      bigint PRIMARY KEY REFERENCES admins (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL CHECK (length(secret_sealed) BETWEEN 29 AND 256),
    enabled_at    timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Recovery codes, shown once at enrolment: 80 random bits each, kept as their SHA-256; each
-- works once instead of a TOTP code.
CREATE TABLE admin_recovery_codes (
    admin_id    bigint NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    code_sha256 bytea NOT NULL CHECK (length(code_sha256) = 32),
    used_at     timestamptz,
    PRIMARY KEY (admin_id, code_sha256)
);

-- Each instance's live connections and delivery rate, sampled every minute; the dashboard
-- adds the instances up per minute. Kept for two days.
CREATE TABLE connection_samples (
    at               timestamptz NOT NULL,
    instance_id      text NOT NULL CHECK (length(instance_id) BETWEEN 1 AND 128),
    connections      integer NOT NULL CHECK (connections >= 0),
    bytes_per_second bigint NOT NULL CHECK (bytes_per_second >= 0),
    PRIMARY KEY (at, instance_id)
);

---- create above / drop below ----

DROP TABLE connection_samples;
DROP TABLE admin_recovery_codes;
DROP TABLE admin_totp;
DROP TABLE admin_web_sessions;
