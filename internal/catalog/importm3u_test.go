package catalog_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func importPlaylist(t *testing.T, st *store.Store, opts catalog.M3UOptions) catalog.M3USummary {
	t.Helper()
	f, err := os.Open("../../testdata/m3u/playlist.m3u")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := catalog.ImportM3U(t.Context(), st, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func skips(s []catalog.Skip) []string {
	var out []string
	for _, k := range s {
		out = append(out, k.String())
	}
	return out
}

func TestImportM3U_TwiceChangesNothing(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	first := importPlaylist(t, st, catalog.M3UOptions{Bouquet: "Provider"})
	wantSkips := []string{
		"line 9: unsupported scheme rtmp://",
		"line 11: no URL after #EXTINF",
		"line 14: duplicate of line 2 (same URL)",
		"line 19: URL without #EXTINF",
		"line 22: no URL after #EXTINF",
	}
	if diff := cmp.Diff(wantSkips, skips(first.Skipped)); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if first.Entries != 8 || first.Added != 6 || first.Updated != 0 || first.Unchanged != 0 ||
		first.CategoriesAdded != 4 || !first.BouquetCreated || first.BouquetAdded != 6 {
		t.Fatalf("first import = %+v", first)
	}
	v, _ := st.CatalogVersion(ctx)
	d1, err := st.LoadCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}

	second := importPlaylist(t, st, catalog.M3UOptions{Bouquet: "Provider"})
	if second.Added != 0 || second.Updated != 0 || second.Unchanged != 6 || second.CategoriesAdded != 0 ||
		second.BouquetCreated || second.BouquetAdded != 0 {
		t.Fatalf("second import = %+v", second)
	}
	if v2, _ := st.CatalogVersion(ctx); v2 != v {
		t.Fatalf("catalog version %d → %d: the second import wrote something", v, v2)
	}
	d2, _ := st.LoadCatalog(ctx)
	if diff := cmp.Diff(d1, d2); diff != "" {
		t.Fatalf("catalog changed by the second import (-first +second):\n%s", diff)
	}

	snap := catalog.Build(d2, catalog.BuildOptions{})
	b, _ := st.BouquetByName(ctx, "Provider")
	e := snap.Entitlement([]int64{b.ID})
	var names []string
	for _, s := range e.Live(0) {
		names = append(names, s.Name)
	}
	want := []string{"News One HD", "News Two", "Sport One", "Kids One", "Local File Channel", "Named By Attribute"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("bouquet order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"News", "Sports", "Kids", "Local"}, catNames(e.LiveCategories())); diff != "" {
		t.Fatalf("categories (-want +got):\n%s", diff)
	}
	two := e.Live(0)[1]
	if two.EPGChannelID != "news2.tv" || two.TVArchiveDays != 7 || two.Sources[0].Kind != store.SourceHLS ||
		two.Icon != "http://logos.example.com/news2.png" {
		t.Fatalf("News Two = %+v", two)
	}
	if local := e.Live(0)[4]; local.Sources[0].Kind != store.SourceFile || local.Category.Name != "Local" {
		t.Fatalf("Local File Channel = %+v", local)
	}
}

func TestImportM3U_MoviesAndChanges(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	pl := "#EXTM3U\n#EXTINF:-1 group-title=\"Films\",Film A\nhttp://vod/a.MKV\n#EXTINF:-1 group-title=\"Films\",Film B\nhttp://vod/b\n"
	sum, err := catalog.ImportM3U(ctx, st, strings.NewReader(pl), catalog.M3UOptions{Bouquet: "VOD", Kind: store.KindMovie})
	if err != nil || sum.Added != 2 {
		t.Fatalf("ImportM3U = %+v, %v", sum, err)
	}
	d, _ := st.LoadCatalog(ctx)
	if *d.Streams[0].ContainerExtension != "mkv" || *d.Streams[1].ContainerExtension != "mp4" || d.Categories[0].Kind != store.KindMovie {
		t.Fatalf("movies = %+v", d.Streams)
	}
	// A renamed entry with the same URL updates the stream in place.
	pl = strings.Replace(pl, "Film B", "Film B (2024)", 1)
	sum, err = catalog.ImportM3U(ctx, st, strings.NewReader(pl), catalog.M3UOptions{Bouquet: "VOD", Kind: store.KindMovie})
	if err != nil || sum.Added != 0 || sum.Updated != 1 || sum.Unchanged != 1 {
		t.Fatalf("ImportM3U(renamed) = %+v, %v", sum, err)
	}
	if _, err := catalog.ImportM3U(ctx, st, strings.NewReader(pl), catalog.M3UOptions{Bouquet: "VOD", Kind: "episode"}); err == nil {
		t.Fatal("kind episode accepted")
	}
	if _, err := catalog.ImportM3U(ctx, st, strings.NewReader(pl), catalog.M3UOptions{}); err == nil {
		t.Fatal("empty bouquet accepted")
	}
}
