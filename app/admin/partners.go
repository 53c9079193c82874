package admin

import (
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// Partner clients (issue 15): operators' backends that ask for decisions and media tokens for
// their viewers' lines through /o/client/token and /api/v2/{partner}/. Admins register them
// (the secret is answered once), scope them to bouquets and lines, limit where they call from,
// re-key and revoke them; issue initial access tokens for dynamic registration; and rotate the
// keys partner access tokens are signed with.

// PartnerClient is a partner client as lists show it: never its secret.
type PartnerClient struct {
	ID               int64      `json:"id"`
	ClientID         string     `json:"client_id" doc:"Its OAuth client_id, and the {partner} of its /api/v2 paths."`
	Name             string     `json:"name"`
	Scopes           []string   `json:"scopes" doc:"What its access tokens may grant."`
	BouquetIDs       []int64    `json:"bouquet_ids" doc:"It may act for every line holding one of these bouquets."`
	LineIDs          []int64    `json:"line_ids" doc:"And for these lines."`
	AllowedIPs       []string   `json:"allowed_ips" doc:"The networks it may call from."`
	Registration     string     `json:"registration" api:"enum=admin|dynamic"`
	SecretGeneration int        `json:"secret_generation" doc:"Counts its secrets; a new one ends the old one's tokens."`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	RevokedAt        *time.Time `json:"revoked_at"`
}

func partnerClientOf(p partner.Partner) PartnerClient {
	return PartnerClient{ID: p.ID, ClientID: p.ClientID, Name: p.Name, Scopes: nonNil(p.Scopes), BouquetIDs: nonNil(p.BouquetIDs),
		LineIDs: nonNil(p.LineIDs), AllowedIPs: prefixStrings(p.AllowedIPs), Registration: p.Registration,
		SecretGeneration: p.Generation, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, RevokedAt: p.RevokedAt}
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = prefixString(p)
	}
	return out
}

// PartnerCredentials is a partner client with its secret, answered this once.
type PartnerCredentials struct {
	PartnerClient
	ClientSecret string `json:"client_secret" doc:"Shown once; only its SHA-256 is kept. With client_id, it authenticates at /o/client/token (HTTP Basic or the form)."`
}

// PartnerCreate is POST /partners's body.
type PartnerCreate struct {
	Name       string   `json:"name" api:"required,minlen=1,maxlen=128"`
	Scopes     []string `json:"scopes" api:"required,minitems=1,maxitems=4,unique,enum=decisions|media_tokens|logout|profiles"`
	BouquetIDs []int64  `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
	LineIDs    []int64  `json:"line_ids" api:"maxitems=10000,unique,min=1"`
	AllowedIPs []string `json:"allowed_ips" api:"required,minitems=1,maxitems=64,maxlen=64" doc:"IPs or CIDRs; 0.0.0.0/0 and ::/0 for anywhere."`
}

// PartnerPatchBody is PATCH /partners/{id}'s body; members left out stay.
type PartnerPatchBody struct {
	Name       *string  `json:"name" api:"minlen=1,maxlen=128"`
	Scopes     []string `json:"scopes" api:"minitems=1,maxitems=4,unique,enum=decisions|media_tokens|logout|profiles"`
	BouquetIDs []int64  `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
	LineIDs    []int64  `json:"line_ids" api:"maxitems=10000,unique,min=1"`
	AllowedIPs []string `json:"allowed_ips" api:"minitems=1,maxitems=64,maxlen=64"`
}

// RegistrationTokenCreate is POST /partner-registration-tokens's body.
type RegistrationTokenCreate struct {
	Name       string    `json:"name" api:"required,minlen=1,maxlen=128"`
	Scopes     []string  `json:"scopes" api:"required,minitems=1,maxitems=4,unique,enum=decisions|media_tokens|logout|profiles"`
	BouquetIDs []int64   `json:"bouquet_ids" api:"maxitems=1000,unique,min=1"`
	LineIDs    []int64   `json:"line_ids" api:"maxitems=10000,unique,min=1"`
	AllowedIPs []string  `json:"allowed_ips" api:"required,minitems=1,maxitems=64,maxlen=64" doc:"The networks clients may register from, and then call from."`
	MaxUses    *int      `json:"max_uses" api:"min=1,max=10000" doc:"How many clients may register with it; default 1."`
	ExpiresAt  time.Time `json:"expires_at" api:"required"`
}

// RegistrationToken is an initial access token as lists show it: never the token.
type RegistrationToken struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	BouquetIDs []int64    `json:"bouquet_ids"`
	LineIDs    []int64    `json:"line_ids"`
	AllowedIPs []string   `json:"allowed_ips"`
	MaxUses    int        `json:"max_uses"`
	Uses       int        `json:"uses"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func registrationTokenOf(r partner.RegistrationToken) RegistrationToken {
	return RegistrationToken{ID: r.ID, Name: r.Name, Scopes: nonNil(r.Scopes), BouquetIDs: nonNil(r.BouquetIDs),
		LineIDs: nonNil(r.LineIDs), AllowedIPs: prefixStrings(r.AllowedIPs), MaxUses: r.MaxUses, Uses: r.Uses,
		ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt, CreatedAt: r.CreatedAt}
}

// IssuedRegistrationToken is a new initial access token, answered this once.
type IssuedRegistrationToken struct {
	RegistrationToken
	Token string `json:"token" doc:"Shown once; only its SHA-256 is kept. Send it as the Bearer of POST /o/client/register."`
}

// PartnerKey is a signing key of partner access tokens.
type PartnerKey struct {
	KID           string     `json:"kid"`
	CreatedAt     time.Time  `json:"created_at"`
	RetiredAt     *time.Time `json:"retired_at" doc:"null: the current key."`
	VerifiesUntil *time.Time `json:"verifies_until" doc:"When the last tokens of a retired key expire."`
}

// PartnerKeys are every signing key, the current first.
type PartnerKeys struct {
	Keys []PartnerKey `json:"keys"`
}

func (a *API) partnerOps() []Op {
	read := Perm{Scope: "partners", Roles: []accounts.Role{accounts.RoleAdmin, accounts.RoleViewer}}
	write := Perm{Scope: "partners", Write: true, Roles: []accounts.Role{accounts.RoleAdmin}}
	const tag = "Partners"
	return []Op{
		{Method: fiber.MethodGet, Path: "/partners", ID: "listPartners", Tag: tag, Summary: "List partner clients",
			Perm: read, Handler: Handle(a.listPartners)},
		{Method: fiber.MethodPost, Path: "/partners", ID: "createPartner", Tag: tag, Summary: "Register a partner client",
			Doc:  "Its client_secret is answered once. It acts only for the lines its bouquet_ids and line_ids name, from its allowed_ips.",
			Perm: write, Status: fiber.StatusCreated, Handler: Handle(a.createPartner)},
		{Method: fiber.MethodGet, Path: "/partners/{id}", ID: "getPartner", Tag: tag, Summary: "Get a partner client",
			Perm: read, Handler: Handle(a.getPartner)},
		{Method: fiber.MethodPatch, Path: "/partners/{id}", ID: "updatePartner", Tag: tag, Summary: "Change a partner client",
			Doc:  "A narrower scope ends, on every instance, the streams its tokens opened for lines it may no longer act for.",
			Perm: write, Errors: []int{409}, Handler: Handle(a.updatePartner)},
		{Method: fiber.MethodPost, Path: "/partners/{id}/rotate-secret", ID: "rotatePartnerSecret", Tag: tag,
			Summary: "Give a partner client a new secret", Doc: "Answered once; the access tokens of the old secret stop working on every instance.",
			Perm: write, Errors: []int{409}, Handler: Handle(a.rotatePartnerSecret)},
		{Method: fiber.MethodDelete, Path: "/partners/{id}", ID: "revokePartner", Tag: tag, Summary: "Revoke a partner client",
			Doc:  "Its access tokens and media tokens stop working and the streams they opened end, on every instance; it stays listed, revoked.",
			Perm: write, Handler: Handle(a.revokePartner)},
		{Method: fiber.MethodGet, Path: "/partner-registration-tokens", ID: "listPartnerRegistrationTokens", Tag: tag,
			Summary: "List initial access tokens", Perm: read, Handler: Handle(a.listRegistrationTokens)},
		{Method: fiber.MethodPost, Path: "/partner-registration-tokens", ID: "createPartnerRegistrationToken", Tag: tag,
			Summary: "Issue an initial access token", Doc: "For dynamic client registration (RFC 7591, POST /o/client/register, with the partner_registration setting on): a client registering with it gets its grant. The token is answered once.",
			Perm: write, Status: fiber.StatusCreated, Handler: Handle(a.createRegistrationToken)},
		{Method: fiber.MethodDelete, Path: "/partner-registration-tokens/{id}", ID: "revokePartnerRegistrationToken", Tag: tag,
			Summary: "Revoke an initial access token", Perm: write, Handler: Handle(a.revokeRegistrationToken)},
		{Method: fiber.MethodGet, Path: "/partner-keys", ID: "listPartnerKeys", Tag: tag, Summary: "List the signing keys of partner access tokens",
			Perm: read, Handler: Handle(a.listPartnerKeys)},
		{Method: fiber.MethodPost, Path: "/partner-keys/rotate", ID: "rotatePartnerKey", Tag: tag, Summary: "Rotate the signing key",
			Doc:  "New tokens are signed with a new kid; the old key still verifies the tokens it signed until they expire.",
			Perm: write, Errors: []int{409}, Handler: Handle(a.rotatePartnerKey)},
	}
}

func (a *API) listPartners(c *Call, q PageQuery, _ NoBody) (Page[PartnerClient], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[PartnerClient]{}, bad
	}
	rows, err := a.d.Partners.List(c.Context(), after, q.limit()+1)
	if err != nil {
		return Page[PartnerClient]{}, err
	}
	out := make([]PartnerClient, len(rows))
	for i, p := range rows {
		out[i] = partnerClientOf(p)
	}
	return pageOf(out, q.limit(), func(last PartnerClient) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createPartner(c *Call, _ NoParams, in PartnerCreate) (PartnerCredentials, error) {
	ips, err := prefixes(in.AllowedIPs, "allowed_ips")
	if err != nil {
		return PartnerCredentials{}, err
	}
	cred, err := a.d.Partners.Create(c.Context(), c.Principal.Actor, in.Name, partner.Grant{Scopes: in.Scopes,
		BouquetIDs: in.BouquetIDs, LineIDs: in.LineIDs, AllowedIPs: ips})
	return PartnerCredentials{PartnerClient: partnerClientOf(cred.Partner), ClientSecret: cred.Secret.Reveal()}, err
}

func (a *API) getPartner(c *Call, in ByID, _ NoBody) (PartnerClient, error) {
	p, err := a.d.Partners.Get(c.Context(), in.ID)
	return partnerClientOf(p), err
}

func (a *API) updatePartner(c *Call, in ByID, b PartnerPatchBody) (PartnerClient, error) {
	patch := partner.Patch{Name: b.Name}
	if b.Scopes != nil {
		patch.Scopes = &b.Scopes
	}
	if b.BouquetIDs != nil {
		patch.BouquetIDs = &b.BouquetIDs
	}
	if b.LineIDs != nil {
		patch.LineIDs = &b.LineIDs
	}
	if b.AllowedIPs != nil {
		ips, err := prefixes(b.AllowedIPs, "allowed_ips")
		if err != nil {
			return PartnerClient{}, err
		}
		patch.AllowedIPs = &ips
	}
	p, err := a.d.Partners.Update(c.Context(), c.Principal.Actor, in.ID, patch)
	return partnerClientOf(p), err
}

func (a *API) rotatePartnerSecret(c *Call, in ByID, _ NoBody) (PartnerCredentials, error) {
	cred, err := a.d.Partners.RotateSecret(c.Context(), c.Principal.Actor, in.ID)
	return PartnerCredentials{PartnerClient: partnerClientOf(cred.Partner), ClientSecret: cred.Secret.Reveal()}, err
}

func (a *API) revokePartner(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Partners.Revoke(c.Context(), c.Principal.Actor, in.ID)
}

func (a *API) listRegistrationTokens(c *Call, q PageQuery, _ NoBody) (Page[RegistrationToken], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[RegistrationToken]{}, bad
	}
	rows, err := a.d.Partners.RegistrationTokens(c.Context(), after, q.limit()+1)
	if err != nil {
		return Page[RegistrationToken]{}, err
	}
	out := make([]RegistrationToken, len(rows))
	for i, r := range rows {
		out[i] = registrationTokenOf(r)
	}
	return pageOf(out, q.limit(), func(last RegistrationToken) *string { return encodeCursor("id", nil, last.ID) }), nil
}

func (a *API) createRegistrationToken(c *Call, _ NoParams, in RegistrationTokenCreate) (IssuedRegistrationToken, error) {
	ips, err := prefixes(in.AllowedIPs, "allowed_ips")
	if err != nil {
		return IssuedRegistrationToken{}, err
	}
	maxUses := 1
	if in.MaxUses != nil {
		maxUses = *in.MaxUses
	}
	rt, err := a.d.Partners.CreateRegistrationToken(c.Context(), c.Principal.Actor, partner.NewRegistrationToken{Name: in.Name,
		Grant:   partner.Grant{Scopes: in.Scopes, BouquetIDs: in.BouquetIDs, LineIDs: in.LineIDs, AllowedIPs: ips},
		MaxUses: maxUses, ExpiresAt: in.ExpiresAt})
	return IssuedRegistrationToken{RegistrationToken: registrationTokenOf(rt.RegistrationToken), Token: rt.Token.Reveal()}, err
}

func (a *API) revokeRegistrationToken(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Partners.RevokeRegistrationToken(c.Context(), c.Principal.Actor, in.ID)
}

func partnerKeyOf(k partner.Key) PartnerKey {
	return PartnerKey{KID: k.KID, CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt, VerifiesUntil: k.VerifiesUntil}
}

func (a *API) listPartnerKeys(c *Call, _ NoParams, _ NoBody) (PartnerKeys, error) {
	keys, err := a.d.Partners.Keys(c.Context())
	out := PartnerKeys{Keys: make([]PartnerKey, len(keys))}
	for i, k := range keys {
		out.Keys[i] = partnerKeyOf(k)
	}
	return out, err
}

func (a *API) rotatePartnerKey(c *Call, _ NoParams, _ NoBody) (PartnerKey, error) {
	k, err := a.d.Partners.RotateKey(c.Context(), c.Principal.Actor)
	return partnerKeyOf(k), err
}
