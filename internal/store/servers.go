package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a registered server (servers, 001_core): api.php accepts calls from its api_ips,
// and load-balanced deployments list their public hosts.
type Server struct {
	ID         int64          `db:"id" audit:"-"`
	Name       string         `db:"name"`
	PublicHost string         `db:"public_host"`
	APIIPs     []netip.Prefix `db:"api_ips"`
	IsMain     bool           `db:"is_main"`
	Enabled    bool           `db:"enabled"`
	CreatedAt  time.Time      `db:"created_at" audit:"-"`
	UpdatedAt  time.Time      `db:"updated_at" audit:"-"`
}

const serverColumns = `id, name, public_host, api_ips::text[], is_main, enabled, created_at, updated_at`

func scanServer(row pgx.CollectableRow) (Server, error) {
	var sv Server
	var ips []string
	if err := row.Scan(&sv.ID, &sv.Name, &sv.PublicHost, &ips, &sv.IsMain, &sv.Enabled, &sv.CreatedAt, &sv.UpdatedAt); err != nil {
		return Server{}, err
	}
	sv.APIIPs = []netip.Prefix{}
	for _, s := range ips {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Server{}, fmt.Errorf("server api ip %q: %w", s, err)
		}
		sv.APIIPs = append(sv.APIIPs, p)
	}
	return sv, nil
}

// CreateServer inserts a server and returns its id; a taken name (or a second main server) is
// ErrConflict.
func (s *Store) CreateServer(ctx context.Context, sv Server) (int64, error) {
	const q = `INSERT INTO servers (name, public_host, api_ips, is_main, enabled)
		VALUES ($1, $2, $3::text[]::cidr[], $4, $5) RETURNING id`
	var id int64
	if err := s.q.QueryRow(ctx, q, sv.Name, sv.PublicHost, prefixStrings(sv.APIIPs), sv.IsMain, sv.Enabled).Scan(&id); err != nil {
		return 0, fmt.Errorf("create server: %w", interpret(err))
	}
	return id, nil
}

// UpdateServer writes every field of server sv.ID.
func (s *Store) UpdateServer(ctx context.Context, sv Server) error {
	const q = `UPDATE servers SET name = $2, public_host = $3, api_ips = $4::text[]::cidr[], is_main = $5, enabled = $6
		WHERE id = $1`
	return s.execOne(ctx, "update server", q, sv.ID, sv.Name, sv.PublicHost, prefixStrings(sv.APIIPs), sv.IsMain, sv.Enabled)
}

// ServerByID returns server id.
func (s *Store) ServerByID(ctx context.Context, id int64) (Server, error) {
	rows, _ := s.q.Query(ctx, `SELECT `+serverColumns+` FROM servers WHERE id = $1`, id)
	sv, err := pgx.CollectExactlyOneRow(rows, scanServer)
	if err != nil {
		return Server{}, fmt.Errorf("server %d: %w", id, interpret(err))
	}
	return sv, nil
}

// ListServers returns servers in id order after afterID.
func (s *Store) ListServers(ctx context.Context, afterID int64, limit int) ([]Server, error) {
	return collect(ctx, s, "list servers", scanServer, `SELECT `+serverColumns+` FROM servers WHERE id > $1 ORDER BY id LIMIT $2`, afterID, clampLimit(limit))
}

// DeleteServer deletes server id.
func (s *Store) DeleteServer(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete server", `DELETE FROM servers WHERE id = $1`, id)
}

// ServerAPIAllowed reports whether ip is in the api_ips of an enabled registered server: the
// addresses api.php answers (spec §4.1).
func (s *Store) ServerAPIAllowed(ctx context.Context, ip netip.Addr) (bool, error) {
	const q = `SELECT EXISTS (SELECT 1 FROM servers sv, unnest(sv.api_ips) AS n(net) WHERE sv.enabled AND $1::inet <<= n.net)`
	var ok bool
	if err := s.q.QueryRow(ctx, q, ip.Unmap().String()).Scan(&ok); err != nil {
		return false, fmt.Errorf("server api allowed: %w", interpret(err))
	}
	return ok, nil
}
