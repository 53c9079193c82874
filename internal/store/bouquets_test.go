package store_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/store"
)

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
