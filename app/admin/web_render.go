package admin

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/web"
)

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string // the path of the active navigation entry ("/lines")
	Me      *viewer
	CSRF    string // the form token: {{template "csrf" .}} in every form
	Notice  string // a success message
	Error   string // a refusal not about one field
	Fields  map[string]string
	Form    url.Values // the posted form, to fill its fields again after a refusal
	Data    any
	Status  int
	NavList []navItem
}

// viewer is the logged-in account as pages show it.
type viewer struct {
	ID      int64
	Name    string
	Role    string
	IsAdmin bool
	IsStaff bool // admin or viewer: sees the whole panel
	CanEdit bool // not a viewer
}

// webKit is the parsed templates and the static files.
type webKit struct {
	pages  map[string]*template.Template
	assets *assets
	gz     sync.Pool // *gzip.Writer
}

// newWebKit parses every template of web/templates: the shared ones (layout and partials)
// once, each page of pages/ over a copy of them.
func newWebKit(loc *time.Location) (*webKit, error) {
	as, err := loadAssets(web.FS)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		loc = time.UTC
	}
	base, err := template.New("").Funcs(templateFuncs(as, loc)).ParseFS(web.FS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	files, err := fs.Glob(web.FS, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	k := &webKit{pages: map[string]*template.Template{}, assets: as}
	for _, f := range files {
		t, err := template.Must(base.Clone()).ParseFS(web.FS, f)
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", f, err)
		}
		k.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return k, nil
}

// newView starts the view of a page for w's caller.
func (w *webCall) view(title, nav string, data any) *view {
	p := w.p.Principal
	return &view{Title: title, Nav: nav, CSRF: w.p.CSRF, Data: data, NavList: w.a.navFor(p.Role),
		Me: &viewer{ID: p.AdminID(), Name: p.Actor.Name, Role: string(p.Role), IsAdmin: p.Role == accounts.RoleAdmin,
			IsStaff: p.Role != accounts.RoleReseller, CanEdit: p.Role != accounts.RoleViewer}}
}

// render answers the page template name with v (status: v.Status, else 200).
func (a *API) render(c *fiber.Ctx, name string, v *view) error {
	return a.renderTemplate(c, name, "layout", v)
}

// renderPartial answers one template of a page alone (a table body a script fetches).
func (a *API) renderPartial(c *fiber.Ctx, page, name string, v *view) error {
	return a.renderTemplate(c, page, name, v)
}

func (a *API) renderTemplate(c *fiber.Ctx, page, name string, v *view) error {
	t, ok := a.kit.pages[page]
	if !ok {
		return fmt.Errorf("web: no page template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	status := v.Status
	if status == 0 {
		status = fiber.StatusOK
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if buf.Len() > 1024 && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Status(status).Send(a.kit.gzipped(buf.Bytes()))
	}
	return c.Status(status).Send(buf.Bytes())
}

// refused fills v with the refusal err stands for, as the REST API would answer it: a field's
// error next to that field, anything else above the form. ok is false for an error of ours.
func (v *view) refused(err error) bool {
	p, ok := problemOf(err)
	if !ok {
		return false
	}
	v.Status = p.Status
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if p.Field != "" {
		if v.Fields == nil {
			v.Fields = map[string]string{}
		}
		f := formField(p.Field)
		v.Fields[f] = msg
		v.Error = "Please correct the field marked below (" + f + ")."
		return true
	}
	v.Error = msg
	return true
}

// formField is the form field a problem's member path names: allowed_ips[2] is the
// allowed_ips field; a bulk create's lines[0].username is username (one form makes them all);
// a nested member keeps its path (sources[0].url is that field).
func formField(member string) string {
	if rest, ok := strings.CutPrefix(member, "lines["); ok {
		if _, after, ok := strings.Cut(rest, "]."); ok {
			member = after
		}
	}
	if i := strings.IndexByte(member, '['); i > 0 && !strings.Contains(member[i:], ".") {
		member = member[:i]
	}
	return member
}

// renderForm answers page name again after a change was refused: with the posted form, the
// field errors and the status the REST API would answer. An error of ours is returned for the
// error handler.
func (a *API) renderForm(w *webCall, name string, v *view, err error) error {
	if !v.refused(err) {
		return err
	}
	if errors.Is(err, accounts.ErrUnauthenticated) {
		return a.toLogin(w.c)
	}
	v.Form = formValues(w.c)
	return a.render(w.c, name, v)
}

// webFail answers a page with only a message (404, 403 ...).
func (a *API) webFail(c *fiber.Ctx, status int, msg string) error {
	v := &view{Title: strconv.Itoa(status), Error: msg, Status: status}
	return a.render(c, "message", v)
}

// formValues is the posted form, copied (the request buffer is reused); of a multipart form
// (an upload's), its fields other than files.
func formValues(c *fiber.Ctx) url.Values {
	out := url.Values{}
	if mf, err := c.MultipartForm(); err == nil {
		for k, vals := range mf.Value {
			out[k] = append([]string(nil), vals...)
		}
		return out
	}
	for k, v := range c.Request().PostArgs().All() {
		out.Add(string(k), string(v))
	}
	return out
}

// queryValues is the request's query, copied.
func requestQuery(c *fiber.Ctx) url.Values {
	out := url.Values{}
	for k, v := range c.Request().URI().QueryArgs().All() {
		out.Add(string(k), string(v))
	}
	return out
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// gzipped compresses a page (pages are a few KiB to a few hundred: a tenth of that on the
// wire). Writers are reused: a gzip writer's state is hundreds of KiB.
func (k *webKit) gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw, ok := k.gz.Get().(*gzip.Writer)
	if !ok {
		zw, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	}
	zw.Reset(&out)
	_, _ = zw.Write(b)
	_ = zw.Close()
	k.gz.Put(zw)
	return out.Bytes()
}
