package portal_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/config"
)

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// EStalker's patterns for the portal discovery (its utils.py and playlists.py).
var (
	estalkerProtocol = regexp.MustCompile(`this\.portal_protocol\s*=\s*document\.URL\.replace\(pattern,\s*"([^"]+)"\)`)
	estalkerPath     = regexp.MustCompile(`this\.portal_protocol\s*\+\s*['"]://['"]\s*\+\s*this\.portal_ip\s*\+\s*['"](/[^'"]+)`)
	estalkerVersion  = regexp.MustCompile(`ver\s*=\s*['"]([^'"]+)['"]`)
)

// TestClientFiles_Fallback: without a bundle, /c/ and /stalker_portal/c/ serve the files
// headless clients discover the API from, and the API path they point at answers.
func TestClientFiles_Fallback(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	for _, prefix := range []string{"/c/", "/stalker_portal/c/"} {
		code, hdr, js := get(t, e.base+prefix+"xpcom.common.js")
		if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "javascript") {
			t.Fatalf("%sxpcom.common.js = %d %q", prefix, code, hdr.Get("Content-Type"))
		}
		var path string
		for _, line := range strings.Split(js, "\n") {
			if strings.Contains(line, "this.ajax_loader = this") {
				if m := estalkerPath.FindStringSubmatch(line); m != nil {
					path = m[1]
				}
			}
		}
		if path != "/portal.php" || estalkerProtocol.FindStringSubmatch(js) == nil {
			t.Fatalf("%sxpcom.common.js does not name the API as EStalker reads it:\n%s", prefix, js)
		}
		code, _, ver := get(t, e.base+prefix+"version.js")
		if code != 200 || estalkerVersion.FindStringSubmatch(ver) == nil {
			t.Fatalf("%sversion.js = %d %q", prefix, code, ver)
		}
		if code, _, page := get(t, e.base+prefix); code != 200 || !strings.Contains(page, "no set-top box client") {
			t.Fatalf("%s = %d %q", prefix, code, page)
		}
		if code, _, _ := get(t, e.base+prefix+"player.js"); code != 404 {
			t.Fatalf("%splayer.js = %d, want 404", prefix, code)
		}
	}
	if code, hdr, _ := get(t, e.base+"/c"); code != http.StatusMovedPermanently || hdr.Get("Location") != "/c/" {
		t.Fatalf("/c = %d %q", code, hdr.Get("Location"))
	}
	b := e.box(t)
	b.path = "/c/portal.php"
	b.handshake("")
	var genres []any
	b.js(&genres, "itv", "get_genres")
}

// TestClientFiles_Dir: a configured bundle is served, with index.html for the directory, and
// nothing outside it, hidden, or behind a link leading out.
func TestClientFiles_Dir(t *testing.T) {
	t.Parallel()
	dir, outside := t.TempDir(), t.TempDir()
	write := func(path, body string) {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, []byte(body), 0o644))
	}
	write(filepath.Join(dir, "index.html"), "<html>bundle</html>")
	write(filepath.Join(dir, "xpcom.common.js"), "var bundle = 1;")
	write(filepath.Join(dir, "template", "default", "i", "loading.png"), "PNG")
	write(filepath.Join(dir, ".env"), "secret")
	write(filepath.Join(outside, "secret.txt"), "secret")
	must(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "leak.txt")))
	e := setup(t, envOpts{cfg: func(c *config.Config) { c.PortalClientDir = dir }})

	for path, want := range map[string]string{
		"/c/":                          "<html>bundle</html>",
		"/stalker_portal/c/index.html": "<html>bundle</html>",
		"/c/xpcom.common.js":           "var bundle = 1;",
		"/stalker_portal/c/template/default/i/loading.png": "PNG",
	} {
		if code, _, body := get(t, e.base+path); code != 200 || body != want {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
	}
	for _, path := range []string{"/c/.env", "/c/leak.txt", "/c/../../etc/passwd", "/c/%2e%2e/secret.txt", "/c/version.js",
		"/stalker_portal/c/template/"} {
		if code, _, body := get(t, e.base+path); code == 200 || strings.Contains(body, "secret") {
			t.Errorf("GET %s = %d %q, want a refusal", path, code, body)
		}
	}
}
