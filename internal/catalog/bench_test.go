package catalog_test

import (
	"testing"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// BenchmarkBuildSnapshot10k is the in-memory part of a rebuild: 10,000 channels and 1,000
// movies resolved and their list entries rendered.
func BenchmarkBuildSnapshot10k(b *testing.B) {
	d := testdb.BigCatalog(10_000)
	b.ReportAllocs()
	for b.Loop() {
		_ = catalog.Build(d, catalog.BuildOptions{})
	}
}

// BenchmarkEntitlementBuild10k builds (uncached) the entitlement of a line holding all three
// bouquets: 10,000 channels after de-duplication.
func BenchmarkEntitlementBuild10k(b *testing.B) {
	snap := catalog.Build(testdb.BigCatalog(10_000), catalog.BuildOptions{MaxCachedEntitlements: 1})
	_ = snap.Entitlement([]int64{0}) // fill the one cache slot so later calls build
	b.ReportAllocs()
	for b.Loop() {
		_ = snap.Entitlement([]int64{1, 2, 3})
	}
}

// BenchmarkEntitlementCachedHit is the per-request cost once a bouquet list is known.
func BenchmarkEntitlementCachedHit(b *testing.B) {
	snap := catalog.Build(testdb.BigCatalog(10_000), catalog.BuildOptions{})
	_ = snap.Entitlement([]int64{1, 2, 3})
	b.ReportAllocs()
	for b.Loop() {
		_ = snap.Entitlement([]int64{1, 2, 3})
	}
}

// BenchmarkAllows is the NOT_IN_BOUQUET step.
func BenchmarkAllows(b *testing.B) {
	snap := catalog.Build(testdb.BigCatalog(10_000), catalog.BuildOptions{})
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
	d := testdb.BigCatalog(10_000)
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
