package admin

import (
	"net/netip"
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

// Denial is a refused player request (the client log; never a password or token).
type Denial struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	LineID    *int64    `json:"line_id" doc:"null: no such line (a wrong username), or deleted since."`
	Username  string    `json:"username" doc:"As the client sent it."`
	Code      string    `json:"code" example:"AUTH_FAILED" doc:"Why: AUTH_FAILED, USER_EXPIRED, USER_BAN, USER_DISABLED, IP_BAN, COUNTRY_DISALLOW, USER_AGENT_BAN, ISP_LOCK_FAILED, USER_ALREADY_CONNECTED, NOT_IN_BOUQUET, USER_DISALLOW_EXT, FLOOD_BLOCKED …"`
	Surface   string    `json:"surface" example:"player_api"`
	ClientIP  *string   `json:"client_ip"`
	UserAgent string    `json:"user_agent"`
	StreamID  *int64    `json:"stream_id"`
}

func denialOut(d panel.Denial) Denial {
	out := Denial{ID: d.ID, At: d.At, LineID: d.LineID, Username: d.Username, Code: d.Code, Surface: d.Surface,
		UserAgent: d.UserAgent, StreamID: d.StreamID}
	if d.ClientIP != nil {
		ip := d.ClientIP.String()
		out.ClientIP = &ip
	}
	return out
}

type denialList struct {
	PageQuery
	LineID  int64     `query:"line_id" api:"min=1"`
	Code    string    `query:"code" api:"maxlen=64" doc:"Only refusals of this code."`
	Surface string    `query:"surface" api:"maxlen=32" doc:"Only refusals on this surface (player_api, get, stream, portal …)."`
	IP      string    `query:"ip" api:"maxlen=64" doc:"An IP, or a CIDR."`
	Since   time.Time `query:"since" doc:"At or after."`
	Until   time.Time `query:"until" doc:"Before."`
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
		{Method: fiber.MethodGet, Path: "/denials", ID: "searchDenials", Tag: "Logs", Summary: "Search the refused requests",
			Doc:  "The client log: player requests the check refused, with why, newest first (a reseller: its own lines').",
			Perm: Perm{Scope: "logs"}, Handler: Handle(a.denials)},
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
	return ownedLog(a, c, q.PageQuery, q.IP, func(s logScope) ([]panel.Activity, error) {
		return a.d.Overview.Activity(c.Context(), panel.ActivityQuery{LineID: q.LineID, StreamID: q.StreamID, Network: s.network,
			Country: q.Country, Container: q.Container, Reason: q.Reason, Since: q.Since, Until: q.Until, Owners: s.owners,
			Before: s.before, Limit: s.limit})
	}, activityOut, func(e Activity) int64 { return e.ID })
}

func (a *API) denials(c *Call, q denialList, _ NoBody) (Page[Denial], error) {
	return ownedLog(a, c, q.PageQuery, q.IP, func(s logScope) ([]panel.Denial, error) {
		return a.d.Overview.Denials(c.Context(), panel.DenialQuery{LineID: q.LineID, Code: q.Code, Surface: q.Surface,
			Network: s.network, Since: q.Since, Until: q.Until, Owners: s.owners, Before: s.before, Limit: s.limit})
	}, denialOut, func(d Denial) int64 { return d.ID })
}

// logScope is what ownedLog works out for a log's search: the ip filter as a network, the
// caller's owners (a reseller's subtree; nil: every line), the page's keyset and size.
type logScope struct {
	network netip.Prefix
	owners  []int64
	before  int64
	limit   int
}

// ownedLog answers one page of a log newest first by id, of which a reseller sees only its
// lines' part: fetch reads the rows of a scope, out makes them answers.
func ownedLog[E, T any](a *API, c *Call, pq PageQuery, ip string, fetch func(logScope) ([]E, error), out func(E) T,
	id func(T) int64) (Page[T], error) {
	before, bad := pq.decodeCursor("-id", nil)
	if bad != nil {
		return Page[T]{}, bad
	}
	nw, bad := network("ip", ip)
	if bad != nil {
		return Page[T]{}, bad
	}
	owners, err := a.owners(c.Context(), c.Principal)
	if err != nil {
		return Page[T]{}, err
	}
	rows, err := fetch(logScope{network: nw, owners: owners, before: before, limit: pq.limit() + 1})
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf(mapSlice(rows, out), pq.limit(), func(last T) *string { return encodeCursor("-id", nil, id(last)) }), nil
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
