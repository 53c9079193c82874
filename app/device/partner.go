package device

import (
	"context"
	"errors"
	"net/netip"
	"slices"

	"github.com/xtreamd/xtreamd/internal/access"
)

// PartnerAuthenticator authenticates the bearer token of a partner backend's request under
// /api/v2/{partner}/ (issue 15's partner clients: a client_credentials JWT). It is the seam to
// the partner package, which app/server adapts to it: this surface needs only who the partner
// is, what it may do, and which lines it may act for.
type PartnerAuthenticator interface {
	// AuthenticatePartner checks r. A refusal is ErrPartnerUnauthenticated (no, a bad, an
	// expired or a revoked token: 401) or ErrPartnerForbidden (a token of another partner than
	// the path's, or a caller outside the partner's allowed networks: 403); any other error
	// means it could not decide (503).
	AuthenticatePartner(ctx context.Context, r PartnerRequest) (Partner, error)
}

// PartnerRequest is what a partner request presents.
type PartnerRequest struct {
	Partner  string     // the {partner} path segment
	Bearer   string     // the token of "Authorization: Bearer <token>"; "" when there is none
	ClientIP netip.Addr // the caller: the partner's backend (behind the trusted proxies)
}

// Partner is an authenticated partner.
type Partner struct {
	// ClientID is its OAuth client id: the device codes requested with it (POST
	// /oauth/device/code client_id=…) and the credentials they made are its own.
	ClientID string
	// Scopes are its token's; the profile routes want ScopeProfiles (or "*").
	Scopes []string
	// MayActFor reports whether it may act for a line (its bouquets and lines scope); nil:
	// for any line.
	MayActFor func(line *access.Line) bool
}

// ScopeProfiles is the scope the profile routes want.
const ScopeProfiles = "profiles"

// The refusals of an AuthenticatePartner.
var (
	ErrPartnerUnauthenticated = errors.New("device: partner not authenticated")
	ErrPartnerForbidden       = errors.New("device: partner not allowed")
)

func (p Partner) has(scope string) bool {
	return slices.Contains(p.Scopes, scope) || slices.Contains(p.Scopes, "*")
}

func (p Partner) mayActFor(line *access.Line) bool { return p.MayActFor == nil || p.MayActFor(line) }
