package admin

import (
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The catalog-side pages post HTML forms, and a form is decoded by the REST API's own decoder:
// pageFormBody turns the form into the JSON body of the operation's body type (a field is named
// like its member: "name", "category_id", "sources[1].url"), decodeBody checks it with the
// member's rules, and the operation's handler runs. So a page refuses exactly what /api/v1
// refuses, with the same field names, and its errors land next to the field that caused them.
//
// How form fields read:
//   - text, numbers: the field's value; an empty number is "not given" (a clearable member:
//     cleared), an empty clearable text is cleared.
//   - booleans: a checkbox after a hidden field of the same name with value "false", so an
//     unticked box still says false; the last value wins.
//   - dates and times: <input type="datetime-local"> (or a date), in the panel's time zone.
//   - lists of texts and ids: one field per item, or a textarea with one item per line (ids
//     may also be separated by commas or spaces).
//   - lists of objects: rows "sources[0].url", "sources[0].kind" …; a row left empty is dropped.
//   - JSON objects (a movie's info): a textarea holding the object.

// pageFormOpts are how pageFormBody reads values that depend on the panel.
type pageFormOpts struct {
	loc  *time.Location    // the time zone of datetime-local fields (nil: UTC)
	rows map[string]string // filled by pageFormBody: body row → form row, where they differ
}

// pageFormBody is the JSON object of body type t that form describes; fields that are not members
// of t (the CSRF token, a button's name) are not part of it. rows maps a list row of the body
// to the form's row where dropping empty rows moved it ("sources[0]" → "sources[1]"), so that a
// refusal names the form's field.
func pageFormBody(t reflect.Type, form url.Values, o pageFormOpts) (body []byte, rows map[string]string) {
	o.rows = map[string]string{}
	body, _ = json.Marshal(formObject(t, form, "", o))
	return body, o.rows
}

// bodyFieldName is the form's name of a refused body member: path as the decoder names it, with a
// moved row renamed back.
func bodyFieldName(path string, rows map[string]string) string {
	for body, form := range rows {
		if rest, ok := strings.CutPrefix(path, body); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return form + rest
		}
	}
	return path
}

// formObject reads the members of struct type t whose fields are named prefix+member.
func formObject(t reflect.Type, form url.Values, prefix string, o pageFormOpts) map[string]json.RawMessage {
	obj := map[string]json.RawMessage{}
	for _, m := range members(t) {
		if m.inQuery || m.inPath || m.readOnly {
			continue
		}
		if raw, ok := formMember(m, form, prefix+m.name, o); ok {
			obj[m.name] = raw
		}
	}
	return obj
}

// clearable reports whether a member of type t can be cleared (an Optional) rather than only
// left out.
func clearable(t reflect.Type) bool { return t.Implements(optionalType) }

// formMember reads one member named name; ok is false when the form does not give it.
func formMember(m rules, form url.Values, name string, o pageFormOpts) (json.RawMessage, bool) {
	t := m.typ
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if clearable(t) {
		t = reflect.Zero(t).Interface().(optional).valueType()
	}
	switch {
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct && t.Elem() != timeType:
		return formRows(t.Elem(), form, name, o)
	case t.Kind() == reflect.Slice:
		return formList(elem(t), form, name)
	case t.Kind() == reflect.Map || t.Kind() == reflect.Interface:
		return formJSONText(m, form, name)
	}
	vals, given := form[name]
	if !given || len(vals) == 0 {
		return nil, false
	}
	v := strings.TrimSpace(vals[len(vals)-1])
	if t.Kind() != reflect.String && v == "" {
		if clearable(m.typ) || m.nullable {
			return json.RawMessage("null"), true
		}
		return nil, false
	}
	if t.Kind() == reflect.String && v == "" && clearable(m.typ) {
		return json.RawMessage("null"), true
	}
	return formScalar(t, vals[len(vals)-1], v, o), true
}

// formScalar is one value of type t: raw is the field as sent, v trimmed. A value that does
// not parse is passed on as a string, for the decoder to refuse on the member.
func formScalar(t reflect.Type, raw, v string, o pageFormOpts) json.RawMessage {
	switch {
	case t == timeType:
		if at, ok := parseLocalTime(v, o.loc); ok {
			v = at.UTC().Format(time.RFC3339)
		}
	case t.Kind() == reflect.Bool:
		switch strings.ToLower(v) {
		case "true", "on", "1", "yes":
			return json.RawMessage("true")
		case "false", "off", "0", "no", "":
			return json.RawMessage("false")
		}
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "eExXnN") {
			return json.RawMessage(strings.TrimPrefix(v, "+"))
		}
	case t.Kind() == reflect.String:
		v = raw // a text keeps its spaces: the domain decides what it trims
	}
	b, _ := json.Marshal(v)
	return b
}

// localLayouts are what a datetime-local or date field sends.
var localLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"}

// parseLocalTime reads a date-time field in loc; RFC 3339 (with its own offset) is taken too.
func parseLocalTime(v string, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	if at, err := time.Parse(time.RFC3339, v); err == nil {
		return at, true
	}
	for _, layout := range localLayouts {
		if at, err := time.ParseInLocation(layout, v, loc); err == nil {
			return at, true
		}
	}
	return time.Time{}, false
}

// formList reads a list of scalars: every value of the field, a textarea's lines (ids: also
// commas and spaces), empty items dropped. Given with nothing in it, it is the empty list.
func formList(t reflect.Type, form url.Values, name string) (json.RawMessage, bool) {
	vals, given := form[name]
	if !given {
		return nil, false
	}
	items := []json.RawMessage{}
	for _, v := range vals {
		for _, item := range splitItems(v, t.Kind() != reflect.String) {
			items = append(items, formScalar(t, item, strings.TrimSpace(item), pageFormOpts{}))
		}
	}
	b, _ := json.Marshal(items)
	return b, true
}

// splitItems splits a field into its items: lines, or for ids also commas and spaces.
func splitItems(v string, ids bool) []string {
	sep := func(r rune) bool { return r == '\n' || r == '\r' }
	if ids {
		sep = func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ' ' || r == '\t' || r == ';' }
	}
	var out []string
	for _, item := range strings.FieldsFunc(v, sep) {
		if strings.TrimSpace(item) != "" {
			out = append(out, strings.TrimSpace(item))
		}
	}
	return out
}

// maxFormRows bounds the rows of one list a form may describe (a stream has at most 32
// sources): a hostile "sources[99999999].url" costs nothing.
const maxFormRows = 64

// formRows reads a list of objects from rows name[0].member, name[1].member …, in index
// order; a row whose fields are all empty is dropped. The field name+"[]" given alone (an
// empty list's marker) gives the empty list.
func formRows(t reflect.Type, form url.Values, name string, o pageFormOpts) (json.RawMessage, bool) {
	var idx []int
	for k := range form {
		rest, ok := strings.CutPrefix(k, name+"[")
		if !ok {
			continue
		}
		n, _, ok := strings.Cut(rest, "]")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= maxFormRows || slices.Contains(idx, i) {
			continue
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		if _, marker := form[name+"[]"]; marker {
			return json.RawMessage("[]"), true
		}
		return nil, false
	}
	slices.Sort(idx)
	rows := []map[string]json.RawMessage{}
	for _, i := range idx {
		prefix := fmt.Sprintf("%s[%d].", name, i)
		if rowEmpty(t, form, prefix) {
			continue
		}
		if len(rows) != i && o.rows != nil {
			o.rows[fmt.Sprintf("%s[%d]", name, len(rows))] = fmt.Sprintf("%s[%d]", name, i)
		}
		rows = append(rows, formObject(t, form, prefix, o))
	}
	b, _ := json.Marshal(rows)
	return b, true
}

// rowEmpty reports whether a row of type t says nothing: every free-text member empty (its
// selects and checkboxes alone do not make a row, so a blank row left for adding is dropped).
func rowEmpty(t reflect.Type, form url.Values, prefix string) bool {
	for _, m := range members(t) {
		if elem(m.typ).Kind() != reflect.String || len(m.enum) > 0 {
			continue
		}
		for _, v := range form[prefix+m.name] {
			if strings.TrimSpace(v) != "" {
				return false
			}
		}
	}
	return true
}

// formJSONText reads a member that is a JSON object from a textarea: empty means "none" ({}
// for a member that replaces the object); anything that is not JSON goes on as a string, for
// the decoder to refuse.
func formJSONText(m rules, form url.Values, name string) (json.RawMessage, bool) {
	vals, given := form[name]
	if !given || len(vals) == 0 {
		return nil, false
	}
	v := strings.TrimSpace(vals[len(vals)-1])
	switch {
	case v == "" && m.typ.Kind() == reflect.Pointer:
		return json.RawMessage("{}"), true
	case v == "":
		return nil, false
	case json.Valid([]byte(v)):
		return json.RawMessage(v), true
	}
	b, _ := json.Marshal(v)
	return b, true
}

// editValues is the form that shows v (an answer of the API, e.g. a LiveStream) for editing:
// field name → value, named as pageFormBody reads them back (its time members in loc, as a
// datetime-local field shows them).
func editValues(v any, loc *time.Location) url.Values {
	if loc == nil {
		loc = time.UTC
	}
	raw, _ := json.Marshal(v)
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	times := map[string]bool{}
	if t := reflect.TypeOf(v); t != nil && t.Kind() == reflect.Struct {
		for _, m := range members(t) {
			times[m.name] = elem(m.typ) == timeType
		}
	}
	out := url.Values{}
	for k, val := range obj {
		if s, ok := val.(string); ok && times[k] {
			if at, err := time.Parse(time.RFC3339Nano, s); err == nil {
				val = at.In(loc).Format("2006-01-02T15:04")
			}
		}
		flatten(out, k, val)
	}
	return out
}

// flatten writes value at name into out: a list of objects by row ("sources[0].url"), a list
// of scalars as one value per item, an object (a JSON member such as info) as its text.
func flatten(out url.Values, name string, value any) {
	switch x := value.(type) {
	case map[string]any:
		b, _ := json.MarshalIndent(x, "", "  ")
		out.Set(name, string(b))
	case []any:
		out[name] = []string{}
		for i, item := range x {
			if obj, ok := item.(map[string]any); ok {
				for k, v := range obj {
					flatten(out, fmt.Sprintf("%s[%d].%s", name, i, k), v)
				}
				continue
			}
			out[name] = append(out[name], scalarText(item))
		}
		if len(out[name]) == 0 && len(x) > 0 {
			delete(out, name) // rows only
		}
	case nil:
		out.Set(name, "")
	default:
		out.Set(name, scalarText(x))
	}
}

// scalarText is a JSON scalar as a form field holds it.
func scalarText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
