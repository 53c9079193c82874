package admin

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/input"
)

// The catalog-side pages (MAG devices, bouquets, categories, live streams, movies, series, EPG
// sources, imports, security lists, settings, activity and audit logs) follow the framework of
// web.go: every read and change is the REST operation of the same purpose (webRun,
// webSubmit), so a page has the API's permission, rules, refusals and audit entry. What is
// here is what those pages share.

// webCatalogRoutes are the routes of every catalog-side page family.
func (a *API) webCatalogRoutes() []webRoute {
	return slices.Concat(a.webDeviceRoutes(), a.webBouquetRoutes(), a.webCategoryRoutes(), a.webStreamRoutes(), a.webSeriesRoutes(),
		a.webEPGRoutes(), a.webImportRoutes())
}

// pathID is the path parameter name as an id (false: not an id).
func (w *webCall) pathID(name string) (int64, bool) { return input.ID(w.c.Params(name)) }

// may reports whether the caller may run operation id (its role, and a key's scope): pages
// offer only the buttons that would work.
func (w *webCall) may(id string) bool {
	op, ok := w.a.opByID(id)
	return ok && op.Perm.allows(w.p.Principal)
}

// can is what the caller may run of ops, for a template: {{if .Data.Can.updateBouquet}}.
func (w *webCall) can(ops ...string) map[string]bool {
	out := make(map[string]bool, len(ops))
	for _, id := range ops {
		out[id] = w.may(id)
	}
	return out
}

// notFound answers the page of something that does not exist (or a path id that is no id).
func (a *API) notFound(w *webCall, what string) error {
	return a.webFail(w.c, 404, "There is no such "+what+".")
}

// forbidden answers a page the caller's role may not open.
func (a *API) forbidden(w *webCall) error {
	return a.webFail(w.c, 403, "Your account may not do this.")
}

// failed answers a page that cannot be shown (what it shows is gone, the caller may not see
// it): err as the REST operation refused it, on the message page; an error of ours is
// returned for the error handler.
func (a *API) failed(w *webCall, title, nav string, err error) error {
	return a.renderForm(w, "message", w.view(title, nav, nil), err)
}

// refusedOn answers page again after err refused a change made on it: the page as build makes
// it from what is stored now, with the refusal next to its field (or failed, when the page
// cannot be built any more).
func (a *API) refusedOn(w *webCall, page, title, nav string, err error, build func() (*view, error)) error {
	v, verr := build()
	if verr != nil {
		return a.failed(w, title, nav, verr)
	}
	return a.renderForm(w, page, v, err)
}

// maxFormRows bounds the rows of one list a form describes (a stream has at most 32 sources).
const maxFormRows = 64

// compactRows renumbers the rows name[i].member of form 0, 1, 2 … in their order, leaving out
// the rows whose every text field is empty (a row left blank for adding, or emptied to remove
// it): a refusal of sources[1].url then names the row the page shows second.
func compactRows(form url.Values, name string, texts ...string) url.Values {
	rows := map[int]url.Values{}
	out := url.Values{}
	for k, v := range form {
		rest, ok := strings.CutPrefix(k, name+"[")
		num, member, ok2 := strings.Cut(rest, "].")
		i, err := strconv.Atoi(num)
		if !ok || !ok2 || err != nil || i < 0 || i >= maxFormRows {
			if !ok {
				out[k] = v
			}
			continue
		}
		if rows[i] == nil {
			rows[i] = url.Values{}
		}
		rows[i][member] = v
	}
	idx := make([]int, 0, len(rows))
	for i := range rows {
		idx = append(idx, i)
	}
	slices.Sort(idx)
	n := 0
	for _, i := range idx {
		blank := true
		for _, t := range texts {
			if strings.TrimSpace(rows[i].Get(t)) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		for member, v := range rows[i] {
			out[fmt.Sprintf("%s[%d].%s", name, n, member)] = v
		}
		n++
	}
	return out
}

// rowCount is how many rows name[i]… form holds (the highest i + 1).
func rowCount(form url.Values, name string) int {
	n := 0
	for k := range form {
		if rest, ok := strings.CutPrefix(k, name+"["); ok {
			num, _, _ := strings.Cut(rest, "]")
			if i, err := strconv.Atoi(num); err == nil && i >= 0 && i < maxFormRows {
				n = max(n, i+1)
			}
		}
	}
	return n
}

// listed is the hidden _fields value of a form that shows fields: those are sent even when
// empty (a text cleared, a box unticked), see web_form.go.
func listed(fields ...string) string { return strings.Join(fields, " ") }

// splitItems splits a field into its items: lines, or for ids also commas and spaces.
func splitItems(v string, ids bool) []string {
	sep := func(r rune) bool { return r == '\n' || r == '\r' }
	if ids {
		sep = func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' || r == ';' }
	}
	var out []string
	for _, item := range strings.FieldsFunc(v, sep) {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// webRunWith runs operation id's handler fn with parameters p that a form gives rather than
// the path (a new season's number): the operation's permission, its body decoded from form by
// the same rules, then the handler. fn must be the operation's handler (its types are
// checked against the operation's).
func webRunWith[P, B, R any](w *webCall, id string, fn func(*Call, P, B) (R, error), p P, form url.Values) (R, error) {
	var zero R
	op, ok := w.a.opByID(id)
	switch {
	case !ok || op.Handler.params != reflect.TypeFor[P]() || op.Handler.body != reflect.TypeFor[B]():
		return zero, fmt.Errorf("web: operation %q does not take %s and %s", id, reflect.TypeFor[P](), reflect.TypeFor[B]())
	case !op.Perm.allows(w.p.Principal):
		return zero, problem(fiber.StatusForbidden, ProblemForbidden, "not allowed for this account")
	}
	body, bad := formBody(op.Handler.body, form, w.a.d.Config.Timezone)
	if bad != nil {
		return zero, bad
	}
	var b B
	if bad := decodeBody(body, &b); bad != nil {
		return zero, bad
	}
	call := &Call{ctx: w.c.UserContext(), status: successStatus(op), Principal: w.p.Principal, IP: w.ip, UserAgent: w.ua}
	return fn(call, p, b)
}
