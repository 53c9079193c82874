package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

func TestSeriesSeasonEpisode_Upsert(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindSeries, []string{"Drama"})
	cat := ids["Drama"]
	in := store.SeriesInput{Name: "Show", CategoryID: &cat, Plot: "p", Rating: 7.5, EpisodeRunTime: 45,
		ReleaseDate: ptr(time.Date(2020, 1, 2, 0, 0, 0, 0, time.UTC)), BackdropPaths: []string{"http://b/1.jpg"}}
	id, o, err := st.UpsertSeries(ctx, in)
	if err != nil || o != store.Added {
		t.Fatalf("UpsertSeries = %d, %v, %v", id, o, err)
	}
	if id2, o, err := st.UpsertSeries(ctx, in); err != nil || o != store.Unchanged || id2 != id {
		t.Fatalf("UpsertSeries again = %d, %v, %v", id2, o, err)
	}
	in.Plot = "new"
	if _, o, err := st.UpsertSeries(ctx, in); err != nil || o != store.Updated {
		t.Fatalf("UpsertSeries changed = %v, %v", o, err)
	}
	season := store.Season{SeriesID: id, SeasonNumber: 1, Name: "Season 1", VoteAverage: 8}
	for _, want := range []store.Outcome{store.Added, store.Unchanged} {
		if o, err := st.UpsertSeason(ctx, season); err != nil || o != want {
			t.Fatalf("UpsertSeason = %v, %v, want %v", o, err, want)
		}
	}
	season.Overview = "o"
	if o, err := st.UpsertSeason(ctx, season); err != nil || o != store.Updated {
		t.Fatalf("UpsertSeason changed = %v, %v", o, err)
	}
	ep := store.EpisodeInput{SeriesID: id, SeasonNumber: 1, EpisodeNumber: 1, Stream: store.StreamInput{
		Name: "Show - S01E01", ContainerExtension: ptr("mp4"), Info: json.RawMessage(`{"duration_secs":60}`),
		Sources: []store.Source{{URL: "file:///e1.mp4", Kind: store.SourceFile}}}}
	eid, o, err := st.UpsertEpisode(ctx, ep)
	if err != nil || o != store.Added {
		t.Fatalf("UpsertEpisode = %d, %v, %v", eid, o, err)
	}
	v := catalogVersion(t, st)
	if eid2, o, err := st.UpsertEpisode(ctx, ep); err != nil || o != store.Unchanged || eid2 != eid {
		t.Fatalf("UpsertEpisode again = %d, %v, %v", eid2, o, err)
	}
	if catalogVersion(t, st) != v {
		t.Fatal("a no-op UpsertEpisode bumped the catalog version")
	}
	ep.Stream.Name = "Show - S01E01 - Pilot"
	if _, o, err := st.UpsertEpisode(ctx, ep); err != nil || o != store.Updated {
		t.Fatalf("UpsertEpisode changed = %v, %v", o, err)
	}
	s, _ := st.StreamByID(ctx, eid)
	if s.Kind != store.KindEpisode || s.Name != "Show - S01E01 - Pilot" {
		t.Fatalf("episode stream = %+v", s)
	}
	if err := st.DeleteSeries(ctx, id); err != nil {
		t.Fatal(err)
	}
}
