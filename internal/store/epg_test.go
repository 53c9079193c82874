package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

var t0 = time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)

func prog(ch string, startMin, durMin int, title string) store.Programme {
	start := t0.Add(time.Duration(startMin) * time.Minute)
	return store.Programme{ChannelID: ch, StartAt: start, StopAt: start.Add(time.Duration(durMin) * time.Minute), Title: title}
}

func titles(ps []store.Programme) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Title)
	}
	return out
}

func TestImportEPG_IdempotentAndReplacesWindow(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	chans := []store.EPGChannel{{ID: "a.tv", DisplayName: "A"}, {ID: "b.tv", DisplayName: "B", Icon: "http://i/b.png"}}
	progs := []store.Programme{
		prog("a.tv", 0, 30, "A1"), prog("a.tv", 30, 30, "A2"), prog("a.tv", 60, 60, "A3"),
		prog("b.tv", 0, 60, "B1"), prog("b.tv", 0, 60, "B1 again"), // duplicate start: the last one wins
		prog("c.tv", 0, 60, "C1"), // undeclared channel
	}
	res, err := st.ImportEPG(ctx, store.EPGFromSlices(chans, progs))
	if err != nil {
		t.Fatal(err)
	}
	want := store.EPGImportResult{ChannelsAdded: 2, ChannelsImplied: 1, Added: 5, Duplicates: 1}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("first import (-want +got):\n%s", diff)
	}
	v := testdb.EPGVersion(t, st)
	res, err = st.ImportEPG(ctx, store.EPGFromSlices(chans, progs))
	if err != nil {
		t.Fatal(err)
	}
	want = store.EPGImportResult{ChannelsUnchanged: 2, Unchanged: 5, Duplicates: 1}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("second import (-want +got):\n%s", diff)
	}
	if got := testdb.EPGVersion(t, st); got != v {
		t.Fatalf("epg version after a no-op import = %d, want %d", got, v)
	}
	// A rescheduled a.tv: A2 moves to 12:45 and gets a new title; the old 12:30 slot goes.
	progs = []store.Programme{prog("a.tv", 0, 45, "A1"), prog("a.tv", 45, 15, "A2 new"), prog("a.tv", 60, 60, "A3")}
	res, err = st.ImportEPG(ctx, store.EPGFromSlices(chans[:1], progs))
	if err != nil {
		t.Fatal(err)
	}
	want = store.EPGImportResult{ChannelsUnchanged: 1, Added: 1, Updated: 1, Unchanged: 1, Removed: 1}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Fatalf("third import (-want +got):\n%s", diff)
	}
	all, err := st.ProgrammesOfChannel(ctx, "a.tv")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A1", "A2 new", "A3"}, titles(all)); diff != "" {
		t.Fatalf("a.tv (-want +got):\n%s", diff)
	}
	b, _ := st.ProgrammesOfChannel(ctx, "b.tv")
	if diff := cmp.Diff([]string{"B1 again"}, titles(b)); diff != "" {
		t.Fatalf("b.tv (-want +got):\n%s", diff)
	}
	chs, _ := st.EPGChannels(ctx)
	if len(chs) != 3 || chs[2].ID != "c.tv" || chs[2].DisplayName != "c.tv" {
		t.Fatalf("channels = %+v", chs)
	}
}

func TestImportEPG_ReaderErrorWritesNothing(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	boom := errors.New("truncated file")
	n := 0
	_, err := st.ImportEPG(ctx, store.EPGImport{Next: func() (store.Programme, bool, error) {
		n++
		if n > 3 {
			return store.Programme{}, false, boom
		}
		return prog("a.tv", n*60, 60, "x"), true, nil
	}})
	if !errors.Is(err, boom) {
		t.Fatalf("ImportEPG = %v, want the reader's error", err)
	}
	if ps, _ := st.ProgrammesOfChannel(ctx, "a.tv"); len(ps) != 0 {
		t.Fatalf("programmes = %d, want none", len(ps))
	}
	// The connection is clean again: a second import on the pool works.
	if _, err := st.ImportEPG(ctx, store.EPGFromSlices(nil, []store.Programme{prog("a.tv", 0, 60, "ok")})); err != nil {
		t.Fatal(err)
	}
}

func TestEPGChannelsAndSources(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	sid, err := st.UpsertEPGSource(ctx, "Main", "http://epg/guide.xml")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := st.UpsertEPGSource(ctx, "Renamed", "http://epg/guide.xml"); err != nil || again != sid {
		t.Fatalf("UpsertEPGSource again = %d, %v", again, err)
	}
	if err := st.RecordEPGFetch(ctx, sid, t0, "boom"); err != nil {
		t.Fatal(err)
	}
	srcs, err := st.EPGSources(ctx, true)
	if err != nil || len(srcs) != 1 || srcs[0].Name != "Renamed" || srcs[0].LastError != "boom" || !srcs[0].LastFetchedAt.Equal(t0) {
		t.Fatalf("EPGSources = %+v, %v", srcs, err)
	}
	// A channel-only import upserts the channel, writing only when it is new or differs.
	c := store.EPGChannel{ID: "a.tv", DisplayName: "A", SourceID: &sid}
	upsert := func(c store.EPGChannel, want store.EPGImportResult) {
		t.Helper()
		imp := store.EPGFromSlices([]store.EPGChannel{c}, nil)
		imp.SourceID = c.SourceID
		if res, err := st.ImportEPG(ctx, imp); err != nil || res != want {
			t.Fatalf("ImportEPG(channel %+v) = %+v, %v, want %+v", c, res, err, want)
		}
	}
	upsert(c, store.EPGImportResult{ChannelsAdded: 1})
	upsert(c, store.EPGImportResult{ChannelsUnchanged: 1})
	c.Icon = "http://i/a.png"
	upsert(c, store.EPGImportResult{ChannelsUpdated: 1})
	c.SourceID = nil // keeps the recorded source
	upsert(c, store.EPGImportResult{ChannelsUnchanged: 1})
	if chs, err := st.EPGChannels(ctx); err != nil || len(chs) != 1 || chs[0].SourceID == nil || *chs[0].SourceID != sid {
		t.Fatalf("EPGChannels = %+v, %v, want a.tv of source %d", chs, err, sid)
	}
}

func TestProgrammeQueries(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	var progs []store.Programme
	for i := range 6 {
		progs = append(progs, prog("a.tv", i*60, 60, fmt.Sprintf("A%d", i)), prog("b.tv", i*60, 60, fmt.Sprintf("B%d", i)))
	}
	if _, err := st.ImportEPG(ctx, store.EPGFromSlices(nil, progs)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(150 * time.Minute) // inside A2
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"now and next", 2, []string{"A2", "A3"}},
		{"limit past the end", 10, []string{"A2", "A3", "A4", "A5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := st.ProgrammesNowNext(ctx, "a.tv", at, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, titles(got)); diff != "" {
				t.Fatalf("ProgrammesNowNext (-want +got):\n%s", diff)
			}
		})
	}
	many, err := st.ProgrammesNowNextMany(ctx, []string{"a.tv", "b.tv", "none"}, at, 1)
	if err != nil || len(many) != 2 || many["b.tv"][0].Title != "B2" {
		t.Fatalf("ProgrammesNowNextMany = %v, %v", many, err)
	}
	between, _ := st.ProgrammesBetween(ctx, "b.tv", t0.Add(90*time.Minute), t0.Add(180*time.Minute))
	if diff := cmp.Diff([]string{"B1", "B2"}, titles(between)); diff != "" {
		t.Fatalf("ProgrammesBetween (-want +got):\n%s", diff)
	}
	var walked []string
	err = st.EachProgramme(ctx, t0.Add(4*time.Hour), t0.Add(10*time.Hour), nil, func(p store.Programme) error {
		walked = append(walked, p.Title)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"A4", "A5", "B4", "B5"}, walked); diff != "" {
		t.Fatalf("EachProgramme (-want +got):\n%s", diff)
	}
	walked = nil
	_ = st.EachProgramme(ctx, t0, t0.Add(time.Hour), []string{"b.tv"}, func(p store.Programme) error {
		walked = append(walked, p.Title)
		return nil
	})
	if diff := cmp.Diff([]string{"B0"}, walked); diff != "" {
		t.Fatalf("EachProgramme(b.tv) (-want +got):\n%s", diff)
	}
	stop := errors.New("stop")
	if err := st.EachProgramme(ctx, t0, t0.Add(24*time.Hour), nil, func(store.Programme) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("EachProgramme(fn error) = %v", err)
	}
	v := testdb.EPGVersion(t, st)
	if n, err := st.DeleteProgrammesBefore(ctx, t0); err != nil || n != 0 {
		t.Fatalf("DeleteProgrammesBefore(nothing) = %d, %v", n, err)
	}
	if testdb.EPGVersion(t, st) != v {
		t.Fatal("deleting nothing bumped the epg version")
	}
	if n, err := st.DeleteProgrammesBefore(ctx, t0.Add(2*time.Hour+time.Minute)); err != nil || n != 4 {
		t.Fatalf("DeleteProgrammesBefore = %d, %v, want 4", n, err)
	}
}
