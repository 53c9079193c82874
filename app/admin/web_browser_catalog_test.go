package admin_test

// The catalog-side pages in the real browser (the kit is web_browser_test.go's): an M3U
// import started from the imports page and watched to its end (the progress block refreshes
// in place: no reload, no layout shift), and the hostile names of channels, movies, series,
// episodes, categories, bouquets and EPG sources rendered as text on every page that shows
// them, at desktop and at phone width without sideways scrolling.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// slowPlaylist serves text in two halves: the second only once release is closed, so an
// import of it is seen running.
func slowPlaylist(t *testing.T, text string) (*httptest.Server, chan struct{}) {
	release := make(chan struct{})
	half := len(text) / 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(text)))
		_, _ = w.Write([]byte(text[:half]))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(text[half:]))
	}))
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		srv.Close()
	})
	return srv, release
}

// shownAsText is a page script: whether main shows want as the text of an element (or the
// value of a field), and holds no element an injected name could have made.
const shownAsText = `(function (want) {
  var m = document.querySelector("main");
  if (m.querySelector("script, img[src=x], [onerror]")) return false;
  return Array.prototype.some.call(m.querySelectorAll("*"), function (e) {
    return (e.tagName === "INPUT" ? e.value : e.textContent.trim()) === want;
  });
})(%s)`

// noSideways is a page script: whether the page fits the viewport's width (wide tables scroll
// inside their own box).
const noSideways = `document.documentElement.scrollWidth <= window.innerWidth`

// overhanging is a page script: the elements past the viewport's right edge that no scrolling
// box holds (what makes a page scroll sideways).
const overhanging = `(function () {
  var out = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect().right;
    if (r <= window.innerWidth) return;
    var free = getComputedStyle(e).position === "absolute"; // held by a positioned box only
    for (var p = e.parentElement; p; p = p.parentElement) {
      var st = getComputedStyle(p);
      if (st.overflowX !== "visible" && (!free || st.position !== "static")) return;
      if (st.position !== "static") free = false;
    }
    out.push(e.tagName + "." + e.className + "#" + e.id + " to " + r);
  });
  return out.slice(0, 8);
})()`

// unlabelled is a page script: the fields of main without a label.
const unlabelled = `Array.prototype.filter.call(document.querySelectorAll("main input:not([type=hidden]), main select, main textarea"),
  function (e) { return e.labels.length === 0 && !e.getAttribute("aria-label"); }).map(function (e) { return e.name || e.id; })`

// checkPage fails the test unless the page shown has every field labelled and fits the width.
func (tb *tab) checkPage(t *testing.T, what string, width int64) {
	t.Helper()
	if bare := value(t, tb, what, chromedp.Evaluate[[]string](unlabelled)); len(bare) > 0 {
		t.Errorf("%s: fields without a label: %q", what, bare)
	}
	if !value(t, tb, what, chromedp.Evaluate[bool](noSideways)) {
		wide := value(t, tb, what, chromedp.Evaluate[[]string](overhanging))
		t.Errorf("%s scrolls sideways at %d px: %q", what, width, wide)
	}
}

func TestWebBrowserCatalog(t *testing.T) {
	t.Parallel()
	chromium(t)
	e := newEnv(t)
	adm, root := e.as(t, accounts.RoleAdmin)
	src := []map[string]any{{"url": "http://up.example.com/1.ts"}}
	cat := e.created(t, root, "/categories", map[string]any{"kind": "live", "name": xssImg})
	live := e.created(t, root, "/live-streams", map[string]any{"name": xssScript, "category_id": cat, "sources": src})
	movie := e.created(t, root, "/vod", map[string]any{"name": xssImg, "container_extension": "mp4", "sources": src})
	series := e.created(t, root, "/series", map[string]any{"name": xssScript})
	episode := e.created(t, root, fmt.Sprintf("/series/%d/episodes", series), map[string]any{"season_number": 1,
		"episode_number": 1, "name": xssImg, "container_extension": "mkv", "sources": src})
	bouquet := e.created(t, root, "/bouquets", map[string]any{"name": xssScript, "stream_ids": []int64{live, movie},
		"series_ids": []int64{series}})
	source := e.created(t, root, "/epg-sources", map[string]any{"name": xssImg, "url": "http://guide.example.com/g.xml"})

	tb := newTab(t)
	base := e.srv.base
	tb.login(t, base, adm)
	pages := []struct {
		path, name string
	}{
		{"/admin/categories?kind=live", xssImg},
		{"/admin/streams", xssScript},
		{fmt.Sprintf("/admin/streams/%d", live), xssScript},
		{"/admin/vod", xssImg},
		{fmt.Sprintf("/admin/vod/%d", movie), xssImg},
		{"/admin/series", xssScript},
		{fmt.Sprintf("/admin/series/%d", series), xssImg},
		{fmt.Sprintf("/admin/episodes/%d", episode), xssImg},
		{"/admin/bouquets", xssScript},
		{fmt.Sprintf("/admin/bouquets/%d", bouquet), xssScript},
		{"/admin/epg", xssImg},
		{fmt.Sprintf("/admin/epg/%d", source), xssImg},
		{fmt.Sprintf("/admin/bouquets/%d/add", bouquet), "Add to " + xssScript},
		{"/admin/devices", "MAG devices"},
		{"/admin/devices/new", "Register a MAG device"},
		{"/admin/imports", "No imports yet."},
		{"/admin/series/new", "New series"},
		{fmt.Sprintf("/admin/series/%d/episodes/new", series), "New episode of " + xssScript},
	}
	for _, width := range []int64{1280, 390} {
		tb.do(t, "viewport", chromedp.EmulateViewport(width, 844))
		for _, p := range pages {
			want, _ := json.Marshal(p.name)
			tb.do(t, p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
			if !value(t, tb, p.path, chromedp.Evaluate[bool](fmt.Sprintf(shownAsText, want))) {
				t.Fatalf("%s at %d px does not show %s as text:\n%s", p.path, width, p.name,
					value(t, tb, "main", chromedp.OuterHTML(chromedp.CSS("main"))))
			}
			tb.checkPage(t, p.path, width)
		}
	}
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))
	tb.noAlerts(t)

	// An M3U import from a URL, watched on its page: running with its progress, then done with
	// its summary, the block refreshed in place (the page never reloads, nothing shifts).
	var pad strings.Builder
	for i := range 40 {
		fmt.Fprintf(&pad, "#EXTINF:-1 group-title=\"Imported\",Channel %d\nhttp://up.example.com/pad/%d.ts\n", i, i)
	}
	m3u := "#EXTM3U\n" + pad.String() +
		"#EXTINF:-1 group-title=\"" + xssImg + "\"," + xssScript + " imported\nhttp://up.example.com/i1.ts\n" +
		"#EXTINF:-1,RTMP\nrtmp://up.example.com/live/1\n"
	pl, release := slowPlaylist(t, m3u)
	tb.do(t, "start the import",
		chromedp.Navigate(base+"/admin/imports"),
		chromedp.WaitVisible(chromedp.CSS(`#f-url`)),
		chromedp.SendKeys(chromedp.CSS(`#f-url`), pl.URL+"/get.php?username=u&password=secret"),
		chromedp.SendKeys(chromedp.CSS(`#f-bouquet`), xssImg),
		chromedp.Click(`//button[text()="Start the import"]`),
		chromedp.WaitVisible(chromedp.CSS(`#import-progress`)),
		// Only the shifts after this point count: the refreshes' (every 2 s). The buffered
		// entries of the page's own load (on a loaded machine, styles and scripts land late)
		// are not what this checks.
		chromedp.Evaluate[chromedp.Void](`window.stillHere = true; window.shift = 0;
			window.shifted = []; var since = performance.now();
			new PerformanceObserver(function (l) { l.getEntries().forEach(function (s) {
				if (s.hadRecentInput || s.startTime < since) return;
				window.shift += s.value;
				window.shifted.push("at " + Math.round(s.startTime - since) + " ms: " + s.value.toFixed(4));
				(s.sources || []).forEach(function (src) {
					var n = src.node, what = n ? (n.nodeType === 3 ? "text " + JSON.stringify(n.textContent.slice(0, 30)) : n.nodeName + (n.id ? "#" + n.id : "") + (n.className ? "." + n.className : "")) : "?";
					window.shifted.push(what + " " + JSON.stringify([src.previousRect, src.currentRect]));
				});
			}); }).observe({type: "layout-shift", buffered: true});`),
	)
	value(t, tb, "the import running, half read", chromedp.Poll[bool](
		`document.getElementById("import-state").textContent === "running" && document.getElementById("import-bar").value >= 40`,
		chromedp.WithPollingTimeout(waitLimit)))
	tb.screenshot(t, "import-running-1280x800", 1280, 800)
	close(release)
	value(t, tb, "the import done", chromedp.Poll[bool](`document.getElementById("import-state").textContent === "done"`,
		chromedp.WithPollingTimeout(waitLimit)))
	tb.do(t, "the summary", chromedp.WaitVisible(chromedp.CSS(`#import-summary`)),
		chromedp.WaitVisible(`//h3[@id="skips-h"]`), chromedp.WaitVisible(`//td[contains(., "rtmp")]`))
	if !value(t, tb, "no reload", chromedp.Evaluate[bool](`window.stillHere === true`)) {
		t.Fatal("the job page reloaded instead of refreshing its progress")
	}
	if shift := value(t, tb, "layout shift", chromedp.Evaluate[float64](`window.shift`)); shift > 0.0001 {
		t.Fatalf("the progress refresh shifted the layout: %.4f; what moved:\n%s", shift,
			strings.Join(value(t, tb, "what moved", chromedp.Evaluate[[]string](`window.shifted`)), "\n"))
	}
	if added := value(t, tb, "added", chromedp.Text(`//div[@id="import-summary"]/div[1]/span[@class="n"]`)); added != "41" {
		t.Fatalf("the summary says %s added, want 41", added)
	}
	body := value(t, tb, "job page", chromedp.OuterHTML(chromedp.CSS("main")))
	if strings.Contains(body, "secret") {
		t.Fatal("the job page shows the playlist URL's password")
	}
	want, _ := json.Marshal(xssImg)
	if !value(t, tb, "the bouquet", chromedp.Evaluate[bool](fmt.Sprintf(shownAsText, want))) {
		t.Fatalf("the job page does not show the bouquet's name as text:\n%s", body)
	}
	tb.screenshot(t, "import-done-1280x800", 1280, 800)
	tb.screenshot(t, "import-done-390x844", 390, 844)
	tb.checkPage(t, "the job page", 390)
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))

	// What the import brought shows as text too.
	want, _ = json.Marshal(xssScript + " imported")
	tb.do(t, "imported channel", chromedp.Navigate(base+"/admin/streams?name=imported"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	if !value(t, tb, "imported channel", chromedp.Evaluate[bool](fmt.Sprintf(shownAsText, want))) {
		t.Fatalf("the imported channel's name is not shown as text:\n%s", value(t, tb, "main", chromedp.OuterHTML(chromedp.CSS("main"))))
	}
	tb.do(t, "imports list", chromedp.Navigate(base+"/admin/imports"), chromedp.WaitVisible(`//td[contains(., "41 added")]`))
	tb.noAlerts(t)
}
