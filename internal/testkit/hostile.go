package testkit

import (
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A hostile-input sweep (the partner and device surfaces' hostile tests): a valid request,
// and every variant of it that changes one part to what a hostile or broken client sends —
// a path parameter, a header, a form field, a JSON member (a string or a value of the wrong
// type), or the whole body. The values are the caller's; this builds the requests.

// HostileText is what a hostile or broken client puts in any text parameter, the values every
// surface's sweep starts from: an address with a zone (netip parses it, PostgreSQL's inet does
// not), NUL, invalid UTF-8, a number past int64, a date past year 9999, 2,000 characters
// (within the server's 4 KB request head), a negative number, zero, an injection, a CIDR past
// its bits, a broken escape, nothing. Each sweep appends its surface's own shapes; the admin
// pages' sweep takes the first six.
var HostileText = []string{"fe80::1%eth0", "\x00", "\xff\xfe", "99999999999999999999999",
	"99999-01-01T00:00:00Z", strings.Repeat("a", 2000), "-1", "0", "' OR 1=1 --", "10.0.0.0/33", "%zz", ""}

// J is a JSON value a sweep varies: a leaf (Raw, its JSON text), an object (Obj) or an array
// (List, IsList).
type J struct {
	Raw    string
	Obj    []JM
	List   []J
	IsList bool
}

// JM is an object member.
type JM struct {
	Name  string
	Value J
}

// JRaw is a leaf of JSON text.
func JRaw(raw string) J { return J{Raw: raw} }

// JString is a leaf string; JSONString says how it is written.
func JString(s string) J { return J{Raw: JSONString(s)} }

// JObj is an object of name, value pairs.
func JObj(members ...JM) J { return J{Obj: members} }

// JList is an array.
func JList(elems ...J) J { return J{List: elems, IsList: true} }

// JSONString is s as a JSON string; invalid UTF-8 is written as its raw bytes (encoding/json
// would replace them, and then no invalid byte would reach the server).
func JSONString(s string) string {
	if !utf8.ValidString(s) {
		return `"` + s + `"`
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// Encode writes v.
func (v J) Encode() string {
	switch {
	case v.IsList:
		parts := make([]string, len(v.List))
		for i, e := range v.List {
			parts[i] = e.Encode()
		}
		return "[" + strings.Join(parts, ",") + "]"
	case v.Obj != nil:
		parts := make([]string, len(v.Obj))
		for i, m := range v.Obj {
			parts[i] = JSONString(m.Name) + ":" + m.Value.Encode()
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return v.Raw
}

// slots are the paths of every member and element under v ("device", "device.id",
// "resources[0]"), containers before what they hold.
func (v J) slots(prefix string) []string {
	var out []string
	switch {
	case v.IsList:
		for i, e := range v.List {
			p := prefix + "[" + strconv.Itoa(i) + "]"
			out = append(out, p)
			out = append(out, e.slots(p)...)
		}
	case v.Obj != nil:
		for _, m := range v.Obj {
			p := m.Name
			if prefix != "" {
				p = prefix + "." + m.Name
			}
			out = append(out, p)
			out = append(out, m.Value.slots(p)...)
		}
	}
	return out
}

// with is v with the value at path replaced by repl, or removed when remove.
func (v J) with(prefix, path string, repl J, remove bool) J {
	switch {
	case v.IsList:
		out := J{IsList: true}
		for i, e := range v.List {
			p := prefix + "[" + strconv.Itoa(i) + "]"
			switch {
			case p == path && remove:
				continue
			case p == path:
				out.List = append(out.List, repl)
			default:
				out.List = append(out.List, e.with(p, path, repl, remove))
			}
		}
		return out
	case v.Obj != nil:
		out := J{Obj: []JM{}}
		for _, m := range v.Obj {
			p := m.Name
			if prefix != "" {
				p = prefix + "." + m.Name
			}
			switch {
			case p == path && remove:
				continue
			case p == path:
				out.Obj = append(out.Obj, JM{m.Name, repl})
			default:
				out.Obj = append(out.Obj, JM{m.Name, m.Value.with(p, path, repl, remove)})
			}
		}
		return out
	}
	return v
}

// HostileRequest is a valid request; Variants changes one part of it at a time.
type HostileRequest struct {
	Method string
	// Path holds {name} placeholders for Params, the path parameters' valid values.
	Path   string
	Params map[string]string
	Query  [][2]string // in order
	Header [][2]string // in order
	Form   [][2]string // a form body, when JSON is nil
	JSON   *J
}

// Variant is one request of a sweep: where it differs from the valid one and how.
type Variant struct {
	Where  string // "path partner", "header X-Forwarded-For", "form grant_type", "json device.id", "body"
	Value  string // what is there, quoted
	Method string
	Target string
	Header [][2]string
	Body   []byte
	// Unparsable: the HTTP parser may refuse it before any route (a control byte in a header,
	// a body past the server's limit), answering in its own format.
	Unparsable bool
}

// HostileValues are a sweep's values: Strings go in every parameter (path parameters escaped,
// form fields encoded, JSON members as JSON strings); JSON are the raw JSON texts that stand in
// for every JSON member (wrong types, numbers past float64, deep nesting); Headers derives,
// per header name, the header values a string becomes (nil, or a name it has no entry for:
// the string itself).
type HostileValues struct {
	Strings []string
	JSON    []string
	Headers map[string]func(v string) []string
	// Bodies are whole bodies that stand in for a JSON body ("null", "[]", deep nesting …);
	// a form body is replaced by a JSON one.
	Bodies []string
	// MaxBody is the server's body limit: a body of exactly that many bytes reaches the route,
	// one byte more is the parser's.
	MaxBody int
}

func (r HostileRequest) target(params map[string]string, query [][2]string) string {
	p := r.Path
	for name, v := range params {
		p = strings.ReplaceAll(p, "{"+name+"}", v)
	}
	if len(query) > 0 {
		q := make([]string, len(query))
		for i, kv := range query {
			q[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
		}
		p += "?" + strings.Join(q, "&")
	}
	return p
}

func escapedParams(params map[string]string, name, v string) map[string]string {
	out := make(map[string]string, len(params))
	for k, pv := range params {
		out[k] = url.PathEscape(pv)
	}
	if name != "" {
		out[name] = url.PathEscape(v)
	}
	return out
}

func encodeForm(form [][2]string) []byte {
	parts := make([]string, len(form))
	for i, kv := range form {
		parts[i] = url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1])
	}
	return []byte(strings.Join(parts, "&"))
}

// replaced is kvs with name's value v (appended when absent), or without name when remove,
// or with name twice when repeat.
func replaced(kvs [][2]string, name, v string, remove, repeat bool) [][2]string {
	var out [][2]string
	found := false
	for _, kv := range kvs {
		if !strings.EqualFold(kv[0], name) {
			out = append(out, kv)
			continue
		}
		found = true
		switch {
		case remove:
		case repeat:
			out = append(out, kv, kv)
		default:
			out = append(out, [2]string{kv[0], v})
		}
	}
	if !found && !remove && !repeat {
		out = append(out, [2]string{name, v})
	}
	return out
}

// controlByte reports a byte HTTP/1.1 forbids in a header value (RFC 9110 §5.5).
func controlByte(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// Base is the valid request itself.
func (r HostileRequest) Base() Variant {
	return r.variant("valid", "", r.target(escapedParams(r.Params, "", ""), r.Query), r.Header, r.body())
}

func (r HostileRequest) body() []byte {
	if r.JSON != nil {
		return []byte(r.JSON.Encode())
	}
	if r.Form != nil {
		return encodeForm(r.Form)
	}
	return nil
}

func (r HostileRequest) variant(where, value, target string, header [][2]string, body []byte) Variant {
	v := Variant{Where: where, Value: value, Method: r.Method, Target: target, Header: header, Body: body}
	for _, h := range header {
		v.Unparsable = v.Unparsable || controlByte(h[1])
	}
	return v
}

// Variants are the sweep's requests: each path parameter, query parameter, header, form
// field and JSON member in turn set to each value (and absent, and a field repeated), then
// the whole body replaced.
func (r HostileRequest) Variants(hv HostileValues) []Variant {
	var out []Variant
	base := r.target(escapedParams(r.Params, "", ""), r.Query)
	body := r.body()
	names := make([]string, 0, len(r.Params))
	for name := range r.Params {
		names = append(names, name)
	}
	slices.Sort(names) // the same order each time: a sweep may rebuild its variants midway
	for _, name := range names {
		for _, v := range hv.Strings {
			out = append(out, r.variant("path "+name, short(v), r.target(escapedParams(r.Params, name, v), r.Query), r.Header, body))
		}
	}
	for _, kv := range r.Query {
		for _, v := range hv.Strings {
			out = append(out, r.variant("query "+kv[0], short(v), r.target(escapedParams(r.Params, "", ""),
				replaced(r.Query, kv[0], v, false, false)), r.Header, body))
		}
		out = append(out, r.variant("query "+kv[0], "absent", r.target(escapedParams(r.Params, "", ""),
			replaced(r.Query, kv[0], "", true, false)), r.Header, body))
		out = append(out, r.variant("query "+kv[0], "repeated", r.target(escapedParams(r.Params, "", ""),
			replaced(r.Query, kv[0], "", false, true)), r.Header, body))
	}
	for _, kv := range r.Header {
		derive := hv.Headers[kv[0]]
		for _, v := range hv.Strings {
			values := []string{v}
			if derive != nil {
				values = derive(v)
			}
			for _, hvv := range values {
				out = append(out, r.variant("header "+kv[0], short(hvv), base, replaced(r.Header, kv[0], hvv, false, false), body))
			}
		}
		out = append(out, r.variant("header "+kv[0], "absent", base, replaced(r.Header, kv[0], "", true, false), body))
		out = append(out, r.variant("header "+kv[0], "repeated", base, replaced(r.Header, kv[0], "", false, true), body))
	}
	for _, kv := range r.Form {
		for _, v := range hv.Strings {
			out = append(out, r.variant("form "+kv[0], short(v), base, r.Header, encodeForm(replaced(r.Form, kv[0], v, false, false))))
		}
		out = append(out, r.variant("form "+kv[0], "absent", base, r.Header, encodeForm(replaced(r.Form, kv[0], "", true, false))))
		out = append(out, r.variant("form "+kv[0], "repeated", base, r.Header, encodeForm(replaced(r.Form, kv[0], "", false, true))))
	}
	if r.JSON != nil {
		for _, slot := range r.JSON.slots("") {
			for _, v := range hv.Strings {
				out = append(out, r.variant("json "+slot, short(v), base, r.Header, []byte(r.JSON.with("", slot, JString(v), false).Encode())))
			}
			for _, raw := range hv.JSON {
				out = append(out, r.variant("json "+slot, short(raw), base, r.Header, []byte(r.JSON.with("", slot, JRaw(raw), false).Encode())))
			}
			out = append(out, r.variant("json "+slot, "absent", base, r.Header, []byte(r.JSON.with("", slot, J{}, true).Encode())))
		}
	}
	if r.JSON != nil || r.Form != nil {
		for _, b := range hv.Bodies {
			out = append(out, r.variant("body", short(b), base, r.Header, []byte(b)))
		}
		if hv.MaxBody > 0 {
			for _, n := range []int{hv.MaxBody, hv.MaxBody + 1} {
				v := r.variant("body", strconv.Itoa(n)+" bytes", base, r.Header, padded(r, n))
				v.Unparsable = v.Unparsable || n > hv.MaxBody
				out = append(out, v)
			}
		}
	}
	return out
}

// padded is the valid body grown to n bytes: a long string member, or a long form field.
func padded(r HostileRequest, n int) []byte {
	if r.JSON != nil {
		b := []byte(JObj(append([]JM{{"pad", JString("")}}, r.JSON.Obj...)...).Encode())
		pad := strings.Repeat("a", max(0, n-len(b)))
		return []byte(JObj(append([]JM{{"pad", JString(pad)}}, r.JSON.Obj...)...).Encode())
	}
	b := encodeForm(append([][2]string{{"pad", ""}}, r.Form...))
	return encodeForm(append([][2]string{{"pad", strings.Repeat("a", max(0, n-len(b)))}}, r.Form...))
}

func short(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(s)
}
