-- Global security lists (spec section 6.3) and the failed-login counters behind flood protection.
-- Any change bumps the security version and NOTIFYs, so every instance reloads the lists.

-- Blocked addresses and networks: by an admin (no expiry unless set) or by flood protection
-- (always with an expiry).
CREATE TABLE blocked_ips (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    network    cidr NOT NULL,
    source     text NOT NULL DEFAULT 'admin' CHECK (source IN ('admin', 'flood')),
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    CONSTRAINT blocked_ips_network_key UNIQUE (network),
    CONSTRAINT blocked_ips_flood_expires CHECK (source <> 'flood' OR expires_at IS NOT NULL)
);
CREATE INDEX blocked_ips_network_gist_idx ON blocked_ips USING gist (network inet_ops);

CREATE TABLE blocked_user_agents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pattern    text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 512),
    -- exact: the whole User-Agent equals pattern; substring: it contains pattern (both ignore case).
    match      text NOT NULL DEFAULT 'substring' CHECK (match IN ('exact', 'substring')),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocked_user_agents_match_pattern_key UNIQUE (match, pattern)
);

-- Blocked ISPs (by GeoIP ISP/organisation name, case-insensitive) or autonomous systems.
CREATE TABLE blocked_isps (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isp_name   text CHECK (length(isp_name) BETWEEN 1 AND 256),
    asn        bigint CHECK (asn BETWEEN 0 AND 4294967295),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocked_isps_one_of CHECK ((isp_name IS NULL) <> (asn IS NULL))
);
CREATE UNIQUE INDEX blocked_isps_isp_name_idx ON blocked_isps (lower(isp_name)) WHERE isp_name IS NOT NULL;
CREATE UNIQUE INDEX blocked_isps_asn_idx ON blocked_isps (asn) WHERE asn IS NOT NULL;

-- Countries (ISO 3166 alpha-2, upper case) lines without a forced country may connect from.
-- 'ALL' allows every country; it is the default.
CREATE TABLE allowed_countries (
    code text PRIMARY KEY CHECK (code ~ '^([A-Z]{2}|ALL)$')
);
INSERT INTO allowed_countries (code) VALUES ('ALL');

CREATE TRIGGER blocked_ips_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON blocked_ips
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('security');
CREATE TRIGGER blocked_user_agents_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON blocked_user_agents
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('security');
CREATE TRIGGER blocked_isps_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON blocked_isps
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('security');
CREATE TRIGGER allowed_countries_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON allowed_countries
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('security');

-- Failed logins per client address in the current window, shared by every instance. Ephemeral,
-- hence UNLOGGED: a database crash forgets the counters, never a ban.
CREATE UNLOGGED TABLE auth_failures (
    client_ip         inet PRIMARY KEY,
    window_started_at timestamptz NOT NULL DEFAULT now(),
    failures          integer NOT NULL DEFAULT 1 CHECK (failures > 0),
    usernames         text[] NOT NULL DEFAULT '{}'
);

---- create above / drop below ----

DROP TABLE auth_failures;
DROP TABLE allowed_countries;
DROP TABLE blocked_isps;
DROP TABLE blocked_user_agents;
DROP TABLE blocked_ips;
