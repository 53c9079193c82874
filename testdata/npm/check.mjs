// Runs every method of the npm client @iptv/xtream-api with its standardized serializer
// against a player_api.php server (app/player TestXtreamAPIClient starts one on loopback):
//
//	XTREAM_URL=http://127.0.0.1:8080 XTREAM_USER=alice XTREAM_PASS=secret node check.mjs
//
// A method fails when it throws, when it returns nothing, or when a field of its standardized
// answer is undefined, NaN or an invalid Date — except the fields listed in `absent`, which the
// serializer reads from keys the server has no data for. Lists must not be empty (an empty
// fixture would prove nothing), and getMovie, getShow and the EPG methods run for every id
// the lists return. Prints one JSON summary line; exits 1 on any failure.
import { Xtream } from '@iptv/xtream-api';
import { standardizedSerializer } from '@iptv/xtream-api/standardized';

// Fields the server leaves out on purpose, by method: XUI extras with no source in our catalog
// (subtitles, Kinopoisk), "cover" (backdrop_path[0]) of a title without backdrops, or episode
// metadata the stored info may lack.
const absent = {
  getMovie: ['informationUrl', 'subtitles', 'cover'],
  getShows: ['[].cover'],
  getShow: ['cover', 'seasons[].episodes[].subtitles', 'seasons[].episodes[].tmdbId', 'seasons[].episodes[].video',
    'seasons[].episodes[].audio', 'seasons[].episodes[].bitrate', 'seasons[].episodes[].plot',
    'seasons[].episodes[].poster', 'seasons[].episodes[].voteAverage', 'seasons[].episodes[].cover',
    'seasons[].episodes[].duration', 'seasons[].episodes[].durationFormatted'],
  // The XC 2.9 short EPG spells "end" as local time; the serializer reads XUI's Unix "end".
  getShortEPG: ['[].end'],
};

const { XTREAM_URL: url, XTREAM_USER: username, XTREAM_PASS: password } = process.env;
const xtream = new Xtream({ url, username, password, serializer: standardizedSerializer });
const failures = [];
const calls = {};

// bad lists the paths under v that are undefined, NaN or an invalid Date (array indexes
// collapse to [] so that one allowance covers every element).
function bad(v, path, out) {
  if (v === undefined) out.push([path, 'undefined']);
  else if (typeof v === 'number' && Number.isNaN(v)) out.push([path, 'NaN']);
  else if (v instanceof Date) { if (Number.isNaN(v.getTime())) out.push([path, 'an invalid date']); }
  else if (Array.isArray(v)) v.forEach((e) => bad(e, path + '[]', out));
  else if (v !== null && typeof v === 'object') for (const [k, e] of Object.entries(v)) bad(e, path ? `${path}.${k}` : k, out);
  return out;
}

async function check(method, args, { list = false } = {}) {
  const name = args === undefined ? method : `${method}(${JSON.stringify(args)})`;
  calls[method] = (calls[method] ?? 0) + 1;
  try {
    const got = await xtream[method](args);
    if (got === undefined || got === null) throw new Error('no answer');
    if (list && (!Array.isArray(got) || got.length === 0)) throw new Error('empty list');
    const allowed = new Set(absent[method] ?? []);
    const missing = new Set(bad(got, '', []).filter(([p]) => !allowed.has(p)).map(([p, why]) => `${p} is ${why}`));
    if (missing.size > 0) throw new Error([...missing].join(', '));
    return got;
  } catch (err) {
    failures.push(`${name}: ${err.message}`);
    return list ? [] : undefined;
  }
}

await check('getProfile');
await check('getServerInfo');
for (const m of ['getChannelCategories', 'getMovieCategories', 'getShowCategories']) await check(m, undefined, { list: true });
const channels = await check('getChannels', undefined, { list: true });
const movies = await check('getMovies', undefined, { list: true });
const shows = await check('getShows', undefined, { list: true });
const firstCategory = channels.find((c) => c.categoryIds.length > 0)?.categoryIds[0];
if (firstCategory) await check('getChannels', { categoryId: firstCategory }, { list: true });
for (const m of movies) await check('getMovie', { movieId: m.id });
for (const s of shows) await check('getShow', { showId: s.id });
for (const c of channels) {
  await check('getShortEPG', { channelId: c.id });
  await check('getFullEPG', { channelId: c.id });
}
console.log(JSON.stringify({ calls, failures }));
process.exit(failures.length > 0 ? 1 : 0);
