package portal_test

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestRefusals_Identity: a malformed MAC, no MAC, an unknown MAC, a wrong or missing token and
// an expired session are all "Authorization failed." (spec §5.2), never an error page or a
// 500; the handshake of an unknown MAC looks like any other.
func TestRefusals_Identity(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	good := e.box(t)
	good.handshake("")

	for name, mod := range map[string]func(b *box){
		"malformed MAC":  func(b *box) { b.mac = "00:1A:79:12:34" },
		"garbage MAC":    func(b *box) { b.mac = "%zz%00" },
		"no MAC":         func(b *box) { b.mac = "" },
		"unknown MAC":    func(b *box) { b.mac = "00:1A:79:99:99:99" },
		"wrong token":    func(b *box) { b.token = strings.Repeat("A", 32) },
		"no token":       func(b *box) { b.token = "" },
		"token in parts": func(b *box) { b.token = good.token[:16] },
	} {
		t.Run(name, func(t *testing.T) {
			b := *good
			b.t = t
			mod(&b)
			for _, call := range [][2]string{{"stb", "get_profile"}, {"itv", "get_all_channels"}, {"itv", "create_link"},
				{"watchdog", "get_events"}, {"no_such", "module"}} {
				b.text("Authorization failed.", call[0], call[1])
			}
		})
	}
	// The handshake of an unknown or malformed MAC answers a token all the same.
	for _, mac := range []string{"00:1A:79:99:99:99", "nonsense"} {
		b := e.box(t)
		b.mac = mac
		if tok := b.handshake(""); !tokenShape.MatchString(tok) {
			t.Errorf("handshake(%s) = %q", mac, tok)
		}
		b.text("Authorization failed.", "itv", "get_genres")
	}
	// An expired session is refused; a handshake starts a new one.
	testdb.MustExec(t, e.st, `UPDATE mag_devices SET token_expires_at = now() - interval '1 second' WHERE id = $1`, e.deviceID)
	good.text("Authorization failed.", "itv", "get_genres")
	good.handshake(good.token)
	var genres []any
	good.js(&genres, "itv", "get_genres")
	// The refusals reached the client log as AUTH_FAILED from the portal.
	eventually(t, "client log", func() bool {
		var n int
		e.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM client_log WHERE code = 'AUTH_FAILED' AND surface = 'portal'`).Scan(&n)
		return n > 10
	})
}

// TestRefusals_Line: an expired and a banned line log in to a profile with status 1 and a
// block_msg, still see their account and watchdog, and get "Access denied." for content and
// access_denied from create_link.
func TestRefusals_Line(t *testing.T) {
	t.Parallel()
	past := time.Now().Add(-time.Hour)
	for name, tt := range map[string]struct {
		line func(*store.LineInput)
		msg  string
	}{
		"expired":  {func(in *store.LineInput) { in.ExpDate = &past }, "Your subscription has expired."},
		"banned":   {func(in *store.LineInput) { in.Banned = true }, "Your account has been suspended."},
		"disabled": {func(in *store.LineInput) { in.Disabled = true }, "Your account is disabled."},
		"other IP": {func(in *store.LineInput) { in.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} },
			"Access from this location or device is not allowed."},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, envOpts{line: tt.line})
			b := e.box(t)
			b.handshake("")
			var prof map[string]any
			b.js(&prof, "stb", "get_profile", mag250Profile("SN")...)
			if prof["status"] != 1.0 || prof["block_msg"] != tt.msg || prof["mac"] != e.mac {
				t.Fatalf("profile = status %v, block_msg %v", prof["status"], prof["block_msg"])
			}
			var info map[string]any
			b.js(&info, "account_info", "get_main_info")
			if name == "expired" && info["phone"] != past.In(mustZone(t, "Europe/Paris")).Format("January 2, 2006, 3:04 pm") {
				t.Errorf("main info of an expired line = %v", info)
			}
			var wd map[string]any
			b.js(&wd, "watchdog", "get_events")
			b.text("Access denied.", "itv", "get_all_channels")
			b.text("Access denied.", "vod", "get_ordered_list")
			var link map[string]any
			b.js(&link, "itv", "create_link", "cmd", "ffmpeg http://localhost/ch/"+itoa(e.live)+"_")
			if link["error"] != "access_denied" || link["cmd"] != "" {
				t.Fatalf("create_link = %v", link)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	must(t, err)
	return loc
}

// TestRefusals_FullLine: a line at its limit, watching from another address, gets "limit" from
// create_link; the viewer's own address may still zap (replace_same_ip).
func TestRefusals_FullLine(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{line: func(in *store.LineInput) { in.MaxConnections = 1 }})
	viewer := e.box(t)
	viewer.ip = "198.51.100.7"
	viewer.handshake("")
	var link map[string]any
	viewer.js(&link, "itv", "create_link", "cmd", "ffmpeg http://localhost/ch/"+itoa(e.live)+"_")
	u := cmdURL(t, link["cmd"].(string))
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("X-Forwarded-For", viewer.ip)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("open = %d", resp.StatusCode)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 188*10)); err != nil {
		t.Fatal(err)
	}
	// The same session from another address: the line is full.
	other := *viewer
	other.ip = "203.0.113.9"
	other.js(&link, "itv", "create_link", "cmd", "ffmpeg http://localhost/ch/"+itoa(e.archive)+"_")
	if link["error"] != "limit" || link["cmd"] != "" {
		t.Fatalf("create_link of a full line = %v", link)
	}
	viewer.js(&link, "itv", "create_link", "cmd", "ffmpeg http://localhost/ch/"+itoa(e.archive)+"_")
	if link["error"] != "" {
		t.Fatalf("zapping from the viewer's address = %v", link)
	}
	// A link from another address does not open from this one: the token is bound to it.
	req, _ = http.NewRequest(http.MethodGet, cmdURL(t, link["cmd"].(string)), nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.10")
	resp2, err := http.DefaultClient.Do(req)
	must(t, err)
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a link opened from another address = %d, want 401", resp2.StatusCode)
	}
}

// TestRefusals_Stream: a stream outside the bouquet, or no stream, is nothing_to_play.
func TestRefusals_Stream(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	b.handshake("")
	for _, cmd := range []string{"ffmpeg http://localhost/ch/" + itoa(e.other) + "_", "ffmpeg http://localhost/ch/x_", "",
		"ffmpeg http://localhost/ch/" + itoa(e.movie) + "_"} {
		var link map[string]any
		b.js(&link, "itv", "create_link", "cmd", cmd)
		if link["error"] != "nothing_to_play" || link["cmd"] != "" {
			t.Errorf("create_link(%q) = %v", cmd, link)
		}
	}
}

// TestMACGuessingFlood: handshakes for unknown MACs count as failed logins; at the limit the
// address is blocked — even a known MAC's handshake is refused, and its session is not
// replaced — while other addresses go on.
func TestMACGuessingFlood(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{settings: map[string]any{"flood_auth_failures": 5, "flood_window_seconds": 60}})
	owner := e.box(t)
	owner.ip = "198.51.100.1"
	tok := owner.handshake("")

	scanner := e.box(t)
	scanner.ip = "203.0.113.66"
	for i := range 5 {
		scanner.mac = "00:1A:79:00:10:" + strings.ToUpper(itoa(int64(10+i)))
		scanner.handshake("")
	}
	scanner.mac = e.mac
	scanner.token = ""
	eventually(t, "the scanner blocked", func() bool {
		_, _, body := scanner.call("stb", "handshake")
		return string(body) == "Access denied."
	})
	scanner.text("Access denied.", "itv", "get_genres")
	// The owner's session survived and the owner's address is not blocked.
	owner.token = tok
	var genres []any
	owner.js(&genres, "itv", "get_genres")
	if got := owner.handshake(tok); got != tok {
		t.Fatalf("owner's handshake = %q", got)
	}
	// The handshake rate limit holds even below the flood limit.
	burst := e.box(t)
	burst.ip = "192.0.2.50"
	limited := false
	for range 20 {
		if code, _, _ := burst.call("stb", "handshake"); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("20 handshakes in a row were never rate-limited")
	}
}
