package admin

import (
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// templateFuncs are the functions every template may call. None returns template.HTML (or
// any other trusted type) made from data: html/template escapes every value.
func templateFuncs(as *assets, loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"asset": as.url,
		// fieldError is the refusal of a form field, "" when it was not refused.
		"fieldError": func(v *view, name string) string { return v.Fields[name] },
		// value is the posted value of a field after a refusal, else def.
		"value": func(v *view, name string, def any) string {
			if v.Form != nil {
				if vals, ok := v.Form[name]; ok && len(vals) > 0 {
					return vals[0]
				}
				return ""
			}
			return plain(def)
		},
		// checkedIn reports whether a checkbox of name with value val is set: as posted after
		// a refusal, else when def holds it.
		"checkedIn": func(v *view, name, val string, def bool) bool {
			if v.Form != nil {
				return slices.Contains(v.Form[name], val)
			}
			return def
		},
		"lines":    func(list []string) string { return strings.Join(list, "\n") },
		"when":     func(t any) string { return when(t, loc) },
		"datetime": func(t any) string { return datetimeLocal(t, loc) },
		"ago":      ago,
		"bytes":    humanBytes,
		"rate":     humanRate,
		"deref":    plain,
		"has": func(list any, x any) bool {
			switch l := list.(type) {
			case []int64:
				n, _ := x.(int64)
				return slices.Contains(l, n)
			case []string:
				s, _ := x.(string)
				return slices.Contains(l, s)
			}
			return false
		},
		"query":   pageQuery,
		"field":   newField,
		"options": newOptions,
		// set sets one more property of a field: (set (field …) "hint" "…"); keys: hint,
		// required, auto (autocomplete), rows, options (from options).
		"set": withField,
		"add": func(a, b int) int { return a + b },
		"cond": func(ok bool, yes, no any) any {
			if ok {
				return yes
			}
			return no
		},
		// actionButton is a one-button form posting to /admin/lines/{id}/{action}.
		"actionButton": func(v *view, id int64, action, label, confirm string) actionSpec {
			return actionSpec{View: v, ID: id, Action: action, Label: label, Confirm: confirm}
		},
		"tz": func() string { return loc.String() },
		// secRemove is a security list row's Remove button (label names the entry).
		"secRemove": func(v *view, list string, id int64, label string) rowAction {
			return rowAction{View: v, List: list, ID: id, Label: label}
		},
	}
}

// plain is a value as text: a pointer's target, "" for nil.
func plain(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case *string:
		if x == nil {
			return ""
		}
		return *x
	case *int64:
		if x == nil {
			return ""
		}
		return strconv.FormatInt(*x, 10)
	case *int:
		if x == nil {
			return ""
		}
		return strconv.Itoa(*x)
	}
	return fmt.Sprint(v)
}

func asTime(t any) (time.Time, bool) {
	switch x := t.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x == nil {
			return time.Time{}, false
		}
		return *x, !x.IsZero()
	}
	return time.Time{}, false
}

// when is a time in the panel's zone, to the minute; "never" for none.
func when(t any, loc *time.Location) string {
	tt, ok := asTime(t)
	if !ok {
		return "never"
	}
	return tt.In(loc).Format("2006-01-02 15:04")
}

// datetimeLocal is a time as an <input type="datetime-local"> value in the panel's zone.
func datetimeLocal(t any, loc *time.Location) string {
	tt, ok := asTime(t)
	if !ok {
		return ""
	}
	return tt.In(loc).Format("2006-01-02T15:04")
}

// ago is how long ago t was, roughly.
func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanRate is a delivery rate in bits per second, as network people read it.
func humanRate(bytesPerSecond int64) string {
	b := float64(bytesPerSecond) * 8
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f Mbit/s", b/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.0f kbit/s", b/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", b)
}

// pageQuery is the query string of a list page: the current filters with key set to val
// (the next page's cursor ...), empty values left out.
func pageQuery(filters url.Values, kv ...string) string {
	q := url.Values{}
	for k, v := range filters {
		if len(v) > 0 && v[0] != "" {
			q[k] = v
		}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// fieldSpec is one form field for the "field" template.
type fieldSpec struct {
	Name, Label, Type string
	Value             string
	Checked           bool
	Hint, Error, Auto string
	Required          bool
	Rows              int
	Options           []option
}

// option is one choice of a select.
type option struct{ Value, Label string }

// newField is the field name of the form of v: its value as posted after a refusal, else def;
// its error, if it was refused.
func newField(v *view, name, label, typ string, def any) fieldSpec {
	f := fieldSpec{Name: name, Label: label, Type: typ, Error: v.Fields[name]}
	if typ == "checkbox" {
		if v.Form != nil {
			val := strings.ToLower(v.Form.Get(name))
			f.Checked = val == "true" || val == "on" || val == "1"
		} else {
			f.Checked, _ = def.(bool)
		}
		return f
	}
	if v.Form != nil {
		f.Value = v.Form.Get(name)
	} else {
		f.Value = plain(def)
	}
	return f
}

// newOptions makes a select's choices from value, label pairs.
func newOptions(kv ...string) []option {
	out := make([]option, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, option{Value: kv[i], Label: kv[i+1]})
	}
	return out
}

func withField(f fieldSpec, key string, val any) (fieldSpec, error) {
	switch key {
	case "hint":
		f.Hint = plain(val)
	case "required":
		f.Required, _ = val.(bool)
	case "auto":
		f.Auto = plain(val)
	case "rows":
		f.Rows, _ = val.(int)
	case "options":
		f.Options, _ = val.([]option)
	default:
		return f, fmt.Errorf("field %s: unknown property %q", f.Name, key)
	}
	return f, nil
}

// actionSpec is a one-button action form.
type actionSpec struct {
	View                   *view
	ID                     int64
	Action, Label, Confirm string
}

// rowAction is a one-button form of a list's row.
type rowAction struct {
	View  *view
	List  string
	ID    int64
	Label string
}
