package player_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Strict wire types: each accepts exactly one JSON kind, so an answer whose field has the
// wrong type (a number for a numeric string, null for a string, a string for an int …) fails
// to decode. Each remembers that it was present; decodeStrict fails on a missing field unless
// the struct field is tagged wire:"optional". Decoders also disallow unknown fields, so a
// renamed field fails too.

type presence struct{ set bool }

func (p presence) present() bool { return p.set }

type wireField interface{ present() bool }

func kindErr(want string, b []byte) error {
	if len(b) > 40 {
		b = append(b[:40:40], "…"...)
	}
	return fmt.Errorf("want %s, got %s", want, b)
}

// Str is a JSON string (never null).
type Str struct {
	presence
	V string
}

func (s *Str) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return kindErr("a string", b)
	}
	s.set = true
	return json.Unmarshal(b, &s.V)
}

var digitsRE = regexp.MustCompile(`^[0-9]+$`)

// Digits is a JSON string holding a non-negative integer ("123"): the numeric strings of XC.
type Digits struct {
	presence
	V int64
}

func (d *Digits) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil || !digitsRE.MatchString(s) {
		return kindErr("a string of digits", b)
	}
	d.set = true
	v, err := strconv.ParseInt(s, 10, 64)
	d.V = v
	return err
}

// NullDigits is Digits or null (exp_date, category_id).
type NullDigits struct {
	presence
	Null bool
	V    int64
}

func (d *NullDigits) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		d.set, d.Null = true, true
		return nil
	}
	var x Digits
	if err := x.UnmarshalJSON(b); err != nil {
		return kindErr("a string of digits or null", b)
	}
	d.set, d.V = true, x.V
	return nil
}

// NullStr is a string or null.
type NullStr struct {
	presence
	Null bool
	V    string
}

func (s *NullStr) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		s.set, s.Null = true, true
		return nil
	}
	if len(b) == 0 || b[0] != '"' {
		return kindErr("a string or null", b)
	}
	s.set = true
	return json.Unmarshal(b, &s.V)
}

// Null is exactly null.
type Null struct{ presence }

func (n *Null) UnmarshalJSON(b []byte) error {
	if string(b) != "null" {
		return kindErr("null", b)
	}
	n.set = true
	return nil
}

// Int is an unquoted JSON integer.
type Int struct {
	presence
	V int64
}

func (i *Int) UnmarshalJSON(b []byte) error {
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return kindErr("an integer", b)
	}
	i.set, i.V = true, v
	return nil
}

// Num is an unquoted JSON number.
type Num struct {
	presence
	V float64
}

func (n *Num) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return kindErr("a number", b)
	}
	n.set = true
	return json.Unmarshal(b, &n.V)
}

// Bool is true or false.
type Bool struct {
	presence
	V bool
}

func (v *Bool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		v.set, v.V = true, true
	case "false":
		v.set, v.V = true, false
	default:
		return kindErr("a boolean", b)
	}
	return nil
}

// StrList is an array of strings (never null, never a bare string).
type StrList struct {
	presence
	V []string
}

func (l *StrList) UnmarshalJSON(b []byte) error {
	v, err := unmarshalList(b, "an array of strings", func(s *Str) string { return s.V })
	l.set, l.V = err == nil, v
	return err
}

// IntList is an array of unquoted integers (XUI's category_ids; never null).
type IntList struct {
	presence
	V []int64
}

func (l *IntList) UnmarshalJSON(b []byte) error {
	v, err := unmarshalList(b, "an array of integers", func(i *Int) int64 { return i.V })
	l.set, l.V = err == nil, v
	return err
}

// unmarshalList decodes a JSON array (never null, never a bare value) whose every element
// decodes as an E, and returns each element's value.
func unmarshalList[E any, P interface {
	*E
	json.Unmarshaler
}, V any](b []byte, what string, value func(*E) V) ([]V, error) {
	if len(b) == 0 || b[0] != '[' {
		return nil, kindErr(what, b)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	out := make([]V, 0, len(raw))
	for _, r := range raw {
		var e E
		if err := P(&e).UnmarshalJSON(r); err != nil {
			return nil, err
		}
		out = append(out, value(&e))
	}
	return out, nil
}

var yearRE = regexp.MustCompile(`^[0-9]{4}$`)

// NullYear is a four-digit year string ("1999") or null.
type NullYear struct {
	presence
	V string
}

func (y *NullYear) UnmarshalJSON(b []byte) error {
	var s NullStr
	if err := s.UnmarshalJSON(b); err != nil || (!s.Null && !yearRE.MatchString(s.V)) {
		return kindErr("a year string or null", b)
	}
	y.set, y.V = true, s.V
	return nil
}

// Obj is any JSON object (never [] or null).
type Obj struct {
	presence
	V map[string]json.RawMessage
}

func (o *Obj) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		return kindErr("an object", b)
	}
	o.set = true
	return json.Unmarshal(b, &o.V)
}

// EmptyObj is exactly {}.
type EmptyObj struct{ presence }

func (o *EmptyObj) UnmarshalJSON(b []byte) error {
	if string(bytes.Join(bytes.Fields(b), nil)) != "{}" {
		return kindErr("{}", b)
	}
	o.set = true
	return nil
}

// B64 is a JSON string holding standard, padded base64 (EPG titles, spec §7 #11).
type B64 struct {
	presence
	V string
}

func (s *B64) UnmarshalJSON(b []byte) error {
	var raw string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &raw) != nil {
		return kindErr("a base64 string", b)
	}
	dec, err := base64.StdEncoding.Strict().DecodeString(raw)
	if err != nil {
		return fmt.Errorf("not standard padded base64: %q: %w", raw, err)
	}
	s.set, s.V = true, string(dec)
	return nil
}

// LocalTime is a "YYYY-MM-DD HH:MM:SS" string (time_now, EPG start/end).
type LocalTime struct {
	presence
	V string
}

func (l *LocalTime) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) == 0 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return kindErr("a local time string", b)
	}
	if _, err := time.Parse("2006-01-02 15:04:05", s); err != nil {
		return fmt.Errorf("not YYYY-MM-DD HH:MM:SS: %q", s)
	}
	l.set, l.V = true, s
	return nil
}

// --- answers (spec §1.3–§1.12, §3.3) ---

type UserInfo struct {
	Username             Str        `json:"username"`
	Password             Str        `json:"password"`
	Message              Str        `json:"message"`
	Auth                 Int        `json:"auth"`
	Status               Str        `json:"status"`
	ExpDate              NullDigits `json:"exp_date"`
	IsTrial              Digits     `json:"is_trial"`
	ActiveCons           Digits     `json:"active_cons"`
	CreatedAt            Digits     `json:"created_at"`
	MaxConnections       Digits     `json:"max_connections"`
	AllowedOutputFormats StrList    `json:"allowed_output_formats"`
}

type ServerInfo struct {
	URL            Str       `json:"url"`
	Port           Digits    `json:"port"`
	HTTPSPort      Digits    `json:"https_port"`
	ServerProtocol Str       `json:"server_protocol"`
	RTMPPort       Digits    `json:"rtmp_port"`
	Timezone       Str       `json:"timezone"`
	TimestampNow   Int       `json:"timestamp_now"`
	TimeNow        LocalTime `json:"time_now"`
	Process        Bool      `json:"process"`
}

type Login struct {
	UserInfo   UserInfo   `json:"user_info"`
	ServerInfo ServerInfo `json:"server_info"`
}

// AuthFailed is exactly {"user_info":{"auth":0}}.
type AuthFailed struct {
	UserInfo struct {
		Auth Int `json:"auth"`
	} `json:"user_info"`
}

type Category struct {
	CategoryID   Digits `json:"category_id"`
	CategoryName Str    `json:"category_name"`
	ParentID     Int    `json:"parent_id"`
}

type LiveStream struct {
	Num               Int        `json:"num"`
	Name              Str        `json:"name"`
	StreamType        Str        `json:"stream_type"`
	StreamID          Int        `json:"stream_id"`
	StreamIcon        Str        `json:"stream_icon"`
	EPGChannelID      NullStr    `json:"epg_channel_id"`
	Added             Digits     `json:"added"`
	CategoryID        NullDigits `json:"category_id"`
	CustomSID         Str        `json:"custom_sid"`
	TVArchive         Int        `json:"tv_archive"`
	DirectSource      Str        `json:"direct_source"`
	TVArchiveDuration Int        `json:"tv_archive_duration"`
	// XUI (spec §1.5)
	CategoryIDs IntList `json:"category_ids"`
	Thumbnail   Str     `json:"thumbnail"`
}

type VODStream struct {
	Num                Int        `json:"num"`
	Name               Str        `json:"name"`
	StreamType         Str        `json:"stream_type"`
	StreamID           Int        `json:"stream_id"`
	StreamIcon         Str        `json:"stream_icon"`
	Rating             Str        `json:"rating"`
	Rating5            Num        `json:"rating_5based"`
	Added              Digits     `json:"added"`
	CategoryID         NullDigits `json:"category_id"`
	ContainerExtension Str        `json:"container_extension"`
	CustomSID          Str        `json:"custom_sid"`
	DirectSource       Str        `json:"direct_source"`
	// XUI (spec §1.6)
	Title          Str      `json:"title"`
	Year           NullYear `json:"year"`
	Plot           Str      `json:"plot"`
	Cast           Str      `json:"cast"`
	Director       Str      `json:"director"`
	Genre          Str      `json:"genre"`
	ReleaseDate    Str      `json:"release_date"`
	YoutubeTrailer Str      `json:"youtube_trailer"`
	EpisodeRunTime Int      `json:"episode_run_time"`
	CategoryIDs    IntList  `json:"category_ids"`
}

// SeriesFields are a get_series entry's fields also in get_series_info's "info".
type SeriesFields struct {
	Name           Str        `json:"name"`
	Cover          Str        `json:"cover"`
	Plot           Str        `json:"plot"`
	Cast           Str        `json:"cast"`
	Director       Str        `json:"director"`
	Genre          Str        `json:"genre"`
	ReleaseDate    Str        `json:"releaseDate"`
	LastModified   Digits     `json:"last_modified"`
	Rating         Digits     `json:"rating"` // an integer-valued string (spec §7 #7)
	Rating5        Num        `json:"rating_5based"`
	BackdropPath   StrList    `json:"backdrop_path"`
	YoutubeTrailer Str        `json:"youtube_trailer"`
	EpisodeRunTime Digits     `json:"episode_run_time"`
	CategoryID     NullDigits `json:"category_id"`
	// XUI (spec §1.8, §1.9)
	Title        Str      `json:"title"`
	Year         NullYear `json:"year"`
	ReleaseDateU Str      `json:"release_date"`
	CategoryIDs  IntList  `json:"category_ids"`
}

// SeriesInfoFields is get_series_info's "info": XUI adds series_id there too.
type SeriesInfoFields struct {
	SeriesID Int `json:"series_id"`
	SeriesFields
}

type SeriesEntry struct {
	Num Int `json:"num"`
	SeriesInfoFields
}

// MovieInfo is get_vod_info's "info" with the keys of spec §1.7, each optional (stored
// metadata has what it has) but typed.
type MovieInfo struct {
	TMDBID               Int     `json:"tmdb_id"`
	Name                 Str     `json:"name" wire:"optional"`
	OName                Str     `json:"o_name" wire:"optional"`
	CoverBig             Str     `json:"cover_big" wire:"optional"`
	MovieImage           Str     `json:"movie_image" wire:"optional"`
	Releasedate          Str     `json:"releasedate" wire:"optional"`
	ReleaseDate          Str     `json:"release_date" wire:"optional"`
	EpisodeRunTime       Int     `json:"episode_run_time" wire:"optional"`
	YoutubeTrailer       Str     `json:"youtube_trailer" wire:"optional"`
	Director             Str     `json:"director" wire:"optional"`
	Actors               Str     `json:"actors" wire:"optional"`
	Cast                 Str     `json:"cast" wire:"optional"`
	Description          Str     `json:"description" wire:"optional"`
	Plot                 Str     `json:"plot" wire:"optional"`
	Age                  Str     `json:"age" wire:"optional"`
	MPAARating           Str     `json:"mpaa_rating" wire:"optional"`
	RatingCountKinopoisk Int     `json:"rating_count_kinopoisk" wire:"optional"`
	Country              Str     `json:"country" wire:"optional"`
	Genre                Str     `json:"genre" wire:"optional"`
	BackdropPath         StrList `json:"backdrop_path"`
	DurationSecs         Int     `json:"duration_secs" wire:"optional"`
	Duration             Str     `json:"duration" wire:"optional"`
	Bitrate              Int     `json:"bitrate" wire:"optional"`
	Rating               Num     `json:"rating" wire:"optional"`
	Video                Obj     `json:"video" wire:"optional"`
	Audio                Obj     `json:"audio" wire:"optional"`
}

type MovieData struct {
	StreamID           Int        `json:"stream_id"`
	Name               Str        `json:"name"`
	Added              Digits     `json:"added"`
	CategoryID         NullDigits `json:"category_id"`
	ContainerExtension Str        `json:"container_extension"`
	CustomSID          Str        `json:"custom_sid"`
	DirectSource       Str        `json:"direct_source"`
	// XUI (spec §1.7)
	Title       Str      `json:"title"`
	Year        NullYear `json:"year"`
	CategoryIDs IntList  `json:"category_ids"`
}

type VODInfo struct {
	Info      MovieInfo `json:"info"`
	MovieData MovieData `json:"movie_data"`
}

type EmptyVODInfo struct {
	Info      EmptyObj `json:"info"`
	MovieData EmptyObj `json:"movie_data"`
}

type Season struct {
	AirDate      Str `json:"air_date"`
	EpisodeCount Int `json:"episode_count"`
	ID           Int `json:"id"`
	Name         Str `json:"name"`
	Overview     Str `json:"overview"`
	SeasonNumber Int `json:"season_number"`
	Cover        Str `json:"cover"`
	CoverBig     Str `json:"cover_big"`
	VoteAverage  Num `json:"vote_average"`
}

type Episode struct {
	ID                 Digits `json:"id"`
	EpisodeNum         Int    `json:"episode_num"`
	Title              Str    `json:"title"`
	ContainerExtension Str    `json:"container_extension"`
	Info               Obj    `json:"info"`
	CustomSID          Str    `json:"custom_sid"`
	Added              Digits `json:"added"`
	Season             Int    `json:"season"`
	DirectSource       Str    `json:"direct_source"`
}

type SeriesInfo struct {
	Seasons  []Season             `json:"seasons"`
	Info     SeriesInfoFields     `json:"info"`
	Episodes map[string][]Episode `json:"episodes"`
}

type EmptySeriesInfo struct {
	Seasons  []Season `json:"seasons"`
	Info     EmptyObj `json:"info"`
	Episodes EmptyObj `json:"episodes"`
}

type Listing struct {
	ID             Digits    `json:"id"`
	EPGID          Digits    `json:"epg_id"`
	Title          B64       `json:"title"`
	Lang           Str       `json:"lang"`
	Start          LocalTime `json:"start"`
	End            LocalTime `json:"end"`
	Description    B64       `json:"description"`
	ChannelID      Str       `json:"channel_id"`
	StartTimestamp Digits    `json:"start_timestamp"`
	StopTimestamp  Digits    `json:"stop_timestamp"`
}

type ShortEPG struct {
	EPGListings []Listing `json:"epg_listings"`
}

type TableListing struct {
	Listing
	NowPlaying Int `json:"now_playing"`
	HasArchive Int `json:"has_archive"`
}

type SimpleDataTable struct {
	EPGListings []TableListing `json:"epg_listings"`
}

type EPGRow struct {
	ID          Digits `json:"id"`
	EPGID       Digits `json:"epg_id"`
	Title       B64    `json:"title"`
	Lang        Str    `json:"lang"`
	Start       Int    `json:"start"`
	End         Int    `json:"end"`
	Description B64    `json:"description"`
	ChannelID   Str    `json:"channel_id"`
}

type PanelUserInfo struct {
	Username             Str        `json:"username"`
	Password             Str        `json:"password"`
	Auth                 Int        `json:"auth"`
	Status               Str        `json:"status"`
	ExpDate              NullDigits `json:"exp_date"`
	IsTrial              Digits     `json:"is_trial"`
	ActiveCons           Digits     `json:"active_cons"`
	CreatedAt            Digits     `json:"created_at"`
	MaxConnections       Digits     `json:"max_connections"`
	AllowedOutputFormats StrList    `json:"allowed_output_formats"`
}

type PanelServerInfo struct {
	URL            Str    `json:"url"`
	Port           Digits `json:"port"`
	HTTPSPort      Digits `json:"https_port"`
	ServerProtocol Str    `json:"server_protocol"`
}

type PanelChannel struct {
	Num                Int        `json:"num"`
	Name               Str        `json:"name"`
	StreamType         Str        `json:"stream_type"`
	TypeName           Str        `json:"type_name"`
	StreamID           Digits     `json:"stream_id"`
	StreamIcon         Str        `json:"stream_icon"`
	EPGChannelID       NullStr    `json:"epg_channel_id"`
	Added              Digits     `json:"added"`
	CategoryName       Str        `json:"category_name"`
	CategoryID         NullDigits `json:"category_id"`
	SeriesNo           Null       `json:"series_no"`
	Live               Digits     `json:"live"`
	ContainerExtension Str        `json:"container_extension"`
	CustomSID          Str        `json:"custom_sid"`
	TVArchive          Int        `json:"tv_archive"`
	DirectSource       Str        `json:"direct_source"`
	TVArchiveDuration  Int        `json:"tv_archive_duration"`
}

type Panel struct {
	UserInfo          PanelUserInfo           `json:"user_info"`
	ServerInfo        PanelServerInfo         `json:"server_info"`
	Categories        map[string][]Category   `json:"categories"`
	AvailableChannels map[string]PanelChannel `json:"available_channels"`
}

// decodeStrict decodes body into a T: unknown fields, trailing data, a wrong JSON kind or a
// missing required field fail the test.
func decodeStrict[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := strictUnmarshal(body, &v); err != nil {
		t.Fatalf("decoding %T: %v\n%s", v, err, clip(body))
	}
	return v
}

func strictUnmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return requireSet(reflect.ValueOf(v).Elem(), "$")
}

// requireSet walks v and reports the first required wire field that was absent.
func requireSet(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Struct:
		if f, ok := v.Addr().Interface().(wireField); ok {
			if !f.present() {
				return fmt.Errorf("%s: missing", path)
			}
			return nil
		}
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			name := strings.Split(sf.Tag.Get("json"), ",")[0]
			fv := v.Field(i)
			if w, ok := fv.Addr().Interface().(wireField); ok {
				if !w.present() && sf.Tag.Get("wire") != "optional" {
					return fmt.Errorf("%s.%s: missing", path, name)
				}
				continue
			}
			p := path + "." + name
			if sf.Anonymous {
				p = path
			}
			if err := requireSet(fv, p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if err := requireSet(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			if err := requireSet(e, fmt.Sprintf("%s[%v]", path, iter.Key())); err != nil {
				return err
			}
		}
	}
	return nil
}

// requireKinds asserts the JSON kind at each path ("user_info.auth", "0.stream_id",
// "episodes.1.0.id"): string, number, bool, null, object or array (spec §7 #3, STYLE C22).
func requireKinds(t testing.TB, body []byte, kinds map[string]string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		t.Fatalf("requireKinds: %v", err)
	}
	for path, want := range kinds {
		v, ok := root, true
		for _, part := range strings.Split(path, ".") {
			switch node := v.(type) {
			case map[string]any:
				v, ok = node[part]
			case []any:
				i, err := strconv.Atoi(part)
				if err != nil || i < 0 || i >= len(node) {
					ok = false
				} else {
					v = node[i]
				}
			default:
				ok = false
			}
			if !ok {
				break
			}
		}
		if !ok {
			t.Errorf("%s: missing", path)
			continue
		}
		if got := kindOf(v); got != want {
			t.Errorf("%s: JSON kind %s, want %s", path, got, want)
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func clip(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// TestStrictTypes_RejectWrongKinds proves the decoders above catch the type quirks that break
// real clients (spec §7 #3–#10).
func TestStrictTypes_RejectWrongKinds(t *testing.T) {
	t.Parallel()
	bad := []struct {
		name string
		into any
		body string
	}{
		{"auth as string", &AuthFailed{}, `{"user_info":{"auth":"0"}}`},
		{"port as number", &PanelServerInfo{}, `{"url":"h","port":8080,"https_port":"1","server_protocol":"http"}`},
		{"exp_date empty string", &struct {
			E NullDigits `json:"exp_date"`
		}{}, `{"exp_date":""}`},
		{"category_id as number", &Category{}, `{"category_id":12,"category_name":"x","parent_id":0}`},
		{"parent_id as string", &Category{}, `{"category_id":"12","category_name":"x","parent_id":"0"}`},
		{"name null", &Category{}, `{"category_id":"12","category_name":null,"parent_id":0}`},
		{"renamed field", &Category{}, `{"category_id":"12","categoryName":"x","parent_id":0}`},
		{"missing field", &Category{}, `{"category_id":"12","parent_id":0}`},
		{"series rating decimal", &struct {
			R Digits `json:"rating"`
		}{}, `{"rating":"7.5"}`},
		{"backdrop_path a string", &struct {
			B StrList `json:"backdrop_path"`
		}{}, `{"backdrop_path":"x"}`},
		{"info as array", &struct {
			I Obj `json:"info"`
		}{}, `{"info":[]}`},
		{"episode id as number", &struct {
			ID Digits `json:"id"`
		}{}, `{"id":5}`},
		{"episodes as array", &SeriesInfo{}, `{"seasons":[],"info":{},"episodes":[[]]}`},
		{"title not base64", &struct {
			T B64 `json:"title"`
		}{}, `{"title":"Morning News"}`},
		{"title unpadded base64", &struct {
			T B64 `json:"title"`
		}{}, `{"title":"TW9ybmluZw"}`},
		{"trailing data", &Category{}, `{"category_id":"12","category_name":"x","parent_id":0} {}`},
	}
	for _, tt := range bad {
		if err := strictUnmarshal([]byte(tt.body), tt.into); err == nil {
			t.Errorf("%s: %s decoded without error", tt.name, tt.body)
		}
	}
}
