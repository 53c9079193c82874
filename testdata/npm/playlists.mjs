// Reads a server's get.php playlists with the npm M3U parser @iptv/playlist and its xmltv.php
// guide with the npm XMLTV parser @iptv/xmltv, the parsers web and Electron IPTV players use,
// and prints what they parsed as one JSON line (app/player TestPlaylistParsers compares it with
// the player API's lists):
//
//	XTREAM_URL=http://127.0.0.1:8080 XTREAM_USER=alice XTREAM_PASS=secret node playlists.mjs
//
// Exits 1 when a download fails or a parser throws.
import { parseM3U } from '@iptv/playlist';
import { parseXmltv } from '@iptv/xmltv';

const { XTREAM_URL: base, XTREAM_USER: username, XTREAM_PASS: password } = process.env;

async function fetchText(path, params) {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries({ username, password, ...params })) u.searchParams.set(k, v);
  const res = await fetch(u);
  if (res.status !== 200) throw new Error(`${path} ${JSON.stringify(params)}: status ${res.status}`);
  return res.text();
}

try {
  const m3u = {};
  for (const [name, params] of Object.entries({
    m3u_plus_ts: { type: 'm3u_plus', output: 'ts' },
    m3u_plus_m3u8: { type: 'm3u_plus', output: 'm3u8' },
    m3u_ts: { type: 'm3u', output: 'ts' },
  })) {
    const { channels, headers } = parseM3U(await fetchText('/get.php', params));
    m3u[name] = {
      headers: headers ?? {},
      channels: channels.map((c) => ({
        name: c.name ?? null, tvgId: c.tvgId ?? null, tvgName: c.tvgName ?? null, tvgLogo: c.tvgLogo ?? null,
        groupTitle: c.groupTitle ?? null, catchup: c.catchup ?? null, catchupDays: c.catchupDays ?? null,
        duration: c.duration ?? null, url: c.url ?? null,
      })),
    };
  }
  const guide = parseXmltv(await fetchText('/xmltv.php', {}));
  const text = (list) => (list ?? []).map((e) => e._value ?? '');
  const xmltv = {
    channels: (guide.channels ?? []).map((c) => ({
      id: c.id, displayNames: text(c.displayName), icons: (c.icon ?? []).map((i) => i.src ?? ''),
    })),
    // Dates as Unix seconds: what the parser made of "YYYYMMDDhhmmss +zzzz".
    programmes: (guide.programmes ?? []).map((p) => ({
      channel: p.channel, start: p.start.getTime() / 1000, stop: p.stop.getTime() / 1000,
      titles: text(p.title), descs: text(p.desc),
    })),
  };
  console.log(JSON.stringify({ m3u, xmltv }));
} catch (err) {
  console.error(err.stack ?? String(err));
  process.exit(1);
}
