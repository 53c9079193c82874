package device

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/token"
)

// GrantTypeDeviceCode is RFC 8628's grant type at the token endpoint.
const GrantTypeDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// HeaderDeviceIdentifier is seed 001's device identifier header, taken where the form has no
// device_id.
const HeaderDeviceIdentifier = "AP-Device-Identifier"

// surfaceDevice names the device endpoints in the client log (a device's failed logout).
const surfaceDevice = "device"

// Bounds of the parameters (the schema's, or a little more so that the domain explains).
const (
	maxClientID   = 64
	maxDeviceID   = 128
	maxDeviceName = 256 // cut to 64 characters, not refused: a name is the device's own
	maxScope      = 256
	maxMACParam   = 32
	maxCode       = 64
	maxGrantType  = 128
	maxUsername   = 512
	maxPassword   = 1024
)

// parseCodeRequest reads POST /oauth/device/code: RFC 8628 §3.1's parameters and ours: client_id, device_id (else the
// AP-Device-Identifier header), device_name, and mac for a MAG box. Unknown parameters are
// ignored (RFC 6749 §3.2). bad names a refused parameter.
func parseCodeRequest(c *fiber.Ctx, ip netip.Addr) (r activation.CodeRequest, bad string) {
	f, ok := postForm(c)
	if !ok {
		return r, "content-type"
	}
	r.ClientID, r.DeviceID = f.get("client_id", maxClientID), f.get("device_id", maxDeviceID)
	r.DeviceName = f.get("device_name", maxDeviceName)
	_ = f.get("scope", maxScope) // none is defined; only its shape is checked
	macText := f.get("mac", maxMACParam)
	if r.DeviceID == "" {
		if v := c.Get(HeaderDeviceIdentifier); v != "" {
			r.DeviceID, _ = input.Clone(strings.TrimSpace(v), maxDeviceID)
		}
	}
	if f.bad != "" {
		return r, f.bad
	}
	if macText != "" {
		m, err := mag.ParseMAC(macText)
		if err != nil {
			return r, "mac"
		}
		r.MAC = &m
	}
	r.ClientIP = ip
	return r, ""
}

// deviceCode answers POST /oauth/device/code (RFC 8628 §3.2).
func (h *Handler) deviceCode(c *fiber.Ctx) error {
	ip := h.clientIP(c)
	if refused := h.admitDevice(c, ip); refused != nil {
		return refused()
	}
	req, bad := parseCodeRequest(c, ip)
	if bad != "" {
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: badParam(bad)})
	}
	g, err := h.devices.RequestCode(c.UserContext(), req)
	var fe *input.FieldError
	if errors.As(err, &fe) {
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: fe.Field + ": " + fe.Reason})
	}
	if err != nil {
		return h.unavailable(c, "device code", err)
	}
	uri := h.base + "/activate"
	return edge.WriteNoStore(c, fiber.StatusOK, codeResponse{
		DeviceCode: g.DeviceCode, UserCode: g.UserCode.String(), VerificationURI: uri,
		VerificationURIComplete: uri + "?user_code=" + g.UserCode.String(),
		ExpiresIn:               int(g.ExpiresIn.Seconds()), Interval: int(g.Interval.Seconds()),
	})
}

// codeResponse is RFC 8628 §3.2's answer.
type codeResponse struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// tokenRequest is a parsed POST /oauth/token.
type tokenRequest struct {
	grantType, deviceCode, clientID string
}

func parseTokenRequest(c *fiber.Ctx) (r tokenRequest, bad string) {
	f, ok := postForm(c)
	if !ok {
		return r, "content-type"
	}
	r.grantType, r.deviceCode, r.clientID = f.get("grant_type", maxGrantType), f.get("device_code", maxCode), f.get("client_id", maxClientID)
	return r, f.bad
}

// token answers POST /oauth/token for the device code grant (RFC 8628 §3.4–3.5). Any other
// grant type is unsupported_grant_type here.
func (h *Handler) token(c *fiber.Ctx) error {
	ip := h.clientIP(c)
	if refused := h.admitDevice(c, ip); refused != nil {
		return refused()
	}
	req, bad := parseTokenRequest(c)
	switch {
	case bad != "":
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: badParam(bad)})
	case req.grantType == "":
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: "grant_type is required"})
	case req.grantType != GrantTypeDeviceCode:
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errUnsupportedGrantType,
			Description: "this endpoint takes grant_type=" + GrantTypeDeviceCode})
	case req.deviceCode == "" || req.clientID == "":
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: "device_code and client_id are required"})
	}
	res, err := h.devices.Poll(c.UserContext(), req.deviceCode, req.clientID, ip)
	if err != nil {
		return h.unavailable(c, "device token", err)
	}
	if res.Outcome == activation.Issued {
		return edge.WriteNoStore(c, fiber.StatusOK, h.tokenResponse(res.Issued))
	}
	e := pollError(res.Outcome)
	if res.Outcome == activation.SlowDown {
		e.Interval = int(res.Interval.Seconds())
	}
	return writeOAuthError(c, fiber.StatusBadRequest, e)
}

// tokenResponse is the credential an approved code hands out (RFC 6749 §5.1's shape with our
// token types): an Xtream username and password the device uses on player_api.php and the
// stream URLs of server_url, or a MAG box's MAC, now the line's, for the portal at portal_url.
// access_token repeats the password (or MAC) for OAuth clients that read only it.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Username    string `json:"username,omitempty"`
	Password    string `json:"password,omitempty"`
	ServerURL   string `json:"server_url,omitempty"`
	MAC         string `json:"mac,omitempty"`
	PortalURL   string `json:"portal_url,omitempty"`
}

// The token types of tokenResponse.
const (
	TokenTypeXtream = "xtream"
	TokenTypeMAG    = "mag"
)

func (h *Handler) tokenResponse(cred *activation.Credential) tokenResponse {
	if cred.Kind == activation.KindMAG {
		mac := cred.MAC.String()
		return tokenResponse{AccessToken: mac, TokenType: TokenTypeMAG, MAC: mac, PortalURL: h.base + "/c/"}
	}
	pw := cred.Password.Reveal() // shown this once: the device's to keep
	return tokenResponse{AccessToken: pw, TokenType: TokenTypeXtream, Username: cred.Username, Password: pw, ServerURL: h.base}
}

// logoutResponse is seed 001's logout answer: nothing interactive remains to do. It has the
// shape of the partner logout's (POST /api/v2/{partner}/logout), whose revoked object counts
// media sessions and access tokens.
type logoutResponse struct {
	ActionName string        `json:"actionName"`
	ActionType string        `json:"actionType"`
	Revoked    revokedDevice `json:"revoked"`
}

type revokedDevice struct {
	DeviceCredentials int `json:"device_credentials"`
}

func loggedOut(n int) logoutResponse {
	return logoutResponse{ActionName: "logout", ActionType: "none", Revoked: revokedDevice{DeviceCredentials: n}}
}

// logout answers POST /oauth/device/logout: the device signs its own credential out with its
// username and password (checked by access, so the flood limit applies). A line's own password
// cannot be logged out this way.
func (h *Handler) logout(c *fiber.Ctx) error {
	ip := h.clientIP(c)
	f, ok := postForm(c)
	if !ok {
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: badParam("content-type")})
	}
	user, pass := f.get("username", maxUsername), f.get("password", maxPassword)
	if f.bad != "" || user == "" || pass == "" {
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: "username and password are required"})
	}
	d, err := h.access.Check(c.UserContext(), access.Request{Who: access.Password{Username: user, Password: pass},
		ClientIP: ip, UserAgent: userAgent(c), Surface: surfaceDevice})
	if err != nil {
		return h.unavailable(c, "device logout", err)
	}
	switch {
	case d.Code == access.FloodBlocked:
		return writeOAuthError(c, fiber.StatusTooManyRequests, oauthError{Error: errTemporarilyUnavailable, Description: "too many failed attempts from this address"})
	case d.Line == nil:
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidGrant, Description: "unknown device credential"})
	case d.IssuingCredential().Kind != token.CredentialDevice:
		return writeOAuthError(c, fiber.StatusBadRequest, oauthError{Error: errInvalidRequest, Description: "not a device credential"})
	}
	done, err := h.devices.Logout(c.UserContext(), user, ip)
	if err != nil {
		return h.unavailable(c, "device logout", err)
	}
	n := 0
	if done {
		n = 1
	}
	return edge.WriteNoStore(c, fiber.StatusOK, loggedOut(n))
}

// admitDevice refuses a device request from a blocked address (the global list, a failed-login
// flood) or over the per-client request rate; nil admits it.
func (h *Handler) admitDevice(c *fiber.Ctx, ip netip.Addr) func() error {
	switch {
	case h.access.Blocked(ip):
		return func() error {
			return writeOAuthError(c, fiber.StatusForbidden, oauthError{Error: errAccessDenied, Description: "requests from this address are blocked"})
		}
	case !h.access.AllowRequest(ip):
		return func() error {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(1))
			return writeOAuthError(c, fiber.StatusTooManyRequests, oauthError{Error: errTemporarilyUnavailable, Description: "too many requests"})
		}
	}
	return nil
}
