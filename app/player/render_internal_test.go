package player

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// renderFixture: live category News(1), movie category Films(4), series category Drama(5);
// live 10 (EPG id, 3 archive days) and 11 (direct source), movie 21, episode 30 of series 40.
func renderFixture() store.CatalogData {
	created := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cat := func(id int64) *int64 { return &id }
	str := func(s string) *string { return &s }
	return store.CatalogData{
		Version: 7,
		Categories: []store.Category{{ID: 1, Kind: store.KindLive, Name: "News"}, {ID: 4, Kind: store.KindMovie, Name: "Films"},
			{ID: 5, Kind: store.KindSeries, Name: "Drama"}},
		Streams: []store.Stream{
			{ID: 10, Kind: store.KindLive, Name: "News 1", CategoryID: cat(1), EPGChannelID: str("news1.tv"), TVArchiveDays: 3,
				Enabled: true, CreatedAt: created, Info: json.RawMessage("{}")},
			{ID: 11, Kind: store.KindLive, Name: "News 2", CategoryID: cat(1), DirectSource: true, Enabled: true,
				CreatedAt: created, Info: json.RawMessage("{}")},
			{ID: 21, Kind: store.KindMovie, Name: "Film B", CategoryID: cat(4), ContainerExtension: str("mkv"),
				Info:    json.RawMessage(`{"rating":8,"releasedate":"1999-03-31","actors":"A, B","description":"D","episode_run_time":"136","director":7}`),
				Enabled: true, CreatedAt: created},
			{ID: 30, Kind: store.KindEpisode, Name: "Show S01E01", ContainerExtension: str("mp4"), Enabled: true, CreatedAt: created},
		},
		Sources:  []store.StreamSource{{StreamID: 10, URL: "http://up/10.ts", Kind: "ts"}, {StreamID: 11, URL: "http://up/11.ts", Kind: "auto"}},
		Series:   []store.Series{{ID: 40, Name: "Show", CategoryID: cat(5), Rating: 7.6, EpisodeRunTime: 45, UpdatedAt: created}},
		Episodes: []store.Episode{{StreamID: 30, SeriesID: 40, SeasonNumber: 1, EpisodeNumber: 1}},
	}
}

// TestListJSON checks the pre-rendered entries against spec §1.5, §1.6 and §1.8 types.
func TestListJSON(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(renderFixture(), catalog.BuildOptions{})
	ls := listsView.Of(snap)
	s10, _ := snap.Stream(10)
	s11, _ := snap.Stream(11)
	m21, _ := snap.Movie(21)
	se, _ := snap.Series(40)
	cat, _ := snap.Category(1)
	add := fmt.Sprint(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"live with epg and archive", ls.appendStream(nil, s10, 1),
			`{"num":1,"name":"News 1","stream_type":"live","stream_id":10,"stream_icon":"","epg_channel_id":"news1.tv","added":"` + add + `","category_id":"1","custom_sid":"","tv_archive":1,"direct_source":"","tv_archive_duration":3,"category_ids":[1],"thumbnail":""}`},
		{"live direct source", ls.appendStream(nil, s11, 2),
			`{"num":2,"name":"News 2","stream_type":"live","stream_id":11,"stream_icon":"","epg_channel_id":null,"added":"` + add + `","category_id":"1","custom_sid":"","tv_archive":0,"direct_source":"http://up/11.ts","tv_archive_duration":0,"category_ids":[1],"thumbnail":""}`},
		{"movie", ls.appendStream(nil, m21, 3),
			`{"num":3,"name":"Film B","stream_type":"movie","stream_id":21,"stream_icon":"","rating":"8","rating_5based":4,"added":"` + add + `","category_id":"4","container_extension":"mkv","custom_sid":"","direct_source":""` +
				// XUI: the metadata's other spellings (releasedate, actors, description, a string run
				// time) fill the list fields; a director of the wrong kind is absent
				`,"title":"Film B","year":"1999","plot":"D","cast":"A, B","director":"","genre":"","release_date":"1999-03-31","youtube_trailer":"","episode_run_time":136,"category_ids":[4]}`},
		{"series", ls.appendSeries(nil, se, 4),
			`{"num":4,"name":"Show","series_id":40,"cover":"","plot":"","cast":"","director":"","genre":"","releaseDate":"","last_modified":"` + add + `","rating":"8","rating_5based":3.8,"backdrop_path":[],"youtube_trailer":"","episode_run_time":"45","category_id":"5",` +
				`"title":"Show","year":null,"release_date":"","category_ids":[5]}`},
		{"category", ls.category[cat.Index], `{"category_id":"1","category_name":"News","parent_id":0}`},
		{"categories list", ls.appendCategories(nil, []*catalog.Category{cat}), `[{"category_id":"1","category_name":"News","parent_id":0}]`},
		{"streams list", ls.appendStreams(nil, nil), `[]`},
		{"no categories without lists", (*lists)(nil).appendCategories(nil, nil), `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, string(tt.got)); diff != "" {
				t.Fatalf("JSON (-want +got):\n%s", diff)
			}
			if !json.Valid(tt.got) {
				t.Fatal("invalid JSON")
			}
		})
	}
}

// TestLists_OnePerSnapshot: the lists are rendered once per snapshot, and an episode has no
// list entry.
func TestLists_OnePerSnapshot(t *testing.T) {
	t.Parallel()
	snap := catalog.Build(renderFixture(), catalog.BuildOptions{})
	ls := listsView.Of(snap)
	if again := listsView.Of(snap); again != ls {
		t.Fatal("listsView.Of rendered the same snapshot twice")
	}
	if other := listsView.Of(catalog.Build(renderFixture(), catalog.BuildOptions{})); other == ls {
		t.Fatal("two snapshots share one rendering")
	}
	ep, _ := snap.Stream(30)
	if ls.stream[ep.Index] != nil {
		t.Fatalf("episode entry = %q, want none", ls.stream[ep.Index])
	}
	if len(ls.stream) != 4 || len(ls.series) != 1 || len(ls.category) != 3 {
		t.Fatalf("tables = %d streams, %d series, %d categories; want 4, 1, 3", len(ls.stream), len(ls.series), len(ls.category))
	}
}

// BenchmarkRenderLists10k is the player's share of a catalog rebuild: every list entry of
// 10,000 channels and 1,000 movies rendered (catalog.Build did this before it held values only).
func BenchmarkRenderLists10k(b *testing.B) {
	snap := catalog.Build(testdb.BigCatalog(10_000), catalog.BuildOptions{})
	b.ReportAllocs()
	for b.Loop() {
		_ = renderLists(snap)
	}
}

// BenchmarkAppendLiveStreams10k renders the whole get_live_streams body for 10,000 channels
// from a cached entitlement into a reused buffer (what the player API sends): the per-request
// part of get_live_streams without HTTP.
func BenchmarkAppendLiveStreams10k(b *testing.B) {
	snap := catalog.Build(testdb.BigCatalog(10_000), catalog.BuildOptions{})
	listsView.Of(snap)
	buf := make([]byte, 0, 4<<20)
	b.ReportAllocs()
	for b.Loop() {
		e := snap.Entitlement([]int64{1, 2, 3})
		buf = listsView.Of(e.Snapshot()).appendStreams(buf[:0], e.Live(0))
	}
	b.SetBytes(int64(len(buf)))
}
