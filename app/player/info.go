package player

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// Unknown or not-entitled ids answer empty containers of the right JSON kind instead of XC's
// `{"info":[]}` / `[]`, which strict clients cannot decode (spec §1.7, §1.9, §7 #10).
var (
	emptyVODInfo    = []byte(`{"info":{},"movie_data":{}}`)
	emptySeriesInfo = []byte(`{"seasons":[],"info":{},"episodes":{}}`)
)

// movieInfoDefaults are the keys every movie's "info" carries even when its stored metadata
// lacks them (a movie added without a TMDB lookup has none): @iptv/xtream-api's standardized
// getMovie reads them unconditionally (backdrop_path[0], tmdb_id.toString(), Number(age) …),
// and typed clients see the same zero values they would decode from an absent key. tmdb_id 0
// is "no id" (TMDB's start at 2), as for seasons. name, o_name and movie_image come from the
// stream (movieInfoDefaultsOf).
var movieInfoDefaults = []infoDefault{{"backdrop_path", "[]"}, {"tmdb_id", "0"}, {"description", `""`},
	{"plot", `""`}, {"country", `""`}, {"duration_secs", "0"}, {"duration", `"00:00:00"`}, {"rating", "0"},
	{"youtube_trailer", `""`}, {"mpaa_rating", `""`}, {"age", `""`}}

// movieInfoDefaultsOf is movieInfoDefaults plus the keys the stream itself supplies.
func movieInfoDefaultsOf(st *catalog.Stream) []infoDefault {
	name, icon := string(appendString(nil, st.Name)), string(appendString(nil, st.Icon))
	return append([]infoDefault{{"name", name}, {"o_name", name}, {"movie_image", icon}}, movieInfoDefaults...)
}

// appendVODInfo appends get_vod_info for movie id (spec §1.7): the stored metadata as "info"
// (always an object) and "movie_data" from the stream, with XUI's additions from ls.
func appendVODInfo(b []byte, ls *lists, ent *catalog.Entitlement, id int64) []byte {
	st, ok := ent.Stream(id)
	if !ok || st.StreamType() != "movie" {
		return append(b, emptyVODInfo...)
	}
	b = append(b, `{"info":`...)
	b = appendInfo(b, st.Info, movieInfoDefaultsOf(st))
	b = append(b, `,"movie_data":{"stream_id":`...)
	b = strconv.AppendInt(b, st.ID, 10)
	b = append(b, `,"name":`...)
	b = appendString(b, st.Name)
	b = append(b, `,"added":`...)
	b = appendIntString(b, st.AddedUnix)
	b = append(b, `,"category_id":`...)
	b = appendNullableString(b, st.CategoryIDString())
	b = append(b, `,"container_extension":`...)
	b = appendString(b, st.ContainerExtension)
	b = append(b, `,"custom_sid":`...)
	b = appendString(b, st.CustomSID)
	b = append(b, `,"direct_source":`...)
	b = appendString(b, st.DirectSourceURL())
	b = append(b, ls.movieXUI[st.Index]...)
	return append(b, "}"...)
}

// appendSeriesInfo appends get_series_info (spec §1.9, §7 #8/#9): seasons, the series' info,
// and episodes as an object keyed by season number — season 0 included, episode ids strings.
func appendSeriesInfo(b []byte, ent *catalog.Entitlement, id int64) []byte {
	if !ent.HasSeries(id) {
		return append(b, emptySeriesInfo...)
	}
	se, ok := ent.Snapshot().Series(id)
	if !ok {
		return append(b, emptySeriesInfo...)
	}
	b = append(b, `{"seasons":[`...)
	for i, sn := range se.Seasons {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendSeason(b, sn)
	}
	b = append(b, `],"info":`...)
	b = appendSeriesFields(b, se)
	b = append(b, `,"episodes":{`...)
	first := true
	for _, sn := range se.Seasons {
		if len(sn.Episodes) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = strconv.AppendInt(b, int64(sn.Number), 10)
		b = append(b, `":[`...)
		for j, ep := range sn.Episodes {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendEpisode(b, ep, sn.Number)
		}
		b = append(b, ']')
	}
	return append(b, "}}"...)
}

// appendSeason appends one "seasons" entry. A season known only from its episodes gets a
// generated name, so clients that list seasons from this array see every season.
func appendSeason(b []byte, sn *catalog.Season) []byte {
	b = append(b, `{"air_date":`...)
	b = appendString(b, sn.AirDate)
	b = append(b, `,"episode_count":`...)
	b = strconv.AppendInt(b, int64(len(sn.Episodes)), 10)
	b = append(b, `,"id":`...)
	b = strconv.AppendInt(b, sn.TMDBID, 10)
	b = append(b, `,"name":`...)
	name := sn.Name
	if name == "" {
		if sn.Number == 0 {
			name = "Specials"
		} else {
			name = "Season " + strconv.Itoa(int(sn.Number))
		}
	}
	b = appendString(b, name)
	b = append(b, `,"overview":`...)
	b = appendString(b, sn.Overview)
	b = append(b, `,"season_number":`...)
	b = strconv.AppendInt(b, int64(sn.Number), 10)
	b = append(b, `,"cover":`...)
	b = appendString(b, sn.Cover)
	b = append(b, `,"cover_big":`...)
	b = appendString(b, sn.CoverBig)
	b = append(b, `,"vote_average":`...)
	b = appendFloat(b, sn.VoteAverage)
	return append(b, '}')
}

// appendSeriesFields appends the series' "info": a get_series entry without num and
// series_id (spec §1.8, §1.9), then XUI's additions (series_id included).
func appendSeriesFields(b []byte, se *catalog.Series) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, se.Name)
	b = append(b, `,"cover":`...)
	b = appendString(b, se.Cover)
	b = append(b, `,"plot":`...)
	b = appendString(b, se.Plot)
	b = append(b, `,"cast":`...)
	b = appendString(b, se.Cast)
	b = append(b, `,"director":`...)
	b = appendString(b, se.Director)
	b = append(b, `,"genre":`...)
	b = appendString(b, se.Genre)
	b = append(b, `,"releaseDate":`...)
	b = appendString(b, se.ReleaseDate)
	b = append(b, `,"last_modified":`...)
	b = appendIntString(b, se.LastModifiedUnix)
	b = append(b, `,"rating":`...)
	b = appendString(b, se.RatingString)
	b = append(b, `,"rating_5based":`...)
	b = appendFloat(b, se.Rating5)
	b = append(b, `,"backdrop_path":[`...)
	for i, p := range se.BackdropPaths {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, p)
	}
	b = append(b, `],"youtube_trailer":`...)
	b = appendString(b, se.YoutubeTrailer)
	b = append(b, `,"episode_run_time":`...)
	b = appendIntString(b, int64(se.EpisodeRunTime))
	b = append(b, `,"category_id":`...)
	b = appendNullableString(b, se.CategoryIDString())
	b = append(b, `,"series_id":`...)
	b = strconv.AppendInt(b, se.ID, 10)
	b = append(b, `,"title":`...)
	b = appendString(b, se.Name)
	b = append(b, `,"year":`...)
	if y := yearOf(se.ReleaseDate); y != nil {
		b = appendString(b, *y)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"release_date":`...)
	b = appendString(b, se.ReleaseDate)
	b = append(b, `,"category_ids":[`...)
	if se.Category != nil {
		b = strconv.AppendInt(b, se.Category.ID, 10)
	}
	return append(b, "]}"...)
}

// appendEpisode appends one episode of get_series_info. episode_num is the stored episode
// number (XC counted 1, 2, 3 … within the season, which mislabels a season with a gap).
func appendEpisode(b []byte, ep *catalog.Stream, season int32) []byte {
	b = append(b, `{"id":`...)
	b = appendIntString(b, ep.ID)
	b = append(b, `,"episode_num":`...)
	num := int32(0)
	if ep.Episode != nil {
		num = ep.Episode.EpisodeNumber
	}
	b = strconv.AppendInt(b, int64(num), 10)
	b = append(b, `,"title":`...)
	b = appendString(b, ep.Name)
	b = append(b, `,"container_extension":`...)
	b = appendString(b, ep.ContainerExtension)
	b = append(b, `,"info":`...)
	b = appendInfo(b, ep.Info, nil)
	b = append(b, `,"custom_sid":`...)
	b = appendString(b, ep.CustomSID)
	b = append(b, `,"added":`...)
	b = appendIntString(b, ep.AddedUnix)
	b = append(b, `,"season":`...)
	b = strconv.AppendInt(b, int64(season), 10)
	b = append(b, `,"direct_source":`...)
	b = appendString(b, ep.DirectSourceURL())
	return append(b, '}')
}

// appendInfo appends stored movie/episode metadata as an object, repairing the shapes strict
// clients choke on (spec §1.7, §7 #8, #10): backdrop_path always an array of strings,
// video/audio objects, episode_run_time never null. Anything that is not an object is {}.
// Keys of defaults that the metadata lacks are added. Metadata that needs no repair is copied
// as stored.
func appendInfo(b []byte, raw json.RawMessage, defaults []infoDefault) []byte {
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &m) != nil || m == nil {
		raw, m = json.RawMessage("{}"), map[string]json.RawMessage{}
	}
	changed := false
	for _, d := range defaults {
		if _, ok := m[d.key]; !ok {
			m[d.key], changed = json.RawMessage(d.value), true
		}
	}
	if v, ok := m["backdrop_path"]; ok {
		if fixed, ok := stringArray(v); !ok {
			m["backdrop_path"], changed = fixed, true
		}
	}
	for _, k := range [...]string{"video", "audio"} {
		if v, ok := m[k]; ok && !isObject(v) {
			m[k], changed = json.RawMessage("{}"), true
		}
	}
	if v, ok := m["episode_run_time"]; ok && string(bytes.TrimSpace(v)) == "null" {
		m["episode_run_time"], changed = json.RawMessage("0"), true
	}
	if !changed {
		return append(b, raw...)
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil { // values came out of a decode: cannot fail
		return append(b, "{}"...)
	}
	return append(b, bytes.TrimSpace(out.Bytes())...)
}

// infoDefault is a key an "info" object always carries, with the JSON value it gets when
// the stored metadata has none.
type infoDefault struct{ key, value string }

// stringArray reports whether v is an array of strings; if not, it returns the array a
// client should see: [s] for a non-empty string, [] for anything else.
func stringArray(v json.RawMessage) (json.RawMessage, bool) {
	var arr []json.RawMessage
	if err := json.Unmarshal(v, &arr); err == nil && arr != nil {
		strs := make([]string, 0, len(arr))
		allStrings := true
		for _, e := range arr {
			var s string
			if json.Unmarshal(e, &s) != nil || bytes.TrimSpace(e)[0] != '"' {
				allStrings = false
				continue
			}
			strs = append(strs, s)
		}
		if allStrings {
			return v, true
		}
		fixed, _ := json.Marshal(strs)
		return fixed, false
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil && s != "" {
		fixed, _ := json.Marshal([]string{s})
		return fixed, false
	}
	return json.RawMessage("[]"), false
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}
