package demo_test

import (
	"bytes"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/demo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

type counts struct {
	categories, streams, sources, series, seasons, episodes, bouquetStreams, programmes, channels int
}

func count(t *testing.T, st *store.Store) counts {
	t.Helper()
	ctx := t.Context()
	d, err := st.LoadCatalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	chans, err := st.EPGChannels(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	far := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.EachProgramme(ctx, far, far.AddDate(100, 0, 0), nil, func(store.Programme) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return counts{len(d.Categories), len(d.Streams), len(d.Sources), len(d.Series), len(d.Seasons), len(d.Episodes),
		len(d.BouquetStreams), n, len(chans)}
}

func TestLoadCatalog_TwiceSameCatalog(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	dir := t.TempDir()
	now := time.Date(2025, 3, 3, 13, 10, 0, 0, time.UTC)
	opts := demo.Options{DataDir: dir, Now: func() time.Time { return now }}
	bid, err := demo.LoadCatalog(ctx, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	first := count(t, st)
	cv, _ := st.CatalogVersion(ctx)
	ev := testdb.EPGVersion(t, st)
	bid2, err := demo.LoadCatalog(ctx, st, opts)
	if err != nil || bid2 != bid {
		t.Fatalf("second LoadCatalog = %d, %v, want %d", bid2, err, bid)
	}
	if second := count(t, st); second != first {
		t.Fatalf("counts after a second load = %+v, want %+v", second, first)
	}
	if v, _ := st.CatalogVersion(ctx); v != cv {
		t.Fatalf("catalog version %d → %d: the second load wrote", cv, v)
	}
	if v := testdb.EPGVersion(t, st); v != ev {
		t.Fatalf("epg version %d → %d: the second load wrote", ev, v)
	}
	want := counts{categories: 5, streams: 9 + 2 + 5, sources: 16, series: 1, seasons: 2, episodes: 5,
		bouquetStreams: 11, programmes: first.programmes, channels: 9}
	if first != want {
		t.Fatalf("counts = %+v, want %+v", first, want)
	}

	d, _ := st.LoadCatalog(ctx)
	snap := catalog.Build(d, catalog.BuildOptions{})
	e := snap.Entitlement([]int64{bid})
	if len(e.Live(0)) != 9 || len(e.VOD(0)) != 2 || len(e.Series(0)) != 1 || len(e.LiveCategories()) != 3 {
		t.Fatalf("demo bouquet: %d live, %d movies, %d series, %d live categories",
			len(e.Live(0)), len(e.VOD(0)), len(e.Series(0)), len(e.LiveCategories()))
	}
	se := e.Series(0)[0]
	if len(se.Seasons) != 2 || len(se.Seasons[0].Episodes) != 3 || !e.Allows(se.Seasons[1].Episodes[1].ID) {
		t.Fatalf("series = %+v", se)
	}
	m := e.VOD(0)[0]
	if m.Rating != "7.8" || m.ContainerExtension != "ts" {
		t.Fatalf("movie = %+v", m)
	}
	u, err := url.Parse(e.Live(0)[0].Sources[0].URL)
	if err != nil || u.Scheme != "file" {
		t.Fatalf("source = %v, %v", u, err)
	}
	b, err := os.ReadFile(u.Path)
	if err != nil || len(b) < 100_000 || len(b) > 600_000 || !bytes.Equal(b[:1], []byte{0x47}) {
		t.Fatalf("clip at %s: %d bytes, %v", u.Path, len(b), err)
	}

	g := 0
	for _, s := range e.Live(0) {
		ps, err := st.ProgrammesNowNext(ctx, s.EPGChannelID, now, 2)
		if err != nil || len(ps) != 2 || ps[0].StartAt.After(now) || ps[0].Title == "" {
			t.Fatalf("now/next of %s = %+v, %v", s.EPGChannelID, ps, err)
		}
		all, _ := st.ProgrammesOfChannel(ctx, s.EPGChannelID)
		if !all[0].StartAt.Before(now.Add(-11*time.Hour)) || !all[len(all)-1].StopAt.After(now.Add(23*time.Hour)) {
			t.Fatalf("guide of %s spans %v … %v", s.EPGChannelID, all[0].StartAt, all[len(all)-1].StopAt)
		}
		for i := 1; i < len(all); i++ {
			if all[i].StartAt.Before(all[i-1].StopAt) {
				t.Fatalf("overlap in %s at %v", s.EPGChannelID, all[i].StartAt)
			}
		}
		g += len(all)
	}
	if g != first.programmes {
		t.Fatalf("programmes by channel = %d, total %d", g, first.programmes)
	}

	// A load a day later extends the guide without overlaps and changes no catalog row.
	now = now.Add(24 * time.Hour)
	if _, err := demo.LoadCatalog(ctx, st, opts); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.CatalogVersion(ctx); v != cv {
		t.Fatal("a later load changed the catalog")
	}
}
