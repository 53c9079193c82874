package editor_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var admin = audit.Actor{Name: "root", IP: netip.MustParseAddr("192.0.2.7")}

type bundle struct {
	st *store.Store
	ed *editor.Editor
}

func setup(t *testing.T) bundle {
	t.Helper()
	st := store.New(testdb.New(t))
	return bundle{st: st, ed: editor.New(st)}
}

func (b bundle) catalogVersion(t *testing.T) int64 {
	t.Helper()
	v, err := b.st.CatalogVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// lastAudit returns the newest audit entry of action.
func (b bundle) audits(t *testing.T, action string) []store.AuditEntry {
	t.Helper()
	es, err := b.st.SearchAudit(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// wantField fails unless err is a FieldError of kind on field.
func wantField(t *testing.T, err error, kind error, field string) {
	t.Helper()
	var fe *input.FieldError
	if !errors.As(err, &fe) || !errors.Is(err, kind) || fe.Field != field {
		t.Fatalf("err = %v, want a %v refusal on %q", err, kind, field)
	}
}

func ptr[T any](v T) *T { return &v }

func liveStream(name string, cat *int64) editor.Stream {
	return editor.Stream{Name: name, CategoryID: cat, Enabled: true,
		Sources: []editor.Source{{URL: "http://up.example.com/live/" + name + ".ts"}}}
}

func TestCategories_CreateUpdateDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	news, err := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: "News", Position: -1})
	if err != nil {
		t.Fatal(err)
	}
	sport, err := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: "Sport", Position: -1})
	if err != nil {
		t.Fatal(err)
	}
	if news.Position != 0 || sport.Position != 1 {
		t.Fatalf("positions = %d, %d, want 0, 1 (appended)", news.Position, sport.Position)
	}
	_, err = b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: "News"})
	wantField(t, err, input.ErrConflict, "name")
	if _, err := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "movie", Name: "News"}); err != nil {
		t.Fatalf("same name, other kind: %v", err)
	}
	_, err = b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "tv", Name: "X"})
	wantField(t, err, input.ErrInvalid, "kind")
	_, err = b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: " "})
	wantField(t, err, input.ErrInvalid, "name")

	got, err := b.ed.UpdateCategory(ctx, admin, news.ID, func(c *editor.Category) error { c.Name = "World News"; return nil })
	if err != nil || got.Name != "World News" || got.Kind != "live" {
		t.Fatalf("UpdateCategory = %+v, %v", got, err)
	}
	_, err = b.ed.UpdateCategory(ctx, admin, news.ID, func(c *editor.Category) error { c.Kind = "movie"; return nil })
	wantField(t, err, input.ErrInvalid, "kind")
	_, err = b.ed.UpdateCategory(ctx, admin, news.ID, func(c *editor.Category) error { c.Name = "Sport"; return nil })
	wantField(t, err, input.ErrConflict, "name")
	_, err = b.ed.UpdateCategory(ctx, admin, 999, func(*editor.Category) error { return nil })
	wantField(t, err, input.ErrNotFound, "id")

	// A no-op update writes nothing: no version bump, no audit entry.
	v := b.catalogVersion(t)
	if _, err := b.ed.UpdateCategory(ctx, admin, news.ID, func(*editor.Category) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if b.catalogVersion(t) != v || len(b.audits(t, "category.update")) != 1 {
		t.Fatalf("no-op update wrote: version %d → %d, %d audit entries", v, b.catalogVersion(t), len(b.audits(t, "category.update")))
	}
	e := b.audits(t, "category.update")[0]
	if e.Actor != "root" || e.ClientIP == nil || e.TargetID != "1" ||
		!cmp.Equal(e.Detail["before"], map[string]any{"name": "News"}) || !cmp.Equal(e.Detail["after"], map[string]any{"name": "World News"}) {
		t.Fatalf("audit entry = %+v", e)
	}

	if err := b.ed.DeleteCategory(ctx, admin, sport.ID); err != nil {
		t.Fatal(err)
	}
	wantField(t, b.ed.DeleteCategory(ctx, admin, sport.ID), input.ErrNotFound, "id")
	list, err := b.ed.Categories(ctx, "live", "", editor.Query{})
	if err != nil || len(list) != 1 || list[0].ID != news.ID {
		t.Fatalf("Categories = %+v, %v", list, err)
	}
}

func TestStreams_Validation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	live, _ := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: "Live"})
	movies, _ := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "movie", Name: "Movies"})
	tests := []struct {
		name   string
		family editor.Family
		mod    func(*editor.Stream)
		kind   error
		field  string
	}{
		{"no name", editor.FamilyLive, func(s *editor.Stream) { s.Name = "" }, input.ErrInvalid, "name"},
		{"name too long", editor.FamilyLive, func(s *editor.Stream) { s.Name = strings.Repeat("é", 513) }, input.ErrInvalid, "name"},
		{"NUL in name", editor.FamilyLive, func(s *editor.Stream) { s.Name = "a\x00b" }, input.ErrInvalid, "name"},
		{"movie kind on live", editor.FamilyLive, func(s *editor.Stream) { s.Kind = "movie" }, input.ErrInvalid, "kind"},
		{"no source", editor.FamilyLive, func(s *editor.Stream) { s.Sources = nil }, input.ErrInvalid, "sources"},
		{"rtmp source", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "rtmp://x/y" }, input.ErrInvalid, "sources[0].url"},
		{"upper-case scheme", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "HTTP://x/y" }, input.ErrInvalid, "sources[0].url"},
		{"relative file", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "file://../etc/passwd" }, input.ErrInvalid, "sources[0].url"},
		{"unclean file", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "file:///srv/media/../../etc/passwd" }, input.ErrInvalid, "sources[0].url"},
		{"http without host", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "http:///x" }, input.ErrInvalid, "sources[0].url"},
		{"space in URL", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].URL = "http://x/a b" }, input.ErrInvalid, "sources[0].url"},
		{"duplicate source", editor.FamilyLive, func(s *editor.Stream) { s.Sources = append(s.Sources, s.Sources[0]) }, input.ErrInvalid, "sources[1].url"},
		{"file kind on http", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].Kind = "file" }, input.ErrInvalid, "sources[0].kind"},
		{"unknown source kind", editor.FamilyLive, func(s *editor.Stream) { s.Sources[0].Kind = "rtsp" }, input.ErrInvalid, "sources[0].kind"},
		{"archive days", editor.FamilyLive, func(s *editor.Stream) { s.TVArchiveDays = 366 }, input.ErrInvalid, "tv_archive_days"},
		{"bad catch-up", editor.FamilyLive, func(s *editor.Stream) { s.CatchupSource = ptr("ftp://a/b") }, input.ErrInvalid, "catchup_source"},
		{"container on live", editor.FamilyLive, func(s *editor.Stream) { s.ContainerExtension = ptr("mp4") }, input.ErrInvalid, "container_extension"},
		{"movie category on live", editor.FamilyLive, func(s *editor.Stream) { s.CategoryID = &movies.ID }, input.ErrInvalid, "category_id"},
		{"unknown category", editor.FamilyLive, func(s *editor.Stream) { s.CategoryID = ptr(int64(999)) }, input.ErrNotFound, "category_id"},
		{"movie without container", editor.FamilyVOD, func(s *editor.Stream) { s.CategoryID = &movies.ID }, input.ErrInvalid, "container_extension"},
		{"movie with EPG id", editor.FamilyVOD, func(s *editor.Stream) {
			s.CategoryID, s.ContainerExtension, s.EPGChannelID = &movies.ID, ptr("mkv"), ptr("x.tv")
		}, input.ErrInvalid, "epg_channel_id"},
		{"movie info not an object", editor.FamilyVOD, func(s *editor.Stream) {
			s.CategoryID, s.ContainerExtension, s.Info = &movies.ID, ptr("mkv"), json.RawMessage(`[1]`)
		}, input.ErrInvalid, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := liveStream("ch", &live.ID)
			tt.mod(&s)
			_, err := b.ed.CreateStream(ctx, admin, tt.family, s)
			wantField(t, err, tt.kind, tt.field)
		})
	}
}

func TestStreams_CreateUpdateDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cat, _ := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "live", Name: "Live"})
	in := liveStream("one", &cat.ID)
	in.EPGChannelID = ptr("")
	in.Sources = append(in.Sources, editor.Source{URL: "https://backup.example.com/one.m3u8", Kind: "hls"},
		editor.Source{URL: "file:///srv/media/loop.ts"})
	s, err := b.ed.CreateStream(ctx, admin, editor.FamilyLive, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []editor.Source{{URL: "http://up.example.com/live/one.ts", Kind: "auto"},
		{URL: "https://backup.example.com/one.m3u8", Kind: "hls"}, {URL: "file:///srv/media/loop.ts", Kind: "file"}}
	if s.Kind != "live" || s.EPGChannelID != nil || !cmp.Equal(s.Sources, want) || string(s.Info) != "{}" {
		t.Fatalf("created %+v", s)
	}
	// Movies are another family: the live id is not found there.
	_, err = b.ed.Stream(ctx, editor.FamilyVOD, s.ID)
	wantField(t, err, input.ErrNotFound, "id")

	// Reordering the sources (failover order) and setting the EPG id writes; the audit entry
	// says the sources changed without their URLs.
	v := b.catalogVersion(t)
	got, err := b.ed.UpdateStream(ctx, admin, editor.FamilyLive, s.ID, func(s *editor.Stream) error {
		s.Sources[0], s.Sources[1] = s.Sources[1], s.Sources[0]
		s.EPGChannelID = ptr("one.tv")
		s.AlwaysOn = true
		return nil
	})
	if err != nil || got.Sources[0].Kind != "hls" || *got.EPGChannelID != "one.tv" || !got.AlwaysOn {
		t.Fatalf("UpdateStream = %+v, %v", got, err)
	}
	if b.catalogVersion(t) == v {
		t.Fatal("update did not bump the catalog version")
	}
	e := b.audits(t, "stream.update")
	if len(e) != 1 || e[0].Detail["after"].(map[string]any)["sources"] != audit.Changed ||
		strings.Contains(mustJSON(t, e[0].Detail), "backup.example.com") {
		t.Fatalf("audit = %s", mustJSON(t, e))
	}
	// An edit that changes nothing writes nothing.
	v = b.catalogVersion(t)
	if _, err := b.ed.UpdateStream(ctx, admin, editor.FamilyLive, s.ID, func(*editor.Stream) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if b.catalogVersion(t) != v || len(b.audits(t, "stream.update")) != 1 {
		t.Fatal("a no-op update wrote")
	}
	_, err = b.ed.UpdateStream(ctx, admin, editor.FamilyLive, s.ID, func(s *editor.Stream) error { s.Kind = "radio"; return nil })
	wantField(t, err, input.ErrInvalid, "kind")

	if err := b.ed.DeleteStream(ctx, admin, editor.FamilyLive, s.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.ed.Stream(ctx, editor.FamilyLive, s.ID)
	wantField(t, err, input.ErrNotFound, "id")
}

func TestStreams_ListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	for _, n := range []string{"delta", "alpha", "charlie", "bravo", "echo"} {
		if _, err := b.ed.CreateStream(ctx, admin, editor.FamilyLive, liveStream(n, nil)); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	q := editor.StreamQuery{Query: editor.Query{Sort: "name", Limit: 2}}
	for range 5 {
		page, err := b.ed.Streams(ctx, editor.FamilyLive, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			names = append(names, s.Name)
			if len(s.Sources) != 1 {
				t.Fatalf("%s has %d sources", s.Name, len(s.Sources))
			}
		}
		if len(page) < 2 {
			break
		}
		q.After = page[len(page)-1].Cursor("name")
	}
	if want := []string{"alpha", "bravo", "charlie", "delta", "echo"}; !cmp.Equal(names, want) {
		t.Fatalf("pages by name = %v, want %v", names, want)
	}
	page, err := b.ed.Streams(ctx, editor.FamilyLive, editor.StreamQuery{Name: "ARL"})
	if err != nil || len(page) != 1 || page[0].Name != "charlie" {
		t.Fatalf("name filter = %+v, %v", page, err)
	}
	_, err = b.ed.Streams(ctx, editor.FamilyLive, editor.StreamQuery{Query: editor.Query{Sort: "icon"}})
	wantField(t, err, input.ErrInvalid, "sort")
	_, err = b.ed.Streams(ctx, editor.FamilyLive, editor.StreamQuery{Query: editor.Query{Sort: "created_at",
		After: editor.Cursor{ID: 1, Key: "not a time"}}})
	wantField(t, err, input.ErrInvalid, "sort")
}

func TestSeries_SeasonsEpisodes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cat, _ := b.ed.CreateCategory(ctx, admin, editor.Category{Kind: "series", Name: "Drama"})
	se, err := b.ed.CreateSeries(ctx, admin, editor.Series{Name: "Show", CategoryID: &cat.ID, Rating: 7.456,
		ReleaseDate: ptr("2020-02-03")})
	if err != nil || se.Rating != 7.46 || *se.ReleaseDate != "2020-02-03" || se.BackdropPaths == nil {
		t.Fatalf("CreateSeries = %+v, %v", se, err)
	}
	_, err = b.ed.CreateSeries(ctx, admin, editor.Series{Name: "Bad", ReleaseDate: ptr("03/02/2020")})
	wantField(t, err, input.ErrInvalid, "release_date")

	if _, created, err := b.ed.PutSeason(ctx, admin, se.ID, editor.Season{Number: 1, Name: "One"}); err != nil || !created {
		t.Fatalf("PutSeason = %v, %v", created, err)
	}
	v := b.catalogVersion(t)
	if _, created, err := b.ed.PutSeason(ctx, admin, se.ID, editor.Season{Number: 1, Name: "One"}); err != nil || created {
		t.Fatalf("PutSeason again = %v, %v", created, err)
	}
	if b.catalogVersion(t) != v {
		t.Fatal("an unchanged season was written")
	}
	ep := editor.Episode{Stream: editor.Stream{Name: "Pilot", ContainerExtension: ptr("mkv"), Enabled: true,
		Sources: []editor.Source{{URL: "http://vod.example.com/s1e1.mkv"}}}, SeasonNumber: 1, EpisodeNumber: 1}
	e1, err := b.ed.CreateEpisode(ctx, admin, se.ID, ep)
	if err != nil || e1.Kind != "episode" || e1.SeriesID != se.ID {
		t.Fatalf("CreateEpisode = %+v, %v", e1, err)
	}
	ep.Sources[0].URL = "http://vod.example.com/other.mkv"
	_, err = b.ed.CreateEpisode(ctx, admin, se.ID, ep)
	wantField(t, err, input.ErrConflict, "episode_number")
	ep.EpisodeNumber = 2
	e2, err := b.ed.CreateEpisode(ctx, admin, se.ID, ep)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.ed.UpdateEpisode(ctx, admin, e2.ID, func(e *editor.Episode) error { e.EpisodeNumber = 1; return nil })
	wantField(t, err, input.ErrConflict, "episode_number")
	moved, err := b.ed.UpdateEpisode(ctx, admin, e2.ID, func(e *editor.Episode) error {
		e.SeasonNumber, e.Name = 2, "Premiere"
		return nil
	})
	if err != nil || moved.SeasonNumber != 2 || moved.Name != "Premiere" {
		t.Fatalf("UpdateEpisode = %+v, %v", moved, err)
	}
	if a := b.audits(t, "episode.update"); len(a) != 1 || !cmp.Equal(a[0].Detail["after"],
		map[string]any{"name": "Premiere", "season_number": float64(2)}) {
		t.Fatalf("episode audit = %s", mustJSON(t, a))
	}
	eps, err := b.ed.Episodes(ctx, se.ID)
	if err != nil || len(eps) != 2 || eps[0].ID != e1.ID || eps[1].ID != e2.ID {
		t.Fatalf("Episodes = %+v, %v", eps, err)
	}
	_, err = b.ed.Stream(ctx, editor.FamilyVOD, e1.ID)
	wantField(t, err, input.ErrNotFound, "id")

	if err := b.ed.DeleteSeries(ctx, admin, se.ID); err != nil {
		t.Fatal(err)
	}
	_, err = b.ed.Episode(ctx, e1.ID)
	wantField(t, err, input.ErrNotFound, "id")
}

func TestBouquets_OrderedEntries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	var ids []int64
	for _, n := range []string{"a", "b", "c"} {
		s, err := b.ed.CreateStream(ctx, admin, editor.FamilyLive, liveStream(n, nil))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	se, _ := b.ed.CreateSeries(ctx, admin, editor.Series{Name: "Show"})
	ep, err := b.ed.CreateEpisode(ctx, admin, se.ID, editor.Episode{Stream: editor.Stream{Name: "E1",
		ContainerExtension: ptr("mp4"), Sources: []editor.Source{{URL: "http://v/e1.mp4"}}}, SeasonNumber: 1, EpisodeNumber: 1})
	if err != nil {
		t.Fatal(err)
	}
	bq, err := b.ed.CreateBouquet(ctx, admin, editor.Bouquet{Name: "Basic", Position: -1,
		StreamIDs: []int64{ids[2], ids[0], ids[2]}, SeriesIDs: []int64{se.ID}})
	if err != nil || !cmp.Equal(bq.StreamIDs, []int64{ids[2], ids[0]}) || !cmp.Equal(bq.SeriesIDs, []int64{se.ID}) {
		t.Fatalf("CreateBouquet = %+v, %v", bq, err)
	}
	_, err = b.ed.CreateBouquet(ctx, admin, editor.Bouquet{Name: "Basic"})
	wantField(t, err, input.ErrConflict, "name")
	_, err = b.ed.CreateBouquet(ctx, admin, editor.Bouquet{Name: "Eps", StreamIDs: []int64{ep.ID}})
	wantField(t, err, input.ErrInvalid, "stream_ids")
	_, err = b.ed.UpdateBouquet(ctx, admin, bq.ID, func(b *editor.Bouquet) error { b.SeriesIDs = []int64{999}; return nil })
	wantField(t, err, input.ErrNotFound, "series_ids")

	got, err := b.ed.UpdateBouquet(ctx, admin, bq.ID, func(b *editor.Bouquet) error {
		b.StreamIDs = []int64{ids[0], ids[1], ids[2]}
		return nil
	})
	if err != nil || !cmp.Equal(got.StreamIDs, []int64{ids[0], ids[1], ids[2]}) {
		t.Fatalf("UpdateBouquet = %+v, %v", got, err)
	}
	read, _ := b.ed.Bouquet(ctx, bq.ID)
	if !cmp.Equal(read.StreamIDs, got.StreamIDs) {
		t.Fatalf("stored order %v, want %v", read.StreamIDs, got.StreamIDs)
	}
	a := b.audits(t, "bouquet.update")
	if len(a) != 1 || !strings.Contains(mustJSON(t, a[0].Detail), `"added":[`) {
		t.Fatalf("bouquet audit = %s", mustJSON(t, a))
	}
	list, err := b.ed.Bouquets(ctx, "", editor.Query{Sort: "position"})
	if err != nil || len(list) != 1 || list[0].StreamCount != 3 || list[0].SeriesCount != 1 {
		t.Fatalf("Bouquets = %+v, %v", list, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
