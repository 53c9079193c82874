package admin

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Line is a line as the API shows it: every per-line control (spec §6.3), never its password.
type Line struct {
	ID                   int64      `json:"id"`
	Username             string     `json:"username"`
	Status               string     `json:"status" api:"enum=Active|Banned|Disabled|Expired" doc:"What a player's login reports (user_info.status); an expired line reports Expired first."`
	ExpDate              *time.Time `json:"exp_date" doc:"When the line expires; null: never."`
	Banned               bool       `json:"banned" doc:"Banned by an admin (XC admin_enabled=0)."`
	Disabled             bool       `json:"disabled" doc:"Disabled by its owner (XC enabled=0)."`
	MaxConnections       int        `json:"max_connections" doc:"Connections at once; 0: unlimited."`
	IsTrial              bool       `json:"is_trial"`
	IsRestreamer         bool       `json:"is_restreamer"`
	IsMAG                bool       `json:"is_mag" doc:"Bound to a MAG device."`
	AllowedIPs           []string   `json:"allowed_ips" doc:"Addresses or networks the line may be used from; empty: any."`
	AllowedUserAgents    []string   `json:"allowed_user_agents" doc:"Whole User-Agent strings the line may be used with; empty: any."`
	BypassUABlock        bool       `json:"bypass_ua_block" doc:"The global blocked user agents do not apply."`
	ForcedCountry        *string    `json:"forced_country" doc:"The only country (ISO 3166-1) the line may be used from; null: the global allowed countries apply."`
	ISPLock              bool       `json:"isp_lock" doc:"Only the ISP of the first use (isp_name) may use the line."`
	ISPName              *string    `json:"isp_name" doc:"The ISP an ISP-locked line is locked to, once used."`
	AllowedOutputFormats []string   `json:"allowed_output_formats" doc:"Of m3u8, ts, rtmp."`
	AdminNotes           string     `json:"admin_notes,omitempty" doc:"Left out for resellers."`
	ResellerNotes        string     `json:"reseller_notes"`
	OwnerID              *int64     `json:"owner_id" doc:"The reseller the line belongs to; null: the panel's."`
	BouquetIDs           []int64    `json:"bouquet_ids" doc:"The line's bouquets, in order."`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"updated_at"`
}

// status is what a login reports, in the check's order (spec §7 #2; DESIGN §2 steps 2-4).
func status(l store.Line, now time.Time) string {
	switch {
	case l.ExpDate != nil && !now.Before(*l.ExpDate):
		return "Expired"
	case l.Banned:
		return "Banned"
	case l.Disabled:
		return "Disabled"
	}
	return "Active"
}

func (a *API) lineOf(l store.Line, p accounts.Principal) Line {
	out := Line{ID: l.ID, Username: l.Username, Status: status(l, a.d.Now()), ExpDate: l.ExpDate, Banned: l.Banned,
		Disabled: l.Disabled, MaxConnections: l.MaxConnections, IsTrial: l.IsTrial, IsRestreamer: l.IsRestreamer,
		IsMAG: l.IsMAG, AllowedIPs: []string{}, AllowedUserAgents: nonNil(l.AllowedUserAgents), BypassUABlock: l.BypassUABlock,
		ForcedCountry: l.ForcedCountry, ISPLock: l.ISPLock, ISPName: l.ISPName, AllowedOutputFormats: nonNil(l.AllowedOutputFormats),
		ResellerNotes: l.ResellerNotes, OwnerID: l.OwnerAdminID, BouquetIDs: nonNil(l.BouquetIDs),
		CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt}
	for _, ip := range l.AllowedIPs {
		out.AllowedIPs = append(out.AllowedIPs, prefixString(ip))
	}
	if p.Role != accounts.RoleReseller {
		out.AdminNotes = l.AdminNotes
	}
	return out
}

// prefixString shows a single address without its /32 or /128.
func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// LineControls are the controls a create or a bulk create may set; left out, each has its
// default, or its package's value.
type LineControls struct {
	PackageID            *int64     `json:"package_id" api:"min=1" doc:"Make the line from this package: its duration, connections, bouquets and trial flag. Required for a reseller, who pays its price in credits."`
	ExpDate              *time.Time `json:"exp_date" api:"nullable" doc:"When the line expires; null or left out: never (or the package's duration)."`
	MaxConnections       *int       `json:"max_connections" api:"min=0,max=10000" doc:"0: unlimited (the default without a package)."`
	IsTrial              *bool      `json:"is_trial"`
	IsRestreamer         *bool      `json:"is_restreamer"`
	Banned               *bool      `json:"banned"`
	Disabled             *bool      `json:"disabled"`
	AllowedIPs           []string   `json:"allowed_ips" api:"maxitems=100,maxlen=64" doc:"IPs or CIDRs."`
	AllowedUserAgents    []string   `json:"allowed_user_agents" api:"maxitems=100,minlen=1,maxlen=512"`
	BypassUABlock        *bool      `json:"bypass_ua_block"`
	ForcedCountry        *string    `json:"forced_country" api:"nullable" pattern:"^[A-Z]{2}$"`
	ISPLock              *bool      `json:"isp_lock"`
	AllowedOutputFormats []string   `json:"allowed_output_formats" api:"minitems=1,unique,enum=m3u8|ts|rtmp"`
	AdminNotes           *string    `json:"admin_notes" api:"maxlen=65536"`
	ResellerNotes        *string    `json:"reseller_notes" api:"maxlen=65536"`
	OwnerID              *int64     `json:"owner_id" api:"min=1" doc:"The owning reseller; a reseller's lines are its own unless it names one below it."`
	BouquetIDs           []int64    `json:"bouquet_ids" api:"maxitems=1000,unique,min=1" doc:"In order."`
}

// LineCreate is POST /lines's body.
type LineCreate struct {
	Username *string `json:"username" api:"minlen=1,maxlen=128" doc:"Generated (10 letters and digits) when left out."`
	Password *string `json:"password" api:"minlen=1,maxlen=1024" doc:"Generated when left out. Answered once, now, and never again."`
	LineControls
}

// CreatedLine is a new line with its password, shown this once.
type CreatedLine struct {
	Line
	Password string `json:"password" doc:"The line's password in clear: the only time it is shown."`
}

// newLine turns the controls into the domain's new line; a bad address is refused on its
// member.
func (in LineControls) newLine() (accounts.NewLine, error) {
	nl := accounts.NewLine{ExpDate: in.ExpDate, AllowedUserAgents: in.AllowedUserAgents, ForcedCountry: in.ForcedCountry,
		AllowedOutputFormats: in.AllowedOutputFormats, OwnerID: in.OwnerID, BouquetIDs: in.BouquetIDs}
	nl.PackageID = deref(in.PackageID)
	nl.MaxConnections = deref(in.MaxConnections)
	nl.IsTrial, nl.IsRestreamer, nl.Banned, nl.Disabled = deref(in.IsTrial), deref(in.IsRestreamer), deref(in.Banned), deref(in.Disabled)
	nl.BypassUABlock, nl.ISPLock = deref(in.BypassUABlock), deref(in.ISPLock)
	nl.AdminNotes, nl.ResellerNotes = deref(in.AdminNotes), deref(in.ResellerNotes)
	var err error
	nl.AllowedIPs, err = prefixes(in.AllowedIPs, "allowed_ips")
	return nl, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// prefixes parses IPs and CIDRs, refusing the first bad one on field[i].
func prefixes(list []string, field string) ([]netip.Prefix, error) {
	if list == nil {
		return nil, nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for i, s := range list {
		p, err := config.ParsePrefix(s)
		if err != nil {
			return nil, refuse(field+"["+strconv.Itoa(i)+"]", "not an IP address or CIDR network")
		}
		out = append(out, p)
	}
	return out, nil
}

// LinePatchBody is PATCH /lines/{id}'s body: the members given change, the others stay.
type LinePatchBody struct {
	Username             *string             `json:"username" api:"minlen=1,maxlen=128"`
	ExpDate              Optional[time.Time] `json:"exp_date" doc:"null: never expires."`
	Banned               *bool               `json:"banned"`
	Disabled             *bool               `json:"disabled"`
	MaxConnections       *int                `json:"max_connections" api:"min=0,max=10000"`
	IsTrial              *bool               `json:"is_trial"`
	IsRestreamer         *bool               `json:"is_restreamer"`
	AllowedIPs           []string            `json:"allowed_ips" api:"maxitems=100,maxlen=64"`
	AllowedUserAgents    []string            `json:"allowed_user_agents" api:"maxitems=100,minlen=1,maxlen=512"`
	BypassUABlock        *bool               `json:"bypass_ua_block"`
	ForcedCountry        Optional[string]    `json:"forced_country" pattern:"^[A-Z]{2}$" doc:"null: the global allowed countries apply."`
	ISPLock              *bool               `json:"isp_lock" doc:"Turning it off forgets the recorded ISP."`
	AllowedOutputFormats []string            `json:"allowed_output_formats" api:"minitems=1,unique,enum=m3u8|ts|rtmp"`
	AdminNotes           *string             `json:"admin_notes" api:"maxlen=65536"`
	ResellerNotes        *string             `json:"reseller_notes" api:"maxlen=65536"`
	OwnerID              Optional[int64]     `json:"owner_id" api:"min=1" doc:"null: the panel's own."`
	BouquetIDs           []int64             `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
}

func given[T any](p *T) accounts.Field[T] {
	if p == nil {
		return accounts.Field[T]{}
	}
	return accounts.Set(*p)
}

func givenList[T any](l []T) accounts.Field[[]T] {
	if l == nil {
		return accounts.Field[[]T]{}
	}
	return accounts.Set(l)
}

func givenNullable[T any](o Optional[T]) accounts.Field[*T] {
	switch {
	case !o.Set:
		return accounts.Field[*T]{}
	case o.Null:
		return accounts.Set[*T](nil)
	}
	v := o.Value
	return accounts.Set(&v)
}

func (b LinePatchBody) patch() (accounts.LinePatch, error) {
	p := accounts.LinePatch{Username: given(b.Username), ExpDate: givenNullable(b.ExpDate), Banned: given(b.Banned),
		Disabled: given(b.Disabled), MaxConnections: given(b.MaxConnections), IsTrial: given(b.IsTrial),
		IsRestreamer: given(b.IsRestreamer), AllowedUserAgents: givenList(b.AllowedUserAgents),
		BypassUABlock: given(b.BypassUABlock), ForcedCountry: givenNullable(b.ForcedCountry), ISPLock: given(b.ISPLock),
		AllowedOutputFormats: givenList(b.AllowedOutputFormats), AdminNotes: given(b.AdminNotes),
		ResellerNotes: given(b.ResellerNotes), OwnerID: givenNullable(b.OwnerID), BouquetIDs: givenList(b.BouquetIDs)}
	if b.AllowedIPs != nil {
		ips, err := prefixes(b.AllowedIPs, "allowed_ips")
		if err != nil {
			return accounts.LinePatch{}, err
		}
		p.AllowedIPs = accounts.Set(ips)
	}
	return p, nil
}

// lineQuery are GET /lines's parameters.
type lineQuery struct {
	PageQuery
	Sort          string     `query:"sort" api:"enum=id|-id|username|-username|created_at|-created_at|exp_date|-exp_date" doc:"Order (default id); a leading - reverses it. Lines that never expire sort last by exp_date."`
	Username      string     `query:"username" api:"maxlen=128" doc:"Usernames starting with this."`
	Status        string     `query:"status" api:"enum=active|expired|banned|disabled"`
	IsTrial       *bool      `query:"is_trial"`
	IsMAG         *bool      `query:"is_mag"`
	OwnerID       *int64     `query:"owner_id" api:"min=1"`
	BouquetID     int64      `query:"bouquet_id" api:"min=1" doc:"Lines holding this bouquet."`
	ExpiresBefore *time.Time `query:"expires_before"`
	ExpiresAfter  *time.Time `query:"expires_after"`
}

var lineSorts = map[string]store.LineSort{"id": store.LineByID, "username": store.LineByUsername,
	"created_at": store.LineByCreated, "exp_date": store.LineByExpiry}

func (q lineQuery) filter() (store.LineFilter, string, error) {
	sort := q.Sort
	if sort == "" {
		sort = "id"
	}
	by, desc := sortOrder(sort)
	f := store.LineFilter{OwnerID: q.OwnerID, Username: q.Username, Status: q.Status, IsTrial: q.IsTrial, IsMAG: q.IsMAG,
		BouquetID: q.BouquetID, ExpiresBefore: q.ExpiresBefore, ExpiresAfter: q.ExpiresAfter, Sort: lineSorts[by],
		Desc: desc, Limit: q.limit() + 1}
	var into any // the cursor's sort key goes into f.AfterKey (none when sorting by id)
	if f.Sort != store.LineByID {
		into = &f.AfterKey
	}
	id, bad := q.decodeCursor(sort, into)
	if bad != nil {
		return store.LineFilter{}, "", bad
	}
	f.AfterID = id
	return f, sort, nil
}

func (a *API) lineOps() []Op {
	lines := Perm{Scope: "lines"}
	write := Perm{Scope: "lines", Write: true}
	return []Op{
		{Method: fiber.MethodGet, Path: "/lines", ID: "listLines", Tag: "Lines", Summary: "List lines",
			Doc: "Filtered, sorted and paged by cursor. A reseller sees its own lines and its sub-resellers'.", Perm: lines,
			Handler: Handle(a.listLines)},
		{Method: fiber.MethodPost, Path: "/lines", ID: "createLine", Tag: "Lines", Summary: "Create a line",
			Doc:  "The username and password are generated when left out; the password is answered once. A reseller names a package and pays its credits.",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{404, 409}, Handler: Handle(a.createLine)},
		{Method: fiber.MethodGet, Path: "/lines/{id}", ID: "getLine", Tag: "Lines", Summary: "Get a line", Perm: lines,
			Handler: Handle(a.getLine)},
		{Method: fiber.MethodPatch, Path: "/lines/{id}", ID: "updateLine", Tag: "Lines", Summary: "Change a line",
			Doc:  "Members left out stay. A reseller changes only disabled, allowed IPs and user agents, its notes, the username and the owner.",
			Perm: write, Errors: []int{409}, Handler: Handle(a.updateLine)},
		{Method: fiber.MethodDelete, Path: "/lines/{id}", ID: "deleteLine", Tag: "Lines", Summary: "Delete a line",
			Doc: "Its MAG device and connections go with it.", Perm: write, Handler: Handle(a.deleteLine)},
	}
}

func (a *API) listLines(c *Call, q lineQuery, _ NoBody) (Page[Line], error) {
	f, sort, err := q.filter()
	if err != nil {
		return Page[Line]{}, err
	}
	rows, err := a.d.Accounts.ListLines(c.Context(), c.Principal, f)
	if err != nil {
		return Page[Line]{}, err
	}
	out := make([]Line, len(rows))
	for i, l := range rows {
		out[i] = a.lineOf(l, c.Principal)
	}
	return pageOf(out, q.limit(), func(Line) *string {
		last := rows[q.limit()-1]
		var key any
		if f.Sort != store.LineByID {
			key = last.SortKey(f.Sort)
		}
		return encodeCursor(sort, key, last.ID)
	}), nil
}

func (a *API) createLine(c *Call, _ NoParams, in LineCreate) (CreatedLine, error) {
	nl, err := in.newLine()
	if err != nil {
		return CreatedLine{}, err
	}
	nl.Username, nl.Password = deref(in.Username), deref(in.Password)
	creds, err := a.d.Accounts.AddLines(c.Context(), c.Principal, []accounts.NewLine{nl})
	if err != nil {
		return CreatedLine{}, err
	}
	return a.created(c, creds[0])
}

// created reads back a new line and shows it with its password.
func (a *API) created(c *Call, cred accounts.Credentials) (CreatedLine, error) {
	l, err := a.d.Accounts.Line(c.Context(), c.Principal, cred.ID)
	if err != nil {
		return CreatedLine{}, err
	}
	return CreatedLine{Line: a.lineOf(l, c.Principal), Password: cred.Password.Reveal()}, nil
}

func (a *API) getLine(c *Call, in ByID, _ NoBody) (Line, error) {
	l, err := a.d.Accounts.Line(c.Context(), c.Principal, in.ID)
	if err != nil {
		return Line{}, err
	}
	return a.lineOf(l, c.Principal), nil
}

func (a *API) updateLine(c *Call, in ByID, body LinePatchBody) (Line, error) {
	patch, err := body.patch()
	if err != nil {
		return Line{}, err
	}
	l, err := a.d.Accounts.UpdateLine(c.Context(), c.Principal, in.ID, patch)
	if err != nil {
		return Line{}, err
	}
	return a.lineOf(l, c.Principal), nil
}

func (a *API) deleteLine(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.DeleteLine(c.Context(), c.Principal, in.ID)
}
