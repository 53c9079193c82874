package epg_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func importFile(t *testing.T, st *store.Store, name string) epg.ImportSummary {
	t.Helper()
	f, err := os.Open("../../testdata/xmltv/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := epg.Import(t.Context(), st, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestImport_Idempotent(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	first := importFile(t, st, "guide.xml.gz")
	if first.Channels != 2 || first.Programmes != 5 || first.Added != 5 || first.ChannelsAdded != 2 || len(first.Skipped) != 5 {
		t.Fatalf("first import = %+v", first)
	}
	v := testdb.EPGVersion(t, st)
	second := importFile(t, st, "guide.xml")
	if second.Added != 0 || second.Updated != 0 || second.Unchanged != 5 || second.ChannelsUnchanged != 2 {
		t.Fatalf("second import = %+v", second)
	}
	if v2 := testdb.EPGVersion(t, st); v2 != v {
		t.Fatalf("epg version %d → %d after a no-op import", v, v2)
	}
}

func TestGuide_Queries(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	importFile(t, st, "guide.xml")
	now := at("2025-03-03T13:30:00Z")
	g := epg.NewGuide(st, func() time.Time { return now })
	ctx := t.Context()
	tests := []struct {
		name    string
		channel string
		limit   int
		want    []string
	}{
		{"now and next", "news1.tv", 2, []string{"World Report", "Business Today"}},
		{"default limit", "news1.tv", 0, []string{"World Report", "Business Today", "Late Edition"}},
		{"unknown channel", "nope.tv", 4, nil},
		{"no channel", "", 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := g.NowNext(ctx, tt.channel, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Title)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("NowNext(%q, %d) (-want +got):\n%s", tt.channel, tt.limit, diff)
			}
		})
	}
	all, err := g.All(ctx, "news1.tv")
	if err != nil || len(all) != 4 {
		t.Fatalf("All = %d, %v", len(all), err)
	}
	many, err := g.NowNextMany(ctx, []string{"news1.tv", "sport1.tv"}, 1)
	if err != nil || many["sport1.tv"][0].Title != "Match Day\u00a0Live" {
		t.Fatalf("NowNextMany = %v, %v", many, err)
	}
	between, err := g.Between(ctx, "news1.tv", at("2025-03-03T13:00:00Z"), at("2025-03-03T14:00:00Z"))
	if err != nil || len(between) != 1 {
		t.Fatalf("Between = %v, %v", between, err)
	}

	var buf bytes.Buffer
	err = g.Export(ctx, &buf, epg.ExportOptions{From: at("2025-03-03T13:00:00Z"), To: at("2025-03-04T00:00:00Z"),
		GeneratorName: "xtreamd"})
	if err != nil {
		t.Fatal(err)
	}
	ps, d := decodeAll(t, &buf)
	if len(d.Channels()) != 2 || len(ps) != 4 || ps[0].Title != "World Report" {
		t.Fatalf("export: %d channels, programmes %+v", len(d.Channels()), ps)
	}
	buf.Reset()
	err = g.Export(ctx, &buf, epg.ExportOptions{From: at("2025-03-03T00:00:00Z"), To: at("2025-03-04T00:00:00Z"),
		Channels: []epg.Channel{{ID: "sport1.tv", DisplayName: "Sports HD"}}})
	if err != nil {
		t.Fatal(err)
	}
	ps, d = decodeAll(t, &buf)
	if len(d.Channels()) != 1 || d.Channels()[0].DisplayName != "Sports HD" || len(ps) != 1 {
		t.Fatalf("export of one channel: %+v %+v", d.Channels(), ps)
	}
}

func TestRefresher_FetchesRecordsAndRetains(t *testing.T) {
	t.Parallel()
	st := store.New(testdb.New(t))
	ctx := t.Context()
	guide, err := os.ReadFile("../../testdata/xmltv/guide.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/guide.xml" {
			http.NotFound(w, r)
			return
		}
		w.Write(guide)
	}))
	t.Cleanup(srv.Close)
	latin, _ := filepath.Abs("../../testdata/xmltv/latin1.xml")
	httpID, _ := st.UpsertEPGSource(ctx, "http", srv.URL+"/guide.xml")
	fileID, _ := st.UpsertEPGSource(ctx, "file", "file://"+latin)
	badID, _ := st.UpsertEPGSource(ctx, "bad", srv.URL+"/missing.xml?password=secret")

	now := at("2025-03-10T12:00:00Z") // a week after the guide: retention of 8 days keeps it
	r := epg.NewRefresher(st, slog.New(slog.DiscardHandler), epg.RefresherOptions{Client: srv.Client(),
		Now: func() time.Time { return now }})
	err = r.RefreshAll(ctx)
	if err == nil || !strings.Contains(err.Error(), "404") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("RefreshAll = %v, want the 404 of the bad source without its query", err)
	}
	srcs, _ := st.EPGSources(ctx, false)
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].ID < srcs[j].ID })
	for _, s := range srcs {
		if s.LastFetchedAt == nil || !s.LastFetchedAt.Equal(now) {
			t.Errorf("source %s last_fetched_at = %v, want %v", s.Name, s.LastFetchedAt, now)
		}
		if wantErr := s.ID == badID; (s.LastError != "") != wantErr {
			t.Errorf("source %s last_error = %q", s.Name, s.LastError)
		}
	}
	chans, _ := st.EPGChannels(ctx)
	bySource := map[int64]int{}
	for _, c := range chans {
		bySource[*c.SourceID]++
	}
	if bySource[httpID] != 2 || bySource[fileID] != 1 {
		t.Fatalf("channels by source = %v", bySource)
	}
	// Ten days later everything has ended more than 8 days ago.
	now = now.Add(10 * 24 * time.Hour)
	srv.Close() // and the sources are gone: errors are recorded, retention still runs
	_ = r.RefreshAll(ctx)
	if ps, _ := st.ProgrammesOfChannel(ctx, "news1.tv"); len(ps) != 0 {
		t.Fatalf("programmes past retention = %d", len(ps))
	}
}

// BenchmarkNowNext measures get_short_epg from PostgreSQL over a guide of 500 channels × 7
// days × 30-minute slots (168,000 programmes), next to the in-memory binary search it would
// replace (BenchmarkNowNextInMemoryBaseline).
func BenchmarkNowNext(b *testing.B) {
	st := store.New(testdb.New(b))
	ctx := b.Context()
	start := at("2025-03-01T00:00:00Z")
	const channels, slots = 500, 7 * 48
	ch, slot := 0, 0
	_, err := st.ImportEPG(ctx, store.EPGImport{Next: func() (store.Programme, bool, error) {
		if ch == channels {
			return store.Programme{}, false, nil
		}
		s := start.Add(time.Duration(slot) * 30 * time.Minute)
		p := store.Programme{ChannelID: fmt.Sprintf("ch%d.tv", ch), StartAt: s, StopAt: s.Add(30 * time.Minute),
			Title: fmt.Sprintf("Programme %d", slot), Description: strings.Repeat("A plausible description. ", 8)}
		if slot++; slot == slots {
			ch, slot = ch+1, 0
		}
		return p, true, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	now := start.Add(84 * time.Hour)
	g := epg.NewGuide(st, func() time.Time { return now })
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		ps, err := g.NowNext(ctx, fmt.Sprintf("ch%d.tv", i%channels), 4)
		if err != nil || len(ps) != 4 {
			b.Fatalf("NowNext = %d, %v", len(ps), err)
		}
	}
}

// BenchmarkNowNextInMemoryBaseline is the alternative: a per-channel sorted slice searched
// with sort.Search (the same 168,000 programmes, held in memory).
func BenchmarkNowNextInMemoryBaseline(b *testing.B) {
	start := at("2025-03-01T00:00:00Z")
	const channels, slots = 500, 7 * 48
	guide := make(map[string][]store.Programme, channels)
	for c := range channels {
		id := fmt.Sprintf("ch%d.tv", c)
		for s := range slots {
			st := start.Add(time.Duration(s) * 30 * time.Minute)
			guide[id] = append(guide[id], store.Programme{ChannelID: id, StartAt: st, StopAt: st.Add(30 * time.Minute)})
		}
	}
	now := start.Add(84 * time.Hour)
	ids := make([]string, channels)
	for c := range ids {
		ids[c] = fmt.Sprintf("ch%d.tv", c)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		ps := guide[ids[i%channels]]
		k := sort.Search(len(ps), func(j int) bool { return ps[j].StopAt.After(now) })
		if len(ps[k:min(k+4, len(ps))]) != 4 {
			b.Fatal("short")
		}
	}
}
