package store_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/store"
)

func TestStream_CreateUpdateSourcesDelete(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	in := store.StreamInput{
		Kind: store.KindLive, Name: "One", Icon: "http://i/1.png", EPGChannelID: ptr("one.tv"),
		Sources: []store.Source{{URL: "http://up/1.ts", Kind: store.SourceTS}, {URL: "http://backup/1.m3u8", Kind: store.SourceHLS}},
	}
	id, err := st.CreateStream(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.StreamByID(ctx, id)
	if err != nil || got.Name != "One" || *got.EPGChannelID != "one.tv" || string(got.Info) != "{}" || !got.Enabled {
		t.Fatalf("StreamByID = %+v, %v", got, err)
	}
	srcs, _ := st.StreamSources(ctx, id)
	if len(srcs) != 2 || srcs[0].URL != "http://up/1.ts" || srcs[1].Kind != store.SourceHLS || srcs[1].Position != 1 {
		t.Fatalf("sources = %+v", srcs)
	}
	v := catalogVersion(t, st)
	if changed, err := st.SetStreamSources(ctx, id, in.Sources); err != nil || changed {
		t.Fatalf("SetStreamSources(same) = %v, %v, want false", changed, err)
	}
	if catalogVersion(t, st) != v {
		t.Fatal("a no-op SetStreamSources bumped the catalog version")
	}
	if changed, err := st.SetStreamSources(ctx, id, []store.Source{{URL: "file:///tmp/x.ts", Kind: store.SourceFile}}); err != nil || !changed {
		t.Fatalf("SetStreamSources(new) = %v, %v", changed, err)
	}
	if _, err := st.SetStreamSources(ctx, id, []store.Source{{URL: "rtmp://x/y"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("SetStreamSources(rtmp) = %v, want ErrInvalid", err)
	}
	in.Name, in.Disabled, in.Info = "One HD", true, json.RawMessage(`{"plot":"x"}`)
	if err := st.UpdateStream(ctx, id, in); err != nil {
		t.Fatal(err)
	}
	got, _ = st.StreamByID(ctx, id)
	if got.Name != "One HD" || got.Enabled || string(got.Info) != `{"plot": "x"}` {
		t.Fatalf("after update: %+v", got)
	}
	if err := st.DeleteStream(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StreamByID(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StreamByID(deleted) = %v", err)
	}
	if err := st.UpdateStream(ctx, id, in); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateStream(deleted) = %v", err)
	}
}

func outcomes(res []store.ImportedStream) []string {
	var out []string
	for _, r := range res {
		out = append(out, r.Outcome.String())
	}
	return out
}

func TestImportStreams_BySource(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports"})
	news, sports := ids["News"], ids["Sports"]
	items := []store.StreamInput{
		liveInput("A", "http://up/a.ts", &news),
		liveInput("B", "http://up/b.ts", &news),
		liveInput("A again", "http://up/a.ts", &sports), // same key: duplicate
		liveInput("C", "http://up/c.m3u8", nil),
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"added", "added", "duplicate", "added"}, outcomes(res)); diff != "" {
		t.Fatalf("first import (-want +got):\n%s", diff)
	}
	if res[2].ID != res[0].ID || res[0].ID >= res[1].ID || res[1].ID >= res[3].ID {
		t.Fatalf("ids = %+v: want duplicate → first, new ids ascending in entry order", res)
	}
	v := catalogVersion(t, st)
	again, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"unchanged", "unchanged", "duplicate", "unchanged"}, outcomes(again)); diff != "" {
		t.Fatalf("second import (-want +got):\n%s", diff)
	}
	if got := catalogVersion(t, st); got != v {
		t.Fatalf("catalog version after a no-op import = %d, want %d", got, v)
	}
	// Rename and regroup B, keep its URL: same id, updated; the operator's backup source stays.
	if _, err := st.SetStreamSources(ctx, res[1].ID, []store.Source{{URL: "http://up/b.ts"}, {URL: "http://backup/b.ts"}}); err != nil {
		t.Fatal(err)
	}
	items[1] = liveInput("B HD", "http://up/b.ts", &sports)
	items[1].EPGChannelID = ptr("b.tv")
	third, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"unchanged", "updated", "duplicate", "unchanged"}, outcomes(third)); diff != "" {
		t.Fatalf("third import (-want +got):\n%s", diff)
	}
	b, _ := st.StreamByID(ctx, res[1].ID)
	if b.Name != "B HD" || *b.CategoryID != sports || *b.EPGChannelID != "b.tv" {
		t.Fatalf("B after update = %+v", b)
	}
	srcs, _ := st.StreamSources(ctx, res[1].ID)
	if len(srcs) != 2 {
		t.Fatalf("B sources = %+v, want the backup kept", srcs)
	}
	if _, err := st.ImportStreams(ctx, store.MatchBySource, []store.StreamInput{{Kind: store.KindLive, Name: "x"}}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("ImportStreams(no source) = %v, want ErrInvalid", err)
	}
}

func TestImportStreams_ByName(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, _ := st.EnsureCategories(ctx, store.KindMovie, []string{"Movies"})
	cat := ids["Movies"]
	movie := func(name, url string, info string) store.StreamInput {
		return store.StreamInput{Kind: store.KindMovie, Name: name, CategoryID: &cat, ContainerExtension: ptr("mp4"),
			Info: json.RawMessage(info), Sources: []store.Source{{URL: url, Kind: store.SourceFile}}}
	}
	items := []store.StreamInput{movie("M1", "file:///clip.ts", `{"plot":"a"}`), movie("M2", "file:///clip.ts", `{"plot":"b"}`)}
	res, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || res[0].Outcome != store.Added || res[1].Outcome != store.Added || res[0].ID == res[1].ID {
		t.Fatalf("ImportStreams = %+v, %v", res, err)
	}
	again, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || again[0].Outcome != store.Unchanged || again[1].Outcome != store.Unchanged {
		t.Fatalf("ImportStreams again = %+v, %v", again, err)
	}
	items[1] = movie("M2", "file:///other.ts", `{"plot":"b"}`)
	third, err := st.ImportStreams(ctx, store.MatchByName, items)
	if err != nil || third[1].Outcome != store.Updated || third[1].ID != res[1].ID {
		t.Fatalf("ImportStreams(new url) = %+v, %v", third, err)
	}
	srcs, _ := st.StreamSources(ctx, res[1].ID)
	if len(srcs) != 1 || srcs[0].URL != "file:///other.ts" {
		t.Fatalf("sources = %+v", srcs)
	}
}
