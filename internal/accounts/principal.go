package accounts

import (
	"errors"
	"slices"

	"github.com/xtreamd/xtreamd/internal/audit"
)

// The refusals of an authenticated request that are not about a field.
var (
	// ErrUnauthenticated: no valid login (a bad, expired or revoked token or key, or wrong
	// credentials). Surfaces answer 401 and say nothing more to the client.
	ErrUnauthenticated = errors.New("accounts: unauthenticated")
	// ErrForbidden: the principal is known but may not do this (its role, or a line or admin
	// that is not its own). Surfaces answer 403.
	ErrForbidden = errors.New("accounts: forbidden")
	// ErrInsufficientCredits: a reseller's balance does not cover what it asked for. Nothing
	// was changed or charged.
	ErrInsufficientCredits = errors.New("accounts: insufficient credits")
	// ErrTrialLimit: a reseller made as many trial lines in the last 24 hours as it may.
	ErrTrialLimit = errors.New("accounts: trial limit reached")
)

// Principal is who acts through an admin surface: the audit actor (the admin's id and name,
// the client address), the role the account has and, for an API key, the scopes it was given.
// Every mutation takes one, so the rules (a reseller changes only its own lines) and the audit
// entry come from the same value.
type Principal struct {
	Actor audit.Actor
	Role  Role
	// Scopes are an API key's ("lines:write", "*" ...); nil for a login, which may do all its
	// role allows. A surface checks them per operation; the domain checks roles.
	Scopes []string
	// SessionID is the login session of an access token (0 for an API key); KeyID the API key
	// (0 for a login).
	SessionID int64
	KeyID     int64
}

// AdminID is the principal's admin account.
func (p Principal) AdminID() int64 { return p.Actor.AdminID }

// IsAdmin reports whether the principal has the admin role (everything).
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

// System is the principal of the server's own actions and the command line: an admin without
// an account.
func System(a audit.Actor) Principal { return Principal{Actor: a, Role: RoleAdmin} }

// HasScope reports whether an API key's scopes grant scope (e.g. "lines:read"): "*" grants
// everything, "x:write" grants "x:read". A login (nil scopes) has every scope.
func (p Principal) HasScope(scope string) bool {
	if p.Scopes == nil || slices.Contains(p.Scopes, "*") || slices.Contains(p.Scopes, scope) {
		return true
	}
	if family, ok := cutSuffix(scope, ":read"); ok {
		return slices.Contains(p.Scopes, family+":write")
	}
	return false
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}
