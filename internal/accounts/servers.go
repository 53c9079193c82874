package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Registered servers: the addresses api.php answers (their api_ips), and the public hosts of
// a load-balanced deployment. Admins manage them.

var serverRefusals = refusals{
	conflict: FieldError{Field: "name", Reason: "taken (or a second main server)", Kind: ErrConflict},
	notFound: FieldError{Field: "id", Reason: "no such server", Kind: ErrNotFound},
	invalid:  FieldError{Field: "server", Reason: "refused by the schema", Kind: ErrInvalid},
}

func checkServer(sv store.Server) error {
	switch {
	case sv.Name == "" || !input.Text(sv.Name, 4*128) || utf8.RuneCountInString(sv.Name) > 128:
		return invalid("name", "1 to 128 characters")
	case !input.Text(sv.PublicHost, 253):
		return invalid("public_host", "a host name of at most 253 characters")
	case len(sv.APIIPs) > maxListed:
		return invalid("api_ips", "at most 100 addresses or networks")
	}
	return nil
}

// AddServer registers a server (admins) and returns it.
func (s *Service) AddServer(ctx context.Context, p Principal, sv store.Server) (store.Server, error) {
	if err := adminsOnly(p); err != nil {
		return store.Server{}, fmt.Errorf("create server: %w", err)
	}
	if err := checkServer(sv); err != nil {
		return store.Server{}, fmt.Errorf("create server: %w", err)
	}
	var id int64
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if id, err = tx.CreateServer(ctx, sv); err != nil {
			return serverRefusals.of(err)
		}
		e := entry("server.create", "server", id)
		e.After = map[string]any{"name": sv.Name, "api_ips": sv.APIIPs, "enabled": sv.Enabled, "is_main": sv.IsMain}
		return audit.Record(ctx, tx, p.Actor, e)
	})
	if err != nil {
		return store.Server{}, fmt.Errorf("create server: %w", err)
	}
	return s.store.ServerByID(ctx, id)
}

// Server returns server id (admins and viewers).
func (s *Service) Server(ctx context.Context, p Principal, id int64) (store.Server, error) {
	if p.Role == RoleReseller {
		return store.Server{}, fmt.Errorf("server: %w", ErrForbidden)
	}
	sv, err := s.store.ServerByID(ctx, id)
	if err != nil {
		return store.Server{}, fmt.Errorf("server: %w", missing(err, "id", "server"))
	}
	return sv, nil
}

// ListServers returns servers in id order after afterID (admins and viewers).
func (s *Service) ListServers(ctx context.Context, p Principal, afterID int64, limit int) ([]store.Server, error) {
	if p.Role == RoleReseller {
		return nil, fmt.Errorf("list servers: %w", ErrForbidden)
	}
	out, err := s.store.ListServers(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list servers: %w", err)
	}
	return out, nil
}

// ServerPatch changes a server; fields not Given stay.
type ServerPatch struct {
	Name       Field[string]
	PublicHost Field[string]
	APIIPs     Field[[]netip.Prefix]
	IsMain     Field[bool]
	Enabled    Field[bool]
}

// UpdateServer applies patch to server id (admins).
func (s *Service) UpdateServer(ctx context.Context, p Principal, id int64, patch ServerPatch) (store.Server, error) {
	if err := adminsOnly(p); err != nil {
		return store.Server{}, fmt.Errorf("update server: %w", err)
	}
	err := s.change(ctx, p, entry("server.update", "server", id), func(tx *store.Store) (any, any, error) {
		before, err := tx.ServerByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "server")
		}
		after := before
		patch.Name.apply(&after.Name)
		patch.PublicHost.apply(&after.PublicHost)
		patch.APIIPs.apply(&after.APIIPs)
		patch.IsMain.apply(&after.IsMain)
		patch.Enabled.apply(&after.Enabled)
		if err := checkServer(after); err != nil {
			return nil, nil, err
		}
		if err := tx.UpdateServer(ctx, after); err != nil {
			return nil, nil, serverRefusals.of(err)
		}
		return before, after, nil
	})
	if err != nil {
		return store.Server{}, fmt.Errorf("update server: %w", err)
	}
	return s.store.ServerByID(ctx, id)
}

// DeleteServer deletes server id (admins).
func (s *Service) DeleteServer(ctx context.Context, p Principal, id int64) error {
	if err := adminsOnly(p); err != nil {
		return fmt.Errorf("delete server: %w", err)
	}
	err := s.change(ctx, p, entry("server.delete", "server", id), func(tx *store.Store) (any, any, error) {
		sv, err := tx.ServerByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "server")
		}
		return map[string]any{"name": sv.Name}, map[string]any{}, tx.DeleteServer(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete server: %w", err)
	}
	return nil
}

// XtreamAPIAllowed reports whether api.php answers ip: a loopback address (the panel's own
// scripts), or one of an enabled registered server's api_ips (spec §4.1).
func (s *Service) XtreamAPIAllowed(ctx context.Context, ip netip.Addr) (bool, error) {
	if ip.Unmap().IsLoopback() {
		return true, nil
	}
	ok, err := s.store.ServerAPIAllowed(ctx, ip)
	if err != nil {
		return false, fmt.Errorf("api.php allowlist: %w", err)
	}
	return ok, nil
}

// XtreamAPIKeySetting is the setting (a JSON boolean, default false) by which api.php also
// wants api_pass=<an API key> from the registered servers, beyond the original panel's check.
const XtreamAPIKeySetting = "xtream_api_require_key"

// XtreamAPIRequiresKey reads XtreamAPIKeySetting; a value that is not a boolean requires a
// key (a typo must not open the API).
func (s *Service) XtreamAPIRequiresKey(ctx context.Context) (bool, error) {
	raw, err := s.store.Setting(ctx, XtreamAPIKeySetting)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("api.php key setting: %w", err)
	}
	var on bool
	if json.Unmarshal(raw, &on) != nil {
		return true, nil
	}
	return on, nil
}
