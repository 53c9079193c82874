package catalog_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var discard = slog.New(slog.DiscardHandler)

// run starts c.Run until the test ends.
func run(t *testing.T, c *catalog.Catalog) {
	t.Helper()
	testdb.Go(t, c.Run)
}

// waitVersion waits, at most 10 s, for the catalog to serve version v.
func waitVersion(t *testing.T, c *catalog.Catalog, v int64) *catalog.Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := c.WaitVersion(ctx, v)
	if err != nil {
		t.Fatalf("catalog still at version %d, want %d: %v", s.Version, v, err)
	}
	return s
}

func addChannel(t *testing.T, st *store.Store, bouquet int64, name string) int64 {
	t.Helper()
	ctx := t.Context()
	id, err := st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: name,
		Sources: []store.Source{{URL: "http://up/" + name + ".ts"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendBouquetStreams(ctx, bouquet, []int64{id}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCatalog_RebuildsOnNotify(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	st := store.New(pool)
	ctx := t.Context()
	bid, _, err := st.EnsureBouquet(ctx, "Main")
	if err != nil {
		t.Fatal(err)
	}
	first := addChannel(t, st, bid, "one")

	c := catalog.New(st, discard, catalog.Options{Debounce: 5 * time.Millisecond, CheckEvery: time.Hour})
	if c.Current().Version != 0 {
		t.Fatal("a new catalog must serve the empty snapshot")
	}
	l := store.NewListener(pool, discard)
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeCatalog},
		OnChange: c.OnChange, OnReconnect: c.OnReconnect})
	testdb.Listen(t, l)
	run(t, c)

	v, _ := st.CatalogVersion(ctx)
	snap := waitVersion(t, c, v)
	if !snap.Entitlement([]int64{bid}).Allows(first) {
		t.Fatal("first channel not entitled")
	}
	second := addChannel(t, st, bid, "two") // only NOTIFY can tell the catalog within the wait
	v, _ = st.CatalogVersion(ctx)
	snap = waitVersion(t, c, v)
	if got := ids(snap.Entitlement([]int64{bid}).Live(0)); len(got) != 2 || got[1] != second {
		t.Fatalf("live after NOTIFY = %v, want [%d %d]", got, first, second)
	}
}

func TestCatalog_PeriodicCheckHealsMissedNotify(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	bid, _, _ := st.EnsureBouquet(t.Context(), "Main")
	c := catalog.New(st, discard, catalog.Options{CheckEvery: 20 * time.Millisecond})
	run(t, c) // no listener at all
	id := addChannel(t, st, bid, "late")
	v, _ := st.CatalogVersion(t.Context())
	if !waitVersion(t, c, v).Entitlement([]int64{bid}).Allows(id) {
		t.Fatal("channel not entitled after the periodic check")
	}
}

func TestCatalog_RefreshKeepsCurrentSnapshot(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	c := catalog.New(st, discard, catalog.Options{})
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	s := c.Current()
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Current() != s {
		t.Fatal("Refresh at an unchanged version replaced the snapshot")
	}
	c.OnChange(store.CatalogChanged(s.Version)) // the current version: nothing to do
	c.OnChange(store.LineChanged(42))           // not ours
	c.OnChange(store.CatalogChanged(999998))    // schedules a check, never blocks
	c.OnChange(store.CatalogChanged(999999))
}

// TestCatalog_AlwaysOn reads streams.always_on into the snapshot: for live channels only, and
// as false while the schema has no such column.
func TestCatalog_AlwaysOn(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	bid, _, err := st.EnsureBouquet(ctx, "Main")
	if err != nil {
		t.Fatal(err)
	}
	live := addChannel(t, st, bid, "kept")
	other := addChannel(t, st, bid, "plain")
	mp4 := "mp4"
	movie, err := st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "Film", ContainerExtension: &mp4,
		Sources: []store.Source{{URL: "http://up/film.mp4"}}})
	if err != nil {
		t.Fatal(err)
	}
	load := func() *catalog.Snapshot {
		t.Helper()
		c := catalog.New(st, discard, catalog.Options{})
		if err := c.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		return c.Current()
	}
	if s, _ := load().Stream(live); s.AlwaysOn {
		t.Fatal("AlwaysOn = true without a streams.always_on column")
	}
	testdb.SetAlwaysOn(t, st, live, true)
	testdb.SetAlwaysOn(t, st, movie, true)
	snap := load()
	for id, want := range map[int64]bool{live: true, other: false, movie: false} {
		s, ok := snap.Stream(id)
		if !ok {
			t.Fatalf("Stream(%d) not in the snapshot", id)
		}
		if s.AlwaysOn != want {
			t.Errorf("Stream(%d).AlwaysOn = %v, want %v", id, s.AlwaysOn, want)
		}
	}
	if got, err := st.StreamByID(ctx, live); err != nil || !got.AlwaysOn {
		t.Errorf("StreamByID(%d) = AlwaysOn %v, %v; want true", live, got.AlwaysOn, err)
	}
}
