package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Package is what resellers sell.
type Package struct {
	ID             int64     `json:"id"`
	Name           string    `json:"name"`
	DurationHours  int       `json:"duration_hours" doc:"How long a line made or extended with it runs."`
	MaxConnections int       `json:"max_connections" doc:"0: unlimited."`
	IsTrial        bool      `json:"is_trial" doc:"Trial lines count against a reseller's trials per day."`
	Credits        int64     `json:"credits" doc:"The price a reseller pays per line or extension."`
	Enabled        bool      `json:"enabled" doc:"Resellers see and use only enabled packages."`
	BouquetIDs     []int64   `json:"bouquet_ids"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func packageOf(p store.Package) Package {
	return Package{ID: p.ID, Name: p.Name, DurationHours: p.DurationHours, MaxConnections: p.MaxConnections, IsTrial: p.IsTrial,
		Credits: p.Credits, Enabled: p.Enabled, BouquetIDs: nonNil(p.BouquetIDs), CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

// PackageCreate is POST /packages's body.
type PackageCreate struct {
	Name           string  `json:"name" api:"required,minlen=1,maxlen=128"`
	DurationHours  int     `json:"duration_hours" api:"required,min=1,max=876000" doc:"e.g. 720 for 30 days, 24 for a one-day trial."`
	MaxConnections int     `json:"max_connections" api:"required,min=0,max=10000"`
	IsTrial        bool    `json:"is_trial"`
	Credits        int64   `json:"credits" api:"required,min=0,max=1000000000"`
	Enabled        *bool   `json:"enabled" doc:"Default true."`
	BouquetIDs     []int64 `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
}

// PackagePatchBody is PATCH /packages/{id}'s body.
type PackagePatchBody struct {
	Name           *string `json:"name" api:"minlen=1,maxlen=128"`
	DurationHours  *int    `json:"duration_hours" api:"min=1,max=876000"`
	MaxConnections *int    `json:"max_connections" api:"min=0,max=10000"`
	IsTrial        *bool   `json:"is_trial"`
	Credits        *int64  `json:"credits" api:"min=0,max=1000000000"`
	Enabled        *bool   `json:"enabled"`
	BouquetIDs     []int64 `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
}

func (a *API) packageOps() []Op {
	read := Perm{Scope: "packages"}
	write := Perm{Scope: "packages", Write: true, Roles: []accounts.Role{accounts.RoleAdmin}}
	return []Op{
		{Method: fiber.MethodGet, Path: "/packages", ID: "listPackages", Tag: "Packages", Summary: "List packages",
			Doc: "A reseller sees the enabled ones.", Perm: read, Handler: Handle(a.listPackages)},
		{Method: fiber.MethodPost, Path: "/packages", ID: "createPackage", Tag: "Packages", Summary: "Create a package",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createPackage)},
		{Method: fiber.MethodGet, Path: "/packages/{id}", ID: "getPackage", Tag: "Packages", Summary: "Get a package",
			Perm: read, Handler: Handle(a.getPackage)},
		{Method: fiber.MethodPatch, Path: "/packages/{id}", ID: "updatePackage", Tag: "Packages", Summary: "Change a package",
			Doc: "Lines made from it keep what they got.", Perm: write, Errors: []int{409}, Handler: Handle(a.updatePackage)},
		{Method: fiber.MethodDelete, Path: "/packages/{id}", ID: "deletePackage", Tag: "Packages", Summary: "Delete a package",
			Perm: write, Handler: Handle(a.deletePackage)},
	}
}

func (a *API) listPackages(c *Call, q PageQuery, _ NoBody) (Page[Package], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[Package]{}, bad
	}
	rows, err := a.d.Accounts.ListPackages(c.Context(), c.Principal, after, q.limit()+1)
	if err != nil {
		return Page[Package]{}, err
	}
	out := make([]Package, len(rows))
	for i, p := range rows {
		out[i] = packageOf(p)
	}
	return pageOf(out, q.limit(), func(last Package) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createPackage(c *Call, _ NoParams, in PackageCreate) (Package, error) {
	enabled := true
	if in.Enabled != nil {
		enabled = *in.Enabled
	}
	p, err := a.d.Accounts.AddPackage(c.Context(), c.Principal, store.Package{Name: in.Name, DurationHours: in.DurationHours,
		MaxConnections: in.MaxConnections, IsTrial: in.IsTrial, Credits: in.Credits, Enabled: enabled, BouquetIDs: in.BouquetIDs})
	return packageOf(p), err
}

func (a *API) getPackage(c *Call, in ByID, _ NoBody) (Package, error) {
	p, err := a.d.Accounts.Package(c.Context(), c.Principal, in.ID)
	return packageOf(p), err
}

func (a *API) updatePackage(c *Call, in ByID, b PackagePatchBody) (Package, error) {
	p, err := a.d.Accounts.UpdatePackage(c.Context(), c.Principal, in.ID, accounts.PackagePatch{Name: given(b.Name),
		DurationHours: given(b.DurationHours), MaxConnections: given(b.MaxConnections), IsTrial: given(b.IsTrial),
		Credits: given(b.Credits), Enabled: given(b.Enabled), BouquetIDs: givenList(b.BouquetIDs)})
	return packageOf(p), err
}

func (a *API) deletePackage(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.DeletePackage(c.Context(), c.Principal, in.ID)
}
