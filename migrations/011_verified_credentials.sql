-- Verified-credential records, shared by every instance: a line's password verified recently,
-- so an instance that has just started (a restart, a failover) admits a known viewer with one
-- indexed lookup instead of an argon2id verification each.
--
-- mac is HMAC-SHA256 under a server-side pepper that is never stored here (internal/credential
-- Key) of the username, the password and the stored hash: without the pepper a row cannot be
-- computed, forged or used to test password guesses, so this table adds nothing to brute-force
-- beyond the argon2id hashes themselves. Because the stored hash is part of the MAC, a row stops
-- matching by itself when the password or username changes; the trigger below deletes it in the
-- same transaction anyway, and a deleted line takes its row along.
--
-- A logged table, not UNLOGGED: writes are rare (a first login, then a refresh now and then per
-- line), and a logged table survives a PostgreSQL crash and reaches standbys, so a database
-- crash or failover does not turn into a hashing storm on every instance.
CREATE TABLE verified_credentials (
    line_id    bigint PRIMARY KEY REFERENCES lines (id) ON DELETE CASCADE,
    mac        bytea NOT NULL CHECK (length(mac) = 32),
    expires_at timestamptz NOT NULL
);
CREATE INDEX verified_credentials_expires_at_idx ON verified_credentials (expires_at);

CREATE FUNCTION xtreamd_drop_verified_credential() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM verified_credentials WHERE line_id = OLD.id;
    RETURN NULL;
END
$$;

-- Only the inputs of the MAC: a ban, an expiry or a recorded ISP leaves the record (the line
-- row itself is read and checked on every request).
CREATE TRIGGER lines_drop_verified_credential AFTER UPDATE OF username, password_hash ON lines
    FOR EACH ROW
    WHEN (OLD.username IS DISTINCT FROM NEW.username OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION xtreamd_drop_verified_credential();

---- create above / drop below ----

DROP TRIGGER lines_drop_verified_credential ON lines;
DROP FUNCTION xtreamd_drop_verified_credential();
DROP TABLE verified_credentials;
