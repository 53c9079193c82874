package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func ptr[T any](v T) *T { return &v }

func newStore(t *testing.T) *store.Store {
	t.Helper()
	return store.New(testdb.New(t))
}

func catalogVersion(t *testing.T, st *store.Store) int64 {
	t.Helper()
	v, err := st.CatalogVersion(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEnsureCategories_CreatesMissingInOrderOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports", "News"})
	if err != nil || added != 2 || len(ids) != 2 {
		t.Fatalf("EnsureCategories = %v, %d, %v, want 2 ids, 2 added", ids, added, err)
	}
	v := catalogVersion(t, st)
	ids2, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"Sports", "Kids", "News"})
	if err != nil || added != 1 || ids2["News"] != ids["News"] || ids2["Sports"] != ids["Sports"] {
		t.Fatalf("EnsureCategories again = %v, %d, %v", ids2, added, err)
	}
	cats, err := st.Categories(ctx, store.KindLive)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cats {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"News", "Sports", "Kids"}, names); diff != "" {
		t.Fatalf("categories by position (-want +got):\n%s", diff)
	}
	if got := catalogVersion(t, st); got != v+1 {
		t.Fatalf("catalog version = %d, want %d (one insert)", got, v+1)
	}
	if _, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"Kids"}); err != nil || added != 0 {
		t.Fatalf("EnsureCategories(existing) = %d, %v", added, err)
	}
	if got := catalogVersion(t, st); got != v+1 {
		t.Fatalf("catalog version after a no-op = %d, want %d", got, v+1)
	}
	// A movie category of the same name is another category.
	mids, _, err := st.EnsureCategories(ctx, store.KindMovie, []string{"News"})
	if err != nil || mids["News"] == ids["News"] {
		t.Fatalf("movie News = %v, %v; live News = %d", mids, err, ids["News"])
	}
}

func TestCategory_UpdateDelete(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateCategory(ctx, store.Category{ID: ids["A"], Name: "Adults", Position: 7, IsAdult: true}); err != nil {
		t.Fatal(err)
	}
	cats, _ := st.Categories(ctx, "")
	if len(cats) != 1 || cats[0].Name != "Adults" || cats[0].Position != 7 || !cats[0].IsAdult {
		t.Fatalf("categories = %+v", cats)
	}
	if err := st.DeleteCategory(ctx, ids["A"]); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCategory(ctx, ids["A"]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteCategory(gone) = %v, want ErrNotFound", err)
	}
}

func TestStream_CreateUpdateSourcesDelete(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	in := store.StreamInput{
		Kind: store.KindLive, Name: "One", Icon: "http://i/1.png", EPGChannelID: ptr("one.tv"),
		Sources: []store.Source{{URL: "http://up/1.ts", Kind: store.SourceTS}, {URL: "http://backup/1.m3u8", Kind: store.SourceHLS}},
	}
	id, err := st.CreateStream(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.StreamByID(ctx, id)
	if err != nil || got.Name != "One" || *got.EPGChannelID != "one.tv" || string(got.Info) != "{}" || !got.Enabled {
		t.Fatalf("StreamByID = %+v, %v", got, err)
	}
	srcs, _ := st.StreamSources(ctx, id)
	if len(srcs) != 2 || srcs[0].URL != "http://up/1.ts" || srcs[1].Kind != store.SourceHLS || srcs[1].Position != 1 {
		t.Fatalf("sources = %+v", srcs)
	}
	v := catalogVersion(t, st)
	if changed, err := st.SetStreamSources(ctx, id, in.Sources); err != nil || changed {
		t.Fatalf("SetStreamSources(same) = %v, %v, want false", changed, err)
	}
	if catalogVersion(t, st) != v {
		t.Fatal("a no-op SetStreamSources bumped the catalog version")
	}
	if changed, err := st.SetStreamSources(ctx, id, []store.Source{{URL: "file:///tmp/x.ts", Kind: store.SourceFile}}); err != nil || !changed {
		t.Fatalf("SetStreamSources(new) = %v, %v", changed, err)
	}
	if _, err := st.SetStreamSources(ctx, id, []store.Source{{URL: "rtmp://x/y"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("SetStreamSources(rtmp) = %v, want ErrInvalid", err)
	}
	in.Name, in.Disabled, in.Info = "One HD", true, json.RawMessage(`{"plot":"x"}`)
	if err := st.UpdateStream(ctx, id, in); err != nil {
		t.Fatal(err)
	}
	got, _ = st.StreamByID(ctx, id)
	if got.Name != "One HD" || got.Enabled || string(got.Info) != `{"plot": "x"}` {
		t.Fatalf("after update: %+v", got)
	}
	if err := st.DeleteStream(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StreamByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StreamByID(deleted) = %v", err)
	}
	if err := st.UpdateStream(ctx, id, in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateStream(deleted) = %v", err)
	}
}

func liveInput(name, url string, cat *int64) store.StreamInput {
	return store.StreamInput{Kind: store.KindLive, Name: name, CategoryID: cat, Sources: []store.Source{{URL: url}}}
}

func outcomes(res []store.ImportedStream) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.Outcome.String())
	}
	return out
}

func TestImportStreams_BySource(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports"})
	news, sports := ids["News"], ids["Sports"]
	items := []store.StreamInput{
		liveInput("A", "http://up/a.ts", &news),
		liveInput("B", "http://up/b.ts", &news),
		liveInput("A again", "http://up/a.ts", &sports), // same key: duplicate
		liveInput("C", "http://up/c.m3u8", nil),
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"added", "added", "duplicate", "added"}, outcomes(res)); diff != "" {
		t.Fatalf("first import (-want +got):\n%s", diff)
	}
	if res[2].ID != res[0].ID || res[0].ID >= res[1].ID || res[1].ID >= res[3].ID {
		t.Fatalf("ids = %+v: want duplicate → first, new ids ascending in entry order", res)
	}
	v := catalogVersion(t, st)
	again, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"unchanged", "unchanged", "duplicate", "unchanged"}, outcomes(again)); diff != "" {
		t.Fatalf("second import (-want +got):\n%s", diff)
	}
	if got := catalogVersion(t, st); got != v {
		t.Fatalf("catalog version after a no-op import = %d, want %d", got, v)
	}
	// Rename and regroup B, keep its URL: same id, updated; the operator's backup source stays.
	if _, err := st.SetStreamSources(ctx, res[1].ID, []store.Source{{URL: "http://up/b.ts"}, {URL: "http://backup/b.ts"}}); err != nil {
		t.Fatal(err)
	}
	items[1] = liveInput("B HD", "http://up/b.ts", &sports)
	items[1].EPGChannelID = ptr("b.tv")
	third, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"unchanged", "updated", "duplicate", "unchanged"}, outcomes(third)); diff != "" {
		t.Fatalf("third import (-want +got):\n%s", diff)
	}
	b, _ := st.StreamByID(ctx, res[1].ID)
	if b.Name != "B HD" || *b.CategoryID != sports || *b.EPGChannelID != "b.tv" {
		t.Fatalf("B after update = %+v", b)
	}
	srcs, _ := st.StreamSources(ctx, res[1].ID)
	if len(srcs) != 2 {
		t.Fatalf("B sources = %+v, want the backup kept", srcs)
	}
	if _, err := st.ImportStreams(ctx, store.MatchBySource, []store.StreamInput{{Kind: store.KindLive, Name: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ImportStreams(no source) = %v, want ErrInvalid", err)
	}
}

func TestImportStreams_ByName(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindMovie, []string{"Movies"})
	cat := ids["Movies"]
	movie := func(name, url string, info string) store.StreamInput {
		return store.StreamInput{Kind: store.KindMovie, Name: name, CategoryID: &cat, ContainerExtension: ptr("mp4"),
			Info: json.RawMessage(info), Sources: []store.Source{{URL: url, Kind: store.SourceFile}}}
	}
	items := []store.StreamInput{movie("M1", "file:///clip.ts", `{"plot":"a"}`), movie("M2", "file:///clip.ts", `{"plot":"b"}`)}
	res, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || res[0].Outcome != store.Added || res[1].Outcome != store.Added || res[0].ID == res[1].ID {
		t.Fatalf("ImportStreams = %+v, %v", res, err)
	}
	again, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || again[0].Outcome != store.Unchanged || again[1].Outcome != store.Unchanged {
		t.Fatalf("ImportStreams again = %+v, %v", again, err)
	}
	items[1] = movie("M2", "file:///other.ts", `{"plot":"b"}`)
	third, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || third[1].Outcome != store.Updated || third[1].ID != res[1].ID {
		t.Fatalf("ImportStreams(new url) = %+v, %v", third, err)
	}
	srcs, _ := st.StreamSources(ctx, res[1].ID)
	if len(srcs) != 1 || srcs[0].URL != "file:///other.ts" {
		t.Fatalf("sources = %+v", srcs)
	}
}

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

func TestBouquets_SetAppend(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	bid, created, err := st.EnsureBouquet(ctx, "Main")
	if err != nil || !created {
		t.Fatalf("EnsureBouquet = %d, %v, %v", bid, created, err)
	}
	if again, created, err := st.EnsureBouquet(ctx, "Main"); err != nil || created || again != bid {
		t.Fatalf("EnsureBouquet again = %d, %v, %v", again, created, err)
	}
	var ids []int64
	for i := range 4 {
		id, err := st.CreateStream(ctx, liveInput(fmt.Sprintf("S%d", i), fmt.Sprintf("http://up/%d.ts", i), nil))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if changed, err := st.SetBouquetStreams(ctx, bid, []int64{ids[2], ids[0], ids[2]}); err != nil || !changed {
		t.Fatalf("SetBouquetStreams = %v, %v", changed, err)
	}
	if changed, err := st.SetBouquetStreams(ctx, bid, []int64{ids[2], ids[0]}); err != nil || changed {
		t.Fatalf("SetBouquetStreams(same) = %v, %v", changed, err)
	}
	n, err := st.AppendBouquetStreams(ctx, bid, []int64{ids[0], ids[3], ids[1]})
	if err != nil || n != 2 {
		t.Fatalf("AppendBouquetStreams = %d, %v", n, err)
	}
	if n, err := st.AppendBouquetStreams(ctx, bid, []int64{ids[3]}); err != nil || n != 0 {
		t.Fatalf("AppendBouquetStreams(present) = %d, %v", n, err)
	}
	got, _ := st.BouquetStreamIDs(ctx, bid)
	if diff := cmp.Diff([]int64{ids[2], ids[0], ids[3], ids[1]}, got); diff != "" {
		t.Fatalf("bouquet order (-want +got):\n%s", diff)
	}
	if _, err := st.SetBouquetStreams(ctx, bid, []int64{999999}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetBouquetStreams(unknown) = %v, want ErrNotFound", err)
	}
	sid, _, _ := st.UpsertSeries(ctx, store.SeriesInput{Name: "Show"})
	if changed, err := st.SetBouquetSeries(ctx, bid, []int64{sid, sid}); err != nil || !changed {
		t.Fatalf("SetBouquetSeries = %v, %v", changed, err)
	}
	if got, _ := st.BouquetSeriesIDs(ctx, bid); !cmp.Equal(got, []int64{sid}) {
		t.Fatalf("series = %v, want [%d]", got, sid)
	}
	if changed, err := st.SetBouquetSeries(ctx, bid, nil); err != nil || !changed {
		t.Fatalf("SetBouquetSeries(nil) = %v, %v", changed, err)
	}
	if got, _ := st.BouquetSeriesIDs(ctx, bid); len(got) != 0 {
		t.Fatalf("series = %v", got)
	}
	if err := st.DeleteBouquet(ctx, bid); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCatalog_ConsistentRead(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	news := ids["News"]
	a, _ := st.CreateStream(ctx, liveInput("A", "http://up/a.ts", &news))
	off := liveInput("Off", "http://up/off.ts", &news)
	off.Disabled = true
	offID, _ := st.CreateStream(ctx, off)
	sid, _, _ := st.UpsertSeries(ctx, store.SeriesInput{Name: "Show"})
	if _, err := st.UpsertSeason(ctx, store.Season{SeriesID: sid, SeasonNumber: 1}); err != nil {
		t.Fatal(err)
	}
	eid, _, err := st.UpsertEpisode(ctx, store.EpisodeInput{SeriesID: sid, SeasonNumber: 1, EpisodeNumber: 1,
		Stream: store.StreamInput{Name: "E1", ContainerExtension: ptr("mkv"), Sources: []store.Source{{URL: "http://up/e1.mkv"}}}})
	if err != nil {
		t.Fatal(err)
	}
	bid, _, _ := st.EnsureBouquet(ctx, "B")
	if _, err := st.SetBouquetStreams(ctx, bid, []int64{a, offID}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetBouquetSeries(ctx, bid, []int64{sid}); err != nil {
		t.Fatal(err)
	}
	d, err := st.LoadCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != catalogVersion(t, st) {
		t.Fatalf("Version = %d, want %d", d.Version, catalogVersion(t, st))
	}
	if len(d.Categories) != 1 || len(d.Streams) != 2 || len(d.Sources) != 2 || len(d.Series) != 1 ||
		len(d.Seasons) != 1 || len(d.Episodes) != 1 || len(d.Bouquets) != 1 || len(d.BouquetStreams) != 2 ||
		len(d.BouquetSeries) != 1 {
		t.Fatalf("LoadCatalog = %+v", d)
	}
	if d.Streams[0].ID != a || d.Streams[1].ID != eid || d.Episodes[0].StreamID != eid {
		t.Fatalf("streams = %+v (the disabled one must be absent)", d.Streams)
	}
	// Inside a transaction it reads through that transaction.
	err = st.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.CreateStream(ctx, liveInput("B", "http://up/b.ts", nil)); err != nil {
			return err
		}
		d2, err := tx.LoadCatalog(ctx)
		if err != nil {
			return err
		}
		if len(d2.Streams) != 3 {
			return fmt.Errorf("in tx: %d streams, want 3", len(d2.Streams))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
