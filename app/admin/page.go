package admin

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
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
		raw, rows = formBody(reflect.TypeFor[B](), r.form, formOpts{loc: a.d.Config.Timezone})
		if bad := decodeBody(raw, &body); bad != nil {
			bad.field = formField(bad.field, rows)
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
		named[formField(k, rows)] = v
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
