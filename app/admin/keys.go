package admin

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// APIKey is an API key as lists show it: its id and scopes, never its secret.
type APIKey struct {
	ID         int64      `json:"id"`
	AdminID    int64      `json:"admin_id" doc:"The account the key acts as."`
	Name       string     `json:"name"`
	KeyID      string     `json:"key_id" doc:"The public part of the key (before the dot)."`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at" doc:"To the minute."`
}

func keyOf(k accounts.APIKey) APIKey {
	return APIKey{ID: k.ID, AdminID: k.AdminID, Name: k.Name, KeyID: k.KeyID, Scopes: nonNil(k.Scopes), CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

// KeyCreate is POST /api-keys's body.
type KeyCreate struct {
	Name      string     `json:"name" api:"required,minlen=1,maxlen=128"`
	Scopes    []string   `json:"scopes" api:"required,minitems=1,maxitems=64,unique" pattern:"^(\\*|[a-z][a-z0-9_]{0,31}:(read|write))$" doc:"\"*\" (all the account may), or <resource>:read / <resource>:write; write includes read. The resources are the operations' x-xtreamd-scope families, and xtream_api for api.php."`
	ExpiresAt *time.Time `json:"expires_at" doc:"Left out: never."`
	AdminID   *int64     `json:"admin_id" api:"min=1" doc:"The account the key acts as (admins only); default: the caller."`
}

// CreatedKey is a new key with its secret, shown this once.
type CreatedKey struct {
	APIKey
	Key string `json:"key" doc:"The whole key, <key_id>.<secret>: send it as X-API-Key. The only time it is shown; only its SHA-256 is kept."`
}

func (a *API) keyOps() []Op {
	return []Op{
		{Method: fiber.MethodGet, Path: "/api-keys", ID: "listAPIKeys", Tag: "API keys", Summary: "List API keys",
			Doc: "An admin sees every key; anyone else its own.", Perm: Perm{Scope: "api_keys"}, Handler: Handle(a.listKeys)},
		{Method: fiber.MethodPost, Path: "/api-keys", ID: "createAPIKey", Tag: "API keys", Summary: "Create an API key",
			Doc:  "For server-to-server use: the key acts as its account, limited to its scopes. The key is answered once.",
			Perm: Perm{Scope: "api_keys", Write: true}, Status: fiber.StatusCreated, Handler: Handle(a.createKey)},
		{Method: fiber.MethodGet, Path: "/api-keys/{id}", ID: "getAPIKey", Tag: "API keys", Summary: "Get an API key",
			Perm: Perm{Scope: "api_keys"}, Handler: Handle(a.getKey)},
		{Method: fiber.MethodDelete, Path: "/api-keys/{id}", ID: "revokeAPIKey", Tag: "API keys", Summary: "Revoke an API key",
			Doc: "It stops working at once, on every instance.", Perm: Perm{Scope: "api_keys", Write: true}, Handler: Handle(a.revokeKey)},
	}
}

func (a *API) listKeys(c *Call, q PageQuery, _ NoBody) (Page[APIKey], error) {
	after, bad := q.decodeCursor("id", nil)
	if bad != nil {
		return Page[APIKey]{}, bad
	}
	rows, err := a.d.Accounts.ListAPIKeys(c.Context(), c.Principal, after, q.limit()+1)
	if err != nil {
		return Page[APIKey]{}, err
	}
	out := make([]APIKey, len(rows))
	for i, k := range rows {
		out[i] = keyOf(k)
	}
	return pageOf(out, q.limit(), func(last APIKey) *string { return encodeCursor("id", nil, last.ID) }), nil
}

// XtreamAPIScope is the scope an API key needs for api.php.
const XtreamAPIScope = "xtream_api"

func (a *API) createKey(c *Call, _ NoParams, in KeyCreate) (CreatedKey, error) {
	for i, sc := range in.Scopes {
		family, _, _ := strings.Cut(sc, ":")
		if sc != "*" && family != XtreamAPIScope && !slices.Contains(a.scopes, family) {
			return CreatedKey{}, refuse(fmt.Sprintf("scopes[%d]", i), "no such resource; one of %s, %s", strings.Join(a.scopes, ", "), XtreamAPIScope)
		}
	}
	cred, err := a.d.Accounts.CreateAPIKey(c.Context(), c.Principal, accounts.NewAPIKey{Name: in.Name, Scopes: in.Scopes,
		ExpiresAt: in.ExpiresAt, AdminID: deref(in.AdminID)})
	if err != nil {
		return CreatedKey{}, err
	}
	k, err := a.d.Accounts.APIKeyByID(c.Context(), c.Principal, cred.ID)
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{APIKey: keyOf(k), Key: cred.Key.Reveal()}, nil
}

func (a *API) getKey(c *Call, in ByID, _ NoBody) (APIKey, error) {
	k, err := a.d.Accounts.APIKeyByID(c.Context(), c.Principal, in.ID)
	return keyOf(k), err
}

func (a *API) revokeKey(c *Call, in ByID, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Accounts.RevokeAPIKey(c.Context(), c.Principal, in.ID)
}
