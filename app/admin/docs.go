package admin

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"slices"
	"strings"
)

// The reference page at /api/v1/docs: the OpenAPI document rendered on the server into one
// HTML page, with no script and nothing fetched from elsewhere, so it works offline and under
// a strict Content-Security-Policy.

//go:embed docs.html.tmpl
var docsTemplate string

type docsPage struct {
	Doc     *document
	Groups  []docsGroup
	Schemas []docsSchema
}

type docsGroup struct {
	Tag string
	Ops []*operation
}

type docsSchema struct {
	Name   string
	Schema *Schema
}

// renderDocs renders d (finished) as the reference page.
func renderDocs(d *document) ([]byte, error) {
	page := docsPage{Doc: d}
	for _, tag := range d.Tags {
		g := docsGroup{Tag: tag.Name}
		for path, methods := range d.Paths {
			for _, op := range methods {
				if op.Tags[0] == tag.Name {
					op.path = path
					g.Ops = append(g.Ops, op)
				}
			}
		}
		slices.SortFunc(g.Ops, func(a, b *operation) int {
			if c := strings.Compare(a.path, b.path); c != 0 {
				return c
			}
			return strings.Compare(methodRank(a.method), methodRank(b.method))
		})
		page.Groups = append(page.Groups, g)
	}
	for name, s := range d.Components.Schemas {
		page.Schemas = append(page.Schemas, docsSchema{Name: name, Schema: s})
	}
	slices.SortFunc(page.Schemas, func(a, b docsSchema) int { return strings.Compare(a.Name, b.Name) })
	t, err := template.New("docs").Funcs(template.FuncMap{
		"typeOf": typeOf, "rules": rulesOf, "anchor": anchor, "lower": strings.ToLower,
		"required": func(s *Schema, name string) bool { return slices.Contains(s.Required, name) },
		"props":    sortedProps,
		"refName":  refName,
	}).Parse(docsTemplate)
	if err != nil {
		return nil, fmt.Errorf("docs template: %w", err)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("docs page: %w", err)
	}
	return buf.Bytes(), nil
}

func methodRank(m string) string {
	return map[string]string{"GET": "1", "POST": "2", "PUT": "3", "PATCH": "4", "DELETE": "5"}[strings.ToUpper(m)] + m
}

func anchor(s string) string { return strings.NewReplacer("/", "-", "{", "", "}", "").Replace(s) }

func refName(ref string) string { return strings.TrimPrefix(ref, "#/components/schemas/") }

type propRow struct {
	Name   string
	Schema *Schema
}

func sortedProps(s *Schema) []propRow {
	var out []propRow
	for name, p := range s.Properties {
		out = append(out, propRow{name, p})
	}
	slices.SortFunc(out, func(a, b propRow) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// typeOf reads a schema's type for people: "string (date-time)", "list of Line", "Line or null".
func typeOf(s *Schema) string {
	switch {
	case s == nil:
		return ""
	case s.Ref != "":
		return refName(s.Ref)
	case len(s.AnyOf) > 0:
		var parts []string
		for _, a := range s.AnyOf {
			parts = append(parts, typeOf(a))
		}
		return strings.Join(parts, " or ")
	}
	var t string
	switch v := s.Type.(type) {
	case string:
		t = v
	case []string:
		t = strings.Join(v, " or ")
	default:
		return "any"
	}
	if s.Items != nil {
		t = strings.Replace(t, "array", "list of "+typeOf(s.Items), 1)
	}
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

// rulesOf lists a schema's constraints: "1 to 64 characters; one of a, b".
func rulesOf(s *Schema) string {
	var out []string
	num := func(p *float64) string { return fmt.Sprintf("%v", *p) }
	if s.Minimum != nil {
		out = append(out, "≥ "+num(s.Minimum))
	}
	if s.Maximum != nil {
		out = append(out, "≤ "+num(s.Maximum))
	}
	if s.MinLength != nil || s.MaxLength != nil {
		out = append(out, fmt.Sprintf("length %s to %s", intOr(s.MinLength, "0"), intOr(s.MaxLength, "any")))
	}
	if s.MaxItems != nil {
		out = append(out, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if len(s.Enum) > 0 {
		out = append(out, "one of "+strings.Join(s.Enum, ", "))
	}
	if s.Pattern != "" {
		out = append(out, "matches "+s.Pattern)
	}
	if s.Items != nil {
		if r := rulesOf(s.Items); r != "" {
			out = append(out, "each "+r)
		}
	}
	if s.ReadOnly {
		out = append(out, "read-only")
	}
	return strings.Join(out, "; ")
}

func intOr(p *int, dflt string) string {
	if p == nil {
		return dflt
	}
	return fmt.Sprint(*p)
}

// Method and Path are the operation's, for the page.
func (o *operation) Method() string { return strings.ToUpper(o.method) }

// Path is the operation's OpenAPI path.
func (o *operation) Path() string { return o.path }
