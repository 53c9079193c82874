package admin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The web page reads and changes through the REST API's operations: webRun calls one by its
// operationId with the caller's principal, so a page gets the same permission check, strict
// decoding, rules, domain call, audit entry and refusals as /api/v1. A form becomes the
// operation's JSON body by the body type's members (formBody): a field is named as its
// member (username; nested: sources[0].url; embedded structs flattened as in JSON).
//
// A form's fields are sent only when filled in, except for the members its hidden _fields
// input lists (space-separated; an edit form lists what it shows): those are always sent, an
// empty text as "", an empty nullable or Optional member as null, an unticked checkbox as
// false and an empty list as [].

// webInput replaces what an operation would read from the request: a page's own query
// parameters and a JSON body made from its form.
type webInput struct {
	query       queryValues
	body        []byte
	contentType string
}

// opByID finds an operation by its operationId.
func (a *API) opByID(id string) (Op, bool) {
	i := slices.IndexFunc(a.ops, func(op Op) bool { return op.ID == id })
	if i < 0 {
		return Op{}, false
	}
	return a.ops[i], true
}

// webRun runs operation id as w's caller with query (only the operation's own parameters,
// filled in, are passed) and a JSON body (nil: none), and returns its typed result.
func webRun[R any](w *webCall, id string, query url.Values, body []byte) (R, error) {
	var zero R
	op, ok := w.a.opByID(id)
	if !ok {
		return zero, fmt.Errorf("web: no operation %q", id)
	}
	if !op.Perm.allows(w.p.Principal) {
		return zero, problem(fiber.StatusForbidden, ProblemForbidden, "not allowed for this account")
	}
	call := &Call{ctx: w.c.UserContext(), fc: w.c, status: successStatus(op), Principal: w.p.Principal, IP: w.ip,
		UserAgent: w.ua, web: &webInput{query: opQuery(op, query), body: body}}
	res, err := op.Handler.run(call)
	if err != nil {
		return zero, err
	}
	out, ok := res.(R)
	if !ok {
		return zero, fmt.Errorf("web: operation %s answers %T, not %T", id, res, zero)
	}
	return out, nil
}

// webSubmit runs operation id with the posted form as its body.
func webSubmit[R any](w *webCall, id string) (R, error) {
	return webSubmitForm[R](w, id, formValues(w.c))
}

// webSubmitForm runs operation id with form as its body (a page that prepared the posted
// form: rows renumbered, a username looked up).
func webSubmitForm[R any](w *webCall, id string, form url.Values) (R, error) {
	var zero R
	op, ok := w.a.opByID(id)
	if !ok {
		return zero, fmt.Errorf("web: no operation %q", id)
	}
	var body []byte
	if op.Handler.body != reflect.TypeFor[NoBody]() {
		var bad *badField
		if body, bad = formBody(op.Handler.body, form, w.a.d.Config.Timezone); bad != nil {
			return zero, bad
		}
	}
	return webRun[R](w, id, nil, body)
}

// opQuery keeps of q the operation's own query parameters that are filled in.
func opQuery(op Op, q url.Values) queryValues {
	out := queryValues{}
	for _, m := range members(op.Handler.params) {
		if v := q.Get(m.name); m.inQuery && v != "" {
			out[m.name] = []string{v}
		}
	}
	return out
}

// formBody makes the JSON body of type t from a form.
func formBody(t reflect.Type, form url.Values, loc *time.Location) ([]byte, *badField) {
	if loc == nil {
		loc = time.UTC
	}
	fb := formBuilder{form: form, listed: map[string]bool{}, loc: loc}
	for _, name := range strings.Fields(form.Get("_fields")) {
		fb.listed[name] = true
	}
	obj, bad := fb.object(t, "")
	if bad != nil {
		return nil, bad
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, refuse("", "cannot encode the form: %v", err)
	}
	return b, nil
}

type formBuilder struct {
	form   url.Values
	listed map[string]bool
	loc    *time.Location
}

// object is the JSON object of struct type t from the fields under prefix.
func (fb formBuilder) object(t reflect.Type, prefix string) (map[string]any, *badField) {
	obj := map[string]any{}
	for _, m := range members(t) {
		if m.inQuery || m.inPath || m.readOnly {
			continue
		}
		name := prefix + m.name
		v, set, bad := fb.value(m.typ, m, name)
		if bad != nil {
			return nil, bad
		}
		if set {
			obj[m.name] = v
		}
	}
	return obj, nil
}

// value is the JSON value of the member name of type t, and whether it is sent at all.
func (fb formBuilder) value(t reflect.Type, r rules, name string) (any, bool, *badField) {
	vals, present := fb.form[name]
	text := ""
	if present && len(vals) > 0 {
		text = strings.TrimSpace(vals[len(vals)-1]) // a checkbox after its hidden "false"
	}
	listed := fb.listed[name]
	switch {
	case t.Implements(optionalType):
		if text == "" && !fb.hasNested(name) {
			return nil, listed, nil // null clears it
		}
		return fb.value(reflect.Zero(t).Interface().(optional).valueType(), r, name)
	case t.Kind() == reflect.Pointer:
		if text == "" && r.nullable && listed && !fb.hasNested(name) {
			return nil, true, nil
		}
		return fb.value(t.Elem(), r, name)
	case t == timeType:
		if text == "" {
			return nil, false, nil
		}
		tt, err := parseFormTime(text, fb.loc)
		if err != nil {
			return nil, false, refuse(name, "a date and time (YYYY-MM-DD HH:MM)")
		}
		return tt.Format(time.RFC3339), true, nil
	case t.Kind() == reflect.Struct:
		obj, bad := fb.object(t, name+".")
		return obj, bad == nil && (listed || len(obj) > 0), bad
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		return fb.list(t, name, vals, listed)
	case t.Kind() == reflect.Map: // a JSON object (a movie's info) from a textarea
		return jsonText(name, text, listed)
	case t.Kind() == reflect.Bool:
		switch strings.ToLower(text) {
		case "on", "true", "1", "yes":
			return true, true, nil
		case "", "off", "false", "0", "no":
			return false, present || listed, nil
		}
		return nil, false, refuse(name, "yes or no")
	}
	return scalar(t, name, text, present, listed)
}

// scalar is a string or number member's JSON value.
func scalar(t reflect.Type, name, text string, present, listed bool) (any, bool, *badField) {
	switch t.Kind() {
	case reflect.String:
		return text, text != "" || (present && listed), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if text == "" {
			return nil, false, nil
		}
		if _, err := strconv.ParseInt(text, 10, 64); err != nil {
			return nil, false, refuse(name, "a whole number")
		}
		return json.Number(text), true, nil
	case reflect.Float32, reflect.Float64:
		if text == "" {
			return nil, false, nil
		}
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return nil, false, refuse(name, "a number")
		}
		return json.Number(text), true, nil
	}
	return nil, false, nil // a member no form field can carry (a map, raw JSON)
}

// list is a list member: a group of fields of one name (checkboxes, a multiple select), a
// textarea with one item a line, or (of objects) the fields name[0].member, name[1].member …
func (fb formBuilder) list(t reflect.Type, name string, vals []string, listed bool) (any, bool, *badField) {
	et := t.Elem()
	for et.Kind() == reflect.Pointer {
		et = et.Elem()
	}
	out := []any{}
	if et.Kind() == reflect.Struct && et != timeType {
		for _, i := range fb.indexes(name) {
			obj, bad := fb.object(et, name+"["+strconv.Itoa(i)+"].")
			if bad != nil {
				return nil, false, bad
			}
			if len(obj) > 0 {
				out = append(out, obj)
			}
		}
		return out, listed || len(out) > 0, nil
	}
	var items []string
	for _, v := range vals {
		for _, line := range strings.Split(v, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				items = append(items, line)
			}
		}
	}
	for i, s := range items {
		v, _, bad := scalar(et, name+"["+strconv.Itoa(i)+"]", s, true, true)
		if bad != nil {
			return nil, false, bad
		}
		out = append(out, v)
	}
	return out, listed || len(out) > 0, nil
}

// jsonText is a member holding a JSON object, typed into a textarea: empty is {} (when the
// form lists the field) or not sent.
func jsonText(name, text string, listed bool) (any, bool, *badField) {
	if text == "" {
		return json.RawMessage("{}"), listed, nil
	}
	if !json.Valid([]byte(text)) || text[0] != '{' {
		return nil, false, refuse(name, `a JSON object, e.g. {"plot": "…"}`)
	}
	return json.RawMessage(text), true, nil
}

// indexes are the i of the fields name[i]... in the form, in order.
func (fb formBuilder) indexes(name string) []int {
	seen := map[int]bool{}
	for k := range fb.form {
		rest, ok := strings.CutPrefix(k, name+"[")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, "]")
		if i, err := strconv.Atoi(num); ok && err == nil && i >= 0 && i < 1000 {
			seen[i] = true
		}
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// hasNested reports whether the form has fields below name (name.x or name[i]).
func (fb formBuilder) hasNested(name string) bool {
	for k := range fb.form {
		if strings.HasPrefix(k, name+".") || strings.HasPrefix(k, name+"[") {
			return true
		}
	}
	return false
}

// parseFormTime reads an <input type="datetime-local"> (or date) value in the panel's zone;
// RFC 3339 is taken as it is.
func parseFormTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, s)
}
