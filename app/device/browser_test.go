package device_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser; locally a test may skip without it (CI installs it: .ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed")
	return ""
}

// browserContext starts headless Chromium with the flags that keep it off the network it
// does not need, in a fresh profile, and collects what its console and log report.
func browserContext(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	var mu sync.Mutex
	var reports []string
	record := func(r string) {
		mu.Lock()
		reports = append(reports, r)
		mu.Unlock()
	}
	must(t, chromedp.Listen(ctx, func(ev any) { // starts the browser
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			record(string(ev.Entry.Source) + ": " + ev.Entry.Text)
		case log.EventEntryAdded:
			record(string(ev.Entry.Source) + ": " + ev.Entry.Text)
		case *runtime.EventExceptionThrown:
			record("exception: " + ev.ExceptionDetails.Text)
		case runtime.EventExceptionThrown:
			record("exception: " + ev.ExceptionDetails.Text)
		}
	}))
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), reports...)
	}
}

// into runs a and keeps its value in dst, so that one Do reads several values.
func into[T any](dst *T, a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

// TestActivatePage_PhoneWidth opens verification_uri_complete in headless Chromium as a phone
// (390×844 CSS pixels, touch, mobile), checks that the page fits the width, that every field
// has its label, that its stylesheet applied under the CSP and nothing was refused, signs in
// and allows; the device's next poll gets its credential. Screenshots of the sign-in and the
// done page are the test's artifacts (go test -artifacts keeps them).
func TestActivatePage_PhoneWidth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	ctx, reports := browserContext(t) // after the server: its cleanup (closing the browser) runs first
	g := e.srv.requestCode(t, "tv-1", nil)
	// The advertised host is tv.example.com; the browser goes to the listener itself.
	target := strings.Replace(g.VerificationURIComplete, "http://tv.example.com:8080", e.srv.base, 1)
	var (
		shown                    string
		scrollWidth, innerWidth  int
		labelled                 bool
		buttonColor              string
		buttonWidth              float64
		signInShot, doneShot     []byte
		doneText, usernameLabel  string
		passwordType, codeInForm string
	)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(target),
		chromedp.WaitVisible(chromedp.ID("username")),
		into(&shown, chromedp.Text(chromedp.ID("shown-code"))),
		into(&scrollWidth, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)),
		into(&innerWidth, chromedp.Evaluate[int](`window.innerWidth`)),
		into(&labelled, chromedp.Evaluate[bool](`[...document.querySelectorAll('input:not([type=hidden])')].every(i => i.labels.length === 1)`)),
		into(&usernameLabel, chromedp.Evaluate[string](`document.querySelector('label[for=username]').textContent`)),
		into(&passwordType, chromedp.Evaluate[string](`document.getElementById('password').type`)),
		into(&codeInForm, chromedp.Evaluate[string](`document.querySelector('input[name=user_code]').value`)),
		into(&buttonColor, chromedp.Evaluate[string](`getComputedStyle(document.getElementById('approve')).backgroundColor`)),
		into(&buttonWidth, chromedp.Evaluate[float64](`document.getElementById('approve').getBoundingClientRect().width`)),
		into(&signInShot, chromedp.FullScreenshot(100)),
		chromedp.SendKeys(chromedp.ID("username"), e.line.Username),
		chromedp.SendKeys(chromedp.ID("password"), e.pass),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("done")),
		into(&doneText, chromedp.Text(chromedp.ID("done"))),
		into(&doneShot, chromedp.FullScreenshot(100)),
	)
	if err != nil {
		t.Fatalf("chromium: %v (console: %q)", err, reports())
	}
	dir := t.ArtifactDir()
	for name, shot := range map[string][]byte{"activate-signin.png": signInShot, "activate-done.png": doneShot} {
		must(t, os.WriteFile(filepath.Join(dir, name), shot, 0o644))
	}
	t.Logf("screenshots in %s", dir)

	if shown != g.UserCode || codeInForm != g.UserCode {
		t.Errorf("the page shows code %q (form %q), want %q", shown, codeInForm, g.UserCode)
	}
	if innerWidth != 390 || scrollWidth > innerWidth {
		t.Errorf("page width %d in a %d-wide viewport: it scrolls sideways", scrollWidth, innerWidth)
	}
	if !labelled || usernameLabel != "Username" || passwordType != "password" {
		t.Errorf("fields: labelled %v, username label %q, password type %q", labelled, usernameLabel, passwordType)
	}
	if buttonColor != "rgb(34, 113, 177)" || buttonWidth < 300 {
		t.Errorf("the stylesheet did not apply: button %s, %.0f px wide", buttonColor, buttonWidth)
	}
	if !strings.Contains(doneText, "Living room TV") {
		t.Errorf("done page says %q", doneText)
	}
	for _, r := range reports() {
		if strings.HasPrefix(r, "security") || strings.HasPrefix(r, "exception") || strings.Contains(r, "Content Security Policy") {
			t.Errorf("browser reported: %s", r)
		}
	}
	if a := e.srv.poll(t, g.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("the device's poll after the browser's approval = %d %s", a.status, a.body)
	}
}
