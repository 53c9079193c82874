package admin

import (
	"context"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/panel"
)

// Live connections are every instance's open viewer connections (leases); a kill reaches the
// instance serving it by NOTIFY and ends the stream within a second. Resellers see and kill
// only the connections of their lines (and their sub-resellers').

// Connection is an open viewer connection.
type Connection struct {
	ID             string    `json:"id" doc:"The connection's id (a UUID)."`
	LineID         int64     `json:"line_id"`
	Username       string    `json:"username"`
	StreamID       int64     `json:"stream_id"`
	Container      string    `json:"container" api:"enum=ts|hls|vod|timeshift"`
	ClientIP       string    `json:"client_ip"`
	UserAgent      string    `json:"user_agent"`
	Country        string    `json:"country" doc:"GeoIP country of the client (empty when unknown)."`
	ISP            string    `json:"isp"`
	InstanceID     string    `json:"instance_id" doc:"The instance serving it."`
	StartedAt      time.Time `json:"started_at"`
	ExpiresAt      time.Time `json:"expires_at" doc:"Unless its instance renews it (every 10 s while it plays)."`
	BytesOut       int64     `json:"bytes_out" doc:"Delivered, as of its instance's last heartbeat."`
	BytesPerSecond int64     `json:"bytes_per_second" doc:"Delivery rate over its instance's last heartbeat interval."`
}

func connectionOut(c conns.Connection) Connection {
	return Connection{ID: c.ID, LineID: c.LineID, Username: c.Username, StreamID: c.StreamID, Container: c.Container,
		ClientIP: c.ClientIP.String(), UserAgent: c.UserAgent, Country: c.Country, ISP: c.ISP, InstanceID: c.InstanceID,
		StartedAt: c.StartedAt, ExpiresAt: c.ExpiresAt, BytesOut: c.BytesOut, BytesPerSecond: c.BytesPerSecond}
}

type connectionList struct {
	PageQuery
	LineID    int64     `query:"line_id" api:"min=1" doc:"Only connections of this line."`
	StreamID  int64     `query:"stream_id" api:"min=1" doc:"Only connections to this stream."`
	IP        string    `query:"ip" api:"maxlen=64" doc:"Only clients at this IP, or inside this CIDR."`
	Country   string    `query:"country" pattern:"^[A-Z]{2}$" doc:"Only clients GeoIP places in this country."`
	Container string    `query:"container" api:"enum=ts|hls|vod|timeshift"`
	Since     time.Time `query:"since" doc:"Only connections started at or after this time."`
}

type connectionParams struct {
	ID string `path:"id" pattern:"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" doc:"The connection's id."`
}

// connectionsSort is the one order of the connection list (newest first); a cursor carries
// the last connection's conns cursor (its start and id) as its key, and a constant 1 as its
// numeric id (connection ids are UUIDs).
const connectionsSort = "-started_at"

func (a *API) connectionOps() []Op {
	read := Perm{Scope: "connections"}
	kill := Perm{Scope: "connections", Write: true, Roles: []accounts.Role{accounts.RoleAdmin, accounts.RoleReseller}}
	return []Op{
		{Method: fiber.MethodGet, Path: "/connections", ID: "listConnections", Tag: "Connections", Summary: "List live connections",
			Doc: "Every instance's open viewer connections, newest first.", Perm: read, Handler: Handle(a.listConnections)},
		{Method: fiber.MethodDelete, Path: "/connections/{id}", ID: "killConnection", Tag: "Connections", Summary: "Kill a connection",
			Doc:  "The stream ends within a second, on whichever instance serves it. (Every connection of a line: POST /lines/{id}/kill.)",
			Perm: kill, Handler: Handle(a.killConnection)},
	}
}

// owners is the reach of the caller's lists and kills: nil (everything) for admins and
// viewers, a reseller's subtree for a reseller.
func (a *API) owners(ctx context.Context, p accounts.Principal) ([]int64, error) {
	if p.Role != accounts.RoleReseller {
		return nil, nil
	}
	return a.d.Store.AdminSubtree(ctx, p.AdminID())
}

// network parses an IP or CIDR filter (field names it in a refusal).
func network(field, s string) (netip.Prefix, *badField) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := panel.ParseNetwork(s)
	if err != nil {
		return netip.Prefix{}, refuse(field, "an IP or CIDR")
	}
	return p, nil
}

func (a *API) listConnections(c *Call, q connectionList, _ NoBody) (Page[Connection], error) {
	var after string
	if _, bad := q.decodeCursor(connectionsSort, &after); bad != nil {
		return Page[Connection]{}, bad
	}
	nw, bad := network("ip", q.IP)
	if bad != nil {
		return Page[Connection]{}, bad
	}
	owners, err := a.owners(c.Context(), c.Principal)
	if err != nil {
		return Page[Connection]{}, err
	}
	rows, err := a.d.Conns.Connections(c.Context(), conns.ConnectionQuery{LineID: q.LineID, StreamID: q.StreamID,
		Network: nw, Country: q.Country, Container: q.Container, Since: q.Since, Owners: owners, After: after,
		Limit: q.limit() + 1})
	if err != nil {
		return Page[Connection]{}, err
	}
	page := pageOf(rows, q.limit(), func(last conns.Connection) *string { return encodeCursor(connectionsSort, last.Cursor(), 1) })
	return Page[Connection]{Items: mapSlice(page.Items, connectionOut), NextCursor: page.NextCursor}, nil
}

func (a *API) killConnection(c *Call, p connectionParams, _ NoBody) (NoContent, error) {
	owners, err := a.owners(c.Context(), c.Principal)
	if err != nil {
		return NoContent{}, err
	}
	return NoContent{}, a.d.Conns.KillConnection(c.Context(), c.Principal.Actor, p.ID, owners)
}
