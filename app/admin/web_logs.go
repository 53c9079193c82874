package admin

import (
	"encoding/json"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The log pages: the activity log (ended viewer connections) and the refused requests (the
// client log: which player was refused and why), where a reseller sees its own lines', and
// the audit log (who changed what; admins and viewers), newest first, filtered and paged by
// keyset as /api/v1/activity, /api/v1/denials and /api/v1/audit are.

func (a *API) webLogRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/activity", Handler: a.activityPage},
		{Method: fiber.MethodGet, Path: "/activity/denials", Handler: a.denialsPage},
		{Method: fiber.MethodGet, Path: "/audit", Roles: staff, Handler: a.auditPage},
	}
}

var activityTabs = []navItem{{Label: "Connections", Path: "/activity"}, {Label: "Refused requests", Path: "/activity/denials"}}

// logData is a log page's data: its rows and the tabs between the activity logs.
type logData[Row any] struct {
	listData[Row]
	tabs
}

// auditRow is an audit entry with its detail as JSON text.
type auditRow struct {
	AuditEntry
	DetailText string
}

func (a *API) activityPage(w *webCall) error {
	return logPage(w, "Activity", "/activity", "activity", "searchActivity", func(e Activity) Activity { return e })
}

func (a *API) denialsPage(w *webCall) error {
	return logPage(w, "Refused requests", "/activity/denials", "denials", "searchDenials", func(e Denial) Denial { return e })
}

func (a *API) auditPage(w *webCall) error {
	return logPage(w, "Audit log", "/audit", "audit", "searchAudit", func(e AuditEntry) auditRow {
		b, _ := json.Marshal(e.Detail)
		return auditRow{AuditEntry: e, DetailText: string(b)}
	})
}

// logPage answers the log page at path (template tmpl): the rows of operation opID for the
// request's filters (the times typed in the panel's zone), each made a row by row; a refused
// filter shows next to its field over an empty list.
func logPage[T, Row any](w *webCall, title, path, tmpl, opID string, row func(T) Row) error {
	q := requestQuery(w.c)
	nav := path
	if nav != "/audit" {
		nav = "/activity"
	}
	v := w.view(title, nav, nil)
	page, err := webRun[Page[T]](w, opID, logQuery(w, q), nil)
	if err != nil && !v.refused(err) {
		return err
	}
	rows := Page[Row]{Items: mapSlice(page.Items, row), NextCursor: page.NextCursor}
	v.Data = logData[Row]{listData: webList(rows, q, "/admin"+path),
		tabs: tabs{Tabs: activityTabs, TabPath: path, TabsLabel: "Activity logs"}}
	return w.a.render(w.c, tmpl, v)
}

// logQuery is q with its since and until as RFC 3339 (an <input type="datetime-local"> sends
// them in the panel's zone, without one); a time that is none is left for the operation to
// refuse on its field.
func logQuery(w *webCall, q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	for _, k := range []string{"since", "until"} {
		if s := q.Get(k); s != "" {
			if t, err := parseFormTime(s, w.a.d.Config.Timezone); err == nil {
				out.Set(k, t.Format(time.RFC3339))
			}
		}
	}
	return out
}
