package admin

import (
	"reflect"
	"strings"
)

// Schema is a JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it): the subset the API's
// types need.
type Schema struct {
	Ref                  string             `json:"$ref,omitempty"`
	Type                 any                `json:"type,omitempty"` // "string", or ["string", "null"]
	Format               string             `json:"format,omitempty"`
	Description          string             `json:"description,omitempty"`
	Enum                 []string           `json:"enum,omitempty"`
	Properties           map[string]*Schema `json:"properties,omitempty"`
	Required             []string           `json:"required,omitempty"`
	AdditionalProperties any                `json:"additionalProperties,omitempty"` // false, or a *Schema
	Items                *Schema            `json:"items,omitempty"`
	AnyOf                []*Schema          `json:"anyOf,omitempty"`
	Minimum              *float64           `json:"minimum,omitempty"`
	Maximum              *float64           `json:"maximum,omitempty"`
	MinLength            *int               `json:"minLength,omitempty"`
	MaxLength            *int               `json:"maxLength,omitempty"`
	MinItems             *int               `json:"minItems,omitempty"`
	MaxItems             *int               `json:"maxItems,omitempty"`
	UniqueItems          bool               `json:"uniqueItems,omitempty"`
	Pattern              string             `json:"pattern,omitempty"`
	ReadOnly             bool               `json:"readOnly,omitempty"`
	Examples             []any              `json:"examples,omitempty"`
}

// mode says which side of the wire a type is on: in a request "required" is what the client
// must send; in a response it is every member the server always sends.
type mode uint8

const (
	inRequest mode = iota
	inResponse
)

// schemaSet builds the component schemas of the document as operations name their types.
type schemaSet struct {
	components map[string]*Schema
	modes      map[string]mode // the mode each component was built in
}

func newSchemaSet() *schemaSet {
	return &schemaSet{components: map[string]*Schema{}, modes: map[string]mode{}}
}

// ref returns a reference to the component of struct type t in mode m, building it once.
func (s *schemaSet) ref(t reflect.Type, m mode) *Schema {
	name := componentName(t)
	if prev, ok := s.modes[name]; ok && prev != m {
		name += [...]string{"Request", "Response"}[m] // one struct on both sides: two schemas
	}
	if _, ok := s.components[name]; !ok {
		s.modes[name] = m
		s.components[name] = &Schema{} // placeholder: a type that refers to itself stops here
		s.components[name] = s.object(t, m)
	}
	return &Schema{Ref: "#/components/schemas/" + name}
}

// schemaNameField names a struct type built at run time (reflect.StructOf has no name): its
// tag schema:"Name" is the component's name.
const schemaNameField = "SchemaName"

// componentName is a struct type's name; a generic Page[…Line] becomes LinePage.
func componentName(t reflect.Type) string {
	name := t.Name()
	if f, ok := t.FieldByName(schemaNameField); ok && name == "" {
		return f.Tag.Get("schema")
	}
	base, arg, ok := strings.Cut(name, "[")
	if !ok {
		return name
	}
	arg = strings.TrimSuffix(arg, "]")
	if i := strings.LastIndexAny(arg, "./"); i >= 0 {
		arg = arg[i+1:]
	}
	return arg + base
}

func (s *schemaSet) object(t reflect.Type, m mode) *Schema {
	o := &Schema{Type: "object", Properties: map[string]*Schema{}, AdditionalProperties: false}
	for _, r := range members(t) {
		if r.inQuery || r.inPath {
			continue
		}
		o.Properties[r.name] = s.member(r, m)
		if (m == inRequest && r.required) || (m == inResponse && !r.omitEmpty) {
			o.Required = append(o.Required, r.name)
		}
	}
	return o
}

// member is the schema of one member: its type's, with the member's rules and description.
func (s *schemaSet) member(r rules, m mode) *Schema {
	sc := s.typed(r.typ, r, m)
	if r.doc != "" {
		sc.Description = r.doc
	}
	if r.readOnly {
		sc.ReadOnly = true
	}
	return sc
}

// nullable reports whether a member of type t may be null on the wire in mode m.
func nullable(t reflect.Type, r rules, m mode) bool {
	switch {
	case t.Implements(optionalType):
		return true
	case t.Kind() == reflect.Pointer && m == inRequest:
		return r.nullable
	case t.Kind() == reflect.Pointer:
		return !r.omitEmpty || r.nullable
	case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
		return r.nullable // a list is [] when empty, null only where the member says so
	}
	return false
}

func (s *schemaSet) typed(t reflect.Type, r rules, m mode) *Schema {
	null := nullable(t, r, m)
	for t.Kind() == reflect.Pointer || t.Implements(optionalType) {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		} else {
			t = reflect.Zero(t).Interface().(optional).valueType()
		}
	}
	sc := s.bare(t, r, m)
	if !null {
		return sc
	}
	if sc.Ref != "" {
		return &Schema{AnyOf: []*Schema{sc, {Type: "null"}}}
	}
	if typ, ok := sc.Type.(string); ok {
		sc.Type = []string{typ, "null"}
	}
	return sc
}

// bare is the schema of a non-pointer type with the value rules of r.
func (s *schemaSet) bare(t reflect.Type, r rules, m mode) *Schema {
	switch {
	case t == timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case t == rawMessageType || t.Kind() == reflect.Interface:
		return &Schema{}
	}
	switch t.Kind() {
	case reflect.Struct:
		return s.ref(t, m)
	case reflect.Map:
		return &Schema{Type: "object", AdditionalProperties: s.typed(t.Elem(), rules{}, m)}
	case reflect.Slice:
		item := r
		item.nullable, item.omitEmpty = false, false
		return &Schema{Type: "array", Items: s.typed(t.Elem(), item, m), MinItems: r.minItems, MaxItems: r.maxItems,
			UniqueItems: r.unique}
	case reflect.String:
		sc := &Schema{Type: "string", Enum: r.enum, MinLength: r.minLen, MaxLength: r.maxLen, Format: r.format}
		if r.pattern != nil {
			sc.Pattern = r.pattern.String()
		}
		if r.example != "" {
			sc.Examples = []any{r.example}
		}
		return sc
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		format := "int64"
		if t.Bits() <= 32 {
			format = "int32"
		}
		return &Schema{Type: "integer", Format: format, Minimum: r.min, Maximum: r.max}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number", Minimum: r.min, Maximum: r.max}
	}
	panic("admin: no schema for type " + t.String())
}
