package conns

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
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
// After is the ID of the previous page's last connection.
type ConnectionQuery struct {
	LineID    int64
	StreamID  int64
	Network   netip.Prefix // client addresses in this network (a single IP: /32, /128)
	Country   string       // ISO 3166 alpha-2 as GeoIP reports it
	Container string
	Since     time.Time // started at or after
	Owner     int64     // only connections of lines this admin owns (a reseller's view); 0: all
	After     string
	Limit     int
}

// Connections returns one page of the live connections q selects.
func (m *Manager) Connections(ctx context.Context, q ConnectionQuery) ([]Connection, error) {
	f := store.ConnectionFilter{LineID: q.LineID, StreamID: q.StreamID, Network: q.Network, Country: q.Country,
		Container: q.Container, Since: q.Since, Owner: q.Owner, Limit: q.Limit}
	switch q.Container {
	case "", ContainerTS, ContainerHLS, ContainerVOD, ContainerTimeshift:
	default:
		return nil, fmt.Errorf("connections: %w", input.Invalid("container", "ts, hls, vod or timeshift"))
	}
	if q.After != "" {
		id, err := uuid.Parse(q.After)
		if err != nil {
			return nil, fmt.Errorf("connections: %w", input.Invalid("after", "a connection id"))
		}
		last, err := m.store.LeaseByID(ctx, id)
		if err != nil { // the last connection of the page ended meanwhile: its start is unknown
			return nil, fmt.Errorf("connections: %w", input.Invalid("after", "that connection has ended; start again"))
		}
		f.AfterStarted, f.AfterID = last.StartedAt, last.ID
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

// KillConnection ends connection id (a lease id) wherever it is served, with its audit entry.
// An unknown or already ended id is not found on "id".
func (m *Manager) KillConnection(ctx context.Context, a audit.Actor, id string) error {
	lease, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("kill connection: %w", input.NotFound("id", "no such connection"))
	}
	err = m.store.InTx(ctx, func(tx *store.Store) error {
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

// KillLine ends every live connection of a line and returns how many there were; one audit
// entry records them.
func (m *Manager) KillLine(ctx context.Context, a audit.Actor, lineID int64) (int, error) {
	killed := 0
	err := m.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.LineByID(ctx, lineID); err != nil {
			return input.NotFound("id", "no such line")
		}
		ids, err := tx.LiveLeaseIDsOfLine(ctx, lineID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := m.kill(ctx, tx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			killed++
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "line.kill_connections", TargetType: "line",
			TargetID: strconv.FormatInt(lineID, 10), Extra: map[string]any{"connections": killed}})
	})
	if err != nil {
		return 0, fmt.Errorf("kill connections of line %d: %w", lineID, err)
	}
	return killed, nil
}

var connRefusals = input.Refusals{
	NotFound: &input.FieldError{Field: "id", Reason: "no such connection (it may have ended)", Kind: input.ErrNotFound},
}

func refusedConn(err error) error {
	return connRefusals.Of(err, store.ErrConflict, store.ErrNotFound, store.ErrInvalid)
}
