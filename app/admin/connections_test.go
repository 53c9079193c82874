package admin_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// clipMediaDir lets the server read the test clip (local sources play only from --media-dir).
func clipMediaDir(t *testing.T) func(*config.Config) {
	dir := filepath.Dir(clipURL(t)[len("file://"):])
	return func(c *config.Config) { c.MediaDirs = append(c.MediaDirs, dir) }
}

// clipURL is the file:// source of the real H.264/AAC test clip, which the relay loops as a
// live channel.
func clipURL(t *testing.T) string {
	t.Helper()
	return "file://" + testmedia.ClipPath(t)
}

// viewer is a player watching a live stream: it reads everything the server sends.
type viewer struct {
	resp  *http.Response
	bytes atomic.Int64
	done  chan struct{} // closed when the stream ended (EOF or error)
}

// watch opens /live/{user}/{pass}/{id}.ts on instance in and keeps reading it until the test
// ends or the server ends it.
func watch(t *testing.T, in *instance, user, pass string, id int64) *viewer {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/live/%s/%s/%d.ts", in.base, user, pass, id))
	must(t, err)
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("open live %d = %d", id, resp.StatusCode)
	}
	v := &viewer{resp: resp, done: make(chan struct{})}
	go func() {
		defer close(v.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			v.bytes.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		resp.Body.Close()
		<-v.done
	})
	testdb.Eventually(t, waitLimit, "the stream's first bytes", func() bool { return v.bytes.Load() > 0 })
	return v
}

// ended waits until the server ends the stream.
func (v *viewer) ended(t *testing.T) {
	t.Helper()
	testdb.Eventually(t, waitLimit, "the stream to end", func() bool {
		select {
		case <-v.done:
			return true
		default:
			return false
		}
	})
}

// liveChannel creates (through the API) a live channel playing the test clip in a bouquet,
// and a line of that bouquet; it returns the channel id, the line and its password.
func (e *env) liveChannel(t *testing.T, root auth, owner *int64) (int64, store.Line, string) {
	t.Helper()
	id := e.created(t, root, "/live-streams", map[string]any{"name": "Clip", "sources": []map[string]any{{"url": clipURL(t)}}})
	bid := e.created(t, root, "/bouquets", map[string]any{"name": fmt.Sprintf("B%d", id), "stream_ids": []int64{id}})
	line, pass := testdb.NewLine(t, e.st, func(in *store.LineInput) {
		in.BouquetIDs, in.MaxConnections, in.OwnerAdminID = []int64{bid}, 3, owner
	})
	e.waitListed(t, e.srv, line.Username, pass, id)
	return id, line, pass
}

// waitListed waits until instance in's catalog lists stream id to the line (the snapshot is
// rebuilt shortly after a change).
func (e *env) waitListed(t *testing.T, in *instance, user, pass string, id int64) {
	t.Helper()
	testdb.Eventually(t, waitLimit, fmt.Sprintf("stream %d in the line's list", id), func() bool {
		return slices.Contains(liveIDs(t, in, user, pass), id)
	})
}

// liveIDs are the live stream ids player_api.php lists to a line.
func liveIDs(t *testing.T, in *instance, user, pass string) []int64 {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("%s/player_api.php?username=%s&password=%s&action=get_live_streams", in.base, user, pass))
	must(t, err)
	defer resp.Body.Close()
	var list []struct {
		StreamID int64 `json:"stream_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("get_live_streams: %v", err)
	}
	ids := make([]int64, len(list))
	for i, s := range list {
		ids[i] = s.StreamID
	}
	return ids
}

type gotConnection struct {
	ID        string `json:"id"`
	LineID    int64  `json:"line_id"`
	Username  string `json:"username"`
	StreamID  int64  `json:"stream_id"`
	Container string `json:"container"`
	ClientIP  string `json:"client_ip"`
}

func TestConnections_ListKillDashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{cfg: clipMediaDir(t)})
	_, root := e.as(t, accounts.RoleAdmin)
	id, line, pass := e.liveChannel(t, root, nil)
	v := watch(t, e.srv, line.Username, pass, id)

	var conns gotPage[gotConnection]
	e.get(t, root, fmt.Sprintf("/connections?line_id=%d&container=ts&ip=127.0.0.0/8&stream_id=%d", line.ID, id), &conns)
	if len(conns.Items) != 1 || conns.Items[0].Username != line.Username || conns.Items[0].ClientIP != "127.0.0.1" {
		t.Fatalf("connections = %+v", conns)
	}
	var none gotPage[gotConnection]
	e.get(t, root, "/connections?ip=10.0.0.0/8", &none)
	if len(none.Items) != 0 {
		t.Fatalf("connections from 10/8 = %+v", none)
	}
	var d struct {
		Lines struct {
			Total, Active int
		} `json:"lines"`
		Connections int `json:"connections"`
		LinesOnline int `json:"lines_online"`
		TopStreams  []struct {
			StreamID int64 `json:"stream_id"`
			Viewers  int   `json:"viewers"`
		} `json:"top_streams"`
	}
	e.get(t, root, "/dashboard", &d)
	if d.Connections != 1 || d.LinesOnline != 1 || d.Lines.Total != 1 || d.Lines.Active != 1 || len(d.TopStreams) != 1 ||
		d.TopStreams[0].StreamID != id {
		t.Fatalf("dashboard = %+v", d)
	}

	// A reseller sees none of it and may not kill it.
	_, reseller := e.as(t, accounts.RoleReseller)
	var theirs gotPage[gotConnection]
	e.get(t, reseller, "/connections", &theirs)
	if len(theirs.Items) != 0 {
		t.Fatalf("a reseller sees %+v", theirs)
	}
	cid := conns.Items[0].ID
	wantProblem(t, "reseller kills another's", e.call(t, http.MethodDelete, "/connections/"+cid, reseller, nil), 403, "id")
	wantProblem(t, "reseller kills another line's", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", line.ID),
		reseller, nil), 403, "")

	wantStatus(t, "kill", e.call(t, http.MethodDelete, "/connections/"+cid, root, nil), 204)
	v.ended(t)
	wantProblem(t, "kill again", e.call(t, http.MethodDelete, "/connections/"+cid, root, nil), 404, "id")
	wantProblem(t, "not an id", e.call(t, http.MethodDelete, "/connections/nope", root, nil), 400, "id")
	var act gotPage[struct {
		ConnectionID string `json:"connection_id"`
		EndReason    string `json:"end_reason"`
	}]
	e.get(t, root, fmt.Sprintf("/activity?line_id=%d&reason=killed", line.ID), &act)
	if len(act.Items) != 1 || act.Items[0].ConnectionID != cid {
		t.Fatalf("activity = %+v", act)
	}

	// Every connection of a line at once (the line's own action), then none listed.
	a, b := watch(t, e.srv, line.Username, pass, id), watch(t, e.srv, line.Username, pass, id)
	wantStatus(t, "kill the line's", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", line.ID), root, nil), 200)
	a.ended(t)
	b.ended(t)
	var after gotPage[gotConnection]
	e.get(t, root, fmt.Sprintf("/connections?line_id=%d", line.ID), &after)
	if len(after.Items) != 0 {
		t.Fatalf("connections after the line's kill = %+v", after)
	}
	var audit gotPage[struct {
		Action string `json:"action"`
	}]
	e.get(t, root, "/audit?action=connection.kill", &audit)
	if len(audit.Items) != 1 {
		t.Fatalf("audit = %+v", audit)
	}
}

// TestConnections_ResellerOwnLines: a reseller lists and kills the connections of its own
// lines.
func TestConnections_ResellerOwnLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{cfg: clipMediaDir(t)})
	_, root := e.as(t, accounts.RoleAdmin)
	rs, reseller := e.as(t, accounts.RoleReseller)
	id, line, pass := e.liveChannel(t, root, &rs.id)
	v := watch(t, e.srv, line.Username, pass, id)
	var conns gotPage[gotConnection]
	e.get(t, reseller, "/connections", &conns)
	if len(conns.Items) != 1 || conns.Items[0].LineID != line.ID {
		t.Fatalf("reseller's connections = %+v", conns)
	}
	var d struct {
		Connections int `json:"connections"`
	}
	e.get(t, reseller, "/dashboard", &d)
	if d.Connections != 1 {
		t.Fatalf("reseller's dashboard = %+v", d)
	}
	wantStatus(t, "reseller kills its own", e.call(t, http.MethodDelete, "/connections/"+conns.Items[0].ID, reseller, nil), 204)
	v.ended(t)
}
