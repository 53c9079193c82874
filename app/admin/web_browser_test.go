package admin_test

// The web page in a real browser: headless Chromium driven over the DevTools protocol
// (chromedp). It logs in, reads the dashboard, creates, edits and bans a line (and asks the
// player API what it thinks of it), kills a live stream from the connections page, checks
// that a reseller sees only its own lines, that hostile names render as text, and that a form
// without its CSRF token is refused; screenshots at desktop and phone width are written to
// the test's artifact directory (go test -artifacts keeps them).

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// chromium finds the browser; a machine without one skips (CI installs it: .ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on this machine")
	return ""
}

// tab is a browser tab with the alerts its pages raised.
type tab struct {
	ctx    context.Context
	mu     sync.Mutex
	alerts []string // alert() dialogs: an injected script ran
}

// newTab starts a headless Chromium (its own profile) and returns a tab of it.
func newTab(t *testing.T) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		<-done
	})
	if err := chromedp.Do(ctx); err != nil {
		close(done)
		t.Fatalf("start chromium: %v", err)
	}
	tb := &tab{ctx: ctx}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		defer close(done)
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			if ev.Type == page.DialogTypeAlert {
				tb.mu.Lock()
				tb.alerts = append(tb.alerts, ev.Message)
				tb.mu.Unlock()
			}
			// Confirmations (data-confirm) are accepted, alerts dismissed.
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: ev.Type != page.DialogTypeAlert})
		}
	}()
	return tb
}

// do runs steps, bounded in time, failing the test with what.
func (tb *tab) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action for its value.
func value[T any](t *testing.T, tb *tab, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (tb *tab) noAlerts(t *testing.T) {
	t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.alerts) > 0 {
		t.Fatalf("injected script ran: alerts %q", tb.alerts)
	}
}

// login logs a in through the login form.
func (tb *tab) login(t *testing.T, base string, a account) {
	t.Helper()
	tb.do(t, "log in "+a.username,
		chromedp.Navigate(base+"/admin/login"),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), a.username),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), a.password),
		chromedp.Submit(chromedp.CSS(`#f-password`)),
		chromedp.WaitVisible(`//h1[text()="Dashboard"]`),
	)
}

// screenshot writes the viewport at w×h to the artifact directory as name.png.
func (tb *tab) screenshot(t *testing.T, name string, w, h int64) {
	t.Helper()
	tb.do(t, "viewport for "+name, chromedp.EmulateViewport(w, h))
	buf := value(t, tb, "screenshot "+name, chromedp.CaptureScreenshot())
	must(t, os.WriteFile(filepath.Join(artifactDir(t), name+".png"), buf, 0o644))
}

// artifactDir is where screenshots go: XTREAMD_WEB_SHOTS when set (the README's pictures),
// else the test's artifact directory.
func artifactDir(t *testing.T) string {
	if d := os.Getenv("XTREAMD_WEB_SHOTS"); d != "" {
		must(t, os.MkdirAll(d, 0o755))
		return d
	}
	return t.ArtifactDir()
}

const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(2)>`
)

func TestWebBrowser(t *testing.T) {
	t.Parallel()
	chromium(t)
	e := newEnv(t, envOpts{cfg: clipMediaDir(t)})
	adm, root := e.as(t, accounts.RoleAdmin)
	streamID := e.created(t, root, "/live-streams", map[string]any{"name": xssScript,
		"sources": []map[string]any{{"url": clipURL(t)}}})
	bouquet := e.created(t, root, "/bouquets", map[string]any{"name": xssImg, "stream_ids": []int64{streamID}})
	tb := newTab(t)
	base := e.srv.base
	tb.login(t, base, adm)

	// A line with a hostile note, its password shown once.
	tb.do(t, "create a line",
		chromedp.Navigate(base+"/admin/lines/new"),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)),
		chromedp.SendKeys(chromedp.CSS(`#f-username`), "browserline"),
		chromedp.SendKeys(chromedp.CSS(`#f-reseller_notes`), xssImg),
		chromedp.Click(chromedp.CSS(`#f-bq-`+strconv.FormatInt(bouquet, 10))),
		chromedp.Submit(chromedp.CSS(`#f-username`)),
		chromedp.WaitVisible(chromedp.CSS(`#pw-0`)),
	)
	password := value(t, tb, "the password", chromedp.Text(chromedp.CSS("#pw-0")))
	if len(password) < 8 {
		t.Fatalf("created page shows password %q", password)
	}
	for i := range 6 { // a fuller list for the screenshots
		testdb.NewLine(t, e.st, func(in *store.LineInput) {
			in.ResellerNotes, in.IsTrial, in.MaxConnections = fmt.Sprintf("customer %d", i+1), i%3 == 0, 1+i%2
		})
	}
	tb.do(t, "the list", chromedp.Navigate(base+"/admin/lines"), chromedp.WaitVisible(`//a[text()="browserline"]`))
	listHTML := value(t, tb, "list html", chromedp.OuterHTML(chromedp.CSS("main")))
	if !strings.Contains(listHTML, "&lt;img src=x onerror=alert(2)&gt;") || strings.Contains(listHTML, password) {
		t.Fatalf("the list must show the note as text and never the password:\n%s", listHTML)
	}
	tb.screenshot(t, "lines-1280x800", 1280, 800)
	tb.screenshot(t, "lines-390x844", 390, 844)
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))

	line, err := e.st.LineByUsername(t.Context(), "browserline")
	must(t, err)
	linePath := fmt.Sprintf("%s/admin/lines/%d", base, line.ID)
	tb.do(t, "edit the line",
		chromedp.Navigate(linePath),
		chromedp.WaitVisible(chromedp.CSS(`#f-max_connections`)),
		chromedp.SetValue(chromedp.CSS(`#f-max_connections`), "4"),
		chromedp.Submit(chromedp.CSS(`#f-max_connections`)),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "saved")]`),
	)
	if l, _ := e.st.LineByID(t.Context(), line.ID); l.MaxConnections != 4 {
		t.Fatalf("max_connections after the edit = %d, want 4", l.MaxConnections)
	}

	// Watch the hostile channel, see it on the dashboard and the connections page, kill it.
	e.waitListed(t, e.srv, line.Username, password, streamID)
	v := watch(t, e.srv, line.Username, password, streamID)
	// A day of another instance's samples, for the chart.
	testdb.MustExec(t, e.st, `INSERT INTO connection_samples (at, instance_id, connections, bytes_per_second)
		SELECT date_trunc('minute', now()) - g * interval '5 minutes', 'other', (60 + 45 * sin(g / 40.0))::int, 400000 * g
		FROM generate_series(1, 287) g`)
	tb.do(t, "dashboard with a viewer", chromedp.Navigate(base+"/admin/"),
		chromedp.WaitVisible(`//td[@title='`+xssScript+`']`), chromedp.WaitVisible(chromedp.CSS(`svg.chart path.curve`)))
	tb.screenshot(t, "dashboard-1280x800", 1280, 800)
	tb.screenshot(t, "dashboard-390x844", 390, 844)
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))
	tb.do(t, "connections page", chromedp.Navigate(base+"/admin/connections"),
		chromedp.WaitVisible(`//td[@title='`+xssScript+`']`))
	tb.screenshot(t, "connections-1280x800", 1280, 800)
	tb.do(t, "kill", chromedp.Click(`//button[contains(@aria-label, "browserline")]`),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "killed")]`))
	v.ended(t)

	// Block a player's user agent on the security page: the player API refuses that player
	// within a second (the check reloads its lists on the change), others still log in.
	if !playerAuthAs(t, base, line.Username, password, "EvilPlayer/2.1 (Linux)") {
		t.Fatal("the line cannot log in before the block")
	}
	tb.do(t, "block a user agent", chromedp.Navigate(base+"/admin/security/user-agents"),
		chromedp.WaitVisible(chromedp.CSS(`#f-pattern`)),
		chromedp.SendKeys(chromedp.CSS(`#f-pattern`), "evilplayer/"),
		chromedp.Submit(chromedp.CSS(`#f-pattern`)),
		chromedp.WaitVisible(`//p[@role="status"][contains(., "every instance")]`),
		chromedp.WaitVisible(`//td[text()="evilplayer/"]`))
	tb.screenshot(t, "security-390x844", 390, 844)
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))
	testdb.Eventually(t, waitLimit, "the player API to refuse the blocked user agent", func() bool {
		return !playerAuthAs(t, base, line.Username, password, "EvilPlayer/2.1 (Linux)")
	})
	if !playerAuthAs(t, base, line.Username, password, "VLC/3.0.20 LibVLC/3.0.20") {
		t.Fatal("the block refuses another player")
	}
	testdb.Eventually(t, waitLimit, "the refusal to be logged", func() bool {
		var n int
		return e.pool.QueryRow(t.Context(), `SELECT count(*) FROM client_log WHERE code = 'USER_AGENT_BAN'`).Scan(&n) == nil && n > 0
	})
	tb.do(t, "the refusal in the log", chromedp.Navigate(base+"/admin/activity/denials?code=USER_AGENT_BAN"),
		chromedp.WaitVisible(`//td[text()="EvilPlayer/2.1 (Linux)"]`))
	tb.screenshot(t, "denials-1280x800", 1280, 800)
	// The panel-wide pages: every field labelled, nothing wider than a phone.
	for _, width := range []int64{390, 1280} {
		tb.do(t, "viewport", chromedp.EmulateViewport(width, 844))
		for _, path := range []string{"/admin/security", "/admin/security/user-agents", "/admin/security/isps",
			"/admin/security/countries", "/admin/settings", "/admin/activity", "/admin/activity/denials", "/admin/audit"} {
			tb.do(t, "open "+path, chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			tb.checkPage(t, path, width)
		}
	}
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))
	tb.do(t, "audit log", chromedp.Navigate(base+"/admin/audit?action=blocked_user_agent."),
		chromedp.WaitVisible(`//td[text()="blocked_user_agent.create"]`))
	tb.screenshot(t, "audit-1280x800", 1280, 800)
	tb.do(t, "settings", chromedp.Navigate(base+"/admin/settings"), chromedp.WaitVisible(chromedp.CSS(`#f-flood_auth_failures`)))
	tb.screenshot(t, "settings-390x844", 390, 844)
	tb.do(t, "desktop again", chromedp.EmulateViewport(1280, 800))

	// Ban it: the player API reports it banned, the stream routes refuse it.
	tb.do(t, "ban", chromedp.Navigate(linePath), chromedp.WaitVisible(`//button[text()="Ban"]`),
		chromedp.Click(`//button[text()="Ban"]`), chromedp.WaitVisible(`//button[text()="Unban"]`))
	if st := playerStatus(t, base, line.Username, password); st != "Banned" {
		t.Fatalf("player_api status after the ban = %q, want Banned", st)
	}
	resp, err := http.Get(fmt.Sprintf("%s/live/%s/%s/%d.ts", base, line.Username, password, streamID))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Fatal("a banned line still streams")
	}

	// A form whose CSRF token is gone is refused.
	tb.do(t, "csrf", chromedp.Navigate(linePath), chromedp.WaitVisible(chromedp.CSS(`#f-max_connections`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=_csrf]').forEach(function(i){i.remove()})`),
		chromedp.Submit(chromedp.CSS(`#f-max_connections`)),
		chromedp.WaitVisible(`//p[@role="alert"][contains(., "expired")]`))
	tb.noAlerts(t)

	// A reseller sees its own lines only.
	r1, r2 := e.admin(t, accounts.RoleReseller), e.admin(t, accounts.RoleReseller)
	own, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r1.id })
	other, _ := testdb.NewLine(t, e.st, func(in *store.LineInput) { in.OwnerAdminID = &r2.id })
	tb.do(t, "log out", chromedp.Navigate(base+"/admin/"), chromedp.Click(`//button[text()="Log out"]`),
		chromedp.WaitVisible(chromedp.CSS(`#f-username`)))
	tb.login(t, base, r1)
	tb.do(t, "reseller's lines", chromedp.Navigate(base+"/admin/lines"), chromedp.WaitVisible(`//a[text()="`+own.Username+`"]`))
	body := value(t, tb, "reseller's list", chromedp.OuterHTML(chromedp.CSS("main")))
	if strings.Contains(body, other.Username) || strings.Contains(body, "browserline") {
		t.Fatalf("a reseller sees others' lines:\n%s", body)
	}
	tb.noAlerts(t)
}

// playerStatus is user_info.status of a line's player_api.php login.
func playerStatus(t *testing.T, base, user, pass string) string {
	t.Helper()
	_, info := playerInfo(t, base, user, pass, "")
	return info.Status
}

// playerAuthAs reports whether a player_api.php login with User-Agent ua is accepted.
func playerAuthAs(t *testing.T, base, user, pass, ua string) bool {
	t.Helper()
	status, info := playerInfo(t, base, user, pass, ua)
	return status == http.StatusOK && info.Auth == 1
}

// playerUserInfo is what the web tests read of a player_api.php login's user_info.
type playerUserInfo struct {
	Auth   int    `json:"auth"`
	Status string `json:"status"`
}

// playerInfo is the HTTP status and user_info of a player_api.php login (with User-Agent ua
// unless empty); a body that is not the JSON login answer has a zero user_info.
func playerInfo(t *testing.T, base, user, pass, ua string) (int, playerUserInfo) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/player_api.php?username=%s&password=%s", base, user, pass), nil)
	must(t, err)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var out struct {
		UserInfo playerUserInfo `json:"user_info"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out.UserInfo
}
