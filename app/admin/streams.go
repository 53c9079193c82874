package admin

import (
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// Source is one upstream of a stream, tried in list order (failover).
type Source struct {
	URL  string `json:"url" api:"required,minlen=1,maxlen=4096" doc:"An http(s):// upstream, or a file:// path of the server (served only from the media directories)."`
	Kind string `json:"kind" api:"enum=auto|ts|hls|file" doc:"How the relay reads it: auto (guess from the URL; the default), ts, hls, or file."`
}

// LiveStream is a live channel or radio station.
type LiveStream struct {
	ID            int64     `json:"id" doc:"The stream id players open (/live/u/p/{id}.ts)."`
	Kind          string    `json:"kind" api:"enum=live|created_live|radio"`
	Name          string    `json:"name"`
	CategoryID    *int64    `json:"category_id" doc:"A live (radio: a radio) category; null: uncategorised."`
	Icon          string    `json:"icon"`
	EPGChannelID  *string   `json:"epg_channel_id" doc:"The XMLTV channel id its guide comes from (tvg-id)."`
	CustomSID     string    `json:"custom_sid"`
	DirectSource  bool      `json:"direct_source" doc:"Players get the first source's URL instead of a relayed one."`
	TVArchiveDays int32     `json:"tv_archive_days" doc:"Days of catch-up (0: none)."`
	CatchupSource *string   `json:"catchup_source" doc:"URL template of the recordings ({start_unix}, {duration_sec} …)."`
	Enabled       bool      `json:"enabled"`
	AlwaysOn      bool      `json:"always_on" doc:"Keep the upstream pulled without viewers (stored; the relay acts on it in a later release)."`
	Sources       []Source  `json:"sources"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Movie is a video on demand.
type Movie struct {
	ID                 int64          `json:"id" doc:"The stream id players open (/movie/u/p/{id}.{container_extension})."`
	Name               string         `json:"name"`
	CategoryID         *int64         `json:"category_id" doc:"A movie category; null: uncategorised."`
	Icon               string         `json:"icon"`
	CustomSID          string         `json:"custom_sid"`
	DirectSource       bool           `json:"direct_source"`
	ContainerExtension string         `json:"container_extension" doc:"mp4, mkv …: the extension of its URL."`
	Info               map[string]any `json:"info" doc:"The metadata get_vod_info answers (plot, cast, rating, movie_image …)."`
	Enabled            bool           `json:"enabled"`
	Sources            []Source       `json:"sources"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
}

func sourcesOut(in []editor.Source) []Source {
	return mapSlice(in, func(s editor.Source) Source { return Source(s) })
}

func sourcesIn(in []Source) []editor.Source {
	return mapSlice(in, func(s Source) editor.Source { return editor.Source(s) })
}

func liveOut(s editor.Stream) LiveStream {
	return LiveStream{ID: s.ID, Kind: s.Kind, Name: s.Name, CategoryID: s.CategoryID, Icon: s.Icon,
		EPGChannelID: s.EPGChannelID, CustomSID: s.CustomSID, DirectSource: s.DirectSource, TVArchiveDays: s.TVArchiveDays,
		CatchupSource: s.CatchupSource, Enabled: s.Enabled, AlwaysOn: s.AlwaysOn, Sources: sourcesOut(s.Sources),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func movieOut(s editor.Stream) Movie {
	m := Movie{ID: s.ID, Name: s.Name, CategoryID: s.CategoryID, Icon: s.Icon, CustomSID: s.CustomSID,
		DirectSource: s.DirectSource, Info: infoOut(s.Info), Enabled: s.Enabled, Sources: sourcesOut(s.Sources),
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if s.ContainerExtension != nil {
		m.ContainerExtension = *s.ContainerExtension
	}
	return m
}

// infoOut is a stored metadata object as the API answers it (always an object).
func infoOut(raw json.RawMessage) map[string]any {
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func infoIn(m map[string]any) json.RawMessage {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

// streamCursor is where a page of streams ending at (id, name, created) continues.
func streamCursor(id int64, name string, created time.Time, key string) editor.Cursor {
	return editor.Stream{ID: id, Name: name, CreatedAt: created}.Cursor(key)
}

type newLiveStream struct {
	Kind          string   `json:"kind" api:"enum=live|created_live|radio" doc:"Default live."`
	Name          string   `json:"name" api:"required,minlen=1,maxlen=512"`
	CategoryID    *int64   `json:"category_id" api:"nullable,min=1"`
	Icon          string   `json:"icon" api:"maxlen=4096"`
	EPGChannelID  *string  `json:"epg_channel_id" api:"nullable,maxlen=256"`
	CustomSID     string   `json:"custom_sid" api:"maxlen=64"`
	DirectSource  bool     `json:"direct_source"`
	TVArchiveDays int32    `json:"tv_archive_days" api:"min=0,max=365"`
	CatchupSource *string  `json:"catchup_source" api:"nullable,maxlen=4096"`
	Enabled       *bool    `json:"enabled" doc:"Default true."`
	AlwaysOn      bool     `json:"always_on"`
	Sources       []Source `json:"sources" api:"required,minitems=1,maxitems=32"`
}

type livePatch struct {
	Name          *string          `json:"name" api:"minlen=1,maxlen=512"`
	CategoryID    Optional[int64]  `json:"category_id" api:"min=1"`
	Icon          *string          `json:"icon" api:"maxlen=4096"`
	EPGChannelID  Optional[string] `json:"epg_channel_id" api:"maxlen=256"`
	CustomSID     *string          `json:"custom_sid" api:"maxlen=64"`
	DirectSource  *bool            `json:"direct_source"`
	TVArchiveDays *int32           `json:"tv_archive_days" api:"min=0,max=365"`
	CatchupSource Optional[string] `json:"catchup_source" api:"maxlen=4096"`
	Enabled       *bool            `json:"enabled"`
	AlwaysOn      *bool            `json:"always_on"`
	Sources       *[]Source        `json:"sources" api:"minitems=1,maxitems=32" doc:"Replaces the whole list, in failover order."`
}

// FileFields are the members a movie and an episode are created with alike.
type FileFields struct {
	Name               string         `json:"name" api:"required,minlen=1,maxlen=512"`
	Icon               string         `json:"icon" api:"maxlen=4096"`
	CustomSID          string         `json:"custom_sid" api:"maxlen=64"`
	DirectSource       bool           `json:"direct_source"`
	ContainerExtension string         `json:"container_extension" api:"required" pattern:"^[a-z0-9]{1,8}$"`
	Info               map[string]any `json:"info" api:"nullable"`
	Enabled            *bool          `json:"enabled" doc:"Default true."`
	Sources            []Source       `json:"sources" api:"required,minitems=1,maxitems=32"`
}

// stream is the file stream of fields.
func (f FileFields) stream() editor.Stream {
	ext := f.ContainerExtension
	return editor.Stream{Name: f.Name, Icon: f.Icon, CustomSID: f.CustomSID, DirectSource: f.DirectSource,
		ContainerExtension: &ext, Info: infoIn(f.Info), Enabled: f.Enabled == nil || *f.Enabled, Sources: sourcesIn(f.Sources)}
}

// FilePatch are the members a movie's and an episode's PATCH set alike.
type FilePatch struct {
	Name               *string         `json:"name" api:"minlen=1,maxlen=512"`
	Icon               *string         `json:"icon" api:"maxlen=4096"`
	CustomSID          *string         `json:"custom_sid" api:"maxlen=64"`
	DirectSource       *bool           `json:"direct_source"`
	ContainerExtension *string         `json:"container_extension" pattern:"^[a-z0-9]{1,8}$"`
	Info               *map[string]any `json:"info" doc:"Replaces the whole object."`
	Enabled            *bool           `json:"enabled"`
	Sources            *[]Source       `json:"sources" api:"minitems=1,maxitems=32" doc:"Replaces the whole list, in failover order."`
}

type newMovie struct {
	FileFields
	CategoryID *int64 `json:"category_id" api:"nullable,min=1"`
}

type moviePatch struct {
	FilePatch
	CategoryID Optional[int64] `json:"category_id" api:"min=1"`
}

// StreamFilters are the filters every stream list takes (live channels, movies).
type StreamFilters struct {
	PageQuery
	CategoryID    int64  `query:"category_id" api:"min=1" doc:"Only streams of this category."`
	Uncategorised bool   `query:"uncategorised" doc:"Only streams without a category."`
	Name          string `query:"name" api:"maxlen=512" doc:"Only streams whose name contains this, ignoring case."`
	Enabled       *bool  `query:"enabled" doc:"Only enabled (true) or disabled (false) streams."`
	Sort          string `query:"sort" api:"enum=id|-id|name|-name|created_at|-created_at" doc:"Order (a leading - reverses it); default id."`
}

type liveList struct {
	StreamFilters
	Kind         string `query:"kind" api:"enum=live|created_live|radio" doc:"Only streams of this kind."`
	EPGChannelID string `query:"epg_channel_id" api:"maxlen=256" doc:"Only streams with this EPG channel id."`
}

func (q StreamFilters) query(eq editor.Query) editor.StreamQuery {
	return editor.StreamQuery{CategoryID: q.CategoryID, Uncategorised: q.Uncategorised, Name: q.Name, Enabled: q.Enabled, Query: eq}
}

func (a *API) streamOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/live-streams", ID: "listLiveStreams", Tag: "Live streams", Summary: "List live channels",
			Perm: readPerm("catalog"), Handler: Handle(a.listLive)},
		{Method: fiber.MethodPost, Path: "/live-streams", ID: "createLiveStream", Tag: "Live streams", Summary: "Create a live channel",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Handler: Handle(a.createLive)},
		{Method: fiber.MethodGet, Path: "/live-streams/{id}", ID: "getLiveStream", Tag: "Live streams", Summary: "Get a live channel",
			Perm: readPerm("catalog"), Handler: Handle(a.getLive)},
		{Method: fiber.MethodPatch, Path: "/live-streams/{id}", ID: "updateLiveStream", Tag: "Live streams", Summary: "Change a live channel",
			Doc:  "Sets the members given (null clears a clearable one); unchanged values write nothing. Open streams keep playing unless what they depend on changed.",
			Perm: writePerm("catalog"), Handler: Handle(a.updateLive)},
		{Method: fiber.MethodDelete, Path: "/live-streams/{id}", ID: "deleteLiveStream", Tag: "Live streams", Summary: "Delete a live channel",
			Perm: writePerm("catalog"), Handler: Handle(a.deleteLive)},
		{Method: fiber.MethodGet, Path: "/vod", ID: "listMovies", Tag: "VOD", Summary: "List movies",
			Perm: readPerm("catalog"), Handler: Handle(a.listMovies)},
		{Method: fiber.MethodPost, Path: "/vod", ID: "createMovie", Tag: "VOD", Summary: "Create a movie",
			Perm: writePerm("catalog"), Status: fiber.StatusCreated, Handler: Handle(a.createMovie)},
		{Method: fiber.MethodGet, Path: "/vod/{id}", ID: "getMovie", Tag: "VOD", Summary: "Get a movie",
			Perm: readPerm("catalog"), Handler: Handle(a.getMovie)},
		{Method: fiber.MethodPatch, Path: "/vod/{id}", ID: "updateMovie", Tag: "VOD", Summary: "Change a movie",
			Perm: writePerm("catalog"), Handler: Handle(a.updateMovie)},
		{Method: fiber.MethodDelete, Path: "/vod/{id}", ID: "deleteMovie", Tag: "VOD", Summary: "Delete a movie",
			Perm: writePerm("catalog"), Handler: Handle(a.deleteMovie)},
	}
}

func (a *API) listLive(c *Call, q liveList, _ NoBody) (Page[LiveStream], error) {
	return keysetPage(q.PageQuery, q.Sort, func(eq editor.Query) ([]LiveStream, error) {
		sq := q.query(eq)
		sq.Kind, sq.EPGChannelID = q.Kind, q.EPGChannelID
		rows, err := a.d.Editor.Streams(c.Context(), editor.FamilyLive, sq)
		return mapSlice(rows, liveOut), err
	}, func(s LiveStream, key string) editor.Cursor { return streamCursor(s.ID, s.Name, s.CreatedAt, key) })
}

func (a *API) createLive(c *Call, _ NoParams, in newLiveStream) (LiveStream, error) {
	out, err := a.d.Editor.CreateStream(c.Context(), c.Principal.Actor, editor.FamilyLive, editor.Stream{
		Kind: in.Kind, Name: in.Name, CategoryID: in.CategoryID, Icon: in.Icon, EPGChannelID: in.EPGChannelID,
		CustomSID: in.CustomSID, DirectSource: in.DirectSource, TVArchiveDays: in.TVArchiveDays,
		CatchupSource: in.CatchupSource, Enabled: in.Enabled == nil || *in.Enabled, AlwaysOn: in.AlwaysOn,
		Sources: sourcesIn(in.Sources)})
	return liveOut(out), err
}

func (a *API) getLive(c *Call, p ByID, _ NoBody) (LiveStream, error) {
	out, err := a.d.Editor.Stream(c.Context(), editor.FamilyLive, p.ID)
	return liveOut(out), err
}

func (a *API) updateLive(c *Call, p ByID, in livePatch) (LiveStream, error) {
	out, err := a.d.Editor.UpdateStream(c.Context(), c.Principal.Actor, editor.FamilyLive, p.ID, func(s *editor.Stream) error {
		set(&s.Name, in.Name)
		setOptional(&s.CategoryID, in.CategoryID)
		set(&s.Icon, in.Icon)
		setOptional(&s.EPGChannelID, in.EPGChannelID)
		set(&s.CustomSID, in.CustomSID)
		set(&s.DirectSource, in.DirectSource)
		set(&s.TVArchiveDays, in.TVArchiveDays)
		setOptional(&s.CatchupSource, in.CatchupSource)
		set(&s.Enabled, in.Enabled)
		set(&s.AlwaysOn, in.AlwaysOn)
		if in.Sources != nil {
			s.Sources = sourcesIn(*in.Sources)
		}
		return nil
	})
	return liveOut(out), err
}

func (a *API) deleteLive(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteStream(c.Context(), c.Principal.Actor, editor.FamilyLive, p.ID)
}

func (a *API) listMovies(c *Call, q StreamFilters, _ NoBody) (Page[Movie], error) {
	return keysetPage(q.PageQuery, q.Sort, func(eq editor.Query) ([]Movie, error) {
		rows, err := a.d.Editor.Streams(c.Context(), editor.FamilyVOD, q.query(eq))
		return mapSlice(rows, movieOut), err
	}, func(m Movie, key string) editor.Cursor { return streamCursor(m.ID, m.Name, m.CreatedAt, key) })
}

func (a *API) createMovie(c *Call, _ NoParams, in newMovie) (Movie, error) {
	s := in.stream()
	s.CategoryID = in.CategoryID
	out, err := a.d.Editor.CreateStream(c.Context(), c.Principal.Actor, editor.FamilyVOD, s)
	return movieOut(out), err
}

func (a *API) getMovie(c *Call, p ByID, _ NoBody) (Movie, error) {
	out, err := a.d.Editor.Stream(c.Context(), editor.FamilyVOD, p.ID)
	return movieOut(out), err
}

func (a *API) updateMovie(c *Call, p ByID, in moviePatch) (Movie, error) {
	out, err := a.d.Editor.UpdateStream(c.Context(), c.Principal.Actor, editor.FamilyVOD, p.ID, func(s *editor.Stream) error {
		in.apply(s)
		setOptional(&s.CategoryID, in.CategoryID)
		return nil
	})
	return movieOut(out), err
}

// apply sets the members the PATCH gives.
func (in FilePatch) apply(s *editor.Stream) {
	set(&s.Name, in.Name)
	set(&s.Icon, in.Icon)
	set(&s.CustomSID, in.CustomSID)
	set(&s.DirectSource, in.DirectSource)
	if in.ContainerExtension != nil {
		ext := *in.ContainerExtension
		s.ContainerExtension = &ext
	}
	if in.Info != nil {
		s.Info = infoIn(*in.Info)
	}
	set(&s.Enabled, in.Enabled)
	if in.Sources != nil {
		s.Sources = sourcesIn(*in.Sources)
	}
}

func (a *API) deleteMovie(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Editor.DeleteStream(c.Context(), c.Principal.Actor, editor.FamilyVOD, p.ID)
}
