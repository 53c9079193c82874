// Package admin is the management surface: the REST API under /api/v1 (JSON, described by an
// OpenAPI 3.1 document at /api/v1/openapi.json and a reference page at /api/v1/docs) and the
// original panel's api.php for the scripts and billing systems that speak it. It is thin: it
// authenticates, parses, asks the domain (accounts, conns ...) and renders; every rule and
// every write with its audit entry lives in the domain, shared with the command line.
//
// How the REST API is built (read this before adding a resource):
//   - A resource is a file with a method returning its []Op (lines.go: lineOps), listed in
//     resources(). An Op names its route, operationId, tag, permission (Perm) and a typed
//     handler made with Handle, whose parameter, body and result types are plain structs with
//     tags (fields.go). From those, one place builds the route, the strict decoder (unknown
//     members, wrong types, rules → 400 with the field) and the OpenAPI schema.
//   - Authentication (authn.go) gives the handler the caller as an accounts.Principal (the
//     audit actor and role, an API key's scopes); Perm checks role and scope before the
//     handler runs; the domain checks ownership (a reseller's own lines).
//   - Every failure is an RFC 9457 problem (problem.go): a handler returns the domain's error
//     or problem(...), and problemOf maps it in one place.
//   - Lists take PageQuery and answer Page[T] (paging.go): opaque cursors over keyset paging.
package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/catalog/editor"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/conns"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/importer"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/panel"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Deps is what the admin surface is built from (app/server wires it).
type Deps struct {
	Accounts *accounts.Service
	Sessions *accounts.Sessions
	Conns    *conns.Manager
	Catalog  *catalog.Catalog // api.php's user_info lists the entitled channel and series ids
	// Access is the player check: admin logins share its rate limit and flood settings.
	Access *access.Checker
	// Store holds the flood counters admin logins share with players and the registered
	// servers api.php admits (read only: writes go through the domain).
	Store  *store.Store
	Config config.Config
	Log    *slog.Logger
	Now    func() time.Time

	// The catalog and panel side: the catalog editor, the EPG sources, the security lists,
	// the typed settings, the overview (dashboard, activity, audit) and the import jobs.
	Editor   *editor.Editor
	EPG      *epg.Sources
	Security *panel.Security
	Settings *panel.Config
	Overview *panel.Overview
	Imports  *importer.Runner
	// Activation is second-screen activation: a line's device credentials.
	Activation *activation.Service
	// Partners are the partner clients (issue 15) and their registration tokens and keys.
	Partners *partner.Service
}

// API is the management surface.
type API struct {
	d      Deps
	ops    []Op
	scopes []string  // every API-key scope an operation names, sorted
	doc    []byte    // the OpenAPI document
	page   []byte    // the rendered reference page
	kit    *webKit   // the web page's templates and static files
	nav    []navItem // the web page's navigation (the entries whose pages are mounted)
}

// defaultMaxBody bounds a request body unless an operation says otherwise.
const defaultMaxBody = 64 << 10

// New builds the surface: every resource's operations, checked, and their document.
func New(d Deps) (*API, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &API{d: d}
	doc, schemas := newDocument(), newSchemaSet()
	seen := map[string]bool{}
	for _, ops := range a.resources() {
		for _, op := range ops {
			if err := checkOp(op); err != nil {
				return nil, fmt.Errorf("admin api: %w", err)
			}
			if seen[op.ID] || seen[op.Method+" "+op.Path] {
				return nil, fmt.Errorf("admin api: %s (%s %s) declared twice", op.ID, op.Method, op.Path)
			}
			seen[op.ID], seen[op.Method+" "+op.Path] = true, true
			if op.Perm.Scope != "" && !slices.Contains(a.scopes, op.Perm.Scope) {
				a.scopes = append(a.scopes, op.Perm.Scope)
			}
			doc.add(op, schemas)
			a.ops = append(a.ops, op)
		}
	}
	slices.Sort(a.scopes)
	var err error
	if a.doc, err = doc.finish(schemas); err != nil {
		return nil, fmt.Errorf("admin api: document: %w", err)
	}
	if a.page, err = renderDocs(doc); err != nil {
		return nil, fmt.Errorf("admin api: %w", err)
	}
	if a.kit, err = newWebKit(d.Config.Timezone); err != nil {
		return nil, fmt.Errorf("admin web: %w", err)
	}
	return a, nil
}

// resources lists every resource's operations. A new resource adds its list here.
func (a *API) resources() [][]Op {
	return append([][]Op{
		a.authOps(),
		a.adminOps(),
		a.keyOps(),
		a.lineOps(),
		a.lineActionOps(),
		a.deviceOps(),
		a.deviceCredentialOps(),
		a.packageOps(),
		a.serverOps(),
		a.partnerOps(),
	}, a.catalogResources()...)
}

// catalogResources are the catalog side's resources: the catalog, EPG, security lists,
// settings, connections, the overview and imports.
func (a *API) catalogResources() [][]Op {
	return [][]Op{a.categoryOps(), a.streamOps(), a.seriesOps(), a.bouquetOps(), a.epgOps(), a.securityOps(),
		a.settingsOps(), a.connectionOps(), a.overviewOps(), a.importOps()}
}

// Scopes lists every API-key scope family the operations name ("lines", "admins" ...).
func (a *API) Scopes() []string { return slices.Clone(a.scopes) }

// Routes mounts /api/v1, api.php and the web page (/admin/) on app.
func (a *API) Routes(app fiber.Router) {
	g := app.Group("/api/v1", edge.Route(edge.SurfaceAPI, edge.DefaultDeadline))
	g.Get("/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(a.doc)
	})
	g.Get("/docs", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		return c.Send(a.page)
	})
	for _, op := range a.ops {
		g.Add(op.Method, fiberPath(op.Path), a.serve(op))
	}
	g.Use(func(c *fiber.Ctx) error {
		return writeProblem(c, problem(fiber.StatusNotFound, ProblemNotFound, "no such operation"))
	})
	app.All("/api.php", edge.Route(edge.SurfaceAdmin, edge.DefaultDeadline), a.xtreamAPI)
	a.webRoutes(app)
}

// serve is the handler of op: authenticate, authorize, decode, run, answer.
func (a *API) serve(op Op) fiber.Handler {
	maxBody := op.MaxBody
	if maxBody == 0 {
		maxBody = defaultMaxBody
	}
	noContent := op.Handler.result == reflect.TypeFor[NoContent]()
	return func(c *fiber.Ctx) error {
		call := &Call{ctx: c.UserContext(), fc: c, status: successStatus(op), IP: a.clientIP(c),
			UserAgent: clip(c.Get(fiber.HeaderUserAgent), 512)}
		if len(c.Body()) > maxBody {
			return writeProblem(c, problem(fiber.StatusRequestEntityTooLarge, ProblemTooLarge,
				fmt.Sprintf("the body may be at most %d bytes", maxBody)))
		}
		if !op.Perm.Public {
			p, err := a.authenticate(c, call.IP)
			if err != nil {
				return a.answerError(c, err)
			}
			if !op.Perm.allows(p) {
				return writeProblem(c, problem(fiber.StatusForbidden, ProblemForbidden, "not allowed for this account or key"))
			}
			call.Principal = p
		}
		result, err := op.Handler.run(call)
		if err != nil {
			return a.answerError(c, err)
		}
		if noContent {
			return edge.Empty(c, call.status)
		}
		return c.Status(call.status).JSON(result)
	}
}

// answerError answers a refusal as its problem; anything else is ours, for the app's error
// handler to log and answer 500.
func (a *API) answerError(c *fiber.Ctx, err error) error {
	if p, ok := problemOf(err); ok {
		if errors.Is(err, accounts.ErrUnauthenticated) {
			a.d.Log.InfoContext(c.UserContext(), "admin api: unauthenticated", "client_ip", a.clientIP(c).String(),
				"route", c.Route().Path, "err", err)
		}
		return writeProblem(c, p)
	}
	return err
}

// clip returns an owned copy of s cut at n bytes: the request buffer is reused.
func clip(s string, n int) string { return strings.Clone(input.Truncate(s, n)) }
