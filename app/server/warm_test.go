package server_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// serveIn runs a server whose data directory is dir until the returned function stops it, and
// waits until it is ready; it returns the base URL.
func serveIn(t *testing.T, st *store.Store, dir string, logs io.Writer) (string, func()) {
	t.Helper()
	cfg := testConfig()
	cfg.DataDir = dir
	cfg.TokenSecret = "warm-test-token-secret-0123456789abcdef"
	base, stop := serveConfig(t, st, cfg, logs)
	testdb.Eventually(t, 15*time.Second, "the server ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base, stop
}

// relayGauges reads the relay's hub and upstream gauges from /metrics.
func relayGauges(t *testing.T, base string) (hubs, upstreams string) {
	t.Helper()
	for _, l := range strings.Split(fetch(t, base+"/metrics"), "\n") {
		if v, ok := strings.CutPrefix(l, "xtreamd_relay_hubs "); ok {
			hubs = v
		}
		if v, ok := strings.CutPrefix(l, "xtreamd_relay_upstream_open "); ok {
			upstreams = v
		}
	}
	return hubs, upstreams
}

// watchLive opens a line's live stream and reads its first n bytes; the returned function
// closes it.
func watchLive(t *testing.T, url string, n int) func() {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET live = %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, n)); err != nil {
		resp.Body.Close()
		t.Fatalf("reading the live stream: %v", err)
	}
	return func() { resp.Body.Close() }
}

// TestServe_RestartWarmsWatchedChannels: an instance that stops while a channel is watched
// notes it in its data directory, and the next instance started there pulls that channel
// before anyone asks (one hub, one upstream, no viewer), removing the note; a stale note, a
// broken one and a note of channels that are no longer relayed warm nothing, and are removed
// too; an instance stopping with nothing watched leaves no note.
func TestServe_RestartWarmsWatchedChannels(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := store.New(testdb.New(t))
	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	if err != nil {
		t.Fatal(err)
	}
	cat := cats["News"]
	live, err := st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "News 1", CategoryID: &cat,
		Sources: []store.Source{{URL: testmedia.LiveOrigin(t, 1), Kind: store.SourceTS}}})
	if err != nil {
		t.Fatal(err)
	}
	bq, _, err := st.EnsureBouquet(ctx, "Main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetBouquetStreams(ctx, bq, []int64{live}); err != nil {
		t.Fatal(err)
	}
	line, pw := testdb.NewLine(t, st, func(in *store.LineInput) { in.BouquetIDs = []int64{bq} })
	dir := t.TempDir()
	note := filepath.Join(dir, "relay-warm.json")
	livePath := fmt.Sprintf("/live/%s/%s/%d.ts", line.Username, pw, live)

	base, stop := serveIn(t, st, dir, io.Discard)
	unwatch := watchLive(t, base+livePath, 64*188)
	stop()
	unwatch()
	b, err := os.ReadFile(note)
	if err != nil {
		t.Fatalf("no note of the watched channels after the stop: %v", err)
	}
	var saved struct {
		SavedAt time.Time `json:"saved_at"`
		Streams []int64   `json:"streams"`
	}
	if err := json.Unmarshal(b, &saved); err != nil || len(saved.Streams) != 1 || saved.Streams[0] != live ||
		time.Since(saved.SavedAt) > time.Minute {
		t.Fatalf("note = %s (%v), want stream %d saved just now", b, err, live)
	}
	if strings.Contains(string(b), pw) || strings.Contains(string(b), line.Username) {
		t.Fatalf("the note names the line: %s", b)
	}

	logs := &testkit.Buffer{}
	base, stop = serveIn(t, st, dir, logs)
	testdb.Eventually(t, 10*time.Second, "the watched channel pulled with no viewer", func() bool {
		hubs, upstreams := relayGauges(t, base)
		return hubs == "1" && upstreams == "1"
	})
	if !strings.Contains(logs.String(), `msg="warming the channels watched before the restart" channels=1`) {
		t.Errorf("no warming line in the log:\n%s", logs)
	}
	if _, err := os.Stat(note); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the note is still there after it was read: %v", err)
	}
	watchLive(t, base+livePath, 64*188)() // and a viewer gets it
	stop()

	for _, c := range []struct {
		name, content, log string
	}{
		{"stale", fmt.Sprintf(`{"saved_at":%q,"streams":[%d]}`, time.Now().Add(-10*time.Minute).UTC().Format(time.RFC3339), live),
			`the list is stale`},
		{"broken", `{"saved_at":`, `ignoring the list of channels watched before the restart`},
		{"not relayed", fmt.Sprintf(`{"saved_at":%q,"streams":[%d,-1,0]}`, time.Now().UTC().Format(time.RFC3339), live+1000),
			`channels=0`},
	} {
		if err := os.WriteFile(note, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		logs := &testkit.Buffer{}
		base, stop := serveIn(t, st, dir, logs)
		if !strings.Contains(logs.String(), c.log) {
			t.Errorf("%s note: no %q in the log:\n%s", c.name, c.log, logs)
		}
		if hubs, _ := relayGauges(t, base); hubs != "0" {
			t.Errorf("%s note: %s hubs running, want none", c.name, hubs)
		}
		if _, err := os.Stat(note); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s note: still there after the start: %v", c.name, err)
		}
		stop() // nothing watched: no note
		if _, err := os.Stat(note); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s note: an instance that stopped with nothing watched left a note: %v", c.name, err)
		}
	}
}
