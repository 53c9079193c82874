package admin_test

// The test kit of the admin surface, shared by every handler test of the package: a server
// over its own database on a real loopback listener (newEnv), accounts of each role with
// their tokens (e.admin, e.login), requests that check every answer against the OpenAPI
// document the server itself serves (e.call), and the captured log to grep for secrets.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	legacyrouter "github.com/getkin/kin-openapi/routers/legacy"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// waitLimit bounds every wait of these tests (a loaded 2-core box is slow, never this slow).
const waitLimit = 20 * time.Second

// tokenSecret is shared by every instance of a test, as a cluster shares its secret.
const tokenSecret = "admin-test-secret-0123456789abcdef"

// env is one test's database and a running server on it.
type env struct {
	t    testing.TB
	dsn  string
	pool *pgxpool.Pool
	st   *store.Store
	acc  *accounts.Service // fixtures: cheap hashes
	srv  *instance
	spec *spec
	n    atomic.Int64 // fixture counter
}

// instance is one running server.
type instance struct {
	srv  *server.Server
	base string
	logs *testkit.Buffer
}

type envOpts struct {
	cfg      func(*config.Config)
	settings map[string]string // settings rows (JSON values)
}

func newEnv(t testing.TB, opts ...envOpts) *env {
	t.Helper()
	var o envOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	dsn := testdb.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	must(t, err)
	t.Cleanup(pool.Close)
	st := store.New(pool)
	e := &env{t: t, dsn: dsn, pool: pool, st: st,
		acc: accounts.New(st, accounts.Options{Params: testdb.FastHashParams})}
	for k, v := range o.settings {
		testdb.MustExec(t, st, `INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)`, k, v)
	}
	e.srv = e.start(t, o)
	e.spec = loadSpec(t, e.srv.base)
	return e
}

// start runs another server instance on the env's database (its own pool, as another
// process would have).
func (e *env) start(t testing.TB, o envOpts) *instance {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.dsn)
	must(t, err)
	cfg := config.Config{Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicScheme: "http",
		ShutdownTimeout: 5 * time.Second, TokenSecret: tokenSecret, Timezone: time.UTC, TimezoneName: "UTC",
		InstanceID: fmt.Sprintf("test-%d", e.n.Add(1))}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	in := &instance{logs: &testkit.Buffer{}}
	in.srv, err = server.New(t.Context(), server.Deps{Config: cfg, Log: logx.New(in.logs, "text", slog.LevelDebug),
		Store: store.New(pool), Registry: prometheus.NewRegistry()})
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	in.base = "http://" + ln.Addr().String()
	t.Cleanup(pool.Close) // after the server stopped: cleanups run last first
	testkit.Serve(t, in.srv, ln, waitLimit)
	return in
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// spec is the served OpenAPI document, loaded and validated by kin-openapi.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	mu     sync.Mutex
	worked map[string]bool // operationIds that answered 2xx
}

func loadSpec(t testing.TB, base string) *spec {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/openapi.json")
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/v1/openapi.json = %d %s", resp.StatusCode, raw)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("the served document does not load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI: %v", err)
	}
	router, err := legacyrouter.NewRouter(doc)
	must(t, err)
	return &spec{doc: doc, router: router, worked: map[string]bool{}}
}

// auth is how a request authenticates: a Bearer token, an API key, or nothing.
type auth struct {
	bearer string
	key    string
}

func bearer(tok string) auth { return auth{bearer: tok} }
func apiKey(key string) auth { return auth{key: key} }

var anonymous = auth{}

// reply is an answer, already checked against the document.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test when it cannot.
func (r reply) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer %d is not the JSON expected (%v): %s", r.status, err, r.body)
	}
}

// problem decodes a problem answer.
func (r reply) problem(t testing.TB) problemBody {
	t.Helper()
	var p problemBody
	r.json(t, &p)
	return p
}

type problemBody struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Field  string `json:"field"`
}

// call sends method path (under /api/v1) with body (nil: none; a string or []byte is sent as
// it is, anything else as JSON) to the env's first instance.
func (e *env) call(t testing.TB, method, path string, a auth, body any) reply {
	t.Helper()
	return e.callOn(t, e.srv, method, path, a, body)
}

// callOn sends a request to instance in and checks the answer against the served document:
// the status must be one the operation documents, and the body and headers must match its
// schema. An unknown route must answer a 404 problem.
func (e *env) callOn(t testing.TB, in *instance, method, path string, a auth, body any) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		must(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, in.base+"/api/v1"+path, rd)
	must(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	if a.key != "" {
		req.Header.Set("X-API-Key", a.key)
	}
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, body: raw}
	if err := e.spec.check(req, r); err != nil {
		t.Fatalf("%s %s: answer %d breaks the OpenAPI document: %v\n%s", method, path, r.status, err, raw)
	}
	return r
}

// check validates one answer against the document.
func (s *spec) check(req *http.Request, r reply) error {
	if r.status == http.StatusInternalServerError {
		return errors.New("500: a fault of ours")
	}
	u := *req.URL
	u.Host, u.Scheme = "", ""
	probe := req.Clone(context.Background())
	probe.URL = &url.URL{Path: u.Path, RawQuery: u.RawQuery}
	route, params, err := s.router.FindRoute(probe)
	if err != nil {
		if r.status != http.StatusNotFound || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
			return fmt.Errorf("no route in the document, and not a 404 problem: %v", err)
		}
		return nil
	}
	if r.status < 300 {
		s.mu.Lock()
		s.worked[route.Operation.OperationID] = true
		s.mu.Unlock()
	}
	if route.Operation.Responses.Status(r.status) == nil {
		return fmt.Errorf("status %d is not documented for %s", r.status, route.Operation.OperationID)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: probe, PathParams: params, Route: route},
		Status:                 r.status, Header: r.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.body)
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// account is a fixture admin account with its clear password.
type account struct {
	id       int64
	username string
	password string
}

// admin creates an admin account of role (cheap hash) and returns it.
func (e *env) admin(t testing.TB, role accounts.Role) account {
	t.Helper()
	name := fmt.Sprintf("%s%d", role, e.n.Add(1))
	password := "pw-" + name + "-secret"
	cred, err := e.acc.CreateAdmin(context.Background(), accounts.NewAdmin{Username: name, Password: password, Role: role})
	must(t, err)
	return account{id: cred.ID, username: name, password: password}
}

// login logs a in through the API and returns its tokens.
func (e *env) login(t testing.TB, a account) tokens {
	t.Helper()
	r := e.call(t, http.MethodPost, "/auth/login", anonymous, map[string]string{"username": a.username, "password": a.password})
	if r.status != http.StatusOK {
		t.Fatalf("login %s = %d %s", a.username, r.status, r.body)
	}
	var tok tokens
	r.json(t, &tok)
	return tok
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// as returns the Bearer auth of a fresh admin of role.
func (e *env) as(t testing.TB, role accounts.Role) (account, auth) {
	t.Helper()
	a := e.admin(t, role)
	return a, bearer(e.login(t, a).AccessToken)
}

// logs is everything every instance of the env logged so far.
func (e *env) logs() string { return e.srv.logs.String() }

// wantStatus fails the test unless r has status want.
func wantStatus(t testing.TB, what string, r reply, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s = %d %s, want %d", what, r.status, r.body, want)
	}
}

// wantProblem fails the test unless r is a problem of status (and field, when not "").
func wantProblem(t testing.TB, what string, r reply, status int, field string) problemBody {
	t.Helper()
	wantStatus(t, what, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("%s: Content-Type %q, want application/problem+json", what, ct)
	}
	p := r.problem(t)
	if p.Status != status || (field != "" && p.Field != field) {
		t.Fatalf("%s = problem %+v, want status %d field %q", what, p, status, field)
	}
	return p
}
