-- Partner clients (issue 15; assigned number 011, numbered 009 on its branch because tern
-- refuses gaps): an operator's own backend (a storefront, an app's server) that asks the panel,
-- server to server, for authorization decisions and media tokens on behalf of viewers' lines
-- (seeds 000, 001 and 002). Every change here NOTIFYs, so every instance's partner directory,
-- signing keys and revocation lists follow within a second:
--   partner:<id>  partner_key:<id>  partner_token:<jti hex>  media_session:<session hex>

-- An initial access token of RFC 7591 dynamic client registration, issued by an admin: a
-- partner registering with it gets its grant (scopes, bouquets, lines, source networks) and
-- nothing more. Only its SHA-256 is kept (256 random bits: a slow hash adds nothing).
CREATE TABLE partner_registration_tokens (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    token_sha256        bytea NOT NULL CHECK (length(token_sha256) = 32),
    scopes              text[] NOT NULL CHECK (cardinality(scopes) >= 1 AND array_position(scopes, NULL) IS NULL),
    bouquet_ids         bigint[] NOT NULL DEFAULT '{}' CHECK (array_position(bouquet_ids, NULL) IS NULL),
    line_ids            bigint[] NOT NULL DEFAULT '{}' CHECK (array_position(line_ids, NULL) IS NULL),
    allowed_ips         cidr[] NOT NULL CHECK (cardinality(allowed_ips) >= 1 AND array_position(allowed_ips, NULL) IS NULL),
    max_uses            integer NOT NULL DEFAULT 1 CHECK (max_uses BETWEEN 1 AND 10000),
    uses                integer NOT NULL DEFAULT 0 CHECK (uses BETWEEN 0 AND max_uses),
    expires_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    created_by_admin_id bigint REFERENCES admins (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partner_registration_tokens_token_sha256_key UNIQUE (token_sha256)
);

-- A partner client. client_id is public; the secret is kept as its SHA-256 only. Its scope:
-- the OAuth scopes it may ask for, and the lines it may act for — the lines listed, and every
-- line holding one of the bouquets listed. It may call only from allowed_ips (seed 001's
-- allowlist; at least one network: "anywhere" must be said, 0.0.0.0/0 and ::/0).
-- secret_generation counts secret rotations: an access token names the generation it was
-- issued under, so a new secret ends the old secret's tokens. A revoked partner stays (for
-- the audit trail) and acts no more.
CREATE TABLE partner_clients (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id             text NOT NULL CHECK (client_id ~ '^xp[0-9a-z]{16}$'),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    secret_sha256         bytea NOT NULL CHECK (length(secret_sha256) = 32),
    secret_generation     integer NOT NULL DEFAULT 1 CHECK (secret_generation >= 1),
    scopes                text[] NOT NULL CHECK (cardinality(scopes) >= 1 AND array_position(scopes, NULL) IS NULL),
    bouquet_ids           bigint[] NOT NULL DEFAULT '{}' CHECK (array_position(bouquet_ids, NULL) IS NULL),
    line_ids              bigint[] NOT NULL DEFAULT '{}' CHECK (array_position(line_ids, NULL) IS NULL),
    allowed_ips           cidr[] NOT NULL CHECK (cardinality(allowed_ips) >= 1 AND array_position(allowed_ips, NULL) IS NULL),
    registration          text NOT NULL DEFAULT 'admin' CHECK (registration IN ('admin', 'dynamic')),
    registration_token_id bigint REFERENCES partner_registration_tokens (id) ON DELETE SET NULL,
    created_by_admin_id   bigint REFERENCES admins (id) ON DELETE SET NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    revoked_at            timestamptz,
    CONSTRAINT partner_clients_client_id_key UNIQUE (client_id)
);
CREATE TRIGGER partner_clients_touch BEFORE UPDATE ON partner_clients FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

CREATE FUNCTION xtreamd_notify_partner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('xtreamd_changes', 'partner:' || OLD.id);
    ELSE
        PERFORM pg_notify('xtreamd_changes', 'partner:' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_clients_changed AFTER INSERT OR UPDATE OR DELETE ON partner_clients
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_partner();

-- The HS256 keys of partner access tokens, by key id "pk<id>". The key material is never
-- stored: every instance derives it from the shared token secret and the key id. Exactly one
-- key is current (retired_at NULL); rotating retires it, and a retired key still verifies the
-- tokens it signed before it retired, until they expire.
CREATE TABLE partner_signing_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
CREATE UNIQUE INDEX partner_signing_keys_current_key ON partner_signing_keys ((true)) WHERE retired_at IS NULL;
INSERT INTO partner_signing_keys DEFAULT VALUES;

CREATE FUNCTION xtreamd_notify_partner_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('xtreamd_changes', 'partner_key:' || NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_signing_keys_changed AFTER INSERT OR UPDATE ON partner_signing_keys
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_partner_key();

-- Revoked partner access tokens (by jti) and media-token sessions (seed 001's logout), kept
-- until the revoked token would have expired anyway (expires_at).
CREATE TABLE partner_revocations (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('access_token', 'media_session')),
    token_id   bytea NOT NULL CHECK (length(token_id) = 16),
    partner_id bigint REFERENCES partner_clients (id) ON DELETE CASCADE,
    line_id    bigint, -- no reference: the line may go, the revocation stays until it expires
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partner_revocations_kind_token_id_key UNIQUE (kind, token_id)
);
CREATE INDEX partner_revocations_expires_at_idx ON partner_revocations (kind, expires_at);

CREATE FUNCTION xtreamd_notify_partner_revocation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'access_token' THEN
        PERFORM pg_notify('xtreamd_changes', 'partner_token:' || encode(NEW.token_id, 'hex'));
    ELSE
        PERFORM pg_notify('xtreamd_changes', 'media_session:' || encode(NEW.token_id, 'hex'));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_revocations_added AFTER INSERT ON partner_revocations
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_partner_revocation();

---- create above / drop below ----

DROP TABLE partner_revocations;
DROP FUNCTION xtreamd_notify_partner_revocation();
DROP TABLE partner_signing_keys;
DROP FUNCTION xtreamd_notify_partner_key();
DROP TABLE partner_clients;
DROP FUNCTION xtreamd_notify_partner();
DROP TABLE partner_registration_tokens;
