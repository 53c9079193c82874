package catalog

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The list entries of get_live_streams, get_vod_streams and get_series are rendered once per
// snapshot, with the wire types of spec §1.5, §1.6 and §1.8: ids as numbers except
// category_id (a string, or null when uncategorised), "added" and "last_modified" as numeric
// strings, series "rating" as an integer-valued string, backdrop_path always an array. Only
// "num" depends on the request (its place in the answer), so AppendListJSON writes it first.

type categoryEntry struct {
	ID       string `json:"category_id"`
	Name     string `json:"category_name"`
	ParentID int    `json:"parent_id"`
}

type liveEntry struct {
	Name              string  `json:"name"`
	StreamType        string  `json:"stream_type"`
	StreamID          int64   `json:"stream_id"`
	StreamIcon        string  `json:"stream_icon"`
	EPGChannelID      *string `json:"epg_channel_id"`
	Added             string  `json:"added"`
	CategoryID        *string `json:"category_id"`
	CustomSID         string  `json:"custom_sid"`
	TVArchive         int     `json:"tv_archive"`
	DirectSource      string  `json:"direct_source"`
	TVArchiveDuration int32   `json:"tv_archive_duration"`
}

func liveEntryOf(s *Stream) liveEntry {
	e := liveEntry{Name: s.Name, StreamType: s.StreamType(), StreamID: s.ID, StreamIcon: s.Icon,
		EPGChannelID: nullable(s.EPGChannelID), Added: strconv.FormatInt(s.AddedUnix, 10),
		CategoryID: nullable(s.CategoryIDString()), CustomSID: s.CustomSID, DirectSource: s.DirectSourceURL()}
	if s.TVArchiveDays > 0 {
		e.TVArchive, e.TVArchiveDuration = 1, s.TVArchiveDays
	}
	return e
}

type vodEntry struct {
	Name               string  `json:"name"`
	StreamType         string  `json:"stream_type"`
	StreamID           int64   `json:"stream_id"`
	StreamIcon         string  `json:"stream_icon"`
	Rating             string  `json:"rating"`
	Rating5            float64 `json:"rating_5based"`
	Added              string  `json:"added"`
	CategoryID         *string `json:"category_id"`
	ContainerExtension string  `json:"container_extension"`
	CustomSID          string  `json:"custom_sid"`
	DirectSource       string  `json:"direct_source"`
}

func vodEntryOf(s *Stream) vodEntry {
	return vodEntry{Name: s.Name, StreamType: s.StreamType(), StreamID: s.ID, StreamIcon: s.Icon, Rating: s.Rating,
		Rating5: s.Rating5, Added: strconv.FormatInt(s.AddedUnix, 10), CategoryID: nullable(s.CategoryIDString()),
		ContainerExtension: s.ContainerExtension, CustomSID: s.CustomSID, DirectSource: s.DirectSourceURL()}
}

type seriesEntry struct {
	Name           string   `json:"name"`
	SeriesID       int64    `json:"series_id"`
	Cover          string   `json:"cover"`
	Plot           string   `json:"plot"`
	Cast           string   `json:"cast"`
	Director       string   `json:"director"`
	Genre          string   `json:"genre"`
	ReleaseDate    string   `json:"releaseDate"`
	LastModified   string   `json:"last_modified"`
	Rating         string   `json:"rating"`
	Rating5        float64  `json:"rating_5based"`
	BackdropPath   []string `json:"backdrop_path"`
	YoutubeTrailer string   `json:"youtube_trailer"`
	EpisodeRunTime string   `json:"episode_run_time"`
	CategoryID     *string  `json:"category_id"`
}

func seriesEntryOf(s *Series) seriesEntry {
	return seriesEntry{Name: s.Name, SeriesID: s.ID, Cover: s.Cover, Plot: s.Plot, Cast: s.Cast, Director: s.Director,
		Genre: s.Genre, ReleaseDate: s.ReleaseDate, LastModified: strconv.FormatInt(s.LastModifiedUnix, 10),
		Rating: s.RatingString, Rating5: s.Rating5, BackdropPath: s.BackdropPaths, YoutubeTrailer: s.YoutubeTrailer,
		EpisodeRunTime: strconv.Itoa(int(s.EpisodeRunTime)), CategoryID: nullable(s.CategoryIDString())}
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// encoder renders JSON without HTML escaping (URLs keep their '&'), reusing one buffer.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newEncoder() *encoder {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *encoder) marshal(v any) []byte {
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil { // only for values JSON cannot hold; ours have none
		return []byte("{}")
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n")))
}

// tail renders v and turns its opening '{' into ',', ready to follow `{"num":N`.
func (e *encoder) tail(v any) []byte {
	b := e.marshal(v)
	b[0] = ','
	return b
}

// movieRating reads a movie's rating (a number or a numeric string in its info) and, when the
// stream has no icon, its poster.
func movieRating(info json.RawMessage, icon string) (rating string, rating5 float64, poster string) {
	var m struct {
		Rating     json.RawMessage `json:"rating"`
		MovieImage string          `json:"movie_image"`
		CoverBig   string          `json:"cover_big"`
	}
	_ = json.Unmarshal(info, &m) // a malformed info leaves the zero values
	poster = icon
	if poster == "" {
		poster = m.MovieImage
	}
	if poster == "" {
		poster = m.CoverBig
	}
	raw := strings.Trim(string(m.Rating), `"`)
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return "", 0, poster
	}
	return strconv.FormatFloat(f, 'f', -1, 64), math.Round(f*5) / 10, poster
}
