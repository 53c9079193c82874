package catalog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/source"
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
		`line 9: URL refused: unsupported scheme "rtmp" (want http, https, file or an absolute path)`,
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

// TestImportM3U_SourcesFromOutside: the URL and the catchup-source of every entry pass one
// check; refused entries are skipped with a reason that never repeats the URL's credentials,
// and with Files set, local sources outside the media directories (or inside the data
// directory) are refused too.
func TestImportM3U_SourcesFromOutside(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	media, data := filepath.Join(root, "media"), filepath.Join(root, "data")
	for _, d := range []string{media, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files, err := source.NewFiles(source.FilesOptions{MediaDirs: []string{media}, Private: []string{data}})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(name, attrs, url string) string {
		return "#EXTINF:-1 " + attrs + "," + name + "\n" + url + "\n"
	}
	up := "http://user:hunter2@provider.example/live/user/hunter2/"
	pl := "#EXTM3U\n" +
		entry("Good", `catchup-days="1" catchup-source="http://archive.example/{stream_id}/{start_unix}.ts"`, up+"1.ts") + // line 2
		entry("Secret", `catchup-days="1" catchup-source="file://`+data+`/token-secret"`, up+"2.ts") + // line 4
		entry("Dotdot", `catchup-days="1" catchup-source="file://`+media+`/../data/token-secret"`, up+"3.ts") + // 6
		entry("Relative", `catchup-source="?utc={utc}"`, up+"4.ts") + // 8
		entry("Rtmp catch-up", `catchup-source="rtmp://archive.example/x"`, up+"5.ts") + // 10
		entry("Local movie", ``, "file://"+media+"/a.ts") + // 12
		entry("Local secret", ``, data+"/token-secret") + // 14
		entry("Control", ``, up+"6.ts\x01") + // 16
		entry("Long", ``, up+strings.Repeat("a", 4096)+".ts") + // 18
		entry("Media recordings", `catchup-source="file://`+media+`/rec/{stream_id}/{Y}{m}{d}.ts"`, up+"7.ts") // 20
	want := []string{
		"line 4: catchup-source refused: file outside the media directories",
		`line 6: catchup-source refused: file path not clean ("..", "." or "//")`,
		"line 8: catchup-source refused: not an absolute URL",
		`line 10: catchup-source refused: unsupported scheme "rtmp" (want http, https, file or an absolute path)`,
		"line 14: URL refused: file outside the media directories",
		"line 16: URL refused: control character U+0001",
		"line 18: URL refused: longer than 4096 bytes",
	}
	st := store.New(testdb.New(t))
	sum, err := catalog.ImportM3U(t.Context(), st, strings.NewReader(pl), catalog.M3UOptions{Bouquet: "P", Files: files})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, skips(sum.Skipped)); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if sum.Added != 3 {
		t.Errorf("added %d, want 3 (Good, Local movie, Media recordings)", sum.Added)
	}
	for _, s := range sum.Skipped {
		if strings.Contains(s.Reason, "hunter2") {
			t.Errorf("skip reason %q repeats a credential", s.Reason)
		}
	}
	// Without Files the place is not known: the secret's path is a well-formed local source
	// (serving refuses it), the malformed ones are still refused.
	sum, err = catalog.ImportM3U(t.Context(), store.New(testdb.New(t)), strings.NewReader(pl), catalog.M3UOptions{Bouquet: "P"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 5 || len(sum.Skipped) != 5 {
		t.Errorf("without Files: added %d, skipped %v, want 5 and 5", sum.Added, skips(sum.Skipped))
	}
}
