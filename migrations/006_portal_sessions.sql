-- MAG portal sessions (app/portal, internal/mag). A handshake stores the SHA-256 of the
-- session token on the device (003_lines.sql); here it gains an expiry, renewed while the box
-- uses the portal, and a verified flag for devices locked to their serial number and ids: a
-- locked device's session is usable only after get_profile (or do_auth) proved those ids.

ALTER TABLE mag_devices
    ADD COLUMN token_expires_at timestamptz,
    ADD COLUMN token_verified   boolean NOT NULL DEFAULT false;

-- A token names one session of one device: the same token never opens another MAC's session.
CREATE UNIQUE INDEX mag_devices_token_sha256_key ON mag_devices (token_sha256) WHERE token_sha256 IS NOT NULL;

-- Using the portal writes the device row: the token's renewal, the watchdog time, favourites,
-- the last channel, the box's model and firmware. None of these changes what a check or a cache
-- reads, and a box zapping channels must not drop its line's caches on every instance each
-- time, so those writes send no NOTIFY. Everything else (binding, lock, a new session token)
-- still names the line.
DROP TRIGGER mag_devices_changed ON mag_devices;
CREATE TRIGGER mag_devices_changed AFTER INSERT OR DELETE ON mag_devices
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('line_id');
CREATE TRIGGER mag_devices_updated AFTER UPDATE ON mag_devices
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - ARRAY['token_expires_at', 'token_verified', 'last_watchdog_at', 'fav_channels',
            'last_itv_id', 'stb_type', 'image_version', 'firmware', 'hw_version', 'locale', 'timezone',
            'parent_password', 'updated_at'])
        IS DISTINCT FROM
          (to_jsonb(NEW) - ARRAY['token_expires_at', 'token_verified', 'last_watchdog_at', 'fav_channels',
            'last_itv_id', 'stb_type', 'image_version', 'firmware', 'hw_version', 'locale', 'timezone',
            'parent_password', 'updated_at']))
    EXECUTE FUNCTION xtreamd_notify_line('line_id');

-- watchdog/get_events reads a device's oldest pending event and counts the pending ones: the
-- partial index of 003 (device_id, id) WHERE delivered_at IS NULL serves both.

---- create above / drop below ----

DROP TRIGGER mag_devices_updated ON mag_devices;
DROP TRIGGER mag_devices_changed ON mag_devices;
CREATE TRIGGER mag_devices_changed AFTER INSERT OR UPDATE OR DELETE ON mag_devices
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('line_id');
DROP INDEX mag_devices_token_sha256_key;
ALTER TABLE mag_devices DROP COLUMN token_verified, DROP COLUMN token_expires_at;
