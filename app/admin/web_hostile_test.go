package admin_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/web"
)

// TestWebPages_HostileQueryValues loads every GET page of /admin/ as an admin with each
// parameter name the templates' forms and the API's queries use (the filters, the pagers, the
// tabs) set in turn to hostile values (a subset of TestEveryParameter_HostileValues'): a page
// answers or refuses, never a 5xx, and never logs the browser out. It finds the blocked-IPs
// filter's zone 500 on the code before 92b70d1.
func TestWebPages_HostileQueryValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, _ := e.webAs(t, accounts.RoleAdmin)
	// Fewer values than the API's sweep: the pages call the same operations, and 45 pages × 72
	// names make each value 3,000 loads.
	hostile := hostileValues[:6]
	names := map[string]bool{"cursor": true, "before": true, "after": true}
	nameRE := regexp.MustCompile(`name="([a-z_]+)"`)
	err := fs.WalkDir(web.FS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(web.FS, p)
		for _, m := range nameRE.FindAllStringSubmatch(string(raw), -1) {
			names[m[1]] = true
		}
		return err
	})
	must(t, err)
	// The filters a page renders from its operation's query carry that operation's names.
	for _, item := range e.spec.doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, ref := range op.Parameters {
				if ref.Value.In == "query" {
					names[ref.Value.Name] = true
				}
			}
		}
	}
	delete(names, "_csrf")
	var params []string
	for n := range names {
		params = append(params, n)
	}
	slices.Sort(params)
	pathParam := regexp.MustCompile(`:[a-z_]+\??`)
	var pages []string
	for _, r := range e.srv.srv.App().GetRoutes(true) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/admin/") && !strings.HasPrefix(r.Path, "/admin/static") &&
			!strings.Contains(r.Path, "*") && r.Path != "/admin/logout" {
			pages = append(pages, pathParam.ReplaceAllString(r.Path, "1"))
		}
	}
	slices.Sort(pages)
	pages = slices.Compact(pages)
	calls := 0
	for _, page := range pages {
		for _, name := range params {
			for _, v := range hostile {
				target := page + "?" + url.Values{name: {v}}.Encode()
				p := b.get(target)
				calls++
				if p.status >= 500 {
					t.Errorf("GET %.200s = %d %.300s", target, p.status, p.body)
				}
				if p.status == http.StatusSeeOther || p.status == http.StatusFound {
					if loc := p.header.Get("Location"); strings.Contains(loc, "/admin/login") {
						t.Fatalf("GET %.200s logged the browser out (to %s)", target, loc)
					}
				}
			}
		}
	}
	if len(pages) < 20 || len(params) < 20 {
		t.Fatalf("only %d pages and %d parameter names found", len(pages), len(params))
	}
	t.Logf("%d hostile page loads: %d pages × %d parameter names × %d values", calls, len(pages), len(params), len(hostile))
}
