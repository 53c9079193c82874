-- Lines (subscriber accounts) with every per-line control of spec section 6.3, their ordered
-- bouquets, and MAG devices bound to lines. Any change NOTIFYs line:<id>, so every instance drops
-- its cached credential and line for that id.

CREATE TABLE lines (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Usernames travel in URL paths (/live/{user}/{pass}/...): no separators, no whitespace.
    username               text NOT NULL CHECK (username ~ '^[^/?#%\s\\]{1,128}$'),
    password_hash          text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    exp_date               timestamptz, -- NULL: never expires
    banned                 boolean NOT NULL DEFAULT false, -- by an admin (XC admin_enabled = 0)
    disabled               boolean NOT NULL DEFAULT false, -- by the reseller/owner (XC enabled = 0)
    max_connections        integer NOT NULL DEFAULT 1 CHECK (max_connections BETWEEN 0 AND 10000), -- 0: unlimited
    is_trial               boolean NOT NULL DEFAULT false,
    is_restreamer          boolean NOT NULL DEFAULT false,
    is_mag                 boolean NOT NULL DEFAULT false,
    allowed_ips            cidr[] NOT NULL DEFAULT '{}', -- empty: any address
    allowed_user_agents    text[] NOT NULL DEFAULT '{}', -- empty: any; else whole-string match
    bypass_ua_block        boolean NOT NULL DEFAULT false, -- ignore the global blocked UA list
    forced_country         text CHECK (forced_country ~ '^[A-Z]{2}$'), -- NULL: the global list applies
    isp_lock               boolean NOT NULL DEFAULT false,
    isp_name               text, -- recorded at the first accepted use of an ISP-locked line
    isp_asn                bigint CHECK (isp_asn BETWEEN 0 AND 4294967295),
    allowed_output_formats text[] NOT NULL DEFAULT '{m3u8,ts,rtmp}'
        CHECK (allowed_output_formats <@ '{m3u8,ts,rtmp}'::text[]),
    admin_notes            text NOT NULL DEFAULT '',
    reseller_notes         text NOT NULL DEFAULT '',
    owner_admin_id         bigint REFERENCES admins (id) ON DELETE SET NULL,
    last_ip                inet,
    last_seen_at           timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT lines_username_key UNIQUE (username)
);
CREATE INDEX lines_exp_date_idx ON lines (exp_date) WHERE exp_date IS NOT NULL;
CREATE INDEX lines_owner_admin_id_idx ON lines (owner_admin_id);
CREATE TRIGGER lines_touch BEFORE UPDATE ON lines FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();
CREATE TRIGGER lines_changed AFTER INSERT OR UPDATE OR DELETE ON lines
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('id');

-- A line's bouquets, in the order its lists are built.
CREATE TABLE line_bouquets (
    line_id    bigint NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
    bouquet_id bigint NOT NULL REFERENCES bouquets (id) ON DELETE CASCADE,
    position   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (line_id, bouquet_id)
);
CREATE INDEX line_bouquets_bouquet_id_idx ON line_bouquets (bouquet_id);
CREATE TRIGGER line_bouquets_changed AFTER INSERT OR UPDATE OR DELETE ON line_bouquets
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('line_id');

-- A MAG box, bound to exactly one line. The portal handshake token is kept only as a SHA-256.
CREATE TABLE mag_devices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    line_id         bigint NOT NULL REFERENCES lines (id) ON DELETE CASCADE,
    mac             macaddr NOT NULL,
    serial_number   text NOT NULL DEFAULT '',
    device_id       text NOT NULL DEFAULT '',
    device_id2      text NOT NULL DEFAULT '',
    hw_version      text NOT NULL DEFAULT '',
    stb_type        text NOT NULL DEFAULT '',
    image_version   text NOT NULL DEFAULT '',
    firmware        text NOT NULL DEFAULT '',
    lock_device     boolean NOT NULL DEFAULT false,
    token_sha256    bytea CHECK (length(token_sha256) = 32),
    token_issued_at timestamptz,
    locale          text NOT NULL DEFAULT 'en',
    timezone        text NOT NULL DEFAULT '',
    parent_password text NOT NULL DEFAULT '0000' CHECK (parent_password ~ '^[0-9]{0,8}$'),
    fav_channels    jsonb NOT NULL DEFAULT '{"live": [], "movie": [], "radio_streams": [], "series": []}'
        CHECK (jsonb_typeof(fav_channels) = 'object'),
    last_itv_id     bigint,
    last_watchdog_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mag_devices_mac_key UNIQUE (mac),
    CONSTRAINT mag_devices_line_id_key UNIQUE (line_id)
);
CREATE TRIGGER mag_devices_touch BEFORE UPDATE ON mag_devices FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();
CREATE TRIGGER mag_devices_changed AFTER INSERT OR UPDATE OR DELETE ON mag_devices
    FOR EACH ROW EXECUTE FUNCTION xtreamd_notify_line('line_id');

-- Events queued for a MAG box, delivered by watchdog/get_events.
CREATE TABLE mag_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id       bigint NOT NULL REFERENCES mag_devices (id) ON DELETE CASCADE,
    event           text NOT NULL CHECK (event IN ('send_msg', 'reboot', 'reload_portal', 'play_channel', 'cut_off')),
    message         text NOT NULL DEFAULT '',
    need_confirm    boolean NOT NULL DEFAULT false,
    reboot_after_ok boolean NOT NULL DEFAULT false,
    channel_id      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    confirmed_at    timestamptz
);
CREATE INDEX mag_events_pending_idx ON mag_events (device_id, id) WHERE delivered_at IS NULL;

---- create above / drop below ----

DROP TABLE mag_events;
DROP TABLE mag_devices;
DROP TABLE line_bouquets;
DROP TABLE lines;
