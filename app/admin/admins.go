package admin

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Admin is an account of the admin surfaces: an admin, a reseller or a viewer.
type Admin struct {
	ID              int64      `json:"id"`
	Username        string     `json:"username"`
	Role            string     `json:"role" api:"enum=admin|reseller|viewer"`
	Disabled        bool       `json:"disabled"`
	Credits         int64      `json:"credits" doc:"A reseller's balance."`
	ParentID        *int64     `json:"parent_id" doc:"The reseller a sub-reseller works under; null: top level."`
	MaxTrialsPerDay int        `json:"max_trials_per_day" doc:"Trial lines a reseller may make per rolling 24 hours."`
	Notes           string     `json:"notes"`
	CreatedAt       time.Time  `json:"created_at"`
	LastLoginAt     *time.Time `json:"last_login_at"`
}

func adminOf(a store.Admin) Admin {
	return Admin{ID: a.ID, Username: a.Username, Role: a.Role, Disabled: a.Disabled, Credits: a.Credits, ParentID: a.ParentID,
		MaxTrialsPerDay: a.MaxTrialsPerDay, Notes: a.Notes, CreatedAt: a.CreatedAt, LastLoginAt: a.LastLoginAt}
}

// AdminCreate is POST /admins's body.
type AdminCreate struct {
	Username        string  `json:"username" api:"required" pattern:"^[A-Za-z0-9._@-]{1,64}$"`
	Password        *string `json:"password" api:"minlen=8,maxlen=1024" doc:"Generated (16 characters) when left out; answered once."`
	Role            string  `json:"role" api:"required,enum=admin|reseller|viewer" doc:"A reseller makes only resellers."`
	ParentID        *int64  `json:"parent_id" api:"min=1" doc:"For a sub-reseller: the reseller above it (a reseller's own resellers are below it by default)."`
	MaxTrialsPerDay *int    `json:"max_trials_per_day" api:"min=0,max=100000" doc:"Default 5."`
	Notes           *string `json:"notes" api:"maxlen=65536"`
}

// CreatedAdmin is a new account with its password, shown this once.
type CreatedAdmin struct {
	Admin
	Password string `json:"password" doc:"In clear: the only time it is shown."`
}

// AdminPatchBody is PATCH /admins/{id}'s body.
type AdminPatchBody struct {
	Username        *string         `json:"username" pattern:"^[A-Za-z0-9._@-]{1,64}$"`
	Role            *string         `json:"role" api:"enum=admin|reseller|viewer" doc:"Ends the account's logins."`
	Disabled        *bool           `json:"disabled" doc:"true ends the account's logins and refuses its keys."`
	Notes           *string         `json:"notes" api:"maxlen=65536"`
	ParentID        Optional[int64] `json:"parent_id" api:"min=1" doc:"null: top level."`
	MaxTrialsPerDay *int            `json:"max_trials_per_day" api:"min=0,max=100000"`
}

// CreditsBody moves credits to a reseller.
type CreditsBody struct {
	Amount int64  `json:"amount" api:"required,min=-1000000000,max=1000000000" doc:"Credits to give (an admin may also take, with a negative amount). A reseller gives from its own balance to a reseller below it."`
	Note   string `json:"note" api:"maxlen=1024"`
}

// LedgerEntry is one move of a reseller's credits.
type LedgerEntry struct {
	ID             int64     `json:"id"`
	At             time.Time `json:"at"`
	Delta          int64     `json:"delta"`
	BalanceAfter   int64     `json:"balance_after"`
	Reason         string    `json:"reason" api:"enum=line.create|line.extend|transfer.in|transfer.out|adjust"`
	IsTrial        bool      `json:"is_trial"`
	LineID         *int64    `json:"line_id"`
	PackageID      *int64    `json:"package_id"`
	CounterpartyID *int64    `json:"counterparty_id" doc:"The other side of a transfer."`
	ActorID        *int64    `json:"actor_id" doc:"The admin who made the move."`
	Note           string    `json:"note"`
}

func ledgerOf(e store.LedgerEntry) LedgerEntry {
	return LedgerEntry{ID: e.ID, At: e.At, Delta: e.Delta, BalanceAfter: e.BalanceAfter, Reason: e.Reason, IsTrial: e.IsTrial,
		LineID: e.LineID, PackageID: e.PackageID, CounterpartyID: e.CounterpartyID, ActorID: e.ActorAdminID, Note: e.Note}
}

// adminQuery are GET /admins's parameters.
type adminQuery struct {
	PageQuery
	Role     string `query:"role" api:"enum=admin|reseller|viewer"`
	Username string `query:"username" api:"maxlen=64" doc:"Usernames starting with this."`
	ParentID int64  `query:"parent_id" api:"min=1"`
}

func (a *API) adminOps() []Op {
	read, write := Perm{Scope: "admins"}, Perm{Scope: "admins", Write: true}
	return []Op{
		{Method: fiber.MethodGet, Path: "/me", ID: "getMe", Tag: "Admins", Summary: "The caller's account",
			Doc: "With its credit balance.", Perm: Perm{}, Handler: Handle(a.getMe)},
		{Method: fiber.MethodGet, Path: "/admins", ID: "listAdmins", Tag: "Admins", Summary: "List accounts",
			Doc: "A reseller sees itself and the resellers below it.", Perm: read, Handler: Handle(a.listAdmins)},
		{Method: fiber.MethodPost, Path: "/admins", ID: "createAdmin", Tag: "Admins", Summary: "Create an account",
			Doc:    "An admin, a reseller or a viewer; a reseller makes sub-resellers. The password is answered once.",
			Perm:   Perm{Scope: "admins", Write: true, Roles: []accounts.Role{accounts.RoleAdmin, accounts.RoleReseller}},
			Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.createAdmin)},
		{Method: fiber.MethodGet, Path: "/admins/{id}", ID: "getAdmin", Tag: "Admins", Summary: "Get an account",
			Perm: read, Handler: Handle(a.getAdmin)},
		{Method: fiber.MethodPatch, Path: "/admins/{id}", ID: "updateAdmin", Tag: "Admins", Summary: "Change an account",
			Perm: write, Errors: []int{409}, Handler: Handle(a.updateAdmin)},
		{Method: fiber.MethodDelete, Path: "/admins/{id}", ID: "deleteAdmin", Tag: "Admins", Summary: "Delete an account",
			Doc:  "Its logins and API keys go with it; its lines and sub-resellers stay, without owner or parent.",
			Perm: Perm{Scope: "admins", Write: true, Roles: []accounts.Role{accounts.RoleAdmin}}, Handler: Handle(a.deleteAdmin)},
		{Method: fiber.MethodPost, Path: "/admins/{id}/reset-password", ID: "resetAdminPassword", Tag: "Admins",
			Summary: "Reset an account's password", Doc: "Answers the new password once; every login of the account ends.",
			Perm: Perm{Scope: "admins"}, Handler: Handle(a.resetAdminPassword)},
		{Method: fiber.MethodPost, Path: "/admins/{id}/credits", ID: "moveCredits", Tag: "Resellers", Summary: "Give or take credits",
			Doc:    "An admin adds (or, negative, takes) credits; a reseller transfers from its balance to a reseller below it. Answers the reseller's ledger entry.",
			Perm:   Perm{Scope: "credits", Write: true, Roles: []accounts.Role{accounts.RoleAdmin, accounts.RoleReseller}},
			Status: fiber.StatusCreated, Errors: []int{409}, Handler: Handle(a.moveCredits)},
		{Method: fiber.MethodGet, Path: "/admins/{id}/credits", ID: "listCreditMoves", Tag: "Resellers",
			Summary: "A reseller's credit ledger", Doc: "Newest first.", Perm: Perm{Scope: "credits"}, Handler: Handle(a.ledger)},
	}
}

func (a *API) getMe(c *Call, _ NoParams, _ NoBody) (Admin, error) {
	ad, err := a.d.Accounts.Admin(c.Context(), c.Principal, c.Principal.AdminID())
	return adminOf(ad), err
}

func (a *API) listAdmins(c *Call, q adminQuery, _ NoBody) (Page[Admin], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[Admin]{}, bad
	}
	rows, err := a.d.Accounts.ListAdmins(c.Context(), c.Principal, store.AdminFilter{Role: q.Role, Username: q.Username,
		ParentID: q.ParentID, AfterID: after, Limit: q.limit() + 1})
	if err != nil {
		return Page[Admin]{}, err
	}
	out := make([]Admin, len(rows))
	for i, r := range rows {
		out[i] = adminOf(r)
	}
	return pageOf(out, q.limit(), func(last Admin) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createAdmin(c *Call, _ NoParams, in AdminCreate) (CreatedAdmin, error) {
	cred, err := a.d.Accounts.AddAdmin(c.Context(), c.Principal, accounts.NewAdmin{Username: in.Username,
		Password: deref(in.Password), Role: accounts.Role(in.Role), ParentID: in.ParentID, MaxTrialsPerDay: in.MaxTrialsPerDay,
		Notes: deref(in.Notes)})
	if err != nil {
		return CreatedAdmin{}, err
	}
	ad, err := a.d.Accounts.Admin(c.Context(), c.Principal, cred.ID)
	if err != nil {
		return CreatedAdmin{}, err
	}
	return CreatedAdmin{Admin: adminOf(ad), Password: cred.Password.Reveal()}, nil
}

func (a *API) getAdmin(c *Call, in ByID, _ NoBody) (Admin, error) {
	ad, err := a.d.Accounts.Admin(c.Context(), c.Principal, in.ID)
	return adminOf(ad), err
}

func (a *API) updateAdmin(c *Call, in ByID, body AdminPatchBody) (Admin, error) {
	patch := accounts.AdminPatch{Username: given(body.Username), Disabled: given(body.Disabled), Notes: given(body.Notes),
		ParentID: givenNullable(body.ParentID), MaxTrialsPerDay: given(body.MaxTrialsPerDay)}
	if body.Role != nil {
		patch.Role = accounts.Set(accounts.Role(*body.Role))
	}
	ad, err := a.d.Accounts.UpdateAdmin(c.Context(), c.Principal, in.ID, patch)
	return adminOf(ad), err
}

func (a *API) deleteAdmin(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.DeleteAdmin(c.Context(), c.Principal, in.ID)
}

func (a *API) resetAdminPassword(c *Call, in ByID, body PasswordBody) (NewPassword, error) {
	cred, err := a.d.Accounts.ResetAdminPassword(c.Context(), c.Principal, in.ID, deref(body.Password))
	if err != nil {
		return NewPassword{}, err
	}
	return NewPassword{ID: cred.ID, Username: cred.Username, Password: cred.Password.Reveal()}, nil
}

func (a *API) moveCredits(c *Call, in ByID, body CreditsBody) (LedgerEntry, error) {
	e, err := a.d.Accounts.AdjustCredits(c.Context(), c.Principal, in.ID, body.Amount, body.Note)
	return ledgerOf(e), err
}

// ledgerQuery pages a ledger.
type ledgerQuery struct {
	ByID
	PageQuery
}

func (a *API) ledger(c *Call, q ledgerQuery, _ NoBody) (Page[LedgerEntry], error) {
	before, bad := q.decodeCursor("-id", nil)
	if bad != nil {
		return Page[LedgerEntry]{}, bad
	}
	rows, err := a.d.Accounts.Ledger(c.Context(), c.Principal, q.ID, before, q.limit()+1)
	if err != nil {
		return Page[LedgerEntry]{}, err
	}
	out := make([]LedgerEntry, len(rows))
	for i, r := range rows {
		out[i] = ledgerOf(r)
	}
	return pageOf(out, q.limit(), func(last LedgerEntry) *string { return encodeCursor("-id", nil, last.ID) }), nil
}
