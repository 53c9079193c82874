package admin_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
)

// The test kit of the catalog-side pages: a logged-in browser of a role, the catalog editor
// for fixtures, and the refusal a page shows next to a field.

// webAs logs a new account of role in with a browser.
func (e *env) webAs(t *testing.T, role accounts.Role) (*browser, account) {
	t.Helper()
	a := e.admin(t, role)
	b := e.browser(t)
	b.login(a)
	return b, a
}

// ed is the catalog editor over the env's database, for fixtures.
func (e *env) ed() *editor.Editor { return editor.New(e.st) }

// fixture is who fixtures are made by.
var fixture = audit.Actor{Name: "fixture"}

// fieldError is the refusal p shows next to the field name ("" when none).
func fieldError(p webPage, name string) string {
	re := regexp.MustCompile(`<p class="error" id="e-` + regexp.QuoteMeta(name) + `">([^<]*)</p>`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// wantFieldError fails unless p has status and a refusal next to field.
func wantFieldError(t *testing.T, what string, p webPage, status int, field string) {
	t.Helper()
	wantPage(t, what, p, status)
	if fieldError(p, field) == "" {
		t.Fatalf("%s: no refusal next to %s\n%s", what, field, p.body)
	}
}

// refusal is a form that must come back refused with status, the message next to field (the
// rows of the web tests' refusal tables).
type refusal struct {
	name   string
	form   url.Values
	status int
	field  string
}

// wantDeleted deletes what the page at path shows with its delete form, and sees it gone.
func wantDeleted(t *testing.T, b *browser, path string) {
	t.Helper()
	if p := b.post(path+"/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete %s = %d\n%s", path, p.status, p.body)
	}
	wantPage(t, "deleted "+path, b.get(path), http.StatusNotFound)
}

// liveFixture makes a live channel named name with one source.
func (e *env) liveFixture(t *testing.T, name string) int64 {
	t.Helper()
	s, err := e.ed().CreateStream(t.Context(), fixture, editor.FamilyLive, editor.Stream{Name: name, Enabled: true,
		Sources: []editor.Source{{URL: fmt.Sprintf("http://up.example.com/%d.ts", e.n.Add(1))}}})
	must(t, err)
	return s.ID
}

var _ = http.StatusOK
