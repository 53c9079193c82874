package catalog_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
)

var created = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// fixture: categories News(1) Sports(2) Kids(3) live, Films(4) movie, Drama(5) Comedy(6) series;
// streams 10–15 live, 20–21 movies, 30–31 episodes of series 40; series 41 has none;
// bouquet 100 "Basic": 12, 10, 20, series 40; bouquet 101 "Sports": 13, 10, 14, 21;
// bouquet 102 "Kids": 15 (disabled stream 16 is absent from the read).
func fixture() store.CatalogData {
	d := store.CatalogData{Version: 7}
	d.Categories = []store.Category{
		{ID: 1, Kind: store.KindLive, Name: "News", Position: 0},
		{ID: 2, Kind: store.KindLive, Name: "Sports", Position: 1},
		{ID: 3, Kind: store.KindLive, Name: "Kids", Position: 2},
		{ID: 4, Kind: store.KindMovie, Name: "Films", Position: 0},
		{ID: 6, Kind: store.KindSeries, Name: "Comedy", Position: 0},
		{ID: 5, Kind: store.KindSeries, Name: "Drama", Position: 1},
	}
	live := func(id, cat int64, name string) store.Stream {
		return store.Stream{ID: id, Kind: store.KindLive, Name: name, CategoryID: &cat, Enabled: true, CreatedAt: created,
			Info: json.RawMessage("{}")}
	}
	d.Streams = []store.Stream{
		live(10, 1, "News 1"), live(11, 1, "News 2"), live(12, 1, "News 3"), live(13, 2, "Sports 1"),
		live(14, 2, "Sports 2"), live(15, 3, "Kids 1"),
		{ID: 20, Kind: store.KindMovie, Name: "Film A", CategoryID: ptr[int64](4), ContainerExtension: ptr("mp4"),
			Info: json.RawMessage(`{"rating":"7.5","movie_image":"http://i/a.jpg"}`), Enabled: true, CreatedAt: created},
		{ID: 21, Kind: store.KindMovie, Name: "Film B", CategoryID: ptr[int64](4), ContainerExtension: ptr("mkv"),
			Info: json.RawMessage(`{"rating":8}`), Enabled: true, CreatedAt: created},
		{ID: 30, Kind: store.KindEpisode, Name: "Show S01E01", ContainerExtension: ptr("mp4"), Enabled: true, CreatedAt: created},
		{ID: 31, Kind: store.KindEpisode, Name: "Show S02E01", ContainerExtension: ptr("mp4"), Enabled: true, CreatedAt: created},
	}
	d.Streams[0].EPGChannelID = ptr("news1.tv")
	d.Streams[0].TVArchiveDays = 3
	d.Streams[1].DirectSource = true
	d.Sources = []store.StreamSource{
		{StreamID: 10, Position: 0, URL: "http://up/10.ts", Kind: "ts"},
		{StreamID: 10, Position: 1, URL: "http://backup/10.ts", Kind: "ts"},
		{StreamID: 11, Position: 0, URL: "http://up/11.ts", Kind: "auto"},
	}
	d.Series = []store.Series{
		{ID: 40, Name: "Show", CategoryID: ptr[int64](5), Rating: 7.6, EpisodeRunTime: 45, UpdatedAt: created},
		{ID: 41, Name: "Other", CategoryID: ptr[int64](6), UpdatedAt: created},
	}
	d.Seasons = []store.Season{{SeriesID: 40, SeasonNumber: 1, Name: "Season 1"}}
	d.Episodes = []store.Episode{
		{StreamID: 30, SeriesID: 40, SeasonNumber: 1, EpisodeNumber: 1},
		{StreamID: 31, SeriesID: 40, SeasonNumber: 2, EpisodeNumber: 1},
	}
	d.Bouquets = []store.Bouquet{{ID: 100, Name: "Basic"}, {ID: 101, Name: "Sports", Position: 1}, {ID: 102, Name: "Kids", Position: 2}}
	d.BouquetStreams = []store.BouquetItem{
		{BouquetID: 100, ItemID: 12, Position: 0}, {BouquetID: 100, ItemID: 10, Position: 1}, {BouquetID: 100, ItemID: 20, Position: 2},
		{BouquetID: 101, ItemID: 13, Position: 0}, {BouquetID: 101, ItemID: 10, Position: 1}, {BouquetID: 101, ItemID: 14, Position: 2},
		{BouquetID: 101, ItemID: 21, Position: 3},
		{BouquetID: 102, ItemID: 16, Position: 0}, {BouquetID: 102, ItemID: 15, Position: 1},
	}
	d.BouquetSeries = []store.BouquetItem{{BouquetID: 100, ItemID: 40}}
	return d
}

func ids(ss []*catalog.Stream) []int64 {
	out := []int64{}
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func catNames(cs []*catalog.Category) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestEntitlement_OwnStreamsInBouquetOrder(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	tests := []struct {
		name           string
		bouquets       []int64
		category       int64
		wantLive       []int64
		wantVOD        []int64
		wantLiveCats   []string
		wantVODCats    []string
		wantSeriesCats []string
	}{
		{"basic then sports", []int64{100, 101}, 0, []int64{12, 10, 13, 14}, []int64{20, 21},
			[]string{"News", "Sports"}, []string{"Films"}, []string{"Comedy", "Drama"}},
		{"sports then basic: first occurrence wins", []int64{101, 100}, 0, []int64{13, 10, 14, 12}, []int64{21, 20},
			[]string{"News", "Sports"}, []string{"Films"}, []string{"Comedy", "Drama"}},
		{"sports only hides News 3, Kids and the series", []int64{101}, 0, []int64{13, 10, 14}, []int64{21},
			[]string{"News", "Sports"}, []string{"Films"}, []string{"Comedy", "Drama"}},
		{"category filter", []int64{100, 101}, 2, []int64{13, 14}, []int64{}, []string{"News", "Sports"},
			[]string{"Films"}, []string{"Comedy", "Drama"}},
		{"kids: disabled stream absent", []int64{102}, 0, []int64{15}, []int64{}, []string{"Kids"}, []string{},
			[]string{"Comedy", "Drama"}},
		{"unknown and repeated bouquets ignored", []int64{999, 102, 102}, 0, []int64{15}, []int64{}, []string{"Kids"},
			[]string{}, []string{"Comedy", "Drama"}},
		{"no bouquets", nil, 0, []int64{}, []int64{}, []string{}, []string{}, []string{"Comedy", "Drama"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := snap.Entitlement(tt.bouquets)
			if diff := cmp.Diff(tt.wantLive, ids(e.Live(tt.category))); diff != "" {
				t.Errorf("Live(%d) (-want +got):\n%s", tt.category, diff)
			}
			if diff := cmp.Diff(tt.wantVOD, ids(e.VOD(tt.category))); diff != "" {
				t.Errorf("VOD(%d) (-want +got):\n%s", tt.category, diff)
			}
			if diff := cmp.Diff(tt.wantLiveCats, catNames(e.LiveCategories())); diff != "" {
				t.Errorf("LiveCategories (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantVODCats, catNames(e.VODCategories())); diff != "" {
				t.Errorf("VODCategories (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSeriesCats, catNames(e.SeriesCategories())); diff != "" {
				t.Errorf("SeriesCategories (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntitlement_Allows(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	e := snap.Entitlement([]int64{101})
	basic := snap.Entitlement([]int64{100})
	tests := []struct {
		name string
		e    *catalog.Entitlement
		id   int64
		want bool
	}{
		{"live in bouquet", e, 13, true},
		{"live in another bouquet", e, 12, false},
		{"movie in bouquet", e, 21, true},
		{"episode of a series not in bouquets", e, 30, false},
		{"episode of an entitled series", basic, 31, true},
		{"unknown id", basic, 9999, false},
		{"disabled stream", snap.Entitlement([]int64{102}), 16, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.e.Allows(tt.id); got != tt.want {
				t.Fatalf("Allows(%d) = %v, want %v", tt.id, got, tt.want)
			}
			if _, ok := tt.e.Stream(tt.id); ok != tt.want {
				t.Fatalf("Stream(%d) ok = %v, want %v", tt.id, ok, tt.want)
			}
		})
	}
	if !basic.HasSeries(40) || e.HasSeries(40) {
		t.Fatal("HasSeries(40) wrong")
	}
	if got := ids(basic.Series(0)[0].Seasons[1].Episodes); !cmp.Equal(got, []int64{31}) {
		t.Fatalf("season 2 episodes = %v", got)
	}
}

func TestEntitlement_CachedPerBouquetList(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{MaxCachedEntitlements: 2})
	a := snap.Entitlement([]int64{100, 101})
	if snap.Entitlement([]int64{100, 101}) != a {
		t.Fatal("same list, different entitlement")
	}
	if snap.Entitlement([]int64{101, 100}) == a {
		t.Fatal("order matters: different list, same entitlement")
	}
	_ = snap.Entitlement([]int64{102}) // past the cap: built, not kept
	first, second := snap.Entitlement([]int64{102}), snap.Entitlement([]int64{102})
	if first == second {
		t.Fatal("entitlement past the cap was cached")
	}
}

func TestSnapshot_FilterSeriesCategories(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{FilterSeriesCategories: true})
	if diff := cmp.Diff([]string{"Drama"}, catNames(snap.Entitlement([]int64{100}).SeriesCategories())); diff != "" {
		t.Fatalf("SeriesCategories (-want +got):\n%s", diff)
	}
}

func TestSnapshot_Lookups(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	if snap.Version != 7 {
		t.Fatalf("Version = %d", snap.Version)
	}
	s, ok := snap.Stream(10)
	if !ok || len(s.Sources) != 2 || s.Sources[1].URL != "http://backup/10.ts" || s.Category.Name != "News" {
		t.Fatalf("Stream(10) = %+v", s)
	}
	if _, ok := snap.Movie(10); ok {
		t.Fatal("Movie(10) found a live stream")
	}
	m, ok := snap.Movie(20)
	if !ok || m.Rating != "7.5" || m.Rating5 != 3.8 || m.Icon != "http://i/a.jpg" || m.ContainerExtension != "mp4" {
		t.Fatalf("Movie(20) = %+v", m)
	}
	ep, ok := snap.Episode(31)
	if !ok || ep.Episode.Series.ID != 40 || ep.Episode.SeasonNumber != 2 {
		t.Fatalf("Episode(31) = %+v", ep)
	}
	se, ok := snap.Series(40)
	if !ok || len(se.Seasons) != 2 || !se.Seasons[0].HasMetadata || se.Seasons[1].HasMetadata || se.RatingString != "8" {
		t.Fatalf("Series(40) = %+v", se)
	}
	if c, ok := snap.Category(2); !ok || c.Name != "Sports" {
		t.Fatalf("Category(2) = %+v", c)
	}
	if got := len(snap.LiveStreams()); got != 6 {
		t.Fatalf("LiveStreams = %d, want 6", got)
	}
}

// TestValues checks the wire values the surfaces render from (spec §1.5, §1.6, §1.8): a
// movie's rating from its info, a series' integer-valued rating string, archive and direct
// source fields.
func TestValues(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	s10, _ := snap.Stream(10)
	s11, _ := snap.Stream(11)
	m20, _ := snap.Movie(20)
	m21, _ := snap.Movie(21)
	se, _ := snap.Series(40)
	type values struct {
		Type, Category, Direct, Rating, Icon string
		Rating5                              float64
		Archive                              int32
	}
	of := func(s *catalog.Stream) values {
		return values{s.StreamType(), s.CategoryIDString(), s.DirectSourceURL(), s.Rating, s.Icon, s.Rating5, s.TVArchiveDays}
	}
	tests := []struct {
		name string
		got  values
		want values
	}{
		{"live with epg and archive", of(s10), values{Type: "live", Category: "1", Archive: 3}},
		{"live direct source", of(s11), values{Type: "live", Category: "1", Direct: "http://up/11.ts"}},
		{"movie with poster", of(m20), values{Type: "movie", Category: "4", Rating: "7.5", Rating5: 3.8, Icon: "http://i/a.jpg"}},
		{"movie", of(m21), values{Type: "movie", Category: "4", Rating: "8", Rating5: 4}},
		{"series", values{Type: "series", Category: se.CategoryIDString(), Rating: se.RatingString, Rating5: se.Rating5},
			values{Type: "series", Category: "5", Rating: "8", Rating5: 3.8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Fatalf("values (-want +got):\n%s", diff)
			}
		})
	}
}

// TestIndex: Index numbers the streams, series and categories 0 … n-1 in the order the All*
// iterators yield them, so a surface's per-snapshot tables are plain slices.
func TestIndex(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	var streams, series, cats []int64
	for st := range snap.AllStreams() {
		if st.Index != len(streams) {
			t.Fatalf("stream %d: Index %d, want %d", st.ID, st.Index, len(streams))
		}
		streams = append(streams, st.ID)
	}
	for se := range snap.AllSeries() {
		if se.Index != len(series) {
			t.Fatalf("series %d: Index %d, want %d", se.ID, se.Index, len(series))
		}
		series = append(series, se.ID)
	}
	for c := range snap.AllCategories() {
		if c.Index != len(cats) {
			t.Fatalf("category %d: Index %d, want %d", c.ID, c.Index, len(cats))
		}
		cats = append(cats, c.ID)
	}
	want := [][]int64{{10, 11, 12, 13, 14, 15, 20, 21, 30, 31}, {40, 41}, {1, 2, 3, 4, 6, 5}}
	if diff := cmp.Diff(want, [][]int64{streams, series, cats}); diff != "" {
		t.Fatalf("All* order (-want +got):\n%s", diff)
	}
	for range snap.AllStreams() {
		break // an iterator stopped early must not panic
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	e := catalog.Empty().Entitlement([]int64{1})
	if len(e.Live(0)) != 0 || e.Allows(1) || len(e.SeriesCategories()) != 0 {
		t.Fatal("empty snapshot entitles something")
	}
}
