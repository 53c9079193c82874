package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Server is a registered server: api.php answers its api_ips.
type Server struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	PublicHost string    `json:"public_host"`
	APIIPs     []string  `json:"api_ips" doc:"Addresses or networks api.php accepts calls from (besides loopback)."`
	IsMain     bool      `json:"is_main"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func serverOf(s store.Server) Server {
	out := Server{ID: s.ID, Name: s.Name, PublicHost: s.PublicHost, APIIPs: []string{}, IsMain: s.IsMain, Enabled: s.Enabled,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	for _, p := range s.APIIPs {
		out.APIIPs = append(out.APIIPs, prefixString(p))
	}
	return out
}

// ServerCreate is POST /servers's body.
type ServerCreate struct {
	Name       string   `json:"name" api:"required,minlen=1,maxlen=128"`
	PublicHost string   `json:"public_host" api:"maxlen=253"`
	APIIPs     []string `json:"api_ips" api:"maxitems=100,maxlen=64" doc:"IPs or CIDRs."`
	IsMain     bool     `json:"is_main"`
	Enabled    *bool    `json:"enabled" doc:"Default true."`
}

// ServerPatchBody is PATCH /servers/{id}'s body.
type ServerPatchBody struct {
	Name       *string  `json:"name" api:"minlen=1,maxlen=128"`
	PublicHost *string  `json:"public_host" api:"maxlen=253"`
	APIIPs     []string `json:"api_ips" api:"maxitems=100,maxlen=64"`
	IsMain     *bool    `json:"is_main"`
	Enabled    *bool    `json:"enabled"`
}

func (a *API) serverOps() []Op {
	read := Perm{Scope: "servers", Roles: []accounts.Role{accounts.RoleAdmin, accounts.RoleViewer}}
	write := Perm{Scope: "servers", Write: true, Roles: []accounts.Role{accounts.RoleAdmin}}
	return []Op{
		{Method: fiber.MethodGet, Path: "/servers", ID: "listServers", Tag: "Servers", Summary: "List registered servers",
			Perm: read, Handler: Handle(a.listServers)},
		{Method: fiber.MethodPost, Path: "/servers", ID: "createServer", Tag: "Servers", Summary: "Register a server",
			Doc:  "Its api_ips may call api.php.",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createServer)},
		{Method: fiber.MethodGet, Path: "/servers/{id}", ID: "getServer", Tag: "Servers", Summary: "Get a registered server",
			Perm: read, Handler: Handle(a.getServer)},
		{Method: fiber.MethodPatch, Path: "/servers/{id}", ID: "updateServer", Tag: "Servers", Summary: "Change a registered server",
			Perm: write, Errors: []int{409}, Handler: Handle(a.updateServer)},
		{Method: fiber.MethodDelete, Path: "/servers/{id}", ID: "deleteServer", Tag: "Servers", Summary: "Remove a registered server",
			Perm: write, Handler: Handle(a.deleteServer)},
	}
}

func (a *API) listServers(c *Call, q PageQuery, _ NoBody) (Page[Server], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[Server]{}, bad
	}
	rows, err := a.d.Accounts.ListServers(c.Context(), c.Principal, after, q.limit()+1)
	if err != nil {
		return Page[Server]{}, err
	}
	out := make([]Server, len(rows))
	for i, s := range rows {
		out[i] = serverOf(s)
	}
	return pageOf(out, q.limit(), func(last Server) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createServer(c *Call, _ NoParams, in ServerCreate) (Server, error) {
	ips, err := prefixes(nonNil(in.APIIPs), "api_ips")
	if err != nil {
		return Server{}, err
	}
	enabled := true
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	s, err := a.d.Accounts.AddServer(c.Context(), c.Principal, store.Server{Name: in.Name, PublicHost: in.PublicHost,
		APIIPs: ips, IsMain: in.IsMain, Enabled: enabled})
	return serverOf(s), err
}

func (a *API) getServer(c *Call, in ByID, _ NoBody) (Server, error) {
	s, err := a.d.Accounts.Server(c.Context(), c.Principal, in.ID)
	return serverOf(s), err
}

func (a *API) updateServer(c *Call, in ByID, b ServerPatchBody) (Server, error) {
	patch := accounts.ServerPatch{Name: given(b.Name), PublicHost: given(b.PublicHost), IsMain: given(b.IsMain), Enabled: given(b.Enabled)}
	if b.APIIPs != nil {
		ips, err := prefixes(b.APIIPs, "api_ips")
		if err != nil {
			return Server{}, err
		}
		patch.APIIPs = accounts.Set(ips)
	}
	s, err := a.d.Accounts.UpdateServer(c.Context(), c.Principal, in.ID, patch)
	return serverOf(s), err
}

func (a *API) deleteServer(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.DeleteServer(c.Context(), c.Principal, in.ID)
}
