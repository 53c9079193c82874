package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// noFlood keeps the loopback address from being blocked while a test sends wrong passwords.
var noFlood = map[string]string{"flood_auth_failures": "0"}

// TestLineCreated_LogsInOnSecondInstance: a line made through the API on one instance logs in
// on player_api.php of another within a second, though that one refused it a moment before.
func TestLineCreated_LogsInOnSecondInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{settings: noFlood})
	other := e.start(t, envOpts{})
	_, admin := e.as(t, accounts.RoleAdmin)
	login := func() string {
		resp, err := http.Get(other.base + "/player_api.php?username=newline&password=newline-pw")
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := login(); got != `{"user_info":{"auth":0}}` {
		t.Fatalf("before the line exists: %s", got)
	}
	e.createLine(t, admin, map[string]any{"username": "newline", "password": "newline-pw"})
	start := time.Now()
	for {
		got := login()
		if strings.Contains(got, `"auth":1`) && strings.Contains(got, `"status":"Active"`) {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the second instance still refuses the line %v after its creation: %s", time.Since(start), got)
		}
	}
	t.Logf("the second instance let the new line in %v after its creation", time.Since(start).Round(time.Microsecond))
}

// TestKillThroughAPI_EndsLiveStream: a kill through the API ends a viewer's live stream on
// another instance, within a second.
func TestKillThroughAPI_EndsLiveStream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{settings: noFlood})
	ctx := context.Background()
	cats, _, err := e.st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	must(t, err)
	news := cats["News"]
	// The origin runs at ten times the clip's rate, as the one this test had of its own did.
	streamID, err := e.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Live", CategoryID: &news,
		Sources: []store.Source{{URL: testmedia.LiveOrigin(t, 10) + "/live.ts", Kind: store.SourceTS}}})
	must(t, err)
	bq := e.bouquet(t, "Main")
	_, err = e.st.SetBouquetStreams(ctx, bq, []int64{streamID})
	must(t, err)
	viewer := e.start(t, envOpts{}) // the stream is served here, the kill is asked of e.srv
	_, admin := e.as(t, accounts.RoleAdmin)
	l := e.createLine(t, admin, map[string]any{"bouquet_ids": []int64{bq}})

	var resp *http.Response
	testdb.Eventually(t, waitLimit, "the catalog with the new stream on the viewer's instance", func() bool {
		r, err := http.Get(fmt.Sprintf("%s/live/%s/%s/%d.ts", viewer.base, l.Username, l.Password, streamID))
		if err == nil && r.StatusCode == 200 {
			resp = r
			return true
		}
		if err == nil {
			r.Body.Close()
		}
		return false
	})
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 188*50)); err != nil {
		t.Fatalf("reading the stream: %v", err)
	}
	ended := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		ended <- time.Now()
	}()
	start := time.Now()
	r := e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", l.ID), admin, nil)
	wantStatus(t, "kill", r, 200)
	if !strings.Contains(string(r.body), `"killed":1`) {
		t.Fatalf("kill = %s, want one connection", r.body)
	}
	select {
	case at := <-ended:
		if d := at.Sub(start); d > time.Second {
			t.Errorf("the stream ended %v after the kill, want within 1 s", d)
		} else {
			t.Logf("the stream ended %v after the kill", d.Round(time.Millisecond))
		}
	case <-time.After(waitLimit):
		t.Fatal("the stream still runs after the kill")
	}
	audit, err := e.st.SearchAudit(ctx, store.AuditFilter{Action: "line.kill"})
	must(t, err)
	if len(audit) != 1 || audit[0].TargetID != fmt.Sprint(l.ID) || audit[0].Detail["connections"] != float64(1) {
		t.Fatalf("kill audit = %+v", audit)
	}
}
