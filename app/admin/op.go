package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// Op is one operation of /api/v1: its route, its description in the OpenAPI document, who may
// call it, and its handler. Each resource lists its operations in its own file (lines.go's
// lineOps, ...) and resources() names every list: New mounts and documents them all, so an
// operation cannot be served undocumented or documented unserved.
type Op struct {
	Method  string // fiber.MethodGet ...
	Path    string // under /api/v1, in OpenAPI form: /lines/{id}
	ID      string // the operationId client generators name methods by: listLines, createLine ...
	Summary string
	Doc     string // a longer description, optional
	Tag     string // the document's group: "Lines"
	Perm    Perm
	Status  int   // the success status; 0: 200 (204 when the result is NoContent)
	Errors  []int // statuses it may answer besides those the document derives (problemStatuses)
	MaxBody int   // the largest body it takes; 0: 64 KiB (413 beyond)
	Handler Handler
}

// Perm says who may call an operation.
type Perm struct {
	Public bool // no authentication (login, refresh)
	// Scope is the resource family an API key needs: "<scope>:read", or "<scope>:write" when
	// Write. "" asks only for a valid login or key.
	Scope string
	Write bool            // a change: never the viewer role's
	Roles []accounts.Role // the roles that may call it; nil: every role
}

// allows reports whether p may call an operation of perm.
func (perm Perm) allows(p accounts.Principal) bool {
	switch {
	case perm.Public:
		return true
	case perm.Write && p.Role == accounts.RoleViewer:
		return false
	case len(perm.Roles) > 0 && !slices.Contains(perm.Roles, p.Role):
		return false
	case perm.Scope != "":
		return p.HasScope(perm.scope())
	}
	return true
}

func (perm Perm) scope() string {
	if perm.Write {
		return perm.Scope + ":write"
	}
	return perm.Scope + ":read"
}

// Handler is an operation's typed handler; Handle makes one.
type Handler struct {
	params, body, result reflect.Type
	run                  func(c *Call) (any, error)
}

// NoParams, NoBody and NoContent stand for what an operation does not have: query or path
// parameters, a request body, a response body (it answers 204).
type (
	NoParams  struct{}
	NoBody    struct{}
	NoContent struct{}
)

// Upload is the body of an operation that takes a file as it is, not JSON (an import's
// playlist or guide): its bytes and the Content-Type the client gave. Data points into the
// request's buffer: it is valid while the handler runs. The document describes the body as
// application/octet-stream.
type Upload struct {
	Data        []byte
	ContentType string
}

// ByID are the parameters of an operation on one resource: /things/{id}.
type ByID struct {
	ID int64 `path:"id" api:"min=1" doc:"The resource's id."`
}

// Handle makes a Handler of fn. Before fn runs, the query and path parameters (the query and
// path members of P) and the body (B; NoBody: none may be sent) are decoded and validated
// strictly, so fn sees only well-formed input; fn's result is answered as JSON with the
// operation's status (NoContent: 204 without a body).
func Handle[P, B, R any](fn func(c *Call, params P, body B) (R, error)) Handler {
	bodyType := reflect.TypeFor[B]()
	return Handler{
		params: reflect.TypeFor[P](), body: bodyType, result: reflect.TypeFor[R](),
		run: func(c *Call) (any, error) {
			var p P
			var b B
			if bad := c.decodeParams(&p); bad != nil {
				return nil, bad
			}
			body, contentType := c.body()
			if up, ok := any(&b).(*Upload); ok {
				*up = Upload{Data: body, ContentType: clip(contentType, 256)}
				if len(body) == 0 {
					return nil, refuse("", "the file is required as the body")
				}
			} else if bodyType == reflect.TypeFor[NoBody]() {
				if len(strings.TrimSpace(string(body))) > 0 {
					return nil, refuse("", "this operation takes no body")
				}
			} else if bad := decodeBody(body, &b); bad != nil {
				return nil, bad
			}
			return fn(c, p, b)
		},
	}
}

// Call is one request to an operation, as its handler sees it.
type Call struct {
	ctx       context.Context
	fc        *fiber.Ctx
	status    int
	Principal accounts.Principal // the caller (zero for a public operation)
	IP        netip.Addr         // the client address (behind trusted proxies)
	UserAgent string
	web       *webInput // set for a web page's call (web_form.go)
}

// body is the operation's request body and its Content-Type: for a web page's call the body
// made from its form, not the page request's.
func (c *Call) body() ([]byte, string) {
	if c.web != nil {
		return c.web.body, c.web.contentType
	}
	return c.fc.Body(), c.fc.Get(fiber.HeaderContentType)
}

// Context is the request's context, bounded by the route's deadline.
func (c *Call) Context() context.Context { return c.ctx }

// Status sets the success status of this answer when it differs from the operation's (a PUT
// that created instead of replaced ...).
func (c *Call) Status(code int) { c.status = code }

// decodeParams fills the path and query members of dst.
func (c *Call) decodeParams(dst any) *badField {
	t := reflect.TypeOf(dst).Elem()
	q := queryValues{}
	if c.web != nil {
		q = c.web.query
	} else {
		for k, v := range c.fc.Request().URI().QueryArgs().All() {
			q[string(k)] = append(q[string(k)], string(v)) // string() copies: the buffers are reused
		}
	}
	if bad := decodeQuery(q, dst); bad != nil {
		return bad
	}
	obj := map[string]json.RawMessage{}
	for _, m := range members(t) {
		if !m.inPath {
			continue
		}
		raw, bad := queryRaw(elem(m.typ), c.fc.Params(m.name), m.name)
		if bad == nil {
			bad = check(m.typ, m, raw, m.name, 0)
		}
		if bad != nil {
			return bad
		}
		obj[m.name] = raw
	}
	return assign(t, obj, dst, func(m rules) bool { return m.inPath })
}

// fiberPath turns /lines/{id} into Fiber's /lines/:id.
func fiberPath(p string) string {
	return strings.NewReplacer("{", ":", "}", "").Replace(p)
}

// pathParams lists the {names} of an OpenAPI path.
func pathParams(p string) []string {
	var out []string
	for rest := p; ; {
		_, after, ok := strings.Cut(rest, "{")
		if !ok {
			return out
		}
		name, tail, _ := strings.Cut(after, "}")
		out = append(out, name)
		rest = tail
	}
}

// checkOp finds the mistakes an operation's declaration can make, at build time.
func checkOp(op Op) error {
	declared := map[string]bool{}
	for _, m := range members(op.Handler.params) {
		if m.inPath {
			declared[m.name] = true
		}
		if !m.inPath && !m.inQuery {
			return fmt.Errorf("%s: parameter member %s is neither query nor path", op.ID, m.name)
		}
	}
	for _, name := range pathParams(op.Path) {
		if !declared[name] {
			return fmt.Errorf("%s: path parameter {%s} has no path member in %s", op.ID, name, op.Handler.params)
		}
		delete(declared, name)
	}
	if len(declared) > 0 {
		return fmt.Errorf("%s: path members %v are not in %s", op.ID, declared, op.Path)
	}
	if op.ID == "" || op.Tag == "" || op.Summary == "" || op.Handler.run == nil {
		return fmt.Errorf("%s %s: an operation needs an ID, a Tag, a Summary and a Handler", op.Method, op.Path)
	}
	return nil
}
