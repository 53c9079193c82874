-- Second-screen activation (issue 15; seed 001's authentication by code, RFC 8628's device
-- authorization grant): the codes a TV app or MAG box shows, and the per-device credentials an
-- approved code hands out. (Assigned number 012; 010 here, after partners' 009, because tern
-- refuses gaps on this branch.)

-- A device credential: an Xtream username and password of its own (kind xtream), used by player
-- apps exactly like a line's, or a MAG box's MAC bound to the line (kind mag, the mag_devices
-- row it made). Either plays as its line and shares the line's max_connections. Revoking one
-- deletes its row; the trigger NOTIFYs line:<id>, so every instance drops the cached
-- credential and re-decides the line's open streams.
CREATE TABLE device_credentials (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line_id       bigint NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('xtream', 'mag')),
    -- The same rule as lines.username: it travels in URL paths.
    username      text CHECK (username ~ '^[^/?#%\s\\]{1,128}$'),
    password_hash text CHECK (password_hash LIKE '$argon2id$%'),
    mag_device_id bigint REFERENCES mag_devices (id) ON DELETE CASCADE,
    -- Who asked (the app's OAuth client id) and for which device (its own stable identifier,
    -- AP-Device-Identifier in seed 001; a MAG box's MAC).
    client_id     text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    device_id     text NOT NULL CHECK (device_id ~ '^[ -~]{1,128}$'),
    device_name   text NOT NULL DEFAULT '' CHECK (length(device_name) <= 64),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_credentials_username_key UNIQUE (username),
    CONSTRAINT device_credentials_mag_device_id_key UNIQUE (mag_device_id),
    CONSTRAINT device_credentials_xtream_has_password
        CHECK ((kind = 'xtream') = (username IS NOT NULL AND password_hash IS NOT NULL)),
    CONSTRAINT device_credentials_mag_has_device CHECK ((kind = 'mag') = (mag_device_id IS NOT NULL))
);
CREATE INDEX device_credentials_line_id_idx ON device_credentials (line_id);
CREATE INDEX device_credentials_device_idx ON device_credentials (client_id, device_id);
CREATE TRIGGER device_credentials_changed AFTER INSERT OR UPDATE OR DELETE ON device_credentials
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('line_id');

-- A player logs in with a username that names either a line or a device credential, never
-- both: each insert or rename checks the other table, under a transaction lock on the name so
-- that two concurrent writers of one name cannot both pass. The refusal is the unique
-- violation of the writer's own key, which the store already reads as a taken username.
CREATE FUNCTION xtreamd_login_name_free() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.username IS NULL THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('xtreamd login name ' || NEW.username, 0));
    IF TG_TABLE_NAME = 'lines' THEN
        IF EXISTS (SELECT 1 FROM device_credentials WHERE username = NEW.username) THEN
            RAISE EXCEPTION 'login name taken by a device credential'
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'lines_username_key';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM lines WHERE username = NEW.username) THEN
        RAISE EXCEPTION 'login name taken by a line'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'device_credentials_username_key';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER lines_login_name BEFORE INSERT OR UPDATE OF username ON lines
    FOR EACH ROW EXECUTE FUNCTION xtreamd_login_name_free();
CREATE TRIGGER device_credentials_login_name BEFORE INSERT OR UPDATE OF username ON device_credentials
    FOR EACH ROW EXECUTE FUNCTION xtreamd_login_name_free();

-- A device authorization request. Both codes are kept only as keyed hashes (HMAC-SHA256 under
-- a key derived from the token secret): the user code has ~34 bits, which a plain digest in a
-- leaked dump would not protect. status moves pending → approved → issued (the credential was
-- handed out, exactly once), or to denied, or to superseded when the same device asks again;
-- expiry is expires_at, not a status. interval_s grows by 5 s each time the device polls faster
-- than it (RFC 8628 slow_down); polled_at is the last poll, in database time like expires_at.
CREATE TABLE device_codes (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_code_hash bytea NOT NULL CHECK (length(device_code_hash) = 32),
    user_code_hash   bytea NOT NULL CHECK (length(user_code_hash) = 32),
    client_id        text NOT NULL CHECK (client_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
    kind             text NOT NULL CHECK (kind IN ('xtream', 'mag')),
    device_id        text NOT NULL CHECK (device_id ~ '^[ -~]{1,128}$'),
    device_name      text NOT NULL DEFAULT '' CHECK (length(device_name) <= 64),
    status           text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'denied', 'issued', 'superseded')),
    line_id          bigint REFERENCES lines (id) ON DELETE CASCADE,
    credential_id    bigint REFERENCES device_credentials (id) ON DELETE SET NULL,
    interval_s       integer NOT NULL CHECK (interval_s BETWEEN 1 AND 1800),
    polled_at        timestamptz,
    client_ip        inet,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    decided_at       timestamptz,
    CONSTRAINT device_codes_device_code_hash_key UNIQUE (device_code_hash),
    CONSTRAINT device_codes_approved_has_line CHECK (status NOT IN ('approved', 'issued') OR line_id IS NOT NULL)
);
-- A pending user code is unique (a collision makes the issuer draw again), and a device has at
-- most one live code: a new one supersedes it in the same transaction.
CREATE UNIQUE INDEX device_codes_user_code_key ON device_codes (user_code_hash) WHERE status = 'pending';
CREATE UNIQUE INDEX device_codes_live_device_key ON device_codes (client_id, device_id)
    WHERE status IN ('pending', 'approved');
CREATE INDEX device_codes_expires_at_idx ON device_codes (expires_at);
CREATE INDEX device_codes_credential_id_idx ON device_codes (credential_id) WHERE credential_id IS NOT NULL;

---- create above / drop below ----

DROP TABLE device_codes;
DROP TRIGGER lines_login_name ON lines;
DROP TABLE device_credentials;
DROP FUNCTION xtreamd_login_name_free();
