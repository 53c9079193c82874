-- The admin API (issue 12): admin sessions (refresh-token families) whose revocation every
-- instance hears, API key scopes, reseller levels with credits that never go negative, trial
-- limits, packages, the credit ledger, and the indexes the line lists page on.

-- Resellers may have sub-resellers: parent_id is the reseller above (NULL: top level). A
-- reseller's trials are bounded per rolling day by max_trials_per_day.
ALTER TABLE admins
    ADD COLUMN parent_id bigint REFERENCES admins (id) ON DELETE SET NULL,
    ADD COLUMN max_trials_per_day integer NOT NULL DEFAULT 5 CHECK (max_trials_per_day BETWEEN 0 AND 100000),
    ADD CONSTRAINT admins_credits_nonnegative CHECK (credits >= 0),
    ADD CONSTRAINT admins_not_own_parent CHECK (parent_id IS DISTINCT FROM id);
CREATE INDEX admins_parent_id_idx ON admins (parent_id) WHERE parent_id IS NOT NULL;

-- What an API key may do: "lines:read", "lines:write", ... or "*" (everything its admin may).
ALTER TABLE api_keys
    ADD COLUMN scopes text[] NOT NULL DEFAULT '{}' CHECK (array_position(scopes, NULL) IS NULL);

-- One row per admin login: the family of refresh tokens that login rotates through. Revoking
-- it (logout, a reused refresh token, a disabled admin) ends the family's access tokens on
-- every instance: the trigger below sends admin_session:<id>.
-- A deleted admin's sessions stay (without admin) until swept, so an instance that starts
-- later still loads their revocation.
CREATE TABLE admin_sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    admin_id      bigint REFERENCES admins (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    refreshed_at  timestamptz,
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT '' CHECK (length(revoke_reason) <= 64),
    client_ip     inet,
    user_agent    text NOT NULL DEFAULT '' CHECK (length(user_agent) <= 512)
);
CREATE INDEX admin_sessions_admin_id_idx ON admin_sessions (admin_id) WHERE revoked_at IS NULL;
CREATE INDEX admin_sessions_revoked_at_idx ON admin_sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);

CREATE FUNCTION xtreamd_notify_admin_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('xtreamd_changes', 'admin_session:' || OLD.id);
    ELSE
        PERFORM pg_notify('xtreamd_changes', 'admin_session:' || NEW.id);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER admin_sessions_revoked AFTER UPDATE OF revoked_at ON admin_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL)
    EXECUTE FUNCTION xtreamd_notify_admin_session();
CREATE TRIGGER admin_sessions_deleted AFTER DELETE ON admin_sessions
    FOR EACH ROW WHEN (OLD.revoked_at IS NULL)
    EXECUTE FUNCTION xtreamd_notify_admin_session();

-- A refresh token, kept only as its SHA-256 (256 random bits: a slow hash adds nothing). It is
-- used once: a second use is a theft, and revokes the whole family.
CREATE TABLE admin_refresh_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id   bigint NOT NULL REFERENCES admin_sessions (id) ON DELETE CASCADE,
    token_sha256 bytea NOT NULL CHECK (length(token_sha256) = 32),
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    CONSTRAINT admin_refresh_tokens_token_sha256_key UNIQUE (token_sha256)
);
CREATE INDEX admin_refresh_tokens_session_id_idx ON admin_refresh_tokens (session_id);

-- What a reseller sells: a duration, a connection limit, bouquets, a price in credits.
CREATE TABLE packages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    duration_hours  integer NOT NULL CHECK (duration_hours BETWEEN 1 AND 876000),
    max_connections integer NOT NULL DEFAULT 1 CHECK (max_connections BETWEEN 0 AND 10000),
    is_trial        boolean NOT NULL DEFAULT false,
    credits         bigint NOT NULL DEFAULT 0 CHECK (credits BETWEEN 0 AND 1000000000),
    enabled         boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT packages_name_key UNIQUE (name)
);
CREATE TRIGGER packages_touch BEFORE UPDATE ON packages FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

CREATE TABLE package_bouquets (
    package_id bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    bouquet_id bigint NOT NULL REFERENCES bouquets (id) ON DELETE CASCADE,
    position   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (package_id, bouquet_id)
);
CREATE INDEX package_bouquets_bouquet_id_idx ON package_bouquets (bouquet_id);

-- Every move of credits, written on the transaction that changes admins.credits (and the line
-- it pays for): balance_after is the balance the move left.
CREATE TABLE credit_ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    admin_id        bigint NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    delta           bigint NOT NULL,
    balance_after   bigint NOT NULL CHECK (balance_after >= 0),
    reason          text NOT NULL CHECK (reason IN ('line.create', 'line.extend', 'transfer.in', 'transfer.out', 'adjust')),
    is_trial        boolean NOT NULL DEFAULT false,
    line_id         bigint REFERENCES lines (id) ON DELETE SET NULL,
    package_id      bigint REFERENCES packages (id) ON DELETE SET NULL,
    counterparty_id bigint REFERENCES admins (id) ON DELETE SET NULL,
    actor_admin_id  bigint REFERENCES admins (id) ON DELETE SET NULL,
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 1024)
);
CREATE INDEX credit_ledger_admin_id_idx ON credit_ledger (admin_id, id DESC);
CREATE INDEX credit_ledger_trials_idx ON credit_ledger (admin_id, at) WHERE is_trial;

-- Line lists: username prefix search, sorting by creation, owners' pages.
CREATE INDEX lines_username_pattern_idx ON lines (username text_pattern_ops);
CREATE INDEX lines_created_at_id_idx ON lines (created_at, id);
CREATE INDEX lines_owner_admin_id_id_idx ON lines (owner_admin_id, id);
CREATE INDEX lines_exp_sort_idx ON lines ((coalesce(exp_date, 'infinity'::timestamptz)), id);
-- The status filters pick few lines out of many: small partial indexes find them without a scan.
CREATE INDEX lines_banned_idx ON lines (id) WHERE banned;
CREATE INDEX lines_disabled_idx ON lines (id) WHERE disabled;
CREATE INDEX lines_trial_idx ON lines (id) WHERE is_trial;

---- create above / drop below ----

DROP INDEX lines_trial_idx;
DROP INDEX lines_disabled_idx;
DROP INDEX lines_banned_idx;
DROP INDEX lines_exp_sort_idx;
DROP INDEX lines_owner_admin_id_id_idx;
DROP INDEX lines_created_at_id_idx;
DROP INDEX lines_username_pattern_idx;
DROP TABLE credit_ledger;
DROP TABLE package_bouquets;
DROP TABLE packages;
DROP TABLE admin_refresh_tokens;
DROP TABLE admin_sessions;
DROP FUNCTION xtreamd_notify_admin_session();
ALTER TABLE api_keys DROP COLUMN scopes;
ALTER TABLE admins
    DROP CONSTRAINT admins_not_own_parent,
    DROP CONSTRAINT admins_credits_nonnegative,
    DROP COLUMN max_trials_per_day,
    DROP COLUMN parent_id;
