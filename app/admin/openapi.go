package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
)

// The OpenAPI 3.1 document of /api/v1, built from the operations (Op) and the Go types they
// name, so it cannot drift from what is served. Standard generators make a client of it: every
// operation has an operationId and a tag, every body a named schema under components, every
// failure the Problem schema, and both ways to authenticate are securitySchemes.

type document struct {
	OpenAPI    string                           `json:"openapi"`
	Info       docInfo                          `json:"info"`
	Servers    []docServer                      `json:"servers"`
	Security   []map[string][]string            `json:"security"`
	Tags       []docTag                         `json:"tags"`
	Paths      map[string]map[string]*operation `json:"paths"`
	Components components                       `json:"components"`
}

type docInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description"`
}

type docServer struct {
	URL string `json:"url"`
}

type docTag struct {
	Name string `json:"name"`
}

type operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags"`
	Parameters  []parameter           `json:"parameters,omitempty"`
	RequestBody *requestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*response  `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"` // an empty list (public) is kept apart
	Public      bool                  `json:"-"`
	Scope       string                `json:"x-xtreamd-scope,omitempty"`
	Roles       []string              `json:"x-xtreamd-roles,omitempty"`
	method      string
	path        string
}

// MarshalJSON writes "security": [] for a public operation (an empty list overrides the
// document's requirement; a missing one inherits it).
func (o *operation) MarshalJSON() ([]byte, error) {
	type plain operation
	if !o.Public {
		return json.Marshal((*plain)(o))
	}
	return json.Marshal(struct {
		*plain
		Security []map[string][]string `json:"security"`
	}{(*plain)(o), []map[string][]string{}})
}

type parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Description string  `json:"description,omitempty"`
	Required    bool    `json:"required"`
	Schema      *Schema `json:"schema"`
}

type requestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]mediaType `json:"content"`
}

type mediaType struct {
	Schema *Schema `json:"schema"`
}

type response struct {
	Ref         string                `json:"$ref,omitempty"`
	Description string                `json:"description,omitempty"`
	Headers     map[string]*docHeader `json:"headers,omitempty"`
	Content     map[string]mediaType  `json:"content,omitempty"`
}

type docHeader struct {
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
}

type components struct {
	Schemas         map[string]*Schema        `json:"schemas"`
	Responses       map[string]*response      `json:"responses"`
	SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
}

type securityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	In           string `json:"in,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description"`
}

// problemResponses are the shared failure answers, by status.
var problemResponses = []struct {
	status int
	name   string
	what   string
}{
	{400, "BadRequest", "The request is malformed; field names the offending member or parameter."},
	{401, "Unauthorized", "No, a malformed, an expired or a revoked access token or API key."},
	{403, "Forbidden", "The account's role, or the API key's scopes, do not allow this."},
	{404, "NotFound", "No such resource (or not one this account may see)."},
	{409, "Conflict", "A duplicate (field names it), or not enough credits, or no trials left."},
	{413, "TooLarge", "The request body is too large."},
	{429, "TooManyRequests", "Too many attempts from this address; see Retry-After."},
	{503, "Unavailable", "The server could not answer in time; try again."},
}

// APIKeyHeader carries an API key: "X-API-Key: <key id>.<secret>".
const APIKeyHeader = "X-API-Key"

func newDocument() *document {
	return &document{
		OpenAPI: "3.1.0",
		Info: docInfo{Title: "xtreamd admin API", Version: "1",
			Description: "Manage lines, MAG devices, packages, resellers and credits, admins and API keys of an xtreamd panel. " +
				"Authenticate with a Bearer access token from POST /auth/login, or an API key in the X-API-Key header. " +
				"Failures are RFC 9457 problem details (application/problem+json)."},
		Servers:  []docServer{{URL: "/api/v1"}},
		Security: []map[string][]string{{"bearerAuth": {}}, {"apiKeyAuth": {}}},
		Paths:    map[string]map[string]*operation{},
		Components: components{Responses: map[string]*response{}, SecuritySchemes: map[string]securityScheme{
			"bearerAuth": {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
				Description: "An access token from POST /auth/login or /auth/refresh (HS256 JWT, short-lived)."},
			"apiKeyAuth": {Type: "apiKey", In: "header", Name: APIKeyHeader,
				Description: "An API key (<key id>.<secret>) from POST /api-keys, limited to its scopes."},
		}},
	}
}

// add documents op; schemas collects the types it names.
func (d *document) add(op Op, schemas *schemaSet) {
	o := &operation{OperationID: op.ID, Summary: op.Summary, Description: op.Doc, Tags: []string{op.Tag},
		Responses: map[string]*response{}, Public: op.Perm.Public, Roles: roleNames(op.Perm), method: op.Method, path: op.Path}
	if op.Perm.Scope != "" {
		o.Scope = op.Perm.scope()
	}
	for _, m := range members(op.Handler.params) {
		in := "query"
		if m.inPath {
			in = "path"
		}
		sc := schemas.typed(m.typ, m, inRequest)
		o.Parameters = append(o.Parameters, parameter{Name: m.name, In: in, Description: m.doc, Required: m.required, Schema: sc})
	}
	switch op.Handler.body {
	case reflect.TypeFor[NoBody]():
	case reflect.TypeFor[Upload]():
		o.RequestBody = &requestBody{Required: true, Content: map[string]mediaType{
			fiber.MIMEOctetStream: {Schema: &Schema{Type: "string", Format: "binary"}}}}
	default:
		o.RequestBody = &requestBody{Required: true, Content: map[string]mediaType{
			fiber.MIMEApplicationJSON: {Schema: schemas.typed(op.Handler.body, rules{}, inRequest)}}}
	}
	status := strconv.Itoa(successStatus(op))
	if op.Handler.result == reflect.TypeFor[NoContent]() {
		o.Responses[status] = &response{Description: "Done."}
	} else {
		o.Responses[status] = &response{Description: "Success.", Content: map[string]mediaType{
			fiber.MIMEApplicationJSON: {Schema: schemas.typed(op.Handler.result, rules{}, inResponse)}}}
	}
	for _, st := range problemStatuses(op) {
		o.Responses[strconv.Itoa(st)] = &response{Ref: "#/components/responses/" + problemName(st)}
	}
	o.Responses["default"] = &response{Ref: "#/components/responses/Error"}
	if d.Paths[op.Path] == nil {
		d.Paths[op.Path] = map[string]*operation{}
	}
	d.Paths[op.Path][strings.ToLower(op.Method)] = o
	if !slices.ContainsFunc(d.Tags, func(t docTag) bool { return t.Name == op.Tag }) {
		d.Tags = append(d.Tags, docTag{Name: op.Tag})
	}
}

func roleNames(p Perm) []string {
	var out []string
	for _, r := range p.Roles {
		out = append(out, string(r))
	}
	return out
}

func successStatus(op Op) int {
	switch {
	case op.Status != 0:
		return op.Status
	case op.Handler.result == reflect.TypeFor[NoContent]():
		return fiber.StatusNoContent
	}
	return fiber.StatusOK
}

// problemStatuses are the failures op may answer: what its declaration implies, plus its own.
// Every operation may answer 400 and 413, one without a body too: Handle refuses a body sent
// to it, and serve (or the HTTP server, past 1 MiB) one larger than its limit.
func problemStatuses(op Op) []int {
	out := []int{400}
	if !op.Perm.Public {
		out = append(out, 401, 403)
	}
	if len(pathParams(op.Path)) > 0 {
		out = append(out, 404)
	}
	out = append(out, 413, 503)
	for _, s := range op.Errors {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func problemName(status int) string {
	for _, p := range problemResponses {
		if p.status == status {
			return p.name
		}
	}
	panic(fmt.Sprintf("admin: no problem response for status %d", status))
}

// finish adds the shared responses and the schemas, and returns the document as JSON.
func (d *document) finish(schemas *schemaSet) ([]byte, error) {
	problem := schemas.typed(reflect.TypeFor[edge.Problem](), rules{}, inResponse)
	content := map[string]mediaType{edge.MIMEProblem: {Schema: problem}}
	for _, p := range problemResponses {
		r := &response{Description: p.what, Content: content}
		if p.status == 429 {
			r.Headers = map[string]*docHeader{"Retry-After": {Description: "Seconds until another attempt may succeed.",
				Schema: &Schema{Type: "integer", Format: "int32"}}}
		}
		d.Components.Responses[p.name] = r
	}
	d.Components.Responses["Error"] = &response{Description: http.StatusText(500), Content: content}
	d.Components.Schemas = schemas.components
	slices.SortFunc(d.Tags, func(a, b docTag) int { return strings.Compare(a.Name, b.Name) })
	return json.MarshalIndent(d, "", "  ")
}
