package admin

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/accounts"
)

// authenticate finds the caller of a request: an API key in X-API-Key, else a Bearer access
// token. Anything else is accounts.ErrUnauthenticated (401).
func (a *API) authenticate(c *fiber.Ctx, ip netip.Addr) (accounts.Principal, error) {
	if key := c.Get(APIKeyHeader); key != "" {
		return a.d.Accounts.AuthenticateKey(c.UserContext(), strings.Clone(key), ip)
	}
	scheme, token, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return accounts.Principal{}, fmt.Errorf("%w: no credentials", accounts.ErrUnauthenticated)
	}
	return a.d.Sessions.Verify(strings.TrimSpace(token), ip)
}

// clientIP is the client's address behind the configured trusted proxies.
func (a *API) clientIP(c *fiber.Ctx) netip.Addr {
	return edge.ClientIP(c, a.d.Config.TrustedProxies)
}
