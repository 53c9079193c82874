package admin

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/panel"
)

// The settings page: every setting of panel.Settings as a labelled field with its help text
// and default, saved through PATCH /api/v1/settings' operation (its types, bounds, audit
// entry and refusals, shown next to the setting refused). Only the settings whose value was
// changed are sent, so saving the page leaves the others at their default rather than storing
// it; "Use the default" resets one.

func (a *API) webSettingsRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/settings", Roles: staff, Handler: a.settingsPage},
		{Method: fiber.MethodPost, Path: "/settings", Roles: staff, Handler: a.settingsSubmit},
	}
}

// settingsData is the settings page's data.
type settingsData struct {
	Fields []fieldSpec
	Can    map[string]bool
}

var settingsNotices = map[string]string{"saved": "The settings were saved; every instance applies them within a second."}

// settingsView reads the current values (posted again after a refusal) into the fields.
func (a *API) settingsView(w *webCall, v *view) error {
	cur, err := webRun[map[string]any](w, "getSettings", nil, nil)
	if err != nil {
		return err
	}
	d := settingsData{Can: w.can("updateSettings")}
	for _, s := range panel.Settings {
		f := newField(v, s.Key, settingLabel(s.Key), settingInput(s), settingText(s, cur[s.Key]))
		if s.Kind == panel.Bool {
			f = newField(v, s.Key, settingLabel(s.Key), "checkbox", cur[s.Key] == true)
		}
		f.Hint = upperFirst(s.Doc) + ". Default: " + settingDefault(s) + "."
		if s.Kind == panel.Enum {
			f.Options = newOptions(pairs(s.Enum)...)
		}
		if s.Kind == panel.Networks {
			f.Hint = upperFirst(s.Doc) + ": one IP or CIDR a line."
		}
		d.Fields = append(d.Fields, f)
	}
	v.Data = d
	return nil
}

func (a *API) settingsPage(w *webCall) error {
	v := w.view("Settings", "/settings", nil)
	if err := a.settingsView(w, v); err != nil {
		return err
	}
	v.Notice = notice(w.c, settingsNotices)
	return a.render(w.c, "settings", v)
}

// settingsSubmit sends the settings the form changed (and the ones to reset, as null).
func (a *API) settingsSubmit(w *webCall) error {
	cur, err := webRun[map[string]any](w, "getSettings", nil, nil)
	if err != nil {
		return err
	}
	_, err = webSubmitForm[map[string]any](w, "updateSettings", settingsChanges(formValues(w.c), cur))
	if err == nil {
		return w.c.Redirect("/admin/settings?done=saved", fiber.StatusSeeOther)
	}
	v := w.view("Settings", "/settings", nil)
	if !v.refused(err) {
		return err
	}
	v.Form = formValues(w.c)
	if verr := a.settingsView(w, v); verr != nil {
		return verr
	}
	return a.render(w.c, "settings", v)
}

// settingsChanges is the form of the PATCH: the settings whose posted value differs from cur,
// and the ones ticked "Use the default" (_reset) as empty listed fields, which are sent as
// null. An unticked checkbox is posted as nothing: false.
func settingsChanges(posted url.Values, cur map[string]any) url.Values {
	out := url.Values{}
	var reset []string
	for _, s := range panel.Settings {
		text := strings.TrimSpace(posted.Get(s.Key))
		switch {
		case slices.Contains(posted["_reset"], s.Key):
			reset = append(reset, s.Key)
			out.Set(s.Key, "")
		case s.Kind == panel.Bool:
			if on := text == "true" || text == "on"; on != (cur[s.Key] == true) {
				out.Set(s.Key, strconv.FormatBool(on))
			}
		case s.Kind == panel.Networks:
			if items := strings.Join(splitItems(text, false), "\n"); items != settingText(s, cur[s.Key]) {
				out.Set(s.Key, items)
				if items == "" {
					reset = append(reset, s.Key) // emptied: [] is the default
				}
			}
		case text != settingText(s, cur[s.Key]):
			out.Set(s.Key, text)
			if text == "" && s.Kind != panel.Text {
				reset = append(reset, s.Key)
			}
		}
	}
	out.Set("_fields", strings.Join(reset, " "))
	return out
}

// settingInput is the input type of a setting's field.
func settingInput(s panel.Setting) string {
	switch s.Kind {
	case panel.Int:
		return "number"
	case panel.Enum:
		return "select"
	case panel.Networks:
		return "textarea"
	case panel.Text:
		if s.MaxLen > 256 {
			return "textarea"
		}
	}
	return "text" // a Number takes a fraction (the number input's step would refuse it)
}

// settingText is a setting's value as its field shows it.
func settingText(s panel.Setting, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []string:
		return strings.Join(x, "\n")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, "\n")
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// settingDefault is a setting's default as the hint says it.
func settingDefault(s panel.Setting) string {
	t := settingText(s, s.Default)
	switch {
	case s.Kind == panel.Bool:
		return map[bool]string{true: "on", false: "off"}[s.Default == true]
	case t == "":
		return "none"
	}
	return t
}

// settingLabel is a setting key as a label: flood_block_seconds → Flood block seconds.
func settingLabel(key string) string {
	return upperFirst(strings.ReplaceAll(key, "_", " "))
}

// pairs is a select's options of values that are their own labels.
func pairs(values []string) []string {
	out := make([]string, 0, 2*len(values))
	for _, v := range values {
		out = append(out, v, strings.ReplaceAll(v, "_", " "))
	}
	return out
}
