package admin

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The API's request and response types are plain structs whose tags say everything the
// OpenAPI document and the validator need, so the two can never disagree:
//
//	json:"name,omitempty"  the member's name; omitempty in a response: may be absent
//	query:"name"           a query parameter (query structs); path:"name" a path parameter
//	doc:"..."              its description
//	api:"required,nullable,readonly,min=0,max=10,minlen=1,maxlen=64,minitems=1,maxitems=100,
//	     unique,enum=a|b|c,format=email"
//	pattern:"^...$"        a regular expression the value (each element, for a list) matches
//	example:"..."          an example value
//
// For a list, min/max/minlen/maxlen/enum/pattern/format apply to its elements and
// minitems/maxitems/unique to the list. In a request, required means the member must be
// given and nullable that it may be null (a pointer without nullable may be left out but not
// be null). In a response, a member without omitempty is always present.

// rules are a member's parsed tags.
type rules struct {
	name            string // json, query or path name
	doc, example    string
	required        bool
	nullable        bool
	readOnly        bool
	omitEmpty       bool
	min, max        *float64
	minLen, maxLen  *int
	minItems        *int
	maxItems        *int
	unique          bool
	enum            []string
	format          string
	pattern         *regexp.Regexp
	index           []int
	typ             reflect.Type
	inQuery, inPath bool
}

var timeType = reflect.TypeFor[time.Time]()

// members returns the tagged members of struct type t, embedded structs flattened, in order.
// A malformed tag is a programming error found by the first test that builds the API.
func members(t reflect.Type) []rules {
	var out []rules
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			for _, m := range members(f.Type) {
				m.index = append([]int{i}, m.index...)
				out = append(out, m)
			}
			continue
		}
		r, ok := parseRules(f)
		if !ok {
			continue
		}
		r.index = []int{i}
		out = append(out, r)
	}
	return out
}

// parseRules reads one field's tags; ok is false for a field that is not a member.
func parseRules(f reflect.StructField) (rules, bool) {
	r := rules{typ: f.Type, doc: f.Tag.Get("doc"), example: f.Tag.Get("example")}
	switch {
	case f.Tag.Get("query") != "":
		r.name, r.inQuery = f.Tag.Get("query"), true
	case f.Tag.Get("path") != "":
		r.name, r.inPath, r.required = f.Tag.Get("path"), true, true
	default:
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (name == "" && f.Tag.Get("json") != "") {
			return rules{}, false
		}
		if name == "" {
			name = f.Name
		}
		r.name, r.omitEmpty = name, strings.Contains(opts, "omitempty")
	}
	if p := f.Tag.Get("pattern"); p != "" {
		r.pattern = regexp.MustCompile(p)
	}
	for _, opt := range strings.Split(f.Tag.Get("api"), ",") {
		if opt != "" {
			r.apply(f.Name, opt)
		}
	}
	return r, true
}

func (r *rules) apply(field, opt string) {
	key, val, _ := strings.Cut(opt, "=")
	num := func() *float64 {
		n, err := strconv.ParseFloat(val, 64)
		if err != nil {
			panic(fmt.Sprintf("admin: field %s: bad %s=%q", field, key, val))
		}
		return &n
	}
	count := func() *int { n := int(*num()); return &n }
	flags := map[string]*bool{"required": &r.required, "nullable": &r.nullable, "readonly": &r.readOnly, "unique": &r.unique}
	bounds := map[string]**float64{"min": &r.min, "max": &r.max}
	counts := map[string]**int{"minlen": &r.minLen, "maxlen": &r.maxLen, "minitems": &r.minItems, "maxitems": &r.maxItems}
	switch {
	case flags[key] != nil:
		*flags[key] = true
	case bounds[key] != nil:
		*bounds[key] = num()
	case counts[key] != nil:
		*counts[key] = count()
	case key == "enum":
		r.enum = strings.Split(val, "|")
	case key == "format":
		r.format = val
	default:
		panic(fmt.Sprintf("admin: field %s: unknown api tag %q", field, opt))
	}
}

// elem is the type a member's value rules apply to: the element of a list, the target of a
// pointer, the value of an Optional.
func elem(t reflect.Type) reflect.Type {
	for {
		switch {
		case t.Kind() == reflect.Pointer:
			t = t.Elem()
		case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
			t = t.Elem()
		case t.Implements(optionalType):
			t = reflect.Zero(t).Interface().(optional).valueType()
		default:
			return t
		}
	}
}
