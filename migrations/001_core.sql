-- Core: change notification plumbing, settings, admins, API keys, registered servers, audit log.

-- Every write that can change what a check, a list or a cache would answer bumps a version in
-- change_versions (statement-level triggers) or names the changed row (row-level triggers), and
-- sends one NOTIFY on the channel xtreamd_changes. Payloads carry ids, never rows:
--   line:<id>  catalog:<v>  epg:<v>  security:<v>  settings:<v>
-- A NOTIFY is delivered only when its transaction commits.
CREATE TABLE change_versions (
    scope      text PRIMARY KEY CHECK (scope IN ('catalog', 'epg', 'security', 'settings')),
    version    bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO change_versions (scope) VALUES ('catalog'), ('epg'), ('security'), ('settings');

CREATE FUNCTION xtreamd_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    UPDATE change_versions SET version = version + 1, changed_at = now()
     WHERE scope = TG_ARGV[0]
    RETURNING version INTO v;
    PERFORM pg_notify('xtreamd_changes', TG_ARGV[0] || ':' || v);
    RETURN NULL;
END
$$;

-- Row trigger: TG_ARGV[0] names the column holding the line id of the changed row.
CREATE FUNCTION xtreamd_notify_line() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_id text;
    new_id text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_id := to_jsonb(OLD) ->> TG_ARGV[0];
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_id := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    IF old_id IS NOT NULL THEN
        PERFORM pg_notify('xtreamd_changes', 'line:' || old_id);
    END IF;
    IF new_id IS NOT NULL AND new_id IS DISTINCT FROM old_id THEN
        PERFORM pg_notify('xtreamd_changes', 'line:' || new_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION xtreamd_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- Panel settings that operators change at run time (connection policy, message of the day,
-- flood thresholds ...). Defaults live in code; a row overrides its default.
CREATE TABLE settings (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER settings_touch BEFORE UPDATE ON settings FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();
CREATE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('settings');

CREATE TABLE admins (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL CHECK (username ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role          text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'reseller', 'viewer')),
    disabled      boolean NOT NULL DEFAULT false,
    credits       bigint NOT NULL DEFAULT 0,
    notes         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    CONSTRAINT admins_username_key UNIQUE (username)
);
CREATE TRIGGER admins_touch BEFORE UPDATE ON admins FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

-- API keys for the REST admin API. The key is shown once; only its SHA-256 is kept (a key is
-- 256 random bits, so a slow hash adds nothing). prefix is the first characters, for lookup.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id     bigint NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    prefix       text NOT NULL CHECK (prefix ~ '^[A-Za-z0-9_-]{8,16}$'),
    key_sha256   bytea NOT NULL CHECK (length(key_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CONSTRAINT api_keys_prefix_key UNIQUE (prefix)
);
CREATE INDEX api_keys_admin_id_idx ON api_keys (admin_id);

-- Registered servers: the IP-restricted Xtream admin API (api.php) accepts calls from these
-- addresses (spec section 4.1), and load-balanced deployments list their public hosts here.
CREATE TABLE servers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    public_host text NOT NULL DEFAULT '',
    api_ips     cidr[] NOT NULL DEFAULT '{}',
    is_main     boolean NOT NULL DEFAULT false,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT servers_name_key UNIQUE (name)
);
CREATE UNIQUE INDEX servers_one_main_idx ON servers (is_main) WHERE is_main;
CREATE TRIGGER servers_touch BEFORE UPDATE ON servers FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();
CREATE TRIGGER servers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON servers
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('settings');

-- Who changed what, from where. detail never holds a password or a token.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    admin_id    bigint REFERENCES admins (id) ON DELETE SET NULL,
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),
    target_type text NOT NULL DEFAULT '',
    target_id   text NOT NULL DEFAULT '',
    client_ip   inet,
    detail      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);

---- create above / drop below ----

DROP TABLE audit_log;
DROP TABLE servers;
DROP TABLE api_keys;
DROP TABLE admins;
DROP TABLE settings;
DROP FUNCTION xtreamd_touch();
DROP FUNCTION xtreamd_notify_line();
DROP FUNCTION xtreamd_bump_version();
DROP TABLE change_versions;
