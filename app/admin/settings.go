package admin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/panel"
)

// The panel settings are typed by one table, panel.Settings: the request and response types
// of /settings are built from it at start (reflect.StructOf), so a setting added there is a
// typed member of the document, of the strict decoder (400 on the key for a wrong type or a
// value out of bounds) and of the answers, with no code here.

// settingsTypes builds the answer type (every setting's current value) and the PATCH body
// type (each setting optional; null resets it to its default) of the table.
func settingsTypes(table []panel.Setting) (values, patch reflect.Type) {
	var vf, pf []reflect.StructField
	for _, s := range table {
		t, rules := settingType(s)
		name := goName(s.Key)
		doc := fmt.Sprintf("%s. Default: %s.", upperFirst(s.Doc), defaultText(s))
		vf = append(vf, reflect.StructField{Name: name, Type: t,
			Tag: reflect.StructTag(fmt.Sprintf(`json:%q api:%q doc:%q`, s.Key, rules, doc))})
		pf = append(pf, reflect.StructField{Name: name, Type: optionalOf(t),
			Tag: reflect.StructTag(fmt.Sprintf(`json:%q api:%q doc:%q`, s.Key, rules, doc+" null: back to the default."))})
	}
	marker := func(name string) reflect.StructField {
		return reflect.StructField{Name: schemaNameField, Type: reflect.TypeFor[struct{}](),
			Tag: reflect.StructTag(fmt.Sprintf(`json:"-" schema:%q`, name))}
	}
	return reflect.StructOf(append(vf, marker("Settings"))), reflect.StructOf(append(pf, marker("SettingsPatch")))
}

// settingType is the Go type and the api rules of a setting's value.
func settingType(s panel.Setting) (reflect.Type, string) {
	switch s.Kind {
	case panel.Bool:
		return reflect.TypeFor[bool](), ""
	case panel.Int:
		return reflect.TypeFor[int64](), fmt.Sprintf("min=%g,max=%g", s.Min, s.Max)
	case panel.Number:
		return reflect.TypeFor[float64](), fmt.Sprintf("min=%g,max=%g", s.Min, s.Max)
	case panel.Text:
		return reflect.TypeFor[string](), fmt.Sprintf("maxlen=%d", s.MaxLen)
	case panel.Enum:
		return reflect.TypeFor[string](), "enum=" + strings.Join(s.Enum, "|")
	}
	return reflect.TypeFor[[]string](), "maxitems=1000,maxlen=4096" // Networks
}

func optionalOf(t reflect.Type) reflect.Type {
	switch t {
	case reflect.TypeFor[bool]():
		return reflect.TypeFor[Optional[bool]]()
	case reflect.TypeFor[int64]():
		return reflect.TypeFor[Optional[int64]]()
	case reflect.TypeFor[float64]():
		return reflect.TypeFor[Optional[float64]]()
	case reflect.TypeFor[string]():
		return reflect.TypeFor[Optional[string]]()
	}
	return reflect.TypeFor[Optional[[]string]]()
}

// goName is the exported Go name of a setting key: connection_policy → ConnectionPolicy.
func goName(key string) string {
	var b strings.Builder
	for _, part := range strings.Split(key, "_") {
		b.WriteString(upperFirst(part))
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func defaultText(s panel.Setting) string {
	b, _ := json.Marshal(s.Default)
	return string(b)
}

func (a *API) settingsOps() []Op {
	values, patch := settingsTypes(panel.Settings)
	return []Op{
		{Method: fiber.MethodGet, Path: "/settings", ID: "getSettings", Tag: "Settings", Summary: "Get the panel settings",
			Doc:  "Every setting's current value (its default while none is set).",
			Perm: readPerm("settings"), Handler: Handler{params: reflect.TypeFor[NoParams](), body: reflect.TypeFor[NoBody](),
				result: values, run: a.getSettings}},
		{Method: fiber.MethodPatch, Path: "/settings", ID: "updateSettings", Tag: "Settings", Summary: "Change panel settings",
			Doc:  "Sets the settings given, in one change (null resets one to its default); every instance applies them within a second.",
			Perm: writePerm("settings"), Handler: Handler{params: reflect.TypeFor[NoParams](), body: patch, result: values,
				run: func(c *Call) (any, error) { return a.updateSettings(c, patch) }}},
	}
}

func (a *API) getSettings(c *Call) (any, error) {
	if len(strings.TrimSpace(string(c.fc.Body()))) > 0 {
		return nil, refuse("", "this operation takes no body")
	}
	if bad := c.decodeParams(&NoParams{}); bad != nil {
		return nil, bad
	}
	vals, err := a.d.Settings.Values(c.Context())
	return settingsOut(vals), err
}

// updateSettings decodes the body strictly as patch (the table's types and bounds), then
// hands the given members to the domain, which checks them again by the same table.
func (a *API) updateSettings(c *Call, patch reflect.Type) (any, error) {
	if bad := c.decodeParams(&NoParams{}); bad != nil {
		return nil, bad
	}
	body := c.fc.Body()
	if bad := decodeBody(body, reflect.New(patch).Interface()); bad != nil {
		return nil, bad
	}
	var changes map[string]json.RawMessage
	if err := json.Unmarshal(body, &changes); err != nil {
		return nil, refuse("", "want an object")
	}
	vals, err := a.d.Settings.Update(c.Context(), c.Principal.Actor, changes)
	return settingsOut(vals), err
}

// settingsOut is the answer: key → current value.
func settingsOut(vals []panel.Value) map[string]any {
	out := make(map[string]any, len(vals))
	for _, v := range vals {
		out[v.Key] = v.Value
	}
	return out
}
