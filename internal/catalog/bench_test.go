package catalog_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// bigCatalog is a panel of n live channels in 50 categories, n/10 movies, split over three
// bouquets that overlap (the last one holds every channel).
func bigCatalog(n int) store.CatalogData {
	d := store.CatalogData{Version: 1}
	for c := range 50 {
		d.Categories = append(d.Categories, store.Category{ID: int64(c + 1), Kind: store.KindLive, Name: fmt.Sprintf("Cat %d", c), Position: int32(c)})
	}
	d.Categories = append(d.Categories, store.Category{ID: 100, Kind: store.KindMovie, Name: "Movies"})
	d.Bouquets = []store.Bouquet{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}, {ID: 3, Name: "All"}}
	for i := range n {
		id := int64(i + 1)
		cat := int64(i%50 + 1)
		d.Streams = append(d.Streams, store.Stream{ID: id, Kind: store.KindLive, Name: fmt.Sprintf("Channel %d HD", i),
			CategoryID: &cat, Icon: fmt.Sprintf("http://logos.example.com/%d.png", i), EPGChannelID: ptr(fmt.Sprintf("ch%d.tv", i)),
			Info: json.RawMessage("{}"), Enabled: true, CreatedAt: created})
		d.Sources = append(d.Sources, store.StreamSource{StreamID: id, URL: fmt.Sprintf("http://up.example.com/live/%d.ts", i), Kind: "auto"})
		d.BouquetStreams = append(d.BouquetStreams, store.BouquetItem{BouquetID: int64(i%2 + 1), ItemID: id, Position: int32(i)},
			store.BouquetItem{BouquetID: 3, ItemID: id, Position: int32(n - i)})
	}
	for i := range n / 10 {
		id := int64(n + i + 1)
		d.Streams = append(d.Streams, store.Stream{ID: id, Kind: store.KindMovie, Name: fmt.Sprintf("Movie %d", i),
			CategoryID: ptr[int64](100), ContainerExtension: ptr("mp4"), Info: json.RawMessage(`{"rating":"6.5"}`),
			Enabled: true, CreatedAt: created})
		d.BouquetStreams = append(d.BouquetStreams, store.BouquetItem{BouquetID: 1, ItemID: id, Position: int32(n + i)})
	}
	return d
}

// BenchmarkBuildSnapshot10k is the in-memory part of a rebuild: 10,000 channels and 1,000
// movies resolved and their list entries rendered.
func BenchmarkBuildSnapshot10k(b *testing.B) {
	d := bigCatalog(10_000)
	b.ReportAllocs()
	for b.Loop() {
		_ = catalog.Build(d, catalog.BuildOptions{})
	}
}

// BenchmarkEntitlementBuild10k builds (uncached) the entitlement of a line holding all three
// bouquets: 10,000 channels after de-duplication.
func BenchmarkEntitlementBuild10k(b *testing.B) {
	snap := catalog.Build(bigCatalog(10_000), catalog.BuildOptions{MaxCachedEntitlements: 1})
	_ = snap.Entitlement([]int64{0}) // fill the one cache slot so later calls build
	b.ReportAllocs()
	for b.Loop() {
		_ = snap.Entitlement([]int64{1, 2, 3})
	}
}

// BenchmarkEntitlementCachedHit is the per-request cost once a bouquet list is known.
func BenchmarkEntitlementCachedHit(b *testing.B) {
	snap := catalog.Build(bigCatalog(10_000), catalog.BuildOptions{})
	_ = snap.Entitlement([]int64{1, 2, 3})
	b.ReportAllocs()
	for b.Loop() {
		_ = snap.Entitlement([]int64{1, 2, 3})
	}
}

// BenchmarkGetLiveStreams10k renders the whole get_live_streams body for 10,000 channels
// from a cached entitlement into a reused buffer (what the player API streams).
func BenchmarkGetLiveStreams10k(b *testing.B) {
	snap := catalog.Build(bigCatalog(10_000), catalog.BuildOptions{})
	buf := make([]byte, 0, 4<<20)
	b.ReportAllocs()
	for b.Loop() {
		e := snap.Entitlement([]int64{1, 2, 3})
		buf = append(buf[:0], '[')
		for i, s := range e.Live(0) {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = s.AppendListJSON(buf, i+1)
		}
		buf = append(buf, ']')
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAllows is the NOT_IN_BOUQUET step.
func BenchmarkAllows(b *testing.B) {
	snap := catalog.Build(bigCatalog(10_000), catalog.BuildOptions{})
	e := snap.Entitlement([]int64{1})
	b.ReportAllocs()
	id := int64(0)
	for b.Loop() {
		id = id%10_000 + 1
		_ = e.Allows(id)
	}
}

// BenchmarkRefresh10k is a whole rebuild against PostgreSQL: the batched read of 10,000
// channels (with sources and bouquet entries) plus Build.
func BenchmarkRefresh10k(b *testing.B) {
	st := store.New(testdb.New(b))
	ctx := b.Context()
	d := bigCatalog(10_000)
	var items []store.StreamInput
	for _, s := range d.Streams[:10_000] {
		items = append(items, store.StreamInput{Kind: s.Kind, Name: s.Name, Icon: s.Icon, EPGChannelID: s.EPGChannelID,
			Sources: []store.Source{{URL: "http://up.example.com/" + s.Name}}})
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		b.Fatal(err)
	}
	bid, _, _ := st.EnsureBouquet(ctx, "All")
	var idList []int64
	for _, r := range res {
		idList = append(idList, r.ID)
	}
	if _, err := st.SetBouquetStreams(ctx, bid, idList); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		data, err := st.LoadCatalog(ctx)
		if err != nil {
			b.Fatal(err)
		}
		_ = catalog.Build(data, catalog.BuildOptions{})
	}
}
