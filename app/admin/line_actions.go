package admin

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// ExtendBody is POST /lines/{id}/extend's body: days (admins) or a package (its duration,
// connections and bouquets; a reseller pays its credits).
type ExtendBody struct {
	Days      *int   `json:"days" api:"min=1,max=3650" doc:"Extend by this many days (admins)."`
	PackageID *int64 `json:"package_id" api:"min=1" doc:"Extend by this package's duration (a reseller's only way, paid in credits)."`
}

// PasswordBody is a password reset's body.
type PasswordBody struct {
	Password *string `json:"password" api:"minlen=1,maxlen=1024" doc:"The new password; generated when left out."`
}

// NewPassword is a reset password, shown this once.
type NewPassword struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
	Password string `json:"password" doc:"In clear: the only time it is shown."`
}

// Killed is how many connections a kill ended.
type Killed struct {
	Killed int `json:"killed" doc:"Connections ended (TS, VOD and catch-up at once; HLS sessions at their next poll)."`
}

// BulkCreate is POST /lines/bulk's body: count lines from one template, usernames and
// passwords generated.
type BulkCreate struct {
	Count int `json:"count" api:"required,min=1,max=100"`
	LineControls
}

// BulkAction is POST /lines/bulk-actions's body: one action on many lines, all or none.
type BulkAction struct {
	Action    string  `json:"action" api:"required,enum=ban|unban|enable|disable|extend"`
	IDs       []int64 `json:"ids" api:"required,minitems=1,maxitems=1000,unique,min=1"`
	Days      *int    `json:"days" api:"min=1,max=3650" doc:"For extend (admins)."`
	PackageID *int64  `json:"package_id" api:"min=1" doc:"For extend by a package (paid per line by a reseller)."`
}

// Items is a list answered whole.
type Items[T any] struct {
	Items []T `json:"items"`
}

func (a *API) lineActionOps() []Op {
	write := Perm{Scope: "lines", Write: true}
	action := func(kind accounts.ActionKind, id, summary, doc string, roles ...accounts.Role) Op {
		return Op{Method: fiber.MethodPost, Path: "/lines/{id}/" + string(kind), ID: id, Tag: "Lines", Summary: summary, Doc: doc,
			Perm: Perm{Scope: "lines", Write: true, Roles: roles}, Handler: Handle(a.lineAction(kind))}
	}
	admins := accounts.RoleAdmin
	return []Op{
		action(accounts.ActionBan, "banLine", "Ban a line", "Refused from now on (USER_BAN); its open streams end.", admins),
		action(accounts.ActionUnban, "unbanLine", "Unban a line", "", admins),
		action(accounts.ActionDisable, "disableLine", "Disable a line", "Refused from now on (USER_DISABLED); its open streams end."),
		action(accounts.ActionEnable, "enableLine", "Enable a line", ""),
		{Method: fiber.MethodPost, Path: "/lines/{id}/extend", ID: "extendLine", Tag: "Lines", Summary: "Extend a line",
			Doc:  "From its expiry, or from now when that has passed. A package also renews its connections and bouquets.",
			Perm: write, Errors: []int{409}, Handler: Handle(a.extendLine)},
		{Method: fiber.MethodPost, Path: "/lines/{id}/reset-password", ID: "resetLinePassword", Tag: "Lines",
			Summary: "Reset a line's password", Doc: "Answers the new password once. Streams opened with the old one end.",
			Perm: write, Handler: Handle(a.resetLinePassword)},
		{Method: fiber.MethodPost, Path: "/lines/{id}/kill", ID: "killLineConnections", Tag: "Lines",
			Summary: "Kill a line's connections", Doc: "Ends every open connection of the line, on every instance, within a second.",
			Perm: write, Handler: Handle(a.killLine)},
		{Method: fiber.MethodPost, Path: "/lines/bulk", ID: "createLines", Tag: "Lines", Summary: "Create lines in bulk",
			Doc:  "Up to 100 lines from one template, usernames and passwords generated and answered once. All or none.",
			Perm: write, Status: fiber.StatusCreated, Errors: []int{404, 409}, Handler: Handle(a.bulkCreate)},
		{Method: fiber.MethodPost, Path: "/lines/bulk-actions", ID: "actOnLines", Tag: "Lines", Summary: "Ban, unban, enable, disable or extend lines in bulk",
			Doc:  "Up to 1000 lines, in one transaction: all change or none.",
			Perm: write, Errors: []int{403, 404, 409}, Handler: Handle(a.bulkAction)},
	}
}

// lineAction is the handler of a per-line action without parameters.
func (a *API) lineAction(kind accounts.ActionKind) func(*Call, ByID, NoBody) (Line, error) {
	return func(c *Call, in ByID, _ NoBody) (Line, error) {
		return a.act(c, in.ID, accounts.LineAction{Kind: kind})
	}
}

func (a *API) act(c *Call, id int64, action accounts.LineAction) (Line, error) {
	lines, err := a.d.Accounts.ActOnLines(c.Context(), c.Principal, []int64{id}, action)
	if err != nil {
		return Line{}, err
	}
	return a.lineOf(lines[0], c.Principal), nil
}

func (a *API) extendLine(c *Call, in ByID, body ExtendBody) (Line, error) {
	return a.act(c, in.ID, accounts.LineAction{Kind: accounts.ActionExtend, Days: deref(body.Days), PackageID: deref(body.PackageID)})
}

func (a *API) resetLinePassword(c *Call, in ByID, body PasswordBody) (NewPassword, error) {
	cred, err := a.d.Accounts.ResetLinePassword(c.Context(), c.Principal, in.ID, deref(body.Password))
	if err != nil {
		return NewPassword{}, err
	}
	return NewPassword{ID: cred.ID, Username: cred.Username, Password: cred.Password.Reveal()}, nil
}

func (a *API) killLine(c *Call, in ByID, _ NoBody) (Killed, error) {
	if _, err := a.d.Accounts.Line(c.Context(), c.Principal, in.ID); err != nil {
		return Killed{}, err
	}
	n, err := a.d.Conns.KillLine(c.Context(), c.Principal.Actor, in.ID)
	return Killed{Killed: n}, err
}

func (a *API) bulkCreate(c *Call, _ NoParams, in BulkCreate) (Items[CreatedLine], error) {
	nl, err := in.newLine()
	if err != nil {
		return Items[CreatedLine]{}, err
	}
	ins := make([]accounts.NewLine, in.Count)
	for i := range ins {
		ins[i] = nl
	}
	creds, err := a.d.Accounts.AddLines(c.Context(), c.Principal, ins)
	if err != nil {
		return Items[CreatedLine]{}, err
	}
	out := Items[CreatedLine]{Items: make([]CreatedLine, 0, len(creds))}
	for _, cred := range creds {
		cl, err := a.created(c, cred)
		if err != nil {
			return Items[CreatedLine]{}, err
		}
		out.Items = append(out.Items, cl)
	}
	return out, nil
}

func (a *API) bulkAction(c *Call, _ NoParams, in BulkAction) (Items[Line], error) {
	lines, err := a.d.Accounts.ActOnLines(c.Context(), c.Principal, in.IDs,
		accounts.LineAction{Kind: accounts.ActionKind(in.Action), Days: deref(in.Days), PackageID: deref(in.PackageID)})
	if err != nil {
		return Items[Line]{}, err
	}
	out := Items[Line]{Items: make([]Line, len(lines))}
	for i, l := range lines {
		out.Items[i] = a.lineOf(l, c.Principal)
	}
	return out, nil
}
