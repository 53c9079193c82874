package admin

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/importer"
	"github.com/xtreamd/xtreamd/internal/input"
)

// The problem types of /api/v1 (RFC 9457 "type" members): a client may branch on them; the
// title and detail are for people.
const (
	ProblemInvalid      = "urn:xtreamd:problem:invalid-request"      // 400: Field names the member
	ProblemUnauthorized = "urn:xtreamd:problem:unauthorized"         // 401
	ProblemForbidden    = "urn:xtreamd:problem:forbidden"            // 403
	ProblemNotFound     = "urn:xtreamd:problem:not-found"            // 404
	ProblemConflict     = "urn:xtreamd:problem:conflict"             // 409: Field names the member
	ProblemNoCredits    = "urn:xtreamd:problem:insufficient-credits" // 409: a reseller's balance is short
	ProblemTrialLimit   = "urn:xtreamd:problem:trial-limit"          // 409: a reseller's trials for today are used up
	ProblemTooLarge     = "urn:xtreamd:problem:too-large"            // 413
	ProblemTooMany      = "urn:xtreamd:problem:too-many-requests"    // 429: see Retry-After
	ProblemUnavailable  = "urn:xtreamd:problem:unavailable"          // 503: try again
)

// apiProblem is an error that is its own answer.
type apiProblem struct {
	edge.Problem
	retryAfter int // seconds, for 429
}

func (p *apiProblem) Error() string { return p.Title + ": " + p.Detail }

// problem returns the answer status/type with detail as an error a handler can return.
func problem(status int, typ, detail string) *apiProblem {
	return &apiProblem{Problem: edge.Problem{Type: typ, Title: http.StatusText(status), Status: status, Detail: detail}}
}

// problemOf is the answer of err, a handler's refusal or a domain error, in one place: ok is
// false for an error of ours, which the app's error handler logs and answers 500.
func problemOf(err error) (*apiProblem, bool) {
	var ap *apiProblem
	var bad *badField
	var fe *accounts.FieldError
	var ife *input.FieldError
	switch {
	case errors.As(err, &ap):
		return ap, true
	case errors.As(err, &bad):
		p := problem(fiber.StatusBadRequest, ProblemInvalid, bad.reason)
		p.Field = bad.field
		return p, true
	case errors.As(err, &fe):
		return fieldProblem(fe), true
	case errors.As(err, &ife):
		return inputProblem(ife), true
	case errors.Is(err, importer.ErrTooLarge):
		return problem(fiber.StatusRequestEntityTooLarge, ProblemTooLarge, "the file is larger than the import limit"), true
	case errors.Is(err, importer.ErrBusy):
		p := problem(fiber.StatusTooManyRequests, ProblemTooMany, "too many imports are queued; try again later")
		p.retryAfter = 30
		return p, true
	case errors.Is(err, accounts.ErrUnauthenticated):
		return problem(fiber.StatusUnauthorized, ProblemUnauthorized, "missing, invalid, expired or revoked credentials"), true
	case errors.Is(err, accounts.ErrForbidden):
		return problem(fiber.StatusForbidden, ProblemForbidden, "not allowed for this account"), true
	case errors.Is(err, accounts.ErrInsufficientCredits):
		return problem(fiber.StatusConflict, ProblemNoCredits, "not enough credits"), true
	case errors.Is(err, accounts.ErrTrialLimit):
		return problem(fiber.StatusConflict, ProblemTrialLimit, "no trials left for today"), true
	case errors.Is(err, context.DeadlineExceeded):
		return problem(fiber.StatusServiceUnavailable, ProblemUnavailable, "the server is busy; try again"), true
	}
	return nil, false
}

// fieldProblem answers a field the account rules refused, by its kind.
func fieldProblem(fe *accounts.FieldError) *apiProblem { return refusal(fe.Field, fe.Reason, fe.Kind) }

// inputProblem answers a field the catalog, security, settings or import rules refused.
func inputProblem(fe *input.FieldError) *apiProblem { return refusal(fe.Field, fe.Reason, fe.Kind) }

// refusal is the problem of a refused field: its status and type by the kind of refusal (the
// accounts' or the other domains' sentinels), 400 for a value that breaks a rule.
func refusal(field, reason string, kind error) *apiProblem {
	is := func(a, b error) bool { return errors.Is(kind, a) || errors.Is(kind, b) }
	var p *apiProblem
	switch {
	case is(accounts.ErrConflict, input.ErrConflict):
		p = problem(fiber.StatusConflict, ProblemConflict, reason)
	case is(accounts.ErrNotFound, input.ErrNotFound):
		p = problem(fiber.StatusNotFound, ProblemNotFound, reason)
	case is(accounts.ErrForbidden, input.ErrForbidden):
		p = problem(fiber.StatusForbidden, ProblemForbidden, reason)
	case errors.Is(kind, accounts.ErrInsufficientCredits):
		p = problem(fiber.StatusConflict, ProblemNoCredits, reason)
	case errors.Is(kind, accounts.ErrTrialLimit):
		p = problem(fiber.StatusConflict, ProblemTrialLimit, reason)
	default:
		p = problem(fiber.StatusBadRequest, ProblemInvalid, reason)
	}
	p.Field = field
	return p
}

// writeProblem answers p, with the headers its status asks for.
func writeProblem(c *fiber.Ctx, p *apiProblem) error {
	switch p.Status {
	case fiber.StatusUnauthorized:
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="xtreamd", error="invalid_token"`)
	case fiber.StatusTooManyRequests:
		if p.retryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
		}
	}
	return edge.WriteProblem(c, p.Problem)
}
