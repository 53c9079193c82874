package epg_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// docNow is the clock of the documents' tests.
var docNow = time.Date(2025, 3, 3, 13, 0, 0, 0, time.UTC)

// docGuide stores, in a fresh database, channels ch0000.tv … of hourly programmes from a day
// before docNow to a day after, with descriptions varied enough that gzip cannot fold them
// away, and returns the store, a guide over it and the options exporting the whole of it.
func docGuide(t *testing.T, channels int) (*store.Store, *epg.Guide, epg.ExportOptions) {
	t.Helper()
	st := store.New(testdb.New(t))
	testdb.MustExec(t, st, `INSERT INTO epg_channels (id) SELECT 'ch'||lpad(c::text, 4, '0')||'.tv' FROM generate_series(0, $1 - 1) c`, channels)
	testdb.MustExec(t, st, `INSERT INTO epg_programmes (channel_id, start_at, stop_at, title, description, lang)
		SELECT 'ch'||lpad(c::text, 4, '0')||'.tv', $2::timestamptz + h*interval '1 hour', $2::timestamptz + (h+1)*interval '1 hour',
			'Programme '||h, md5(c::text||'/'||h::text)||' '||md5(h::text||'/'||c::text), 'en'
		FROM generate_series(0, $1 - 1) c, generate_series(-24, 23) h`, channels, docNow)
	chans := make([]epg.Channel, channels)
	for i := range chans {
		chans[i] = epg.Channel{ID: fmt.Sprintf("ch%04d.tv", i), DisplayName: fmt.Sprintf("Channel %d", i)}
	}
	g := epg.NewGuide(st, func() time.Time { return docNow })
	return st, g, epg.ExportOptions{From: docNow.Add(-24 * time.Hour), To: docNow.Add(24 * time.Hour), GeneratorName: "test", Channels: chans}
}

// exportOf is the Build of g's export with opts.
func exportOf(g *epg.Guide, opts epg.ExportOptions) epg.Build {
	return g.ExportBuild(func() epg.ExportOptions { return opts })
}

// exported is what Export writes for opts, the document a kept one must hold.
func exported(t *testing.T, g *epg.Guide, opts epg.ExportOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := g.Export(t.Context(), &buf, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gunzip(t *testing.T, z []byte) []byte { return testkit.Gunzip(t, z) }

// TestDocuments_KeptUntilTheGuideChanges: a document is exported once and shared by every Get
// of its key; it decompresses to exactly what Export writes, Size is its length; a change to
// the programmes (a new EPG version) makes the next Get export the new guide, and another key
// is another document.
func TestDocuments_KeptUntilTheGuideChanges(t *testing.T) {
	t.Parallel()
	st, g, opts := docGuide(t, 20)
	docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20})
	ctx := t.Context()

	first, err := docs.Get(ctx, epg.DocumentKey{Name: "all"}, exportOf(g, opts))
	if err != nil || first == nil {
		t.Fatalf("Get = %v, %v; want a document", first, err)
	}
	want := exported(t, g, opts)
	if got := gunzip(t, first.Gzip); !bytes.Equal(got, want) || first.Size != int64(len(want)) {
		t.Fatalf("kept document: %d bytes (Size %d), want Export's %d bytes", len(got), first.Size, len(want))
	}
	if again, err := docs.Get(ctx, epg.DocumentKey{Name: "all"}, exportOf(g, opts)); err != nil || again != first {
		t.Fatalf("second Get = %p, %v; want the kept %p", again, err, first)
	}
	if s := docs.Stats(); s.Kept != 1 || s.Bytes != int64(len(first.Gzip)) || s.Exported != 1 {
		t.Errorf("Stats = %+v; want 1 document of %d bytes, 1 export", s, len(first.Gzip))
	}

	// Another key is another document (here: fewer channels).
	few := opts
	few.Channels = opts.Channels[:2]
	other, err := docs.Get(ctx, epg.DocumentKey{Name: "two"}, exportOf(g, few))
	if err != nil || other == nil || other == first || !bytes.Equal(gunzip(t, other.Gzip), exported(t, g, few)) {
		t.Fatalf("Get of another key = %v, %v; want its own document", other, err)
	}

	// A new programme bumps the EPG version: the same key exports the guide as it is now.
	testdb.MustExec(t, st, `UPDATE epg_programmes SET title = 'Breaking News' WHERE channel_id = 'ch0000.tv' AND start_at = $1`, docNow)
	changed, err := docs.Get(ctx, epg.DocumentKey{Name: "all"}, exportOf(g, opts))
	if err != nil || changed == nil || changed == first {
		t.Fatalf("Get after a guide change = %p, %v; want a new document", changed, err)
	}
	got := gunzip(t, changed.Gzip)
	if !bytes.Contains(got, []byte("Breaking News")) || !bytes.Equal(got, exported(t, g, opts)) {
		t.Fatal("the document after the change is not the guide as it is now")
	}
	// The new version's document replaced the old one of its name at once; "two" stays.
	if s := docs.Stats(); s.Kept != 2 || s.Bytes != int64(len(changed.Gzip)+len(other.Gzip)) {
		t.Errorf("Stats after the change = %+v; want the new document and the other name's", s)
	}
	// So does a later epoch's.
	later, err := docs.Get(ctx, epg.DocumentKey{Name: "all", Epoch: 1}, exportOf(g, opts))
	if err != nil || later == nil || later == changed {
		t.Fatalf("Get of a later epoch = %p, %v", later, err)
	}
	if s := docs.Stats(); s.Kept != 2 || s.Bytes != int64(len(later.Gzip)+len(other.Gzip)) {
		t.Errorf("Stats after a later epoch = %+v; want it and the other name's", s)
	}
}

// TestDocuments_ConcurrentFirstAsks: Gets of a key nobody asked for yet, all at once, wait
// for one export and share its document.
func TestDocuments_ConcurrentFirstAsks(t *testing.T) {
	t.Parallel()
	_, g, opts := docGuide(t, 50)
	docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20})
	const askers = 16
	got := make([]*epg.Document, askers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range askers {
		wg.Go(func() {
			<-start
			d, err := docs.Get(t.Context(), epg.DocumentKey{Name: "all"}, exportOf(g, opts))
			if err != nil {
				t.Error(err)
			}
			got[i] = d
		})
	}
	close(start)
	wg.Wait()
	for i, d := range got {
		if d == nil || d != got[0] {
			t.Fatalf("asker %d got %p, asker 0 %p: want one shared document", i, d, got[0])
		}
	}
	if s := docs.Stats(); s.Kept != 1 || s.Exported != 1 {
		t.Errorf("Stats = %+v; want 1 document, 1 export", s)
	}
}

// TestDocuments_Bounds: no budget keeps nothing; a document larger than a quarter of the
// budget is not kept (Get answers nil, at once the next time); the budget holds whatever is
// asked, the least recently used going first; an export that failed is not kept; a Get whose
// context ended fails.
func TestDocuments_Bounds(t *testing.T) {
	t.Parallel()
	_, g, opts := docGuide(t, 40)
	ctx := t.Context()
	// The size of one compressed document of ten channels.
	one := opts
	one.Channels = opts.Channels[:10]
	probe, err := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20}).Get(ctx, epg.DocumentKey{Name: "probe"}, exportOf(g, one))
	if err != nil || probe == nil {
		t.Fatal(err)
	}
	size := int64(len(probe.Gzip))

	t.Run("no budget", func(t *testing.T) {
		for _, budget := range []int64{0, -1} {
			if d, err := epg.NewDocuments(g, epg.DocumentsOptions{Budget: budget}).Get(ctx, epg.DocumentKey{Name: "k"}, exportOf(g, one)); d != nil || err != nil {
				t.Errorf("budget %d: Get = %v, %v; want nil, nil", budget, d, err)
			}
		}
	})
	t.Run("too large", func(t *testing.T) {
		docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 4*size - 4})
		for range 2 {
			if d, err := docs.Get(ctx, epg.DocumentKey{Name: "k"}, exportOf(g, one)); d != nil || err != nil {
				t.Fatalf("a document over a quarter of the budget: Get = %v, %v; want nil, nil", d, err)
			}
		}
		if s := docs.Stats(); s.Kept != 0 || s.Bytes != 0 || s.TooLarge != 1 {
			t.Errorf("Stats = %+v; want none kept, 1 export too large", s)
		}
	})
	t.Run("least recently used first", func(t *testing.T) {
		budget := 4*size + size/2 // four documents of ten channels fit, not five
		docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: budget})
		keyOpts := func(i int) epg.ExportOptions {
			o := opts
			o.Channels = opts.Channels[i*4 : i*4+10] // ten channels each, different ones
			return o
		}
		kept := map[int]*epg.Document{}
		for i := range 4 {
			d, err := docs.Get(ctx, epg.DocumentKey{Name: fmt.Sprint(i)}, exportOf(g, keyOpts(i)))
			if err != nil || d == nil {
				t.Fatalf("document %d: %v, %v", i, d, err)
			}
			kept[i] = d
		}
		if d, _ := docs.Get(ctx, epg.DocumentKey{Name: "0"}, exportOf(g, keyOpts(0))); d != kept[0] { // 0 is now the most recently used
			t.Fatal("document 0 was not kept")
		}
		if _, err := docs.Get(ctx, epg.DocumentKey{Name: "4"}, exportOf(g, keyOpts(4))); err != nil {
			t.Fatal(err)
		}
		if s := docs.Stats(); s.Bytes > budget || s.Kept > 4 || s.Kept < 1 {
			t.Errorf("Stats = %+v; budget %d", s, budget)
		}
		if d, _ := docs.Get(ctx, epg.DocumentKey{Name: "0"}, exportOf(g, keyOpts(0))); d != kept[0] {
			t.Error("the most recently used document was dropped")
		}
		if d, _ := docs.Get(ctx, epg.DocumentKey{Name: "1"}, exportOf(g, keyOpts(1))); d == kept[1] {
			t.Error("the least recently used document was kept past the budget")
		}
	})
	t.Run("failed export", func(t *testing.T) {
		stopped, stop := context.WithCancel(ctx)
		stop()
		docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20, Context: stopped})
		if d, err := docs.Get(ctx, epg.DocumentKey{Name: "k"}, exportOf(g, one)); d != nil || err != nil {
			t.Fatalf("an export under an ended context: Get = %v, %v; want nil, nil", d, err)
		}
		if s := docs.Stats(); s.Kept != 0 || s.Failed != 1 {
			t.Errorf("Stats = %+v after a failed export; want none kept, 1 failed", s)
		}
	})
	t.Run("ended context", func(t *testing.T) {
		docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20})
		gone, cancel := context.WithCancel(ctx)
		cancel()
		// The version read already fails under an ended context.
		if d, err := docs.Get(gone, epg.DocumentKey{Name: "k"}, exportOf(g, opts)); d != nil || err == nil {
			t.Errorf("Get under an ended context = %v, %v; want an error", d, err)
		}
	})
}

// TestDocuments_WaiterGivesUp: a Get whose context ends while the export runs returns the
// context's error at once; the export goes on for the others and is kept.
func TestDocuments_WaiterGivesUp(t *testing.T) {
	t.Parallel()
	_, g, opts := docGuide(t, 2000) // 96,000 programmes: an export of a second or more
	docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 1 << 30})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if d, err := docs.Get(ctx, epg.DocumentKey{Name: "all"}, exportOf(g, opts)); d != nil || err == nil {
		t.Fatalf("Get with a 100 ms context = %v, %v; want its error", d, err)
	}
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the waiter returned after %v", waited)
	}
	testdb.Eventually(t, time.Minute, "the export to be kept", func() bool { return docs.Stats().Kept == 1 })
	if d, err := docs.Get(t.Context(), epg.DocumentKey{Name: "all"}, exportOf(g, opts)); d == nil || err != nil {
		t.Fatalf("Get after the export = %v, %v", d, err)
	} else if s := docs.Stats(); s.Exported != 1 {
		t.Errorf("Stats = %+v; want the one export", s)
	}
}
