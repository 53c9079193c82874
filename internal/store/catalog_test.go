package store_test

import (
	"fmt"
	"testing"

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

func liveInput(name, url string, cat *int64) store.StreamInput {
	return store.StreamInput{Kind: store.KindLive, Name: name, CategoryID: cat, Sources: []store.Source{{URL: url}}}
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
