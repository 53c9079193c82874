package partner

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// The problem types of /api/v2 (RFC 9457 "type" members), as /api/v1 names its own.
const (
	problemInvalid      = "urn:xtreamd:problem:invalid-request" // 400: Field names the member
	problemUnauthorized = "urn:xtreamd:problem:unauthorized"    // 401
	problemForbidden    = "urn:xtreamd:problem:forbidden"       // 403
	problemDenied       = "urn:xtreamd:problem:denied"          // 403: Code is the check's
	problemTooLarge     = "urn:xtreamd:problem:too-large"       // 413
	problemTooMany      = "urn:xtreamd:problem:too-many-requests"
)

// apiProblem is an /api/v2 problem: RFC 9457 with a "code" extension member for a denial.
type apiProblem struct {
	edge.Problem
	Code       string `json:"code,omitempty"`
	retryAfter string
	challenge  string // WWW-Authenticate
}

func problem(status int, typ, detail string) *apiProblem {
	return &apiProblem{Problem: edge.Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}}
}

func invalid(field, detail string) *apiProblem {
	p := problem(fiber.StatusBadRequest, problemInvalid, detail)
	p.Field = field
	return p
}

func tooMany(wait time.Duration) *apiProblem {
	p := problem(fiber.StatusTooManyRequests, problemTooMany, "too many denied decisions; retry later")
	p.retryAfter = retryAfter(wait.Seconds())
	return p
}

// writeProblem answers p as application/problem+json.
func writeProblem(c *fiber.Ctx, p *apiProblem) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if p.retryAfter != "" {
		c.Set(fiber.HeaderRetryAfter, p.retryAfter)
	}
	if p.challenge != "" {
		c.Set(fiber.HeaderWWWAuthenticate, p.challenge)
	}
	c.Set(fiber.HeaderContentType, edge.MIMEProblem)
	return c.Status(p.Status).Send(b)
}

// principalHandler is a handler of a bearer-authenticated route.
type principalHandler func(c *fiber.Ctx, p partner.Principal) error

// bearer authenticates a route's caller by its access token (RFC 6750), which must grant
// scope and be the client the path names, called from the client's networks.
func (h *Handler) bearer(scope string, next principalHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ip := edge.ClientIP(c, h.d.Proxies)
		tok, ok := edge.BearerToken(c, maxParam)
		if !ok {
			p := problem(fiber.StatusUnauthorized, problemUnauthorized, "a Bearer access token from /o/client/token is required")
			p.challenge = `Bearer realm="xtreamd"`
			return writeProblem(c, p)
		}
		pr, err := h.d.Partners.Verify(tok, ip)
		switch {
		case errors.Is(err, partner.ErrAddress):
			h.log.WarnContext(c.UserContext(), "partner call from outside its networks", "client_ip", ip.String(), "err", err)
			return writeProblem(c, problem(fiber.StatusForbidden, problemForbidden, "this client may not call from "+ip.String()))
		case err != nil:
			h.log.InfoContext(c.UserContext(), "partner token refused", "client_ip", ip.String(), "err", err)
			p := problem(fiber.StatusUnauthorized, problemUnauthorized, "the access token is invalid, expired or revoked")
			p.challenge = `Bearer realm="xtreamd", error="invalid_token"`
			return writeProblem(c, p)
		case c.Params("partner") != pr.ClientID:
			return writeProblem(c, problem(fiber.StatusForbidden, problemForbidden, "the path names another partner than the token's"))
		case !pr.HasScope(scope):
			p := problem(fiber.StatusForbidden, problemForbidden, "the access token does not grant the scope "+scope)
			p.challenge = `Bearer realm="xtreamd", error="insufficient_scope", scope="` + scope + `"`
			return writeProblem(c, p)
		case len(c.Body()) > maxBody:
			return writeProblem(c, problem(fiber.StatusRequestEntityTooLarge, problemTooLarge, "the body is too large"))
		}
		return next(c, pr)
	}
}

// decodeBody decodes a JSON object body into dst, strictly: a member outside members, a wrong
// type or anything after the object is 400, naming the member where it can.
func decodeBody(c *fiber.Ctx, dst any, members ...string) *apiProblem {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(c.Body(), &obj); err != nil || obj == nil {
		return invalid("", "the body must be one JSON object")
	}
	// Go's decoding would quietly make either U+FFFD, so what was kept would not be what was sent.
	if !utf8.Valid(c.Body()) || input.LoneSurrogate(c.Body()) {
		return invalid("", "the body must be UTF-8 text, without a lone UTF-16 surrogate (\\ud800–\\udfff)")
	}
	if path, dup := input.DuplicateName(c.Body()); dup {
		return invalid(input.Sanitize(path, 64), "given twice")
	}
	for k := range obj {
		if !slices.Contains(members, k) {
			return invalid(input.Sanitize(k, 64), "no such member; the members are "+strings.Join(members, ", "))
		}
	}
	if err := json.Unmarshal(c.Body(), dst); err != nil {
		var te *json.UnmarshalTypeError
		var me *memberError
		switch {
		case errors.As(err, &me):
			return invalid(me.member, me.reason)
		case errors.As(err, &te):
			return invalid(te.Field, "must be a "+te.Type.String())
		}
		return invalid("", "the body must be one JSON object")
	}
	return nil
}
