package admin

import (
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/panel"
)

// The global security lists: steps 5 to 8 of the check read them, and every instance reloads
// them within a second of a change.

// BlockedIP is a blocked address or network.
type BlockedIP struct {
	ID        int64      `json:"id"`
	Network   string     `json:"network" doc:"A CIDR (a single address is a /32 or /128)."`
	Source    string     `json:"source" api:"enum=admin|flood" doc:"flood: set by the failed-login protection."`
	Reason    string     `json:"reason"`
	ExpiresAt *time.Time `json:"expires_at" doc:"null: until removed."`
	CreatedAt time.Time  `json:"created_at"`
}

func blockedIPOut(b panel.BlockedIP) BlockedIP {
	return BlockedIP{ID: b.ID, Network: b.Network.String(), Source: b.Source, Reason: b.Reason, ExpiresAt: b.ExpiresAt,
		CreatedAt: b.CreatedAt}
}

type newBlockedIP struct {
	Network   string     `json:"network" api:"required,minlen=1,maxlen=64" doc:"An IP or a CIDR." example:"203.0.113.0/24"`
	Reason    string     `json:"reason" api:"maxlen=512"`
	ExpiresAt *time.Time `json:"expires_at" api:"nullable" doc:"Absent or null: until removed."`
}

type blockedIPList struct {
	PageQuery
	Source   string `query:"source" api:"enum=admin|flood" doc:"Only blocks of this source."`
	Contains string `query:"contains" api:"maxlen=64" doc:"Only blocks that hold this address."`
}

// BlockedUserAgent is a blocked User-Agent rule (ignoring case).
type BlockedUserAgent struct {
	ID        int64     `json:"id"`
	Pattern   string    `json:"pattern"`
	Match     string    `json:"match" api:"enum=exact|substring" doc:"exact: the whole User-Agent; substring: anywhere in it."`
	CreatedAt time.Time `json:"created_at"`
}

type newBlockedUserAgent struct {
	Pattern string `json:"pattern" api:"required,minlen=1,maxlen=512"`
	Match   string `json:"match" api:"enum=exact|substring" doc:"Default substring."`
}

type userAgentList struct {
	PageQuery
	Pattern string `query:"pattern" api:"maxlen=512" doc:"Only rules whose pattern contains this."`
}

// BlockedISP blocks an ISP (by the GeoIP ISP name, ignoring case) or an autonomous system.
type BlockedISP struct {
	ID        int64     `json:"id"`
	ISPName   *string   `json:"isp_name" doc:"Set for an ISP block."`
	ASN       *int64    `json:"asn" doc:"Set for an autonomous-system block."`
	CreatedAt time.Time `json:"created_at"`
}

type newBlockedISP struct {
	ISPName *string `json:"isp_name" api:"minlen=1,maxlen=256" doc:"Give this or asn."`
	ASN     *int64  `json:"asn" api:"min=0,max=4294967295" doc:"Give this or isp_name."`
}

// AllowedCountries are the countries lines without a forced country may connect from.
type AllowedCountries struct {
	Countries []string `json:"countries" api:"required,minitems=1,maxitems=300" pattern:"^([A-Za-z]{2}|ALL)$" doc:"ISO 3166 alpha-2 codes, or [\"ALL\"] for every country."`
}

type idList struct {
	PageQuery
}

func (a *API) securityOps() []Op {
	read, write := readPerm("security"), writePerm("security")
	return []Op{
		{Method: fiber.MethodGet, Path: "/security/blocked-ips", ID: "listBlockedIPs", Tag: "Security", Summary: "List blocked IPs and networks",
			Doc: "The live blocks, admins' and the flood protection's.", Perm: read, Handler: Handle(a.listBlockedIPs)},
		{Method: fiber.MethodPost, Path: "/security/blocked-ips", ID: "blockIP", Tag: "Security", Summary: "Block an IP or network",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.blockIP)},
		{Method: fiber.MethodDelete, Path: "/security/blocked-ips/{id}", ID: "unblockIP", Tag: "Security", Summary: "Remove a block",
			Perm: write, Handler: Handle(a.unblockIP)},
		{Method: fiber.MethodGet, Path: "/security/blocked-user-agents", ID: "listBlockedUserAgents", Tag: "Security",
			Summary: "List blocked user agents", Perm: read, Handler: Handle(a.listBlockedUserAgents)},
		{Method: fiber.MethodPost, Path: "/security/blocked-user-agents", ID: "blockUserAgent", Tag: "Security",
			Summary: "Block a user agent", Doc: "Lines with bypass_ua_block ignore the list.",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.blockUserAgent)},
		{Method: fiber.MethodDelete, Path: "/security/blocked-user-agents/{id}", ID: "unblockUserAgent", Tag: "Security",
			Summary: "Remove a user-agent rule", Perm: write, Handler: Handle(a.unblockUserAgent)},
		{Method: fiber.MethodGet, Path: "/security/blocked-isps", ID: "listBlockedISPs", Tag: "Security",
			Summary: "List blocked ISPs and ASNs", Perm: read, Handler: Handle(a.listBlockedISPs)},
		{Method: fiber.MethodPost, Path: "/security/blocked-isps", ID: "blockISP", Tag: "Security", Summary: "Block an ISP or ASN",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.blockISP)},
		{Method: fiber.MethodDelete, Path: "/security/blocked-isps/{id}", ID: "unblockISP", Tag: "Security",
			Summary: "Remove an ISP or ASN block", Perm: write, Handler: Handle(a.unblockISP)},
		{Method: fiber.MethodGet, Path: "/security/allowed-countries", ID: "getAllowedCountries", Tag: "Security",
			Summary: "Get the allowed countries", Perm: read, Handler: Handle(a.getAllowedCountries)},
		{Method: fiber.MethodPut, Path: "/security/allowed-countries", ID: "setAllowedCountries", Tag: "Security",
			Summary: "Replace the allowed countries", Doc: "A line's forced country, when set, wins over this list.",
			Perm: write, Handler: Handle(a.setAllowedCountries)},
	}
}

// idPage answers one page of a list ordered by id (the security lists).
func idPage[T any](q PageQuery, fetch func(after int64, limit int) ([]T, error), id func(T) int64) (Page[T], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[T]{}, bad
	}
	rows, err := fetch(after, q.limit()+1)
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf(rows, q.limit(), func(last T) *string { return encodeCursor("id", nil, id(last)) }), nil
}

func (a *API) listBlockedIPs(c *Call, q blockedIPList, _ NoBody) (Page[BlockedIP], error) {
	var contains netip.Addr
	if q.Contains != "" {
		ip, err := netip.ParseAddr(q.Contains)
		if err != nil || ip.Zone() != "" { // PostgreSQL's inet has no zones
			return Page[BlockedIP]{}, refuse("contains", "an IP address")
		}
		contains = ip.Unmap()
	}
	return idPage(q.PageQuery, func(after int64, limit int) ([]BlockedIP, error) {
		rows, err := a.d.Security.BlockedIPs(c.Context(), q.Source, contains, panel.Page{After: after, Limit: limit})
		return mapSlice(rows, blockedIPOut), err
	}, func(b BlockedIP) int64 { return b.ID })
}

func (a *API) blockIP(c *Call, _ NoParams, in newBlockedIP) (BlockedIP, error) {
	b, err := a.d.Security.BlockIP(c.Context(), c.Principal.Actor, in.Network, in.Reason, in.ExpiresAt)
	return blockedIPOut(b), err
}

func (a *API) unblockIP(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Security.UnblockIP(c.Context(), c.Principal.Actor, p.ID)
}

func (a *API) listBlockedUserAgents(c *Call, q userAgentList, _ NoBody) (Page[BlockedUserAgent], error) {
	return idPage(q.PageQuery, func(after int64, limit int) ([]BlockedUserAgent, error) {
		rows, err := a.d.Security.BlockedUserAgents(c.Context(), q.Pattern, panel.Page{After: after, Limit: limit})
		return mapSlice(rows, func(r panel.BlockedUserAgent) BlockedUserAgent { return BlockedUserAgent(r) }), err
	}, func(b BlockedUserAgent) int64 { return b.ID })
}

func (a *API) blockUserAgent(c *Call, _ NoParams, in newBlockedUserAgent) (BlockedUserAgent, error) {
	r, err := a.d.Security.BlockUserAgent(c.Context(), c.Principal.Actor, in.Pattern, in.Match)
	return BlockedUserAgent(r), err
}

func (a *API) unblockUserAgent(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Security.UnblockUserAgent(c.Context(), c.Principal.Actor, p.ID)
}

func (a *API) listBlockedISPs(c *Call, q idList, _ NoBody) (Page[BlockedISP], error) {
	return idPage(q.PageQuery, func(after int64, limit int) ([]BlockedISP, error) {
		rows, err := a.d.Security.BlockedISPs(c.Context(), panel.Page{After: after, Limit: limit})
		return mapSlice(rows, func(r panel.BlockedISP) BlockedISP { return BlockedISP(r) }), err
	}, func(b BlockedISP) int64 { return b.ID })
}

func (a *API) blockISP(c *Call, _ NoParams, in newBlockedISP) (BlockedISP, error) {
	r, err := a.d.Security.BlockISP(c.Context(), c.Principal.Actor, in.ISPName, in.ASN)
	return BlockedISP(r), err
}

func (a *API) unblockISP(c *Call, p ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Security.UnblockISP(c.Context(), c.Principal.Actor, p.ID)
}

func (a *API) getAllowedCountries(c *Call, _ NoParams, _ NoBody) (AllowedCountries, error) {
	codes, err := a.d.Security.AllowedCountries(c.Context())
	return AllowedCountries{Countries: codes}, err
}

func (a *API) setAllowedCountries(c *Call, _ NoParams, in AllowedCountries) (AllowedCountries, error) {
	codes, err := a.d.Security.SetAllowedCountries(c.Context(), c.Principal.Actor, in.Countries)
	return AllowedCountries{Countries: codes}, err
}
