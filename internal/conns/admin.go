package conns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// The admin's view of the connections: every instance's live leases with their filters, and
// kills that are audited. A kill travels to the serving instance by NOTIFY (Kill).

// Connection is a live viewer connection as the admin sees it.
type Connection struct {
	ID             string     `json:"id"` // the lease id (a UUID)
	LineID         int64      `json:"line_id"`
	Username       string     `json:"username"`
	StreamID       int64      `json:"stream_id"`
	Container      string     `json:"container"` // ts, hls, vod or timeshift
	ClientIP       netip.Addr `json:"client_ip"`
	UserAgent      string     `json:"user_agent"`
	Country        string     `json:"country"`
	ISP            string     `json:"isp"`
	InstanceID     string     `json:"instance_id"` // the instance serving it
	StartedAt      time.Time  `json:"started_at"`
	ExpiresAt      time.Time  `json:"expires_at"`       // unless renewed by its instance's heartbeat
	BytesOut       int64      `json:"bytes_out"`        // delivered, as of its instance's last heartbeat
	BytesPerSecond int64      `json:"bytes_per_second"` // over its last heartbeat interval
}

// ConnectionQuery selects connections; zero fields match everything. Pages come newest first:
// After is the Cursor of the previous page's last connection.
type ConnectionQuery struct {
	LineID    int64
	StreamID  int64
	Network   netip.Prefix // client addresses in this network (a single IP: /32, /128)
	Country   string       // ISO 3166 alpha-2 as GeoIP reports it
	Container string
	Since     time.Time // started at or after
	Owners    []int64   // only connections of lines these admins own (a reseller's subtree); nil: all
	After     string
	Limit     int
}

// Connections returns one page of the live connections q selects.
func (m *Manager) Connections(ctx context.Context, q ConnectionQuery) ([]Connection, error) {
	f := store.ConnectionFilter{LineID: q.LineID, StreamID: q.StreamID, Network: q.Network, Country: q.Country,
		Container: q.Container, Since: q.Since, Owners: q.Owners, Limit: q.Limit}
	switch q.Container {
	case "", ContainerTS, ContainerHLS, ContainerVOD, ContainerTimeshift:
	default:
		return nil, fmt.Errorf("connections: %w", input.Invalid("container", "ts, hls, vod or timeshift"))
	}
	if q.After != "" {
		at, id, ok := strings.Cut(q.After, "/")
		started, terr := time.Parse(time.RFC3339Nano, at)
		lease, uerr := uuid.Parse(id)
		if !ok || terr != nil || uerr != nil {
			return nil, fmt.Errorf("connections: %w", input.Invalid("cursor", "not a cursor of this list"))
		}
		f.AfterStarted, f.AfterID = started, lease
	}
	rows, err := m.store.SearchConnections(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("connections: %w", err)
	}
	out := make([]Connection, len(rows))
	for i, r := range rows {
		out[i] = Connection{ID: uuid.UUID(r.ID).String(), LineID: r.LineID, Username: r.Username, StreamID: r.StreamID,
			Container: r.Container, ClientIP: r.ClientIP, UserAgent: r.UserAgent, Country: r.Country, ISP: r.ISP,
			InstanceID: r.InstanceID, StartedAt: r.StartedAt, ExpiresAt: r.ExpiresAt, BytesOut: r.BytesOut,
			BytesPerSecond: r.BytesPerSecond}
	}
	return out, nil
}

// Cursor is where a page ending at c continues ("<started_at>/<id>"): a keyset position that
// stays valid after the connection ended.
func (c Connection) Cursor() string { return c.StartedAt.Format(time.RFC3339Nano) + "/" + c.ID }

// KillConnection ends connection id (a lease id) wherever it is served, with its audit entry.
// An unknown or already ended id is not found on "id"; with owners (non-nil: a reseller's
// subtree), a connection of a line they do not own is forbidden.
func (m *Manager) KillConnection(ctx context.Context, a audit.Actor, id string, owners []int64) error {
	lease, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("kill connection: %w", input.NotFound("id", "no such connection"))
	}
	err = m.store.InTx(ctx, func(tx *store.Store) error {
		if owners != nil {
			row, err := tx.LeaseByID(ctx, lease)
			if err != nil {
				return err
			}
			if err := checkOwner(ctx, tx, row.LineID, owners); err != nil {
				return err
			}
		}
		row, err := m.kill(ctx, tx, lease)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "connection.kill", TargetType: "connection",
			TargetID: lease.String(), Extra: map[string]any{"line_id": row.LineID, "stream_id": row.StreamID,
				"container": row.Container, "client_ip": row.ClientIP.String()}})
	})
	if err != nil {
		return fmt.Errorf("kill connection %s: %w", lease, refusedConn(err))
	}
	return nil
}

// checkOwner refuses a line that does not exist, or (owners non-nil) is not owned by one of
// owners.
func checkOwner(ctx context.Context, tx *store.Store, lineID int64, owners []int64) error {
	l, err := tx.LineByID(ctx, lineID)
	if errors.Is(err, store.ErrNotFound) {
		return input.NotFound("id", "no such line")
	}
	if err != nil {
		return err
	}
	if owners != nil && (l.OwnerAdminID == nil || !slices.Contains(owners, *l.OwnerAdminID)) {
		return input.Forbidden("id", "not a line of yours")
	}
	return nil
}

var connRefusals = input.Refusals{
	NotFound: &input.FieldError{Field: "id", Reason: "no such connection (it may have ended)", Kind: input.ErrNotFound},
}

func refusedConn(err error) error {
	return connRefusals.Of(err, store.ErrConflict, store.ErrNotFound, store.ErrInvalid)
}
