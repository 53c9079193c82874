package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/input"
)

// Optional is a request member that may be absent, null or a value: PATCH bodies use it for
// members that can be cleared (an expiry date, a forced country), where a pointer could not
// tell "leave it" from "clear it".
type Optional[T any] struct {
	Set   bool // the member was given
	Null  bool // given as null
	Value T
}

// UnmarshalJSON records that the member was given.
func (o *Optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// optional lets the decoder and the schema see through Optional.
type optional interface{ valueType() reflect.Type }

func (Optional[T]) valueType() reflect.Type { return reflect.TypeFor[T]() }

var optionalType = reflect.TypeFor[optional]()

// badField is a refused request member: its path ("lines[2].username") and why.
type badField struct {
	field, reason string
}

func (b *badField) Error() string { return b.field + ": " + b.reason }

func refuse(field, format string, args ...any) *badField {
	return &badField{field: field, reason: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting, so a hostile body cannot make the validator recurse deep.
const maxDepth = 16

// decodeBody decodes a JSON body into dst (a pointer to a struct) strictly: every member must
// be known (exact case), of its type, within its rules (fields.go); a required member must be
// given, null only where nullable. The first fault is returned with its path.
func decodeBody(body []byte, dst any) *badField {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return refuse("", "a JSON body is required")
	}
	if !utf8.Valid(body) {
		return refuse("", "the body is not UTF-8")
	}
	if !json.Valid(body) {
		return refuse("", "the body is not JSON")
	}
	if path, dup := input.DuplicateName(body); dup {
		return refuse(path, "given twice")
	}
	t := reflect.TypeOf(dst).Elem()
	if bad := check(t, rules{}, json.RawMessage(body), "", 0); bad != nil {
		return bad
	}
	if err := json.Unmarshal(body, dst); err != nil { // check saw every member: only a bug gets here
		return refuse("", "cannot decode: %v", err)
	}
	return nil
}

// check validates raw against type t and the rules r of the member at path.
func check(t reflect.Type, r rules, raw json.RawMessage, path string, depth int) *badField {
	if depth > maxDepth {
		return refuse(path, "nested too deep")
	}
	isNull := string(raw) == "null"
	switch {
	case t.Implements(optionalType):
		if isNull {
			return nil
		}
		return check(reflect.Zero(t).Interface().(optional).valueType(), r, raw, path, depth)
	case t.Kind() == reflect.Pointer:
		if isNull {
			if r.nullable {
				return nil
			}
			return refuse(path, "must not be null")
		}
		return check(t.Elem(), r, raw, path, depth)
	case isNull && r.nullable && (t.Kind() == reflect.Slice || t.Kind() == reflect.Map):
		return nil
	case isNull && t.Kind() != reflect.Interface && t != rawMessageType:
		return refuse(path, "must not be null")
	}
	switch {
	case t == timeType:
		return checkTime(raw, path)
	case t == rawMessageType || t.Kind() == reflect.Interface:
		return checkFree(raw, path, depth)
	}
	switch t.Kind() {
	case reflect.Struct:
		return checkObject(t, raw, path, depth)
	case reflect.Map:
		return checkMap(t, r, raw, path, depth)
	case reflect.Slice:
		return checkList(t, r, raw, path, depth)
	case reflect.String:
		return checkString(r, raw, path)
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			return refuse(path, "want true or false")
		}
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkInt(t, r, raw, path)
	case reflect.Float32, reflect.Float64:
		return checkFloat(r, raw, path)
	}
	return refuse(path, "unsupported member type %s", t)
}

var rawMessageType = reflect.TypeFor[json.RawMessage]()

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func checkObject(t reflect.Type, raw json.RawMessage, path string, depth int) *badField {
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return refuse(path, "want an object")
	}
	ms := members(t)
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.name] = true
	}
	for k := range obj {
		if !known[k] {
			return refuse(join(path, k), "unknown member")
		}
	}
	for _, m := range ms {
		v, given := obj[m.name]
		switch {
		case !given && m.required:
			return refuse(join(path, m.name), "required")
		case !given:
			continue
		case m.readOnly:
			return refuse(join(path, m.name), "read-only")
		}
		if bad := check(m.typ, m, v, join(path, m.name), depth+1); bad != nil {
			return bad
		}
	}
	return nil
}

func checkMap(t reflect.Type, r rules, raw json.RawMessage, path string, depth int) *badField {
	var obj map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &obj) != nil {
		return refuse(path, "want an object")
	}
	if r.maxItems != nil && len(obj) > *r.maxItems {
		return refuse(path, "at most %d members", *r.maxItems)
	}
	for k, v := range obj {
		if bad := checkText(k, join(path, k)); bad != nil {
			return bad
		}
		if bad := check(t.Elem(), rules{}, v, join(path, k), depth+1); bad != nil {
			return bad
		}
	}
	return loneSurrogateName(raw, path)
}

// checkFree validates a free-form value (a movie's info): any JSON the store keeps as sent.
// PostgreSQL's jsonb refuses NUL in a string or a key (a 500 if it got there), Go's decoding
// replaces a lone surrogate with U+FFFD and rounds a number to float64: each would be stored
// as other than what was sent, or not at all, so each is refused here with its path.
func checkFree(raw json.RawMessage, path string, depth int) *badField {
	if depth > maxDepth {
		return refuse(path, "nested too deep")
	}
	switch raw[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return refuse(path, "want an object")
		}
		for k, v := range obj {
			if bad := checkText(k, join(path, k)); bad != nil {
				return bad
			}
			if bad := checkFree(v, join(path, k), depth+1); bad != nil {
				return bad
			}
		}
		return loneSurrogateName(raw, path)
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return refuse(path, "want a list")
		}
		for i, v := range items {
			if bad := checkFree(v, fmt.Sprintf("%s[%d]", path, i), depth+1); bad != nil {
				return bad
			}
		}
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return refuse(path, "want a string")
		}
		if input.LoneSurrogate(raw) {
			return refuse(path, "must not contain a lone UTF-16 surrogate")
		}
		return checkText(s, path)
	case 't', 'f', 'n':
	default:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil || math.IsInf(f, 0) {
			return refuse(path, "want a number within ±1.8e308")
		}
		if !exact(string(raw), f) {
			return refuse(path, "a number with more digits than a 64-bit float keeps")
		}
	}
	return nil
}

// loneSurrogateName refuses an object (a map's or a free-form one) whose member names hold a
// lone surrogate. A name's escapes are gone once decoded (the surrogate is U+FFFD by then);
// every value of the object passed its check, nested objects' names included, so one left in
// the raw text is in a name at this level.
func loneSurrogateName(raw json.RawMessage, path string) *badField {
	if input.LoneSurrogate(raw) {
		return refuse(path, "a member name must not contain a lone UTF-16 surrogate")
	}
	return nil
}

// exact reports whether the JSON number text reads back as itself: as the shortest decimal of
// f, what encoding/json writes (-9223372036854775808 is a float64, but reads back as
// -9223372036854776000).
func exact(text string, f float64) bool {
	want, ok := new(big.Rat).SetString(text)
	got, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return ok && got != nil && got.Cmp(want) == 0
}

// checkText refuses what no stored text may hold: NUL (PostgreSQL's text and jsonb refuse it).
func checkText(s, path string) *badField {
	if strings.IndexByte(s, 0) >= 0 {
		return refuse(path, "must not contain a NUL character")
	}
	return nil
}

func checkList(t reflect.Type, r rules, raw json.RawMessage, path string, depth int) *badField {
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return refuse(path, "want a list")
	}
	switch {
	case r.minItems != nil && len(items) < *r.minItems:
		return refuse(path, "at least %d items", *r.minItems)
	case r.maxItems != nil && len(items) > *r.maxItems:
		return refuse(path, "at most %d items", *r.maxItems)
	}
	seen := map[string]bool{}
	item := r
	item.nullable = false
	for i, v := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		if bad := check(t.Elem(), item, v, p, depth+1); bad != nil {
			return bad
		}
		if r.unique {
			k := string(v)
			if seen[k] {
				return refuse(p, "duplicate")
			}
			seen[k] = true
		}
	}
	return nil
}

func checkString(r rules, raw json.RawMessage, path string) *badField {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return refuse(path, "want a string")
	}
	n := utf8.RuneCountInString(s)
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return refuse(path, "must not contain a NUL character")
	case input.LoneSurrogate(raw):
		return refuse(path, "must not contain a lone UTF-16 surrogate")
	case r.minLen != nil && n < *r.minLen:
		return refuse(path, "at least %d characters", *r.minLen)
	case r.maxLen != nil && n > *r.maxLen:
		return refuse(path, "at most %d characters", *r.maxLen)
	case len(r.enum) > 0 && !contains(r.enum, s):
		return refuse(path, "one of %s", strings.Join(r.enum, ", "))
	case r.pattern != nil && !r.pattern.MatchString(s):
		return refuse(path, "must match %s", r.pattern)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func checkTime(raw json.RawMessage, path string) *badField {
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return refuse(path, "want an RFC 3339 date-time string")
	}
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		return refuse(path, "want an RFC 3339 date-time, e.g. 2026-01-31T23:59:59Z")
	}
	return nil
}

func checkInt(t reflect.Type, r rules, raw json.RawMessage, path string) *badField {
	n, err := strconv.ParseInt(string(raw), 10, t.Bits())
	if err != nil {
		return refuse(path, "want an integer (%d-bit)", t.Bits())
	}
	return checkRange(r, float64(n), path)
}

func checkFloat(r rules, raw json.RawMessage, path string) *badField {
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) || raw[0] == '"' {
		return refuse(path, "want a number")
	}
	return checkRange(r, f, path)
}

func checkRange(r rules, v float64, path string) *badField {
	switch {
	case r.min != nil && v < *r.min:
		return refuse(path, "at least %v", *r.min)
	case r.max != nil && v > *r.max:
		return refuse(path, "at most %v", *r.max)
	}
	return nil
}

// queryValues are a request's query parameters: name → values, in order.
type queryValues map[string][]string

// decodeQuery fills dst (a pointer to a struct of query members) from q with the same rules
// as a body: unknown parameters, a parameter given twice, a value of the wrong type or out of
// its rules are refused. Booleans are true/false (or 1/0); times RFC 3339.
func decodeQuery(q queryValues, dst any) *badField {
	t := reflect.TypeOf(dst).Elem()
	byName := map[string]rules{}
	for _, m := range members(t) {
		if m.inQuery {
			byName[m.name] = m
		}
	}
	obj := map[string]json.RawMessage{}
	for name, vals := range q {
		m, ok := byName[name]
		switch {
		case !ok:
			return refuse(name, "unknown query parameter")
		case len(vals) > 1:
			return refuse(name, "given more than once")
		}
		raw, bad := queryRaw(elem(m.typ), vals[0], name)
		if bad != nil {
			return bad
		}
		if bad := check(m.typ, m, raw, name, 0); bad != nil {
			return bad
		}
		obj[name] = raw
	}
	for name, m := range byName {
		if _, ok := obj[name]; !ok && m.required {
			return refuse(name, "required")
		}
	}
	return assign(t, obj, dst, func(m rules) bool { return m.inQuery })
}

// queryRaw turns one query value into the JSON value check and json.Unmarshal take.
func queryRaw(t reflect.Type, v, name string) (json.RawMessage, *badField) {
	switch t.Kind() {
	case reflect.Bool:
		switch v {
		case "true", "1":
			return json.RawMessage("true"), nil
		case "false", "0":
			return json.RawMessage("false"), nil
		}
		return nil, refuse(name, "want true or false")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
		if _, err := strconv.ParseFloat(v, 64); err != nil || strings.ContainsAny(v, "+eExXnN") {
			return nil, refuse(name, "want a number")
		}
		return json.RawMessage(v), nil
	}
	if !utf8.ValidString(v) {
		return nil, refuse(name, "not UTF-8")
	}
	b, _ := json.Marshal(v)
	return b, nil
}

// assign sets the members of dst that pick selects from obj (values already checked), by
// their position in the struct: query and path names are no json names.
func assign(t reflect.Type, obj map[string]json.RawMessage, dst any, pick func(rules) bool) *badField {
	v := reflect.ValueOf(dst).Elem()
	for _, m := range members(t) {
		raw, ok := obj[m.name]
		if !ok || !pick(m) {
			continue
		}
		if err := json.Unmarshal(raw, v.FieldByIndex(m.index).Addr().Interface()); err != nil {
			return refuse(m.name, "cannot decode: %v", err)
		}
	}
	return nil
}
