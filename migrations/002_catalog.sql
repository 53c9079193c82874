-- Catalog: categories, streams (live, radio, movies, episodes) with ordered sources, series with
-- seasons, bouquets, and the EPG. Any write bumps the catalog (or epg) version and NOTIFYs, so
-- every instance rebuilds its in-memory snapshot.

CREATE TABLE categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('live', 'movie', 'series', 'radio')),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    position   integer NOT NULL DEFAULT 0,
    is_adult   boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_kind_name_key UNIQUE (kind, name)
);

-- One id space for everything playable, as in the original panel: /live, /movie and /series
-- URLs all carry a stream id. kind is fixed once referenced (episodes and bouquet entries
-- reference (id, kind)).
CREATE TABLE streams (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('live', 'created_live', 'radio', 'movie', 'episode')),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 512),
    category_id         bigint REFERENCES categories (id) ON DELETE SET NULL,
    icon                text NOT NULL DEFAULT '',
    -- XMLTV channel id (tvg-id). Not a foreign key: playlists name channels before their EPG arrives.
    epg_channel_id      text CHECK (epg_channel_id <> ''),
    custom_sid          text NOT NULL DEFAULT '',
    -- direct_source: clients get the first source URL instead of a relayed one.
    direct_source       boolean NOT NULL DEFAULT false,
    tv_archive_days     integer NOT NULL DEFAULT 0 CHECK (tv_archive_days BETWEEN 0 AND 365),
    -- URL template for catch-up; placeholders are expanded by the stream surface.
    catchup_source      text CHECK (catchup_source <> ''),
    container_extension text CHECK (container_extension ~ '^[a-z0-9]{1,8}$'),
    -- VOD / episode metadata as served in get_vod_info / get_series_info (always an object).
    info                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(info) = 'object'),
    enabled             boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT streams_id_kind_key UNIQUE (id, kind),
    CONSTRAINT streams_vod_has_container CHECK (kind NOT IN ('movie', 'episode') OR container_extension IS NOT NULL)
);
CREATE INDEX streams_category_id_idx ON streams (category_id);
CREATE INDEX streams_epg_channel_id_idx ON streams (epg_channel_id);
CREATE TRIGGER streams_touch BEFORE UPDATE ON streams FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

-- Ordered sources of a stream; the relay tries them in position order and fails over.
CREATE TABLE stream_sources (
    stream_id bigint NOT NULL REFERENCES streams (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position >= 0),
    url       text NOT NULL CHECK (url ~ '^(https?|file)://' AND length(url) <= 4096),
    -- ts: HTTP MPEG-TS; hls: HTTP HLS playlist; file: a local file (looped for live); auto: guess from the URL.
    kind      text NOT NULL DEFAULT 'auto' CHECK (kind IN ('auto', 'ts', 'hls', 'file')),
    PRIMARY KEY (stream_id, position)
);

CREATE TABLE series (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 512),
    category_id      bigint REFERENCES categories (id) ON DELETE SET NULL,
    cover            text NOT NULL DEFAULT '',
    plot             text NOT NULL DEFAULT '',
    cast_list        text NOT NULL DEFAULT '',
    director         text NOT NULL DEFAULT '',
    genre            text NOT NULL DEFAULT '',
    release_date     date,
    rating           numeric(4, 2) NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 10),
    backdrop_paths   text[] NOT NULL DEFAULT '{}',
    youtube_trailer  text NOT NULL DEFAULT '',
    episode_run_time integer NOT NULL DEFAULT 0 CHECK (episode_run_time >= 0),
    tmdb_id          bigint,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX series_category_id_idx ON series (category_id);
CREATE TRIGGER series_touch BEFORE UPDATE ON series FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

-- Season metadata (optional: episodes may exist without a seasons row). Season 0 = specials.
CREATE TABLE seasons (
    series_id     bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    season_number integer NOT NULL CHECK (season_number >= 0),
    name          text NOT NULL DEFAULT '',
    overview      text NOT NULL DEFAULT '',
    air_date      date,
    cover         text NOT NULL DEFAULT '',
    cover_big     text NOT NULL DEFAULT '',
    vote_average  numeric(4, 2) NOT NULL DEFAULT 0,
    tmdb_id       bigint,
    PRIMARY KEY (series_id, season_number)
);

-- An episode is a stream of kind 'episode' (its id is the one in /series/u/p/{id}.{ext}).
CREATE TABLE episodes (
    stream_id      bigint PRIMARY KEY,
    stream_kind    text NOT NULL DEFAULT 'episode' CHECK (stream_kind = 'episode'),
    series_id      bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    season_number  integer NOT NULL CHECK (season_number >= 0),
    episode_number integer NOT NULL CHECK (episode_number >= 0),
    FOREIGN KEY (stream_id, stream_kind) REFERENCES streams (id, kind) ON DELETE CASCADE,
    CONSTRAINT episodes_series_season_episode_key UNIQUE (series_id, season_number, episode_number)
);

CREATE TABLE bouquets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    position   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bouquets_name_key UNIQUE (name)
);
CREATE TRIGGER bouquets_touch BEFORE UPDATE ON bouquets FOR EACH ROW EXECUTE FUNCTION xtreamd_touch();

-- Ordered channels (live, radio, movies) of a bouquet. Episodes enter bouquets through their series.
CREATE TABLE bouquet_streams (
    bouquet_id  bigint NOT NULL REFERENCES bouquets (id) ON DELETE CASCADE,
    stream_id   bigint NOT NULL,
    stream_kind text NOT NULL CHECK (stream_kind <> 'episode'),
    position    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bouquet_id, stream_id),
    FOREIGN KEY (stream_id, stream_kind) REFERENCES streams (id, kind) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX bouquet_streams_stream_id_idx ON bouquet_streams (stream_id);
CREATE INDEX bouquet_streams_order_idx ON bouquet_streams (bouquet_id, position, stream_id);

CREATE TABLE bouquet_series (
    bouquet_id bigint NOT NULL REFERENCES bouquets (id) ON DELETE CASCADE,
    series_id  bigint NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    position   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (bouquet_id, series_id)
);
CREATE INDEX bouquet_series_series_id_idx ON bouquet_series (series_id);

CREATE TRIGGER categories_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON categories
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER streams_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON streams
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER stream_sources_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON stream_sources
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER series_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON series
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER seasons_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON seasons
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER episodes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON episodes
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER bouquets_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bouquets
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER bouquet_streams_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bouquet_streams
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');
CREATE TRIGGER bouquet_series_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON bouquet_series
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('catalog');

-- EPG: configured XMLTV sources, channels by XMLTV id, and programmes.
CREATE TABLE epg_sources (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 256),
    url             text NOT NULL CHECK (url ~ '^(https?|file)://' AND length(url) <= 4096),
    enabled         boolean NOT NULL DEFAULT true,
    last_fetched_at timestamptz,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT epg_sources_url_key UNIQUE (url)
);

CREATE TABLE epg_channels (
    id           text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 256),
    display_name text NOT NULL DEFAULT '',
    icon         text NOT NULL DEFAULT '',
    source_id    bigint REFERENCES epg_sources (id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE epg_programmes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id  text NOT NULL REFERENCES epg_channels (id) ON DELETE CASCADE ON UPDATE CASCADE,
    start_at    timestamptz NOT NULL,
    stop_at     timestamptz NOT NULL,
    title       text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    lang        text NOT NULL DEFAULT '',
    category    text NOT NULL DEFAULT '',
    CONSTRAINT epg_programmes_stop_after_start CHECK (stop_at > start_at),
    CONSTRAINT epg_programmes_channel_start_key UNIQUE (channel_id, start_at)
);
CREATE INDEX epg_programmes_channel_stop_idx ON epg_programmes (channel_id, stop_at);
CREATE INDEX epg_programmes_start_idx ON epg_programmes (start_at);

CREATE TRIGGER epg_channels_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON epg_channels
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('epg');
CREATE TRIGGER epg_programmes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON epg_programmes
    FOR EACH STATEMENT EXECUTE FUNCTION xtreamd_bump_version('epg');

---- create above / drop below ----

DROP TABLE epg_programmes;
DROP TABLE epg_channels;
DROP TABLE epg_sources;
DROP TABLE bouquet_series;
DROP TABLE bouquet_streams;
DROP TABLE bouquets;
DROP TABLE episodes;
DROP TABLE seasons;
DROP TABLE series;
DROP TABLE stream_sources;
DROP TABLE streams;
DROP TABLE categories;
