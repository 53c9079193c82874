package editor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Family is a group of stream kinds administered as one resource.
type Family uint8

// The families.
const (
	FamilyLive    Family = iota + 1 // live channels: live, created_live, radio
	FamilyVOD                       // movies
	FamilyEpisode                   // episodes, administered through their series (episodes.go)
)

func (f Family) kinds() []string {
	switch f {
	case FamilyLive:
		return []string{store.KindLive, store.KindCreatedLive, store.KindRadio}
	case FamilyVOD:
		return []string{store.KindMovie}
	}
	return []string{store.KindEpisode}
}

// target is the audit target type of the family's streams.
func (f Family) target() string {
	switch f {
	case FamilyLive:
		return "stream"
	case FamilyVOD:
		return "movie"
	}
	return "episode"
}

// Source is one upstream of a stream, in failover order.
type Source struct {
	URL  string `json:"url"`
	Kind string `json:"kind"` // auto (guess from the URL), ts, hls or file; "" is auto
}

// Stream is a live channel, a movie or an episode as the admin edits it.
type Stream struct {
	ID                 int64           `json:"id" audit:"-"`
	Kind               string          `json:"kind"` // live, created_live, radio / movie / episode; fixed once created
	Name               string          `json:"name"`
	CategoryID         *int64          `json:"category_id"` // of the stream's kind (radio: a radio category); none for episodes
	Icon               string          `json:"icon"`
	EPGChannelID       *string         `json:"epg_channel_id"` // live only: the XMLTV channel id (tvg-id)
	CustomSID          string          `json:"custom_sid"`
	DirectSource       bool            `json:"direct_source"`   // players get Sources[0] instead of a relayed URL
	TVArchiveDays      int32           `json:"tv_archive_days"` // live only: catch-up days, 0–365
	CatchupSource      *string         `json:"catchup_source" audit:"secret"`
	ContainerExtension *string         `json:"container_extension"` // movies and episodes: required
	Info               json.RawMessage `json:"info"`                // movies and episodes: metadata object
	Enabled            bool            `json:"enabled"`
	AlwaysOn           bool            `json:"always_on"` // keep pulling with no viewer (stored; acted on later)
	// Sources in failover order. Provider URLs often carry credentials: the audit log records
	// only that they changed.
	Sources   []Source  `json:"sources" audit:"secret"`
	CreatedAt time.Time `json:"created_at" audit:"-"`
	UpdatedAt time.Time `json:"updated_at" audit:"-"`
}

// Cursor is where a page ending at s continues, in the order of sort ("name", "created_at" or "").
func (s Stream) Cursor(sort string) Cursor {
	switch sort {
	case "name":
		return Cursor{ID: s.ID, Key: s.Name}
	case "created_at":
		return Cursor{ID: s.ID, Key: s.CreatedAt.Format(time.RFC3339Nano)}
	}
	return Cursor{ID: s.ID}
}

func streamOf(r store.Stream, srcs []store.StreamSource) Stream {
	s := Stream{ID: r.ID, Kind: r.Kind, Name: r.Name, CategoryID: r.CategoryID, Icon: r.Icon,
		EPGChannelID: r.EPGChannelID, CustomSID: r.CustomSID, DirectSource: r.DirectSource,
		TVArchiveDays: r.TVArchiveDays, CatchupSource: r.CatchupSource, ContainerExtension: r.ContainerExtension,
		Info: r.Info, Enabled: r.Enabled, AlwaysOn: r.AlwaysOn, Sources: make([]Source, len(srcs)),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for i, src := range srcs {
		s.Sources[i] = Source{URL: src.URL, Kind: src.Kind}
	}
	return s
}

func (s Stream) input() store.StreamInput {
	in := store.StreamInput{Kind: s.Kind, Name: s.Name, CategoryID: s.CategoryID, Icon: s.Icon,
		EPGChannelID: s.EPGChannelID, CustomSID: s.CustomSID, DirectSource: s.DirectSource,
		TVArchiveDays: s.TVArchiveDays, CatchupSource: s.CatchupSource, ContainerExtension: s.ContainerExtension,
		Info: s.Info, Disabled: !s.Enabled, AlwaysOn: s.AlwaysOn, Sources: make([]store.Source, len(s.Sources))}
	for i, src := range s.Sources {
		in.Sources[i] = store.Source{URL: src.URL, Kind: src.Kind}
	}
	return in
}

// sameFields reports whether a and b hold the same stored fields (sources apart).
func sameFields(a, b Stream) bool {
	return a.Name == b.Name && samePtr(a.CategoryID, b.CategoryID) && a.Icon == b.Icon &&
		samePtr(a.EPGChannelID, b.EPGChannelID) && a.CustomSID == b.CustomSID && a.DirectSource == b.DirectSource &&
		a.TVArchiveDays == b.TVArchiveDays && samePtr(a.CatchupSource, b.CatchupSource) &&
		samePtr(a.ContainerExtension, b.ContainerExtension) && store.SameJSON(a.Info, b.Info) && a.Enabled == b.Enabled &&
		a.AlwaysOn == b.AlwaysOn
}

// samePtr compares two optional values by what they hold.
func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

var containerRE = regexp.MustCompile(`^[a-z0-9]{1,8}$`)

// Limits on what one stream may hold.
const (
	maxSources = 32
	maxInfo    = 64 << 10
)

// checkStream checks s for family f and normalises it: empty optional texts become none,
// source kinds are spelt out, info is an object.
func checkStream(f Family, s *Stream) error {
	if s.Kind == "" {
		s.Kind = f.kinds()[0]
	}
	if !slices.Contains(f.kinds(), s.Kind) {
		return input.Invalid("kind", "one of "+strings.Join(f.kinds(), ", "))
	}
	for _, c := range []struct {
		field string
		v     string
		req   bool
		max   int
	}{{"name", s.Name, true, 512}, {"icon", s.Icon, false, maxURL}, {"custom_sid", s.CustomSID, false, 64}} {
		if err := checkText(c.field, c.v, c.req, c.max); err != nil {
			return err
		}
	}
	s.EPGChannelID, s.CatchupSource, s.ContainerExtension = none(s.EPGChannelID), none(s.CatchupSource), none(s.ContainerExtension)
	if err := checkKindFields(f, s); err != nil {
		return err
	}
	if s.EPGChannelID != nil {
		if err := checkText("epg_channel_id", *s.EPGChannelID, true, 256); err != nil {
			return err
		}
	}
	if s.CatchupSource != nil {
		if err := validateSource("catchup_source", *s.CatchupSource); err != nil {
			return err
		}
	}
	if err := checkInfo(s); err != nil {
		return err
	}
	return checkSources(s.Sources)
}

// checkKindFields applies what differs between live channels and files (movies, episodes).
func checkKindFields(f Family, s *Stream) error {
	if f == FamilyLive {
		if s.TVArchiveDays < 0 || s.TVArchiveDays > 365 {
			return input.Invalid("tv_archive_days", "0 to 365")
		}
		if s.ContainerExtension != nil {
			return input.Invalid("container_extension", "only movies and episodes have one")
		}
		return nil
	}
	switch {
	case s.ContainerExtension == nil || !containerRE.MatchString(*s.ContainerExtension):
		return input.Invalid("container_extension", "required: 1 to 8 lower-case letters or digits (mp4, mkv …)")
	case s.TVArchiveDays != 0:
		return input.Invalid("tv_archive_days", "only live channels have an archive")
	case s.EPGChannelID != nil:
		return input.Invalid("epg_channel_id", "only live channels have a guide")
	case s.CatchupSource != nil:
		return input.Invalid("catchup_source", "only live channels have catch-up")
	case f == FamilyEpisode && s.CategoryID != nil:
		return input.Invalid("category_id", "episodes are categorised through their series")
	}
	return nil
}

func checkInfo(s *Stream) error {
	raw := bytes.TrimSpace(s.Info)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		s.Info = json.RawMessage("{}")
		return nil
	}
	var obj map[string]any
	if len(raw) > maxInfo || !input.Text(string(raw), maxInfo) || json.Unmarshal(raw, &obj) != nil || obj == nil {
		return input.Invalid("info", "a JSON object of at most 64 KiB")
	}
	s.Info = json.RawMessage(raw)
	return nil
}

func checkSources(srcs []Source) error {
	if len(srcs) == 0 || len(srcs) > maxSources {
		return input.Invalid("sources", fmt.Sprintf("1 to %d sources, in failover order", maxSources))
	}
	seen := make(map[string]int, len(srcs))
	for i := range srcs {
		field := fmt.Sprintf("sources[%d]", i)
		if err := validateSource(field+".url", srcs[i].URL); err != nil {
			return err
		}
		if j, dup := seen[srcs[i].URL]; dup {
			return input.Invalid(field+".url", fmt.Sprintf("the same URL as sources[%d]", j))
		}
		seen[srcs[i].URL] = i
		file := strings.HasPrefix(srcs[i].URL, "file://")
		switch k := srcs[i].Kind; {
		case k == "" || k == store.SourceAuto:
			srcs[i].Kind = store.SourceAuto
			if file {
				srcs[i].Kind = store.SourceFile
			}
		case k == store.SourceFile && !file, (k == store.SourceTS || k == store.SourceHLS) && file:
			return input.Invalid(field+".kind", "file goes with file:// URLs, ts and hls with http(s)")
		case k != store.SourceFile && k != store.SourceTS && k != store.SourceHLS:
			return input.Invalid(field+".kind", "auto, ts, hls or file")
		}
	}
	return nil
}

// none turns an empty optional text into no value.
func none(p *string) *string {
	if p != nil && *p == "" {
		return nil
	}
	return p
}

// categoryKind is the kind of category a stream of kind belongs to ("" for none).
func categoryKind(kind string) string {
	switch kind {
	case store.KindLive, store.KindCreatedLive:
		return store.KindLive
	case store.KindRadio, store.KindMovie:
		return kind
	}
	return ""
}

// checkCategoryRef makes sure the stream's category exists and is of its kind.
func checkCategoryRef(ctx context.Context, tx *store.Store, id *int64, want string) error {
	if id == nil {
		return nil
	}
	c, err := tx.CategoryByID(ctx, *id)
	if err != nil {
		return refused(input.Refusals{NotFound: &input.FieldError{Field: "category_id", Reason: "no such category",
			Kind: input.ErrNotFound}}, err)
	}
	if c.Kind != want {
		return input.Invalid("category_id", "not a "+want+" category")
	}
	return nil
}

var streamRefusals = input.Refusals{
	NotFound: &input.FieldError{Field: "id", Reason: "no such stream", Kind: input.ErrNotFound},
	Invalid:  &input.FieldError{Field: "stream", Reason: "refused by the schema", Kind: input.ErrInvalid},
}

// StreamQuery selects the streams of a list; zero fields match everything.
type StreamQuery struct {
	Kind          string // one kind of the family
	CategoryID    int64
	Uncategorised bool
	Name          string // the name contains this, ignoring case
	EPGChannelID  string
	Enabled       *bool
	Query         // sorts: "name", "created_at"

	ids []int64 // only these (the episodes of a series)
}

// Streams returns one page of family f's streams that q selects, with their sources.
func (e *Editor) Streams(ctx context.Context, f Family, q StreamQuery) ([]Stream, error) {
	kinds := f.kinds()
	if q.Kind != "" {
		if !slices.Contains(kinds, q.Kind) {
			return nil, fmt.Errorf("streams: %w", input.Invalid("kind", "one of "+strings.Join(kinds, ", ")))
		}
		kinds = []string{q.Kind}
	}
	rows, err := e.store.ListStreams(ctx, store.StreamFilter{Kinds: kinds, CategoryID: q.CategoryID,
		Uncategorised: q.Uncategorised, Name: q.Name, EPGChannelID: q.EPGChannelID, Enabled: q.Enabled,
		IDs: q.ids, Page: q.keyset()})
	if err != nil {
		return nil, fmt.Errorf("streams: %w", refused(badSort, err))
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	srcs, err := e.store.SourcesOf(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("streams: %w", err)
	}
	out := make([]Stream, len(rows))
	for i, r := range rows {
		out[i] = streamOf(r, srcs[r.ID])
	}
	return out, nil
}

// Stream reads stream id of family f (a stream of another family is not found).
func (e *Editor) Stream(ctx context.Context, f Family, id int64) (Stream, error) {
	s, err := readStream(ctx, e.store, f, id)
	if err != nil {
		return Stream{}, fmt.Errorf("stream %d: %w", id, refused(streamRefusals, err))
	}
	return s, nil
}

func readStream(ctx context.Context, st *store.Store, f Family, id int64) (Stream, error) {
	r, err := st.StreamByID(ctx, id)
	if err != nil {
		return Stream{}, err
	}
	if !slices.Contains(f.kinds(), r.Kind) {
		return Stream{}, fmt.Errorf("stream %d is a %s: %w", id, r.Kind, store.ErrNotFound)
	}
	srcs, err := st.StreamSources(ctx, id)
	if err != nil {
		return Stream{}, err
	}
	return streamOf(r, srcs), nil
}

// CreateStream creates a live channel (FamilyLive) or a movie (FamilyVOD) with its sources.
func (e *Editor) CreateStream(ctx context.Context, a audit.Actor, f Family, in Stream) (Stream, error) {
	if f == FamilyEpisode {
		return Stream{}, fmt.Errorf("create stream: episodes are created with CreateEpisode")
	}
	if err := checkStream(f, &in); err != nil {
		return Stream{}, fmt.Errorf("create stream: %w", err)
	}
	var out Stream
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		if err := checkCategoryRef(ctx, tx, in.CategoryID, categoryKind(in.Kind)); err != nil {
			return err
		}
		id, err := tx.CreateStream(ctx, in.input())
		if err != nil {
			return err
		}
		if out, err = readStream(ctx, tx, f, id); err != nil {
			return err
		}
		return record(ctx, tx, a, f.target()+".create", f.target(), id, Stream{}, out)
	})
	if err != nil {
		return Stream{}, fmt.Errorf("create stream: %w", refused(streamRefusals, err))
	}
	return out, nil
}

// UpdateStream applies edit to stream id of family f, writing only what changed; its kind
// cannot change.
func (e *Editor) UpdateStream(ctx context.Context, a audit.Actor, f Family, id int64, edit func(*Stream) error) (Stream, error) {
	var out Stream
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		before, after, changed, err := updateStream(ctx, tx, f, id, edit)
		out = after
		if err != nil || !changed {
			return err
		}
		return record(ctx, tx, a, f.target()+".update", f.target(), id, before, after)
	})
	if err != nil {
		return Stream{}, fmt.Errorf("update stream %d: %w", id, refused(streamRefusals, err))
	}
	return out, nil
}

// updateStream is the transaction of an update of stream id (episodes reuse it): lock, read,
// edit, check, write what differs. It returns the stream before and after, and whether
// anything was written.
func updateStream(ctx context.Context, tx *store.Store, f Family, id int64, edit func(*Stream) error) (before, after Stream, changed bool, err error) {
	if err := tx.LockRow(ctx, store.TableStreams, id); err != nil {
		return Stream{}, Stream{}, false, err
	}
	if before, err = readStream(ctx, tx, f, id); err != nil {
		return Stream{}, Stream{}, false, err
	}
	next := before
	next.Sources = slices.Clone(before.Sources)
	if err := edit(&next); err != nil {
		return Stream{}, Stream{}, false, err
	}
	next.ID, next.CreatedAt, next.UpdatedAt = id, before.CreatedAt, before.UpdatedAt
	if next.Kind != before.Kind {
		return Stream{}, Stream{}, false, input.Invalid("kind", "a stream's kind cannot change")
	}
	if err := checkStream(f, &next); err != nil {
		return Stream{}, Stream{}, false, err
	}
	if err := checkCategoryRef(ctx, tx, next.CategoryID, categoryKind(next.Kind)); err != nil {
		return Stream{}, Stream{}, false, err
	}
	fields := !sameFields(before, next)
	if fields {
		if err := tx.UpdateStream(ctx, id, next.input()); err != nil {
			return Stream{}, Stream{}, false, err
		}
	}
	srcs, err := tx.SetStreamSources(ctx, id, next.input().Sources)
	if err != nil || !fields && !srcs {
		return before, before, false, err
	}
	after, err = readStream(ctx, tx, f, id)
	return before, after, true, err
}

// DeleteStream deletes stream id of family f with its sources and bouquet entries.
func (e *Editor) DeleteStream(ctx context.Context, a audit.Actor, f Family, id int64) error {
	err := e.store.InTx(ctx, func(tx *store.Store) error {
		before, err := readStream(ctx, tx, f, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteStream(ctx, id); err != nil {
			return err
		}
		return record(ctx, tx, a, f.target()+".delete", f.target(), id, before, Stream{})
	})
	if err != nil {
		return fmt.Errorf("delete stream %d: %w", id, refused(streamRefusals, err))
	}
	return nil
}
