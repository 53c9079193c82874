package admin_test

import (
	"encoding/base64"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestWebPerf measures the dashboard and the lines list over 100,000 lines: the server's
// time (Server-Timing), the browser's (Performance API: first byte, first contentful paint,
// DOMContentLoaded) and the page weight on the wire. It only reports (never asserts on
// time) and runs only with XTREAMD_WEB_PERF=1: filling the table takes a while.
func TestWebPerf(t *testing.T) {
	if os.Getenv("XTREAMD_WEB_PERF") == "" {
		t.Skip("XTREAMD_WEB_PERF not set")
	}
	chromium(t)
	e := newEnv(t)
	adm := e.admin(t, accounts.RoleAdmin)
	hash, err := credential.Hash("perf-password", testdb.FastHashParams)
	must(t, err)
	testdb.MustExec(t, e.st, `INSERT INTO lines (username, password_hash, exp_date, is_trial, max_connections)
		SELECT 'perf' || g, $1, now() + (g % 400 - 30) * interval '1 day', g % 17 = 0, 1 + g % 3
		FROM generate_series(1, 100000) g`, hash)
	testdb.MustExec(t, e.st, `ANALYZE lines`)
	deep := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"id","i":60000}`))
	tb := newTab(t)
	tb.login(t, e.srv.base, adm)
	for _, path := range []string{"/admin/", "/admin/lines", "/admin/lines?cursor=" + deep, "/admin/lines?username=perf9999&status=active"} {
		var server, ttfb, fcp, dcl []float64
		var weight perfEntry
		for i := range 7 {
			tb.do(t, "load "+path, chromedp.Navigate(e.srv.base+path))
			p := value(t, tb, "timings", chromedp.Poll[perfEntry](perfJS))
			if i == 0 {
				weight = p
			}
			server, ttfb, fcp, dcl = append(server, p.Server), append(ttfb, p.TTFB), append(fcp, p.FCP), append(dcl, p.DCL)
		}
		t.Logf("%-45s server %.1f ms · first byte %.1f ms · first contentful paint %.1f ms · DOMContentLoaded %.1f ms (medians of 7) · HTML %d B gz (%d B), +CSS+JS first load %d B",
			path, median(server), median(ttfb), median(fcp), median(dcl), weight.HTML, weight.HTMLDecoded, weight.Total)
	}
	serverTimes(t, e, adm)
}

type perfEntry struct {
	Server, TTFB, FCP, DCL float64
	HTML, HTMLDecoded      int
	Total                  int
}

// perfJS answers the page's timings once its first contentful paint is recorded (polled).
const perfJS = `(function () {
  var n = performance.getEntriesByType('navigation')[0];
  var fcp = performance.getEntriesByName('first-contentful-paint')[0];
  if (!fcp || !n || !n.domContentLoadedEventEnd) return false;
  var st = (n.serverTiming || []).filter(function (x) { return x.name === 'app'; })[0];
  var total = n.encodedBodySize;
  performance.getEntriesByType('resource').forEach(function (r) { total += r.encodedBodySize; });
  return {Server: st ? st.duration : -1, TTFB: n.responseStart - n.startTime, FCP: fcp ? fcp.startTime : -1,
    DCL: n.domContentLoadedEventEnd - n.startTime, HTML: n.encodedBodySize, HTMLDecoded: n.decodedBodySize, Total: total};
})()`

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// serverTimes reports the server's own time for the pages over plain HTTP (no browser).
func serverTimes(t *testing.T, e *env, adm account) {
	b := e.browser(t)
	b.login(adm)
	for _, path := range []string{"/admin/", "/admin/lines", "/admin/lines?limit=250"} {
		var durs []float64
		for range 21 {
			req, _ := http.NewRequest(http.MethodGet, e.srv.base+path, nil)
			p := b.do(req)
			if p.status != http.StatusOK {
				t.Fatalf("%s = %d", path, p.status)
			}
			v := strings.TrimPrefix(p.header.Get("Server-Timing"), "app;dur=")
			d, _ := strconv.ParseFloat(v, 64)
			durs = append(durs, d)
		}
		t.Logf("%-25s server time median %.2f ms over 21 requests", path, median(durs))
	}
	// The same questions through the REST API, whole requests on loopback: the baseline.
	tok := bearer(e.login(t, adm).AccessToken)
	for _, path := range []string{"/dashboard", "/lines"} {
		var durs []float64
		for range 21 {
			start := time.Now()
			wantStatus(t, path, e.call(t, http.MethodGet, path, tok, nil), http.StatusOK)
			durs = append(durs, float64(time.Since(start).Microseconds())/1000)
		}
		t.Logf("/api/v1%-18s whole request median %.2f ms over 21 requests (baseline)", path, median(durs))
	}
}
