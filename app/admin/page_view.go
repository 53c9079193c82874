package admin

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// What the catalog-side templates (web/templates/catalog*.html) call besides the view's own
// methods. Every value reaches the HTML through html/template's contextual escaping: a channel
// named <script>alert(1)</script> is text in an element, an attribute or a URL alike; nothing
// here returns template.HTML.

// fieldView is one labelled form field as the "field" template draws it: its value and its
// refusal come from the page's form, so a refused form shows what was typed and why.
type fieldView struct {
	Name, ID, Label, Type, Value, Err, Help  string
	Min, Max, Step, MaxLen, Placeholder      string
	Pattern, Autocomplete, InputMode, ListID string
	Required, ReadOnly, Autofocus            bool
}

// newPageField makes the field name of page data, labelled label. opts are "key=value" (type,
// help, min, max, step, maxlength, placeholder, pattern, autocomplete, inputmode, list) or
// flags (required, readonly, autofocus); type defaults to text.
func newPageField(data pageData, name, label string, opts ...string) (fieldView, error) {
	b := data.page()
	f := fieldView{Name: name, ID: fieldID(name), Label: label, Type: "text", Value: b.Value(name), Err: b.Err(name)}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "type":
			f.Type = v
		case "help":
			f.Help = v
		case "min":
			f.Min = v
		case "max":
			f.Max = v
		case "step":
			f.Step = v
		case "maxlength":
			f.MaxLen = v
		case "placeholder":
			f.Placeholder = v
		case "pattern":
			f.Pattern = v
		case "autocomplete":
			f.Autocomplete = v
		case "inputmode":
			f.InputMode = v
		case "list":
			f.ListID = v
		case "required":
			f.Required = true
		case "readonly":
			f.ReadOnly = true
		case "autofocus":
			f.Autofocus = true
		default:
			return f, fmt.Errorf("field %s: unknown option %q", name, o)
		}
	}
	return f, nil
}

// fieldID is the HTML id of a field name: sources[1].url → f-sources-1-url.
func fieldID(name string) string {
	var b strings.Builder
	b.WriteString("f-")
	dash := false
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// pageFuncs are the template functions of the catalog-side pages; loc is the panel's time zone.
func pageFuncs(loc *time.Location) template.FuncMap {
	if loc == nil {
		loc = time.UTC
	}
	return template.FuncMap{
		"field":   newPageField,
		"fieldID": fieldID,
		"when": func(t any) string {
			switch x := t.(type) {
			case time.Time:
				return x.In(loc).Format("2006-01-02 15:04")
			case *time.Time:
				if x != nil {
					return x.In(loc).Format("2006-01-02 15:04")
				}
			}
			return "—"
		},
		"bytes":   byteSize,
		"add":     func(a, b int) int { return a + b },
		"percent": percent,
		"deref":   derefAny,
		"rows":    rowIndexes,
		"str":     func(v any) string { return fmt.Sprint(v) },
	}
}

// byteSize is n bytes for people: 1.5 MiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// percent is done of total as a whole percentage (0 while total is unknown).
func percent(done int64, total *int64) int {
	if total == nil || *total <= 0 {
		return 0
	}
	return int(min(100, done*100 / *total))
}

// derefAny is what an optional value holds ("" for none), for a template.
func derefAny(v any) any {
	switch x := v.(type) {
	case *int64:
		if x != nil {
			return *x
		}
	case *string:
		if x != nil {
			return *x
		}
	case *int32:
		if x != nil {
			return *x
		}
	default:
		return v
	}
	return ""
}

// rowIndexes are the row numbers a list of rows (sources) shows: those the form holds, and
// one empty row more for adding, at least min rows in all.
func rowIndexes(data pageData, name string, minRows int) []int {
	form := data.page().Form
	n := 0
	for k := range form {
		if rest, ok := strings.CutPrefix(k, name+"["); ok {
			var i int
			if _, err := fmt.Sscanf(rest, "%d]", &i); err == nil && i >= 0 && i < maxFormRows && i+1 > n {
				n = i + 1
			}
		}
	}
	n = max(n+1, minRows)
	out := make([]int, min(n, maxFormRows))
	for i := range out {
		out[i] = i
	}
	return out
}

// confirmView asks before an irreversible change: the operation's form posts to the same path.
type confirmView struct {
	pageBase
	Question, Note, Action, Back string
}

// confirmDeletePage is the GET of a delete path: the question, and a button that posts the
// delete (a page works without script, so the confirmation is a page of its own).
func (a *API) confirmDeletePage(opID, question, note string) func(*pageRequest) (pageResult, error) {
	return func(r *pageRequest) (pageResult, error) {
		if !a.may(r, opID) {
			return pageResult{}, errForbidden
		}
		if _, err := r.pathID("id"); err != nil {
			return pageResult{}, err
		}
		back := strings.TrimSuffix(r.path, "/delete")
		return render("confirm", &confirmView{pageBase: a.base(r, question), Question: question + "?", Note: note,
			Action: r.path, Back: back}), nil
	}
}
