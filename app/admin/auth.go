package admin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// loginRequest is POST /auth/login's body.
type loginRequest struct {
	Username string `json:"username" api:"required,minlen=1,maxlen=64" doc:"The admin's username." example:"admin"`
	Password string `json:"password" api:"required,minlen=1,maxlen=1024" doc:"The admin's password."`
}

// refreshRequest is POST /auth/refresh's body.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token" api:"required,minlen=1,maxlen=4096" doc:"The refresh_token of the last login or refresh; each is used once."`
}

// TokenResponse is a login's or a refresh's answer (RFC 6749 §5.1 names).
type TokenResponse struct {
	AccessToken  string `json:"access_token" doc:"A short-lived HS256 JWT: send it as Authorization: Bearer <token>."`
	TokenType    string `json:"token_type" api:"enum=Bearer"`
	ExpiresIn    int    `json:"expires_in" doc:"Seconds until the access token expires."`
	RefreshToken string `json:"refresh_token" doc:"Trade it for a new pair at POST /auth/refresh, once: a second use revokes the login."`
}

func tokenResponse(t accounts.Tokens) TokenResponse {
	return TokenResponse{AccessToken: t.AccessToken.Reveal(), TokenType: "Bearer", ExpiresIn: int(t.ExpiresIn / time.Second),
		RefreshToken: t.RefreshToken.Reveal()}
}

func (a *API) authOps() []Op {
	return []Op{
		{Method: fiber.MethodPost, Path: "/auth/login", ID: "login", Tag: "Auth", Summary: "Log in",
			Doc:  "Trades an admin's username and password for an access token and a refresh token. Failed attempts count against the client address like player logins: too many lock it out for a while (429).",
			Perm: Perm{Public: true}, Errors: []int{401, 429}, Handler: Handle(a.login)},
		{Method: fiber.MethodPost, Path: "/auth/refresh", ID: "refreshToken", Tag: "Auth", Summary: "Refresh the access token",
			Doc:  "Trades a refresh token for a new access token and a new refresh token (rotation). A refresh token presented twice revokes its whole login on every instance.",
			Perm: Perm{Public: true}, Errors: []int{401, 429}, Handler: Handle(a.refresh)},
		{Method: fiber.MethodGet, Path: "/auth/whoami", ID: "whoAmI", Tag: "Auth", Summary: "Who am I",
			Doc:  "The account the token or API key acts as: its id, username and role, and an API key's scopes.",
			Perm: Perm{}, Handler: Handle(a.whoAmI)},
		{Method: fiber.MethodPost, Path: "/auth/logout", ID: "logout", Tag: "Auth", Summary: "Log out",
			Doc:  "Revokes the login of the access token: it and its refresh tokens stop working on every instance within a second.",
			Perm: Perm{}, Errors: []int{400}, Handler: Handle(a.logout)},
	}
}

func (a *API) login(c *Call, _ NoParams, in loginRequest) (TokenResponse, error) {
	var tokens accounts.Tokens
	err := a.guardLogin(c.Context(), c.IP, func() error {
		var err error
		tokens, _, err = a.d.Sessions.Login(c.Context(), in.Username, in.Password,
			accounts.Client{IP: c.IP, UserAgent: c.UserAgent})
		return err
	})
	if err != nil {
		return TokenResponse{}, err
	}
	return tokenResponse(tokens), nil
}

func (a *API) refresh(c *Call, _ NoParams, in refreshRequest) (TokenResponse, error) {
	var tokens accounts.Tokens
	err := a.guardLogin(c.Context(), c.IP, func() error {
		var err error
		tokens, _, err = a.d.Sessions.Refresh(c.Context(), in.RefreshToken, c.IP)
		return err
	})
	if err != nil {
		return TokenResponse{}, err
	}
	return tokenResponse(tokens), nil
}

// WhoAmI is the caller as the API sees it.
type WhoAmI struct {
	AdminID  int64    `json:"admin_id"`
	Username string   `json:"username" doc:"The admin's username, or api_key:<key id> for an API key."`
	Role     string   `json:"role" api:"enum=admin|reseller|viewer"`
	Scopes   []string `json:"scopes" api:"nullable" doc:"An API key's scopes; null for a login, which may do all its role may."`
}

func (a *API) whoAmI(c *Call, _ NoParams, _ NoBody) (WhoAmI, error) {
	p := c.Principal
	return WhoAmI{AdminID: p.AdminID(), Username: p.Actor.Name, Role: string(p.Role), Scopes: p.Scopes}, nil
}

func (a *API) logout(c *Call, _ NoParams, _ NoBody) (NoContent, error) {
	return NoContent{}, a.d.Sessions.Logout(c.Context(), c.Principal)
}

// guardLogin runs attempt (a login or a refresh) under the protection player logins have, and
// is the one place admin logins use it: the per-IP request rate of the player surfaces, a
// refusal while the address is blocked (by an admin or for a flood), and each failure counted
// in the database with the players' ones, so that the flood settings (flood_auth_failures in
// flood_window_seconds block for flood_block_seconds) lock out a password guesser on every
// instance.
func (a *API) guardLogin(ctx context.Context, ip netip.Addr, attempt func() error) error {
	st := a.d.Access.Settings()
	if !a.d.Access.AllowRequest(ip) {
		return tooMany(time.Second)
	}
	until, blocked, err := a.d.Store.BlockedUntil(ctx, ip)
	if err != nil {
		return fmt.Errorf("login guard: %w", err)
	}
	if blocked {
		return tooMany(time.Until(until))
	}
	err = attempt()
	if !errors.Is(err, accounts.ErrUnauthenticated) {
		return err
	}
	// Counted like a player's failed login (per IPv4 address or IPv6 /64, exemptions and
	// blocks included): the same flood settings lock a password guesser out of both.
	if ferr := a.d.Access.CountFailure(ctx, ip); ferr != nil {
		a.d.Log.WarnContext(ctx, "counting a failed admin login", "client_ip", ip.String(), "err", ferr)
		return err
	}
	if a.d.Access.FloodBlocked(ip) {
		a.d.Log.WarnContext(ctx, "client blocked for failed admin logins", "client_ip", ip.String())
		return tooMany(st.AuthBlockFor)
	}
	return err
}

// tooMany is the 429 answer, with Retry-After rounded up to whole seconds (at least 1;
// zero wait means a block without end: an hour).
func tooMany(wait time.Duration) *apiProblem {
	if wait <= 0 {
		wait = time.Hour
	}
	p := problem(fiber.StatusTooManyRequests, ProblemTooMany, "too many attempts from this address; try again later")
	p.retryAfter = int(math.Ceil(wait.Seconds()))
	return p
}
