package admin

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The catalog-side pages of the admin web panel (MAG devices, bouquets, categories, live
// streams, VOD, series, EPG sources, imports, security lists, settings, activity and audit
// logs) are thin over the REST API's own operations: a page reads with the list and get
// operations, and a form runs the create, update and delete operations, by their operationId.
// So a page asks the permission the operation declares (Perm: role and scope), decodes its form
// with the operation's decoder (page_form.go), and calls the operation's handler, which calls
// the domain (editor, panel, importer, accounts) with its validation and audit entry. A page
// cannot do what the API would refuse, and refuses it with the same words.

// pageRequest is one request to a page as its handler sees it: who asks (the session's
// principal), from where, and the request's owned values (copied out of fasthttp's buffers).
type pageRequest struct {
	ctx       context.Context
	path      string // the request's path, /admin/…
	principal accounts.Principal
	ip        netip.Addr
	userAgent string
	post      bool
	params    map[string]string // path parameters
	query     url.Values
	form      url.Values           // a POST's fields
	files     map[string]*pageFile // a POST's files
}

// pageFile is an uploaded file: its name as the browser gave it and its content.
type pageFile struct {
	name        string
	contentType string
	data        []byte
}

// pageResult is what a page handler decided: a page to render (template and its data, with
// status), or a redirect after a successful POST (with a message for the next page).
type pageResult struct {
	status   int
	template string
	data     any
	redirect string
	flash    string
}

// render is a page rendered with status 200.
func render(template string, data any) pageResult {
	return pageResult{status: fiber.StatusOK, template: template, data: data}
}

// redirect is the answer of a POST that worked: see other, with a message.
func redirect(to, flash string) pageResult {
	return pageResult{status: fiber.StatusSeeOther, redirect: to, flash: flash}
}

// call is the operation call of r, as the REST surface would make it for the same admin.
func (r *pageRequest) call() *Call {
	return &Call{ctx: r.ctx, status: fiber.StatusOK, Principal: r.principal, IP: r.ip, UserAgent: r.userAgent}
}

// formErrors are the refusals of a form: field → why, and what belongs to no field.
type formErrors struct {
	Fields  map[string]string
	General string
}

// Text is every refusal in one line, for a message.
func (e *formErrors) Text() string {
	if e == nil {
		return ""
	}
	parts := []string{}
	if e.General != "" {
		parts = append(parts, e.General)
	}
	for _, f := range slices.Sorted(maps.Keys(e.Fields)) {
		parts = append(parts, f+": "+e.Fields[f])
	}
	return strings.Join(parts, "; ")
}

// Any reports whether anything was refused.
func (e *formErrors) Any() bool { return e != nil && (len(e.Fields) > 0 || e.General != "") }

// For is the refusal of one field ("" when none), for the template to show next to it.
func (e *formErrors) For(field string) string {
	if e == nil {
		return ""
	}
	return e.Fields[field]
}

// op returns the REST operation id; an unknown id is a programming error a test finds.
func (a *API) op(id string) Op {
	for _, op := range a.ops {
		if op.ID == id {
			return op
		}
	}
	panic(fmt.Sprintf("admin pages: no operation %q", id))
}

// may reports whether the page's admin may run operation id (its role and, for a key, scope).
func (a *API) may(r *pageRequest, id string) bool { return a.op(id).Perm.allows(r.principal) }

// errForbidden is what a page answers when the operation's permission refuses the admin.
var errForbidden = problem(fiber.StatusForbidden, ProblemForbidden, "not allowed for this account")

// submit runs operation opID on the form of r: its permission, the decoder of its body type B
// (a mismatch with the operation's declared body is a programming error), then fn, its
// handler, with params p. A refused field comes back as formErrors; a refusal that is no
// field's (forbidden, not found) and our own faults come back as the error.
func submit[P, B, R any](a *API, r *pageRequest, opID string, fn func(*Call, P, B) (R, error), p P) (R, *formErrors, error) {
	var zero R
	op := a.op(opID)
	if op.Handler.body != reflect.TypeFor[B]() || op.Handler.params != reflect.TypeFor[P]() {
		return zero, nil, fmt.Errorf("admin pages: %s takes %s and %s", opID, op.Handler.params, op.Handler.body)
	}
	if !op.Perm.allows(r.principal) {
		return zero, nil, errForbidden
	}
	var body B
	var rows map[string]string
	if reflect.TypeFor[B]() != reflect.TypeFor[NoBody]() {
		var raw []byte
		raw, rows = pageFormBody(reflect.TypeFor[B](), r.form, pageFormOpts{loc: a.d.Config.Timezone})
		if bad := decodeBody(raw, &body); bad != nil {
			bad.field = bodyFieldName(bad.field, rows)
			return zero, fieldRefusal(bad), nil
		}
	}
	out, err := fn(r.call(), p, body)
	if err != nil {
		if fe := formRefusal(err); fe != nil {
			renameFields(fe, rows)
			return zero, fe, nil
		}
		return zero, nil, err
	}
	return out, nil, nil
}

// read runs a read operation opID with the parameters of r's query (the list filters): its
// permission, the REST decoder of P, then fn. Empty filter fields are not given; keys listed in
// own are the page's own (not the operation's) and left out.
func read[P, R any](a *API, r *pageRequest, opID string, fn func(*Call, P, NoBody) (R, error), p *P, own ...string) (R, *formErrors, error) {
	var zero R
	op := a.op(opID)
	if op.Handler.params != reflect.TypeFor[P]() {
		return zero, nil, fmt.Errorf("admin pages: %s takes %s", opID, op.Handler.params)
	}
	if !op.Perm.allows(r.principal) {
		return zero, nil, errForbidden
	}
	q := queryValues{}
	for k, vs := range r.query {
		if len(vs) == 0 || strings.TrimSpace(vs[len(vs)-1]) == "" || contains(own, k) {
			continue
		}
		q[k] = []string{strings.TrimSpace(vs[len(vs)-1])}
	}
	if bad := decodeQuery(q, p); bad != nil {
		return zero, fieldRefusal(bad), nil
	}
	out, err := fn(r.call(), *p, NoBody{})
	if err != nil {
		if fe := formRefusal(err); fe != nil {
			return zero, fe, nil
		}
		return zero, nil, err
	}
	return out, nil, nil
}

// renameFields names the refused fields of fe as the form does (moved rows).
func renameFields(fe *formErrors, rows map[string]string) {
	if fe == nil || len(rows) == 0 {
		return
	}
	named := make(map[string]string, len(fe.Fields))
	for k, v := range fe.Fields {
		named[bodyFieldName(k, rows)] = v
	}
	fe.Fields = named
}

// formRefusal is err as the refusal of a form field, or nil when err is not one (not found,
// forbidden and our faults are answered as pages of their own).
func formRefusal(err error) *formErrors {
	p, ok := problemOf(err)
	if !ok {
		return nil
	}
	switch p.Status {
	case fiber.StatusBadRequest, fiber.StatusConflict, fiber.StatusRequestEntityTooLarge, fiber.StatusTooManyRequests:
	case fiber.StatusNotFound:
		if p.Field == "id" || p.Field == "" {
			return nil // the thing the page is about is gone
		}
	default:
		return nil
	}
	return fieldRefusal(&badField{field: p.Field, reason: p.Detail})
}

// fieldRefusal is one refused field as a form's errors, in words for people.
func fieldRefusal(bad *badField) *formErrors {
	why := plainReason(bad.reason)
	if bad.field == "" {
		return &formErrors{General: why}
	}
	return &formErrors{Fields: map[string]string{bad.field: why}}
}

// plainReason rewords the decoder's reasons that speak JSON ("want a string") for a form.
func plainReason(reason string) string {
	switch {
	case reason == "at least 1 characters", reason == "required", reason == "must not be null":
		return "required"
	case strings.HasPrefix(reason, "want an integer"):
		return "a whole number"
	case reason == "want a number":
		return "a number"
	case strings.HasPrefix(reason, "want an RFC 3339"):
		return "a date and time"
	case reason == "want an object":
		return "a JSON object, e.g. {\"plot\": \"…\"}"
	case reason == "want true or false":
		return "yes or no"
	}
	return reason
}

// pageBase is what every catalog-side page's data holds: its title, what the admin may do on
// it (operation id → allowed: a template shows only the buttons that would work), and the form
// it shows (values and refusals), posted back or filled from the thing edited.
type pageBase struct {
	Title  string
	Can    map[string]bool
	Form   url.Values
	Errors *formErrors
	// CSRF is the session's form token every form of the page carries; the framework fills it
	// (page), as it fills the layout around the page.
	CSRF string
}

// pageData is a page's data: a view embedding pageBase.
type pageData interface{ page() *pageBase }

func (b *pageBase) page() *pageBase { return b }

// pageRoute is one page: a method and a path under /admin, and its handler.
type pageRoute struct {
	method, path string
	handle       func(*pageRequest) (pageResult, error)
}

// base is the pageBase of a page titled title offering operations ops.
func (a *API) base(r *pageRequest, title string, ops ...string) pageBase {
	can := make(map[string]bool, len(ops))
	for _, id := range ops {
		can[id] = a.may(r, id)
	}
	return pageBase{Title: title, Can: can, Form: url.Values{}}
}

// Value is the form's value of field (what the admin typed, or the current value).
func (b pageBase) Value(field string) string { return b.Form.Get(field) }

// Values are every value of a multi-valued field (checkbox groups, lists).
func (b pageBase) Values(field string) []string { return b.Form[field] }

// Has reports whether a multi-valued field holds v (a ticked box of a group).
func (b pageBase) Has(field, v string) bool { return contains(b.Form[field], v) }

// Checked reports whether a boolean field is true (its last value: see page_form.go).
func (b pageBase) Checked(field string) bool {
	vs := b.Form[field]
	return len(vs) > 0 && (vs[len(vs)-1] == "true" || vs[len(vs)-1] == "on")
}

// Err is the refusal of field, for the template to show next to it.
func (b pageBase) Err(field string) string { return b.Errors.For(field) }

// errPageNotFound is the answer of a page about something that does not exist (or a path id
// that is no id).
var errPageNotFound = problem(fiber.StatusNotFound, ProblemNotFound, "no such page or item")

// pathID is the path parameter name as an id.
func (r *pageRequest) pathID(name string) (int64, error) {
	id, ok := input.ID(r.params[name])
	if !ok {
		return 0, errPageNotFound
	}
	return id, nil
}

// nextPage is the URL of the page after the current one of a list at path: the query as it
// is, with the next cursor ("" when this is the last page).
func (r *pageRequest) nextPage(path string, cursor *string) string {
	if cursor == nil {
		return ""
	}
	q := url.Values{}
	for k, v := range r.query {
		if k != "cursor" && len(v) > 0 && v[len(v)-1] != "" {
			q.Set(k, v[len(v)-1])
		}
	}
	q.Set("cursor", *cursor)
	return path + "?" + q.Encode()
}

// refused renders a form again with what was refused (422: the browser shows the page, the
// form keeps what the admin typed).
func refused(template string, data any) pageResult {
	return pageResult{status: fiber.StatusUnprocessableEntity, template: template, data: data}
}

// catalogPages lists every catalog-side page (paths under /admin).
func (a *API) catalogPages() []pageRoute {
	return slices.Concat(a.devicePages(), a.bouquetPages(), a.categoryPages())
}

// pageError is the page answering err, a handler's error: the status and words of its problem
// (forbidden, not found …), or ok false for a fault of ours (the app's error handler logs it
// and answers 500).
func pageError(err error) (p *apiProblem, ok bool) { return problemOf(err) }
