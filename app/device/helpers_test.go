package device_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestMain runs the tests over testdb's cluster, which also fails the run on a leaked goroutine.
func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// waitLimit bounds every wait that is not itself under test (a loaded 2-core box is slow,
// never this slow).
const waitLimit = 20 * time.Second

// tokenSecret is shared by every instance of a test, as a cluster shares its secret: the code
// hashes are keyed by it.
const tokenSecret = "device-test-secret-0123456789abcdef"

// clientID is the TV app of the tests.
const clientID = "tv-app"

// slowMovieLen is the size of the paced movie: far more than a test reads before its end.
const slowMovieLen = 1 << 30

// env is one test's database, its line (in a bouquet with a slow movie) and a running server;
// start runs more instances on the same database.
type env struct {
	t       testing.TB
	dsn     string
	st      *store.Store
	line    store.Line
	pass    string
	movie   int64 // the slow movie, in the line's bouquet
	bouquet int64 // the line's bouquet
	srv     *instance
	n       atomic.Int64
}

// instance is one running server.
type instance struct {
	srv  *server.Server
	base string
	logs *testkit.Buffer
	// client is the client_id the instance's codes are asked for and polled with: clientID,
	// or a partner's.
	client string
}

type envOpts struct {
	line func(*store.LineInput)
	// settings are panel settings (JSON values); the per-client rate limit is off unless set.
	settings map[string]string
}

func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	dsn := testdb.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	must(t, err)
	t.Cleanup(pool.Close)
	e := &env{t: t, dsn: dsn, st: store.New(pool)}
	settings := map[string]string{"rate_limit_per_second": "0"}
	for k, v := range o.settings {
		settings[k] = v
	}
	for k, v := range settings {
		testdb.MustExec(t, e.st, `INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)`, k, v)
	}
	e.movie = e.slowMovie(t)
	bq, _, err := e.st.EnsureBouquet(context.Background(), "Main")
	must(t, err)
	e.bouquet = bq
	_, err = e.st.SetBouquetStreams(context.Background(), bq, []int64{e.movie})
	must(t, err)
	e.line, e.pass = testdb.NewLine(t, e.st, func(in *store.LineInput) {
		in.BouquetIDs = []int64{bq}
		if o.line != nil {
			o.line(in)
		}
	})
	e.srv = e.start(t, o)
	return e
}

// slowMovie creates a movie whose http source delivers slowly, so a download stays open.
func (e *env) slowMovie(t testing.TB) int64 {
	t.Helper()
	slow := testkit.PacedOrigin(t, slowMovieLen, 10*time.Millisecond)
	mp4 := "mp4"
	id, err := e.st.CreateStream(context.Background(), store.StreamInput{Kind: store.KindMovie, Name: "Slow",
		ContainerExtension: &mp4, Sources: []store.Source{{URL: slow.URL + "/slow.mp4"}}})
	must(t, err)
	return id
}

// start runs a server instance on the env's database with its own pool, as another process
// would. 127.0.0.1 is a trusted proxy: tests speak for other client addresses with
// X-Forwarded-For.
func (e *env) start(t testing.TB, o envOpts) *instance {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), e.dsn)
	must(t, err)
	cfg := config.Config{Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicPort: 8080, PublicScheme: "http",
		ShutdownTimeout: 5 * time.Second, TokenSecret: tokenSecret, Timezone: time.UTC, TimezoneName: "UTC",
		InstanceID: fmt.Sprintf("test-%d", e.n.Add(1)), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	in := &instance{logs: &testkit.Buffer{}, client: clientID}
	in.srv, err = server.New(t.Context(), server.Deps{Config: cfg, Log: logx.New(in.logs, "text", slog.LevelDebug),
		Store: store.New(pool), Registry: prometheus.NewRegistry()})
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(pool.Close) // after the server's stop (cleanups run last first)
	testkit.Serve(t, in.srv, ln, waitLimit)
	in.base = "http://" + ln.Addr().String()
	return in
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// answer is a response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// oauth decodes an OAuth error answer.
func (a answer) oauth(t testing.TB) oauthError {
	t.Helper()
	var e oauthError
	a.json(t, &e)
	return e
}

// loggedOut checks a logout's answer (seed 001: 200, nothing interactive remains) and returns
// how many device credentials it revoked.
func (a answer) loggedOut(t testing.TB) int {
	t.Helper()
	var lo struct {
		ActionName string `json:"actionName"`
		ActionType string `json:"actionType"`
		Revoked    struct {
			DeviceCredentials int `json:"device_credentials"`
		} `json:"revoked"`
	}
	if a.status != http.StatusOK {
		t.Fatalf("logout = %d %s", a.status, a.body)
	}
	if a.json(t, &lo); lo.ActionName != "logout" || lo.ActionType != "none" {
		t.Fatalf("logout = %s, want actionName logout, actionType none", a.body)
	}
	return lo.Revoked.DeviceCredentials
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Interval    int    `json:"interval"`
}

// do sends a request and reads the answer.
func do(t testing.TB, client *http.Client, req *http.Request) answer {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// post sends a form to the instance.
func (in *instance) post(t testing.TB, path string, form url.Values, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, in.base+path, strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, nil, req)
}

// delete sends a DELETE to the instance.
func (in *instance) delete(t testing.TB, path string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, in.base+path, nil)
	must(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, nil, req)
}

// get sends a GET to the instance.
func (in *instance) get(t testing.TB, path string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, in.base+path, nil)
	must(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, nil, req)
}

// grant is POST /oauth/device/code's answer.
type grant struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// requestCode asks for a code for device deviceID (extra form members added), failing unless
// it is granted.
func (in *instance) requestCode(t testing.TB, deviceID string, extra url.Values) grant {
	t.Helper()
	form := url.Values{"client_id": {in.client}, "device_id": {deviceID}, "device_name": {"Living room TV"}}
	for k, v := range extra {
		form[k] = v
	}
	a := in.post(t, "/oauth/device/code", form, nil)
	if a.status != http.StatusOK {
		t.Fatalf("POST /oauth/device/code = %d %s", a.status, a.body)
	}
	var g grant
	a.json(t, &g)
	return g
}

// poll polls once with the device code.
func (in *instance) poll(t testing.TB, deviceCode string) answer {
	t.Helper()
	return in.post(t, "/oauth/token", url.Values{"grant_type": {device.GrantTypeDeviceCode}, "device_code": {deviceCode},
		"client_id": {in.client}}, nil)
}

// age moves a device's codes back in time by d, as if their issue and last poll had been d
// earlier (the polling interval is real time; tests do not wait for it).
func (e *env) age(t testing.TB, deviceID string, d time.Duration) {
	t.Helper()
	testdb.MustExec(t, e.st, `UPDATE device_codes SET created_at = created_at - $2 * interval '1 second',
		polled_at = polled_at - $2 * interval '1 second' WHERE device_id = $1`, deviceID, d.Seconds())
}

// issued is POST /oauth/token's success.
type issued struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	Username    string `json:"username"`
	Password    string `json:"password"`
	ServerURL   string `json:"server_url"`
	MAC         string `json:"mac"`
	PortalURL   string `json:"portal_url"`
}

// browser is a phone's browser on the activation page: its cookies and its address.
type browser struct {
	in     *instance
	client *http.Client
	ip     string
}

func (in *instance) browser(t testing.TB, ip string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &browser{in: in, client: &http.Client{Jar: jar}, ip: ip}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// open loads /activate?user_code=code and returns the answer and the form's CSRF token.
func (b *browser) open(t testing.TB, code string) (answer, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.in.base+"/activate?user_code="+url.QueryEscape(code), nil)
	must(t, err)
	req.Header.Set("X-Forwarded-For", b.ip)
	a := do(t, b.client, req)
	csrf := ""
	if m := csrfField.FindSubmatch(a.body); m != nil {
		csrf = string(m[1])
	}
	return a, csrf
}

// submit posts the page's form.
func (b *browser) submit(t testing.TB, csrf, code, action, username, password string) answer {
	t.Helper()
	form := url.Values{"csrf": {csrf}, "user_code": {code}, "action": {action}, "username": {username}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, b.in.base+"/activate", strings.NewReader(form.Encode()))
	must(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", b.ip)
	return do(t, b.client, req)
}

// approve signs in on a fresh browser and allows the code, failing unless the page says done.
func (e *env) approve(t testing.TB, in *instance, code, username, password string) {
	t.Helper()
	b := in.browser(t, "198.51.100.7")
	page, csrf := b.open(t, code)
	if page.status != http.StatusOK || csrf == "" {
		t.Fatalf("GET /activate?user_code=%s = %d %s", code, page.status, page.body)
	}
	a := b.submit(t, csrf, code, "approve", username, password)
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `id="done"`) {
		t.Fatalf("approve %s = %d %s", code, a.status, a.body)
	}
}

// activate runs the whole flow for device deviceID on in and returns its credential.
func (e *env) activate(t testing.TB, in *instance, deviceID string) issued {
	t.Helper()
	g := in.requestCode(t, deviceID, nil)
	e.approve(t, in, g.UserCode, e.line.Username, e.pass)
	a := in.poll(t, g.DeviceCode)
	if a.status != http.StatusOK {
		t.Fatalf("poll after approval = %d %s", a.status, a.body)
	}
	var cred issued
	a.json(t, &cred)
	return cred
}

// userInfo is player_api.php's login answer, the members the tests read.
type userInfo struct {
	UserInfo struct {
		Username       string `json:"username"`
		Auth           int    `json:"auth"`
		Status         string `json:"status"`
		ActiveCons     string `json:"active_cons"`
		MaxConnections string `json:"max_connections"`
	} `json:"user_info"`
}

// login calls player_api.php with a username and password.
func (in *instance) login(t testing.TB, username, password string) userInfo {
	t.Helper()
	a := in.get(t, "/player_api.php?username="+url.QueryEscape(username)+"&password="+url.QueryEscape(password), nil)
	if a.status != http.StatusOK {
		t.Fatalf("player_api.php = %d %s", a.status, a.body)
	}
	var u userInfo
	if len(a.body) > 0 {
		a.json(t, &u)
	}
	return u
}

// openMovie starts the slow movie as username/password from ip; the body is left unread.
func (in *instance) openMovie(t testing.TB, movie int64, username, password, ip string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/movie/%s/%s/%d.mp4", in.base, url.PathEscape(username),
		url.PathEscape(password), movie), nil)
	must(t, err)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// ended reports when a response body ended.
func ended(resp *http.Response) <-chan time.Time {
	done := make(chan time.Time, 1)
	go func() {
		_, _ = io.Copy(io.Discard, resp.Body)
		done <- time.Now()
	}()
	return done
}
