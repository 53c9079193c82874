package admin

// The test kit of the catalog-side pages: an API over its own database with the real domain
// (editor, panel, importer, accounts), accounts of each role, and a request to a page that
// is routed like the panel routes it and rendered with the page's own template.

import (
	"bytes"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/importer"
	"github.com/xtreamd/xtreamd/internal/panel"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

type pagesEnv struct {
	st     *store.Store
	acc    *accounts.Service
	api    *API
	tmpl   *template.Template
	routes []pageRoute
	n      atomic.Int64
}

func newPagesEnv(t *testing.T) *pagesEnv {
	t.Helper()
	st := store.New(testdb.New(t))
	log := slog.New(slog.DiscardHandler)
	acc := accounts.New(st, accounts.Options{Params: testdb.FastHashParams})
	api, err := New(Deps{Accounts: acc, Store: st, Log: log, Config: config.Config{Timezone: time.UTC, PublicHost: "tv.example.com",
		PublicScheme: "http"},
		Editor: editor.New(st), EPG: epg.NewSources(st), Security: panel.NewSecurity(st, nil), Settings: panel.NewConfig(st),
		Overview: panel.NewOverview(st), Imports: importer.New(st, log, importer.Options{InstanceID: "pages-test"})})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := parsePageTemplates(time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return &pagesEnv{st: st, acc: acc, api: api, tmpl: tmpl, routes: api.catalogPages()}
}

// as is a principal of a new admin account of role, as a session would carry it.
func (e *pagesEnv) as(t *testing.T, role accounts.Role) accounts.Principal {
	t.Helper()
	name := fmt.Sprintf("%s%d", role, e.n.Add(1))
	cred, err := e.acc.CreateAdmin(t.Context(), accounts.NewAdmin{Username: name, Password: "pw-" + name + "-secret", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return accounts.Principal{Actor: audit.Actor{AdminID: cred.ID, Name: name}, Role: role}
}

// answer is a page's answer: what the handler decided and the page it rendered.
type answer struct {
	pageResult
	err  error
	html string
}

// status is the HTTP status the panel answers for a.
func (a answer) status() int {
	if a.err == nil {
		return a.pageResult.status
	}
	if p, ok := pageError(a.err); ok {
		return p.Status
	}
	return 500
}

// do sends method path (under /admin, with its query) with form as the principal p.
func (e *pagesEnv) do(t *testing.T, p accounts.Principal, method, target string, form url.Values) answer {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	route, params, ok := matchPage(e.routes, method, strings.TrimPrefix(u.Path, "/admin"))
	if !ok {
		t.Fatalf("%s %s: no such page", method, target)
	}
	if form == nil {
		form = url.Values{}
	}
	r := &pageRequest{ctx: t.Context(), path: u.Path, principal: p, post: method == "POST", params: params,
		query: u.Query(), form: form}
	res, err := route.handle(r)
	a := answer{pageResult: res, err: err}
	if err == nil && res.template != "" {
		if d, ok := res.data.(pageData); ok {
			d.page().CSRF = "test-csrf"
		}
		var b bytes.Buffer
		if err := e.tmpl.ExecuteTemplate(&b, res.template, res.data); err != nil {
			t.Fatalf("%s %s: render %s: %v", method, target, res.template, err)
		}
		a.html = b.String()
	}
	return a
}

// want fails the test unless a has status.
func (a answer) want(t *testing.T, what string, status int) answer {
	t.Helper()
	if a.status() != status {
		t.Fatalf("%s = %d (err %v), want %d\n%s", what, a.status(), a.err, status, a.html)
	}
	return a
}

// fieldError is the refusal the page shows next to field ("" when none).
func (a answer) fieldError(field string) string {
	id := fieldID(field) + "-note"
	i := strings.Index(a.html, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	rest := a.html[i:]
	start, end := strings.Index(rest, ">"), strings.Index(rest, "</p>")
	if start < 0 || end < start || !strings.Contains(a.html[max(0, i-40):i], "field-error") {
		return ""
	}
	return rest[start+1 : end]
}

// matchPage finds the route of method and path: ":name" segments are parameters.
func matchPage(routes []pageRoute, method, path string) (pageRoute, map[string]string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range routes {
		if r.method != method {
			continue
		}
		want := strings.Split(strings.Trim(r.path, "/"), "/")
		if len(want) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, w := range want {
			switch {
			case strings.HasPrefix(w, ":"):
				params[w[1:]] = segs[i]
			case w != segs[i]:
				ok = false
			}
		}
		if ok {
			return r, params, true
		}
	}
	return pageRoute{}, nil, false
}

// testActor is who fixtures are made by.
var testActor = audit.Actor{Name: "fixture"}

func editorQuery(limit int) editor.Query { return editor.Query{Sort: "position", Limit: limit} }
