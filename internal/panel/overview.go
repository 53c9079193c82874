package panel

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Overview answers the admin's questions about the panel as a whole: the dashboard's counts,
// the activity log (who watched what) and the audit log (who changed what). It only reads.
type Overview struct {
	store *store.Store
}

// NewOverview returns the overview of st.
func NewOverview(st *store.Store) *Overview { return &Overview{store: st} }

// Dashboard is the panel at a glance.
type Dashboard struct {
	Lines          LineCounts      `json:"lines"`
	Connections    int             `json:"connections"`      // live viewer connections, every instance
	LinesOnline    int             `json:"lines_online"`     // lines with at least one
	BytesPerSecond int64           `json:"bytes_per_second"` // delivered now, as of the instances' last heartbeats
	TopStreams     []StreamViewers `json:"top_streams"`      // the most watched, most first
}

// LineCounts counts lines: active ones are neither expired, banned nor disabled; trial counts
// the active trial lines.
type LineCounts struct {
	Total    int `json:"total"`
	Active   int `json:"active"`
	Expired  int `json:"expired"`
	Banned   int `json:"banned"`
	Disabled int `json:"disabled"`
	Trial    int `json:"trial"`
}

// StreamViewers is a stream and its live connections.
type StreamViewers struct {
	StreamID       int64  `json:"stream_id"`
	Name           string `json:"name"`
	Viewers        int    `json:"viewers"`
	BytesPerSecond int64  `json:"bytes_per_second"`
}

// Dashboard counts the panel now: every line and connection, or, with owners (non-nil: a
// reseller's subtree), only their lines and those lines' connections; top is how many streams
// to rank (default 10, at most 100).
func (o *Overview) Dashboard(ctx context.Context, owners []int64, top int) (Dashboard, error) {
	if top <= 0 {
		top = 10
	}
	d, err := o.store.DashboardCounts(ctx, owners, min(top, 100))
	if err != nil {
		return Dashboard{}, err
	}
	out := Dashboard{Lines: LineCounts(d.Lines), Connections: d.Connections, LinesOnline: d.LinesOnline,
		BytesPerSecond: d.BytesPerSecond, TopStreams: make([]StreamViewers, len(d.TopStreams))}
	for i, t := range d.TopStreams {
		out.TopStreams[i] = StreamViewers(t)
	}
	return out, nil
}

// Activity is one ended viewer connection.
type Activity struct {
	ID        int64      `json:"id"`
	LeaseID   string     `json:"connection_id"`
	LineID    *int64     `json:"line_id"` // nil once the line is deleted
	Username  string     `json:"username"`
	StreamID  *int64     `json:"stream_id"`
	Container string     `json:"container"`
	ClientIP  netip.Addr `json:"client_ip"`
	Country   string     `json:"country"`
	ISP       string     `json:"isp"`
	UserAgent string     `json:"user_agent"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   time.Time  `json:"ended_at"`
	BytesOut  int64      `json:"bytes_out"`
	EndReason string     `json:"end_reason"` // closed, killed, replaced, expired, shutdown …
}

// ActivityQuery selects activity entries; zero fields match everything. Entries come newest
// first; Before (the previous page's last ID) pages them.
type ActivityQuery struct {
	LineID    int64
	StreamID  int64
	Network   netip.Prefix
	Country   string
	Container string
	Reason    string
	Since     time.Time
	Until     time.Time
	Owners    []int64 // only lines of these admins (a reseller's subtree); nil: all
	Before    int64
	Limit     int
}

var wordRE = regexp.MustCompile(`^[a-z_]{1,32}$`)

// Activity returns one page of the activity log.
func (o *Overview) Activity(ctx context.Context, q ActivityQuery) ([]Activity, error) {
	if q.Reason != "" && !wordRE.MatchString(q.Reason) {
		return nil, fmt.Errorf("activity: %w", input.Invalid("reason", "an end reason (closed, killed …)"))
	}
	if !input.Text(q.Country, 8) || !input.Text(q.Container, 16) {
		return nil, fmt.Errorf("activity: %w", input.Invalid("country", "a country code"))
	}
	rows, err := o.store.SearchActivity(ctx, store.ActivityFilter{LineID: q.LineID, StreamID: q.StreamID, Network: q.Network,
		Country: q.Country, Container: q.Container, Reason: q.Reason, Since: q.Since, Until: q.Until, Owners: q.Owners,
		BeforeID: q.Before, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	out := make([]Activity, len(rows))
	for i, r := range rows {
		out[i] = Activity{ID: r.ID, LeaseID: uuid.UUID(r.LeaseID).String(), LineID: r.LineID, Username: r.Username,
			StreamID: r.StreamID, Container: r.Container, ClientIP: r.ClientIP, Country: r.Country, ISP: r.ISP,
			UserAgent: r.UserAgent, StartedAt: r.StartedAt, EndedAt: r.EndedAt, BytesOut: r.BytesOut, EndReason: r.EndReason}
	}
	return out, nil
}

// AuditEntry is one admin action of the audit log.
type AuditEntry struct {
	ID         int64          `json:"id"`
	At         time.Time      `json:"at"`
	AdminID    *int64         `json:"admin_id"` // nil: the command line, the system, or a deleted admin
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	ClientIP   *netip.Addr    `json:"client_ip"`
	Detail     map[string]any `json:"detail"` // before/after of the changed fields, never a secret
}

// AuditQuery selects audit entries; zero fields match everything. Action is exact, or a
// prefix ending in "." ("line." for every line action). Before pages, newest first.
type AuditQuery struct {
	AdminID    int64
	Action     string
	TargetType string
	TargetID   string
	Since      time.Time
	Before     int64
	Limit      int
}

var actionRE = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)

// Audit returns one page of the audit log.
func (o *Overview) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	if q.Action != "" && !actionRE.MatchString(q.Action) {
		return nil, fmt.Errorf("audit: %w", input.Invalid("action", `an action ("line.create") or a prefix ("line.")`))
	}
	if !input.Text(q.TargetType, 64) || !input.Text(q.TargetID, 128) {
		return nil, fmt.Errorf("audit: %w", input.Invalid("target_id", "at most 128 bytes of text"))
	}
	rows, err := o.store.SearchAudit(ctx, store.AuditFilter{AdminID: q.AdminID, Action: q.Action, TargetType: q.TargetType,
		TargetID: q.TargetID, Since: q.Since, BeforeID: q.Before, Limit: q.Limit})
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = AuditEntry(r)
	}
	return out, nil
}
