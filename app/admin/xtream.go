package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
)

// api.php, the original panel's admin API (spec §4.1): action=user and action=stb with
// sub=create|edit|info, reg_user list|credits, with the original parameter names (PHP bracket
// arrays, JSON-array strings) and answers. It answers loopback and the api_ips of the
// registered servers, as the original does; beyond the original, api_pass may carry an API key
// (scope xtream_api), required when the xtream_api_require_key setting is on. Unlike the
// original, no answer ever holds a line's password but the one of its creation. Every answer
// is 200 JSON; an unknown action or sub answers nothing.

// xtreamRequest is one call's parameters, copied out of the request ($_REQUEST: the query,
// then the form body over it).
type xtreamRequest struct {
	action, sub, apiPass        string
	username, password, mac, id string
	amount                      string
	userData                    map[string]phpValue // user_data[...]
	bad                         bool                // a value that is no storable text
}

// phpValue is a PHP request value: a string, or a list (name[]=a&name[]=b).
type phpValue struct {
	s      string
	list   []string
	isList bool
}

// Bounds of what a call may carry.
const (
	maxXtreamArgs  = 256
	maxXtreamValue = 64 << 10
)

// parseXtream reads the parameters of c, copying every value.
func parseXtream(c *fiber.Ctx) xtreamRequest {
	req := xtreamRequest{userData: map[string]phpValue{}}
	n := 0
	visit := func(k, v []byte) {
		n++
		key, val := string(k), string(v) // copies: the request buffers are reused
		if n > maxXtreamArgs || !input.Text(key, 256) || !input.Text(val, maxXtreamValue) {
			req.bad = true
			return
		}
		req.set(key, val)
	}
	for k, v := range c.Request().URI().QueryArgs().All() {
		visit(k, v)
	}
	if bytes.HasPrefix(c.Request().Header.ContentType(), []byte(fiber.MIMEApplicationForm)) {
		for k, v := range c.Request().PostArgs().All() {
			visit(k, v)
		}
	}
	return req
}

func (r *xtreamRequest) set(key, val string) {
	if name, rest, ok := strings.Cut(key, "["); ok && name == "user_data" {
		field, tail, _ := strings.Cut(rest, "]")
		cur := r.userData[field]
		if tail != "" { // user_data[bouquet][]=1 or user_data[bouquet][0]=1
			cur.isList, cur.list = true, append(cur.list, val)
		} else {
			cur.s = val
		}
		r.userData[field] = cur
		return
	}
	plain := map[string]*string{"action": &r.action, "sub": &r.sub, "api_pass": &r.apiPass, "username": &r.username,
		"password": &r.password, "mac": &r.mac, "id": &r.id, "amount": &r.amount}
	if p := plain[key]; p != nil {
		*p = val
	}
}

// member is one member of an answer; answers are ordered as the original's PHP arrays are.
type member struct {
	k string
	v any
}

// object is a JSON object with its members in order.
type object []member

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := phpJSON(m.k)
		v, err := phpJSON(m.v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// The original's answers.
var (
	xtreamIPForbidden = object{{"result", false}, {"0", "IP FORBIDDEN"}}
	xtreamKeyWrong    = object{{"result", false}, {"0", "KEY WRONG"}}
	xtreamOK          = object{{"result", true}}
	xtreamFalse       = object{{"result", false}}
)

func xtreamError(msg string) object { return object{{"result", false}, {"error", msg}} }

// phpJSON encodes v as PHP's json_encode does in what matters to clients: & < > stay as they
// are (encoding/json would write \u0026 ...).
func phpJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func writeXtream(c *fiber.Ctx, v any) error {
	b, err := phpJSON(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(fiber.StatusOK).Send(b)
}

// xtreamAPI is the handler of api.php.
func (a *API) xtreamAPI(c *fiber.Ctx) error {
	req := parseXtream(c)
	ctx, ip := c.UserContext(), a.clientIP(c)
	p, refusal, err := a.xtreamAccess(ctx, ip, req.apiPass)
	if err != nil {
		return fmt.Errorf("api.php: %w", err)
	}
	if refusal != nil {
		a.d.Log.InfoContext(ctx, "api.php refused", "client_ip", ip.String(), "answer", refusal[1].v)
		return writeXtream(c, refusal)
	}
	if req.bad {
		return writeXtream(c, xtreamError("PARAMETER ERROR"))
	}
	handler := map[string]func(context.Context, accounts.Principal, xtreamRequest) (object, error){
		"user/create": a.xtreamUserCreate, "user/edit": a.xtreamUserEdit, "user/info": a.xtreamUserInfo,
		"stb/create": a.xtreamSTBCreate, "stb/edit": a.xtreamSTBEdit, "stb/info": a.xtreamSTBInfo,
		"reg_user/credits": a.xtreamCredits,
	}[req.action+"/"+req.sub]
	if req.action == "reg_user" && req.sub == "list" {
		return a.xtreamResellers(c, p)
	}
	if handler == nil {
		return edge.Empty(c, fiber.StatusOK) // the original prints nothing
	}
	answer, err := handler(ctx, p, req)
	if err != nil {
		return fmt.Errorf("api.php %s/%s: %w", req.action, req.sub, err)
	}
	return writeXtream(c, answer)
}

// xtreamAccess applies the original's checks in its order: the client address, then the key.
// It returns the principal the call acts as (an API key's, or the panel itself), or the
// refusal to answer.
func (a *API) xtreamAccess(ctx context.Context, ip netip.Addr, apiPass string) (accounts.Principal, object, error) {
	ok, err := a.d.Accounts.XtreamAPIAllowed(ctx, ip)
	if err != nil || !ok {
		return accounts.Principal{}, xtreamIPForbidden, err
	}
	if apiPass == "" {
		required, err := a.d.Accounts.XtreamAPIRequiresKey(ctx)
		if err != nil || required {
			return accounts.Principal{}, xtreamKeyWrong, err
		}
		return accounts.System(audit.Actor{Name: "api.php", IP: ip}), nil, nil
	}
	p, err := a.d.Accounts.AuthenticateKey(ctx, apiPass, ip)
	if errors.Is(err, accounts.ErrUnauthenticated) || (err == nil && !p.HasScope(XtreamAPIScope+":write")) {
		return accounts.Principal{}, xtreamKeyWrong, nil
	}
	return p, nil, err
}

// xtreamRefusal answers a domain refusal the way the original answers an SQL failure, with
// conflicts named as it names them; ok is false for a fault of ours.
func xtreamRefusal(err error, conflict string) (object, bool) {
	var fe *accounts.FieldError
	var bad *badField
	switch {
	case errors.As(err, &fe) && errors.Is(err, accounts.ErrConflict) && conflict != "":
		return xtreamError(conflict), true
	case errors.As(err, &fe), errors.As(err, &bad), errors.Is(err, accounts.ErrForbidden),
		errors.Is(err, accounts.ErrInsufficientCredits), errors.Is(err, accounts.ErrTrialLimit):
		return xtreamError("PARAMETER ERROR"), true
	}
	return nil, false
}
