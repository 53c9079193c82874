package partner

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// The OAuth endpoints: token (RFC 6749 §4.4), revocation (RFC 7009) and dynamic registration
// (RFC 7591). Their errors are RFC 6749 §5.2's JSON, {"error": …, "error_description": …}.

// oauthError is an OAuth error answer.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description,omitempty"`
	basic  bool   // the client authenticated with HTTP Basic: 401 names the scheme
}

// The error codes of RFC 6749 §5.2, RFC 6750 §3.1 and RFC 7591 §3.2.2 the endpoints answer
// (invalid_grant has no case: the client-credentials grant carries no grant to be invalid).
const (
	errInvalidRequest        = "invalid_request"
	errInvalidClient         = "invalid_client"
	errUnsupportedGrantType  = "unsupported_grant_type"
	errInvalidScope          = "invalid_scope"
	errInvalidToken          = "invalid_token"
	errInvalidClientMetadata = "invalid_client_metadata"
	errAccessDenied          = "access_denied"
	errUnavailable           = "temporarily_unavailable"
)

func oauthFail(status int, code, desc string) *oauthError {
	return &oauthError{status: status, Code: code, Desc: desc}
}

// writeOAuth answers e. Token endpoint answers are never cached (RFC 6749 §5.1, §5.2).
func writeOAuth(c *fiber.Ctx, e *oauthError) error {
	switch {
	case e.status == fiber.StatusUnauthorized && e.Code == errInvalidToken:
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="xtreamd", error="invalid_token"`)
	case e.status == fiber.StatusUnauthorized && e.basic:
		c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="xtreamd"`)
	case e.status == fiber.StatusTooManyRequests:
		c.Set(fiber.HeaderRetryAfter, "60")
	}
	return edge.WriteNoStore(c, e.status, e)
}

// tokenForm is a token or revocation request, copied out of the request.
type tokenForm struct {
	grantType string
	scopes    []string
	token     string // revocation: the token to revoke
	client    partner.TokenRequest
	basic     bool
}

// maxParam bounds a form parameter; a longer one is invalid_request.
const maxParam = 4096

// parseTokenForm reads an application/x-www-form-urlencoded body (RFC 6749 §4.4.2) and the
// client's credentials from HTTP Basic or the form, not both (§2.3.1). A parameter sent twice
// is invalid_request (§3.2); unknown ones are ignored.
func (h *Handler) parseTokenForm(c *fiber.Ctx) (tokenForm, *oauthError) {
	ct := strings.ToLower(strings.TrimSpace(c.Get(fiber.HeaderContentType)))
	if !strings.HasPrefix(ct, fiber.MIMEApplicationForm) {
		return tokenForm{}, oauthFail(fiber.StatusBadRequest, errInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if len(c.Body()) > maxBody {
		return tokenForm{}, oauthFail(fiber.StatusRequestEntityTooLarge, errInvalidRequest, "the body is too large")
	}
	args := c.Request().PostArgs()
	param := func(name string) (string, bool) {
		vs := args.PeekMulti(name)
		if len(vs) > 1 || len(vs) == 1 && (len(vs[0]) > maxParam || !input.Text(string(vs[0]), maxParam)) {
			return "", false
		}
		if len(vs) == 0 {
			return "", true
		}
		return string(vs[0]), true // string() copies: fasthttp reuses the buffer
	}
	var f tokenForm
	var ok [5]bool
	var scope, id, secret string
	f.grantType, ok[0] = param("grant_type")
	scope, ok[1] = param("scope")
	f.token, ok[2] = param("token")
	id, ok[3] = param("client_id")
	secret, ok[4] = param("client_secret")
	if ok != [5]bool{true, true, true, true, true} {
		return tokenForm{}, oauthFail(fiber.StatusBadRequest, errInvalidRequest, "a parameter is repeated, too long or not text")
	}
	f.scopes = strings.Fields(scope)
	f.client.IP = edge.ClientIP(c, h.d.Proxies)
	if bad := clientAuth(c.Get(fiber.HeaderAuthorization), id, secret, &f); bad != nil {
		return tokenForm{}, bad
	}
	return f, nil
}

// clientAuth fills f's client credentials from the Authorization header (Basic, both parts
// form-encoded as RFC 6749 §2.3.1 says) or the form's client_id and client_secret.
func clientAuth(header, id, secret string, f *tokenForm) *oauthError {
	scheme, cred, _ := strings.Cut(header, " ")
	if header == "" {
		if id == "" || secret == "" {
			return oauthFail(fiber.StatusUnauthorized, errInvalidClient, "client authentication is required")
		}
		f.client.ClientID, f.client.Secret = id, secret
		return nil
	}
	f.basic = true
	fail := &oauthError{status: fiber.StatusUnauthorized, Code: errInvalidClient, Desc: "malformed Basic credentials", basic: true}
	if !strings.EqualFold(scheme, "Basic") {
		fail.Desc = "only HTTP Basic client authentication is accepted in the Authorization header"
		return fail
	}
	if secret != "" {
		return oauthFail(fiber.StatusBadRequest, errInvalidRequest, "more than one client authentication method")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return fail
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok {
		return fail
	}
	if u, err = url.QueryUnescape(u); err != nil {
		return fail
	}
	if p, err = url.QueryUnescape(p); err != nil {
		return fail
	}
	if id != "" && id != u {
		return oauthFail(fiber.StatusBadRequest, errInvalidRequest, "client_id differs from the Basic credentials")
	}
	f.client.ClientID, f.client.Secret = u, p
	return nil
}

// tokenAnswer is RFC 6749 §5.1's successful answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// floodBlocked answers a caller blocked for failed authentications (theirs count as a player's
// wrong passwords do).
func floodBlocked() *oauthError {
	return oauthFail(fiber.StatusTooManyRequests, errUnavailable, "too many failed attempts from this address")
}

// tokenCall is the start of the token and revocation endpoints: a blocked caller is refused
// before its form (or its client secret) is read.
func (h *Handler) tokenCall(c *fiber.Ctx) (tokenForm, *oauthError) {
	if ip := edge.ClientIP(c, h.d.Proxies); h.d.Access.FloodBlocked(ip) {
		return tokenForm{}, floodBlocked()
	}
	return h.parseTokenForm(c)
}

// token serves POST /o/client/token: the client-credentials grant.
func (h *Handler) token(c *fiber.Ctx) error {
	f, bad := h.tokenCall(c)
	switch {
	case bad != nil:
		return writeOAuth(c, bad)
	case f.grantType == "":
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidRequest, "grant_type is required"))
	case f.grantType != partner.GrantClientCredentials:
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errUnsupportedGrantType, "only client_credentials"))
	}
	f.client.Scopes = f.scopes
	tok, err := h.d.Partners.IssueToken(f.client)
	if err != nil {
		return h.clientFailure(c, f, err)
	}
	return edge.WriteNoStore(c, fiber.StatusOK, tokenAnswer{AccessToken: tok.Token, TokenType: "Bearer",
		ExpiresIn: int64(tok.ExpiresIn.Seconds()), Scope: strings.Join(tok.Scopes, " ")})
}

// clientFailure answers a refused client: a failed authentication counts towards the flood
// limit of the caller's address, as a wrong password does.
func (h *Handler) clientFailure(c *fiber.Ctx, f tokenForm, err error) error {
	switch {
	case errors.Is(err, partner.ErrInvalidClient):
		h.log.WarnContext(c.UserContext(), "partner client authentication failed", "client_ip", f.client.IP.String(), "err", err)
		h.countFailure(c, f.client.IP)
		return writeOAuth(c, &oauthError{status: fiber.StatusUnauthorized, Code: errInvalidClient,
			Desc: "client authentication failed", basic: f.basic})
	case errors.Is(err, partner.ErrInvalidScope):
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidScope, "a scope asked for is not the client's"))
	}
	return err
}

func (h *Handler) countFailure(c *fiber.Ctx, ip netip.Addr) {
	if err := h.d.Access.CountFailure(c.UserContext(), ip); err != nil {
		h.log.WarnContext(c.UserContext(), "counting a failed partner authentication", "err", err)
	}
}

// revoke serves POST /o/client/revoke (RFC 7009): 200 whether or not the token was one.
func (h *Handler) revoke(c *fiber.Ctx) error {
	f, bad := h.tokenCall(c)
	switch {
	case bad != nil:
		return writeOAuth(c, bad)
	case f.token == "":
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidRequest, "token is required"))
	}
	if err := h.d.Partners.RevokeToken(c.UserContext(), f.client, f.token); err != nil {
		return h.clientFailure(c, f, err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return edge.Empty(c, fiber.StatusOK)
}

// registration is RFC 7591's client metadata, as far as this server reads it; other members
// are ignored (§2: what the server does not understand).
type registration struct {
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// registered is RFC 7591 §3.2.1's answer.
type registered struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   int64    `json:"client_secret_expires_at"` // 0: never
	ClientName              string   `json:"client_name"`
	Scope                   string   `json:"scope"`
	GrantTypes              []string `json:"grant_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// register serves POST /o/client/register with the initial access token as a Bearer.
func (h *Handler) register(c *fiber.Ctx) error {
	ip := edge.ClientIP(c, h.d.Proxies)
	if h.d.Access.FloodBlocked(ip) {
		return writeOAuth(c, floodBlocked())
	}
	initial, ok := edge.BearerToken(c, maxParam)
	if !ok {
		return writeOAuth(c, oauthFail(fiber.StatusUnauthorized, errInvalidToken, "an initial access token is required"))
	}
	var md registration
	if len(c.Body()) > maxBody {
		return writeOAuth(c, oauthFail(fiber.StatusRequestEntityTooLarge, errInvalidRequest, "the body is too large"))
	}
	if err := json.Unmarshal(c.Body(), &md); err != nil {
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidClientMetadata, "the body must be a JSON object of client metadata"))
	}
	// Go's decoding made either U+FFFD: the name kept would not be the one sent.
	if !utf8.Valid(c.Body()) || input.LoneSurrogate(c.Body()) {
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidClientMetadata, "the body must be UTF-8 text, without a lone UTF-16 surrogate"))
	}
	if path, dup := input.DuplicateName(c.Body()); dup {
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidClientMetadata, input.Sanitize(path, 64)+": given twice"))
	}
	reg, err := h.d.Partners.Register(c.UserContext(), initial, partner.ClientMetadata{ClientName: md.ClientName,
		Scopes: strings.Fields(md.Scope), GrantTypes: md.GrantTypes, TokenEndpointAuthMethod: md.TokenEndpointAuthMethod}, ip)
	var fe *input.FieldError
	switch {
	case errors.Is(err, partner.ErrRegistrationClosed):
		return writeOAuth(c, oauthFail(fiber.StatusForbidden, errAccessDenied, "dynamic client registration is disabled"))
	case errors.Is(err, partner.ErrInvalidRegistrationToken):
		h.log.WarnContext(c.UserContext(), "partner registration refused", "client_ip", ip.String(), "err", err)
		h.countFailure(c, ip)
		return writeOAuth(c, oauthFail(fiber.StatusUnauthorized, errInvalidToken, "the initial access token is invalid"))
	case errors.As(err, &fe):
		return writeOAuth(c, oauthFail(fiber.StatusBadRequest, errInvalidClientMetadata, fe.Field+": "+fe.Reason))
	case err != nil:
		return fmt.Errorf("register: %w", err)
	}
	return edge.WriteNoStore(c, fiber.StatusCreated, registered{ClientID: reg.Partner.ClientID, ClientSecret: reg.Secret.Reveal(),
		ClientIDIssuedAt: reg.IssuedAt.Unix(), ClientName: reg.Partner.Name, Scope: strings.Join(reg.Partner.Scopes, " "),
		GrantTypes: reg.Metadata.GrantTypes, TokenEndpointAuthMethod: reg.Metadata.TokenEndpointAuthMethod})
}

// retryAfter formats a wait in whole seconds, at least 1.
func retryAfter(seconds float64) string { return strconv.Itoa(max(1, int(seconds+0.999))) }
