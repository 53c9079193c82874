package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/panel"
)

// The overview: the dashboard's counts, the activity log (who watched what) and the audit log
// (who changed what). Resellers see only their lines' counts and activity; the audit log is
// for admins and viewers.

// Dashboard is the panel at a glance, counted now.
type Dashboard struct {
	Lines          DashboardLines  `json:"lines"`
	Connections    int             `json:"connections" doc:"Open viewer connections on every instance."`
	LinesOnline    int             `json:"lines_online" doc:"Lines with at least one open connection."`
	BytesPerSecond int64           `json:"bytes_per_second" doc:"Bandwidth delivered now, as of the instances' last heartbeats."`
	TopStreams     []StreamViewers `json:"top_streams" doc:"The most watched streams, most viewers first."`
}

// DashboardLines counts lines: active ones are neither expired, banned nor disabled.
type DashboardLines struct {
	Total    int `json:"total"`
	Active   int `json:"active"`
	Expired  int `json:"expired"`
	Banned   int `json:"banned"`
	Disabled int `json:"disabled"`
	Trial    int `json:"trial" doc:"Active trial lines."`
}

// StreamViewers is a stream and its open connections.
type StreamViewers struct {
	StreamID       int64  `json:"stream_id"`
	Name           string `json:"name"`
	Viewers        int    `json:"viewers"`
	BytesPerSecond int64  `json:"bytes_per_second"`
}

type dashboardParams struct {
	Top int `query:"top" api:"min=1,max=100" doc:"How many streams to rank (default 10)."`
}

// Activity is an ended viewer connection.
type Activity struct {
	ID           int64     `json:"id"`
	ConnectionID string    `json:"connection_id"`
	LineID       *int64    `json:"line_id" doc:"null once the line is deleted."`
	Username     string    `json:"username"`
	StreamID     *int64    `json:"stream_id"`
	Container    string    `json:"container"`
	ClientIP     string    `json:"client_ip"`
	Country      string    `json:"country"`
	ISP          string    `json:"isp"`
	UserAgent    string    `json:"user_agent"`
	StartedAt    time.Time `json:"started_at"`
	EndedAt      time.Time `json:"ended_at"`
	BytesOut     int64     `json:"bytes_out"`
	EndReason    string    `json:"end_reason" doc:"closed, killed, replaced, expired, shutdown … (why the connection ended)."`
}

func activityOut(e panel.Activity) Activity {
	return Activity{ID: e.ID, ConnectionID: e.LeaseID, LineID: e.LineID, Username: e.Username, StreamID: e.StreamID,
		Container: e.Container, ClientIP: e.ClientIP.String(), Country: e.Country, ISP: e.ISP, UserAgent: e.UserAgent,
		StartedAt: e.StartedAt, EndedAt: e.EndedAt, BytesOut: e.BytesOut, EndReason: e.EndReason}
}

type activityList struct {
	PageQuery
	LineID    int64     `query:"line_id" api:"min=1"`
	StreamID  int64     `query:"stream_id" api:"min=1"`
	IP        string    `query:"ip" api:"maxlen=64" doc:"An IP, or a CIDR."`
	Country   string    `query:"country" pattern:"^[A-Z]{2}$"`
	Container string    `query:"container" api:"enum=ts|hls|vod|timeshift"`
	Reason    string    `query:"reason" api:"maxlen=32" doc:"Only connections that ended for this reason."`
	Since     time.Time `query:"since" doc:"Started at or after."`
	Until     time.Time `query:"until" doc:"Started before."`
}

// AuditEntry is one admin action.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	AdminID    *int64         `json:"admin_id" doc:"null: the command line, the server itself, or a deleted admin."`
	Actor      string         `json:"actor"`
	Action     string         `json:"action" example:"line.create"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	ClientIP   *string        `json:"client_ip"`
	Detail     map[string]any `json:"detail" doc:"before and after of the changed fields (never a secret), and other detail."`
}

func auditOut(e panel.AuditEntry) AuditEntry {
	out := AuditEntry{ID: e.ID, At: e.At, AdminID: e.AdminID, Actor: e.Actor, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, Detail: e.Detail}
	if e.ClientIP != nil {
		ip := e.ClientIP.String()
		out.ClientIP = &ip
	}
	if out.Detail == nil {
		out.Detail = map[string]any{}
	}
	return out
}

type auditList struct {
	PageQuery
	AdminID    int64     `query:"admin_id" api:"min=1"`
	Action     string    `query:"action" api:"maxlen=64" doc:"An action (line.create), or a prefix ending in a dot (line.)."`
	TargetType string    `query:"target_type" api:"maxlen=64"`
	TargetID   string    `query:"target_id" api:"maxlen=128"`
	Since      time.Time `query:"since"`
}

func (a *API) overviewOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/dashboard", ID: "getDashboard", Tag: "Dashboard", Summary: "Get the dashboard counts",
			Doc:  "Lines by state, open connections, the most watched streams and the bandwidth now (a reseller: its own lines).",
			Perm: Perm{Scope: "dashboard"}, Handler: Handle(a.dashboard)},
		{Method: fiber.MethodGet, Path: "/activity", ID: "searchActivity", Tag: "Logs", Summary: "Search the activity log",
			Doc: "Ended viewer connections, newest first (a reseller: its own lines').", Perm: Perm{Scope: "logs"},
			Handler: Handle(a.activity)},
		{Method: fiber.MethodGet, Path: "/audit", ID: "searchAudit", Tag: "Logs", Summary: "Search the audit log",
			Doc: "Admin actions, newest first.", Perm: readPerm("logs"), Handler: Handle(a.audit)},
	}
}

func (a *API) dashboard(c *Call, q dashboardParams, _ NoBody) (Dashboard, error) {
	owners, err := a.owners(c.Context(), c.Principal)
	if err != nil {
		return Dashboard{}, err
	}
	d, err := a.d.Overview.Dashboard(c.Context(), owners, q.Top)
	if err != nil {
		return Dashboard{}, err
	}
	return Dashboard{Lines: DashboardLines(d.Lines), Connections: d.Connections, LinesOnline: d.LinesOnline,
		BytesPerSecond: d.BytesPerSecond,
		TopStreams:     mapSlice(d.TopStreams, func(s panel.StreamViewers) StreamViewers { return StreamViewers(s) })}, nil
}

func (a *API) activity(c *Call, q activityList, _ NoBody) (Page[Activity], error) {
	before, bad := q.decodeCursor("-id", nil)
	if bad != nil {
		return Page[Activity]{}, bad
	}
	nw, bad := network("ip", q.IP)
	if bad != nil {
		return Page[Activity]{}, bad
	}
	owners, err := a.owners(c.Context(), c.Principal)
	if err != nil {
		return Page[Activity]{}, err
	}
	rows, err := a.d.Overview.Activity(c.Context(), panel.ActivityQuery{LineID: q.LineID, StreamID: q.StreamID, Network: nw,
		Country: q.Country, Container: q.Container, Reason: q.Reason, Since: q.Since, Until: q.Until, Owners: owners,
		Before: before, Limit: q.limit() + 1})
	if err != nil {
		return Page[Activity]{}, err
	}
	return pageOf(mapSlice(rows, activityOut), q.limit(), func(last Activity) *string {
		return encodeCursor("-id", nil, last.ID)
	}), nil
}

func (a *API) audit(c *Call, q auditList, _ NoBody) (Page[AuditEntry], error) {
	before, bad := q.decodeCursor("-id", nil)
	if bad != nil {
		return Page[AuditEntry]{}, bad
	}
	rows, err := a.d.Overview.Audit(c.Context(), panel.AuditQuery{AdminID: q.AdminID, Action: q.Action,
		TargetType: q.TargetType, TargetID: q.TargetID, Since: q.Since, Before: before, Limit: q.limit() + 1})
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	return pageOf(mapSlice(rows, auditOut), q.limit(), func(last AuditEntry) *string {
		return encodeCursor("-id", nil, last.ID)
	}), nil
}
