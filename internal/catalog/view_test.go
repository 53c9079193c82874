package catalog_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// countingView counts its builds and renders a snapshot as its version.
func countingView() (*catalog.View[int64], *atomic.Int32) {
	var builds atomic.Int32
	return catalog.NewView(func(s *catalog.Snapshot) int64 { builds.Add(1); return s.Version }), &builds
}

func TestView_OncePerSnapshot(t *testing.T) {
	t.Parallel()
	v, builds := countingView()
	snap := catalog.Build(fixture(), catalog.BuildOptions{})
	var wg sync.WaitGroup
	for range 8 { // concurrent first calls wait for one build
		wg.Go(func() {
			if got := v.Of(snap); got != 7 {
				t.Errorf("Of = %d, want 7", got)
			}
		})
	}
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Fatalf("%d builds for one snapshot, want 1", n)
	}
	if got := v.Of(catalog.Empty()); got != 0 || builds.Load() != 2 {
		t.Fatalf("another snapshot: Of = %d after %d builds, want 0 after 2", got, builds.Load())
	}
	other, _ := countingView()
	if got := other.Of(snap); got != 7 {
		t.Fatalf("a second view of the same snapshot = %d, want its own build", got)
	}
}

// TestAttach: an attached view is built for the current snapshot at once and for each new
// snapshot by the refresh, before any request can see it.
func TestAttach(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	c := catalog.New(st, discard, catalog.Options{})
	v, builds := countingView()
	c.Attach(v)
	if builds.Load() != 1 {
		t.Fatalf("Attach built %d times, want 1 (the current snapshot)", builds.Load())
	}
	if _, _, err := st.EnsureBouquet(ctx, "Main"); err != nil {
		t.Fatal(err)
	}
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if builds.Load() != 2 {
		t.Fatalf("after a refresh: %d builds, want 2", builds.Load())
	}
	snap := c.Current()
	if got := v.Of(snap); got != snap.Version || builds.Load() != 2 {
		t.Fatalf("Of(current) = %d after %d builds, want %d without a new build", got, builds.Load(), snap.Version)
	}
}
