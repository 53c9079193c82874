package stream_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/store"
)

// TestAccessLog_ShortFormReservedUsernames: lines named like a route's first segment (epg, api,
// admin, c, server, streaming, metrics, static, healthz, readyz, stalker_portal, live, play, ...)
// are valid, and /{user}/{pass}/{id} is their short-form URL. It reaches the stream check (a
// stream whose upstream is down answers 502 only after the check passed), and whatever route
// answers it, in any letter case and with a trailing slash, the password never reaches the log
// (issue 11).
//
// Four names cannot use the short form at all, because a fixed route takes those paths first
// (the admin API and api.php refuse all such names now): c (the MAG portal's /c/ files), hls
// (/hls/{token}/{file}), and player_api and epg, whose XUI aliases /player_api/{user}/{pass}
// and /epg/{user}/{pass} read the password as the username. Their requests are still redacted
// in the access log, and the check's denial line leaves out a username read from an alias path.
func TestAccessLog_ShortFormReservedUsernames(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	shadowed := map[string]bool{"player_api": true, "epg": true, "hls": true, "c": true} // c: the portal serves /c/{file…}
	var passwords []string
	names := []string{"epg", "api", "admin", "c", "server", "streaming", "metrics", "static", "healthz",
		"readyz", "stalker_portal", "player_api", "live", "movie", "series", "timeshift", "timeshifts", "hls",
		"hlsr", "play", "auth", "key", "get.php", "xmltv.php"}
	for _, name := range names {
		_, pass := e.newLine(func(in *store.LineInput) { in.Username = name })
		passwords = append(passwords, pass)
		for _, path := range []string{"/" + name + "/" + pass + "/987654", "/" + name + "/" + pass + "/987654.ts",
			"/" + strings.ToUpper(name) + "/" + pass + "/987654.m3u8", "/" + name + "/" + pass + "/987654/"} {
			if code, _, _ := do(t, http.MethodGet, e.base+path, nil); code >= 500 {
				t.Errorf("GET /%s/***/… = %d", name, code)
			}
		}
		want := http.StatusBadGateway
		if shadowed[name] {
			want = 0 // any 4xx
		}
		if code, _, _ := do(t, http.MethodGet, e.url("/%s/%s/%d.ts", name, pass, e.down), nil); code != want && (want != 0 || code >= 500) {
			t.Errorf("short form of line %q = %d, want %d (checked, upstream down)", name, code, want)
		}
	}
	// Upper-case roots reach the stream routes too: their passwords stay hidden as well.
	for _, path := range []string{"/LIVE/%s/%s/987654.ts", "/Movie/%s/%s/987654.mp4", "/TIMESHIFT/%s/%s/60/2024-01-01:10-00/987654.ts"} {
		do(t, http.MethodGet, e.url(path, e.line.Username, e.pass), nil)
	}
	passwords = append(passwords, e.pass)
	eventually(t, "every request logged", func() bool { return strings.Count(e.logs.String(), "msg=request") >= len(names)*5+3 })
	for _, line := range strings.Split(e.logs.String(), "\n") {
		for _, pass := range passwords {
			if strings.Contains(line, pass) {
				t.Errorf("a log line contains password %q: %s", pass, line)
			}
		}
	}
}
