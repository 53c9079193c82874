package admin_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// signingKey is the admin API's key as app/server derives it from the token secret: a forger
// who knew the secret could do this; the tests do, to make tokens the server must refuse.
func signingKey() ([]byte, string) {
	k := accounts.DeriveKey([]byte(tokenSecret), "xtreamd admin-api access-token v1")
	return k, accounts.KeyID(k)
}

// forge signs claims with method under kid and key.
func forge(t *testing.T, method jwt.SigningMethod, kid string, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	must(t, err)
	return s
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, accounts.RoleAdmin)
	tok := e.login(t, a)
	if tok.TokenType != "Bearer" || tok.ExpiresIn != 900 || tok.AccessToken == "" || !strings.HasPrefix(tok.RefreshToken, "xtr_") {
		t.Fatalf("login = %+v, want a Bearer token for 900 s and a refresh token", tok)
	}
	claims := jwt.MapClaims{}
	key, kid := signingKey()
	parsed, err := jwt.ParseWithClaims(tok.AccessToken, claims, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil || parsed.Header["kid"] != kid || parsed.Header["alg"] != "HS256" {
		t.Fatalf("access token = %v (header %v), want HS256 under kid %s", err, parsed.Header, kid)
	}
	for _, c := range []string{"exp", "iat", "nbf", "jti", "sub", "role", "iss", "aud"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("access token lacks claim %q: %v", c, claims)
		}
	}
	if claims["role"] != "admin" || claims["sub"] != jsonID(a.id) {
		t.Errorf("claims = %v, want role admin, sub %d", claims, a.id)
	}

	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"wrong password", map[string]string{"username": a.username, "password": "wrong"}, 401, ""},
		{"unknown username", map[string]string{"username": "nobody", "password": "wrong"}, 401, ""},
		{"no body", nil, 400, ""},
		{"not JSON", "{", 400, ""},
		{"unknown member", map[string]any{"username": a.username, "password": a.password, "otp": 1}, 400, "otp"},
		{"member case", map[string]any{"Username": a.username, "password": a.password}, 400, "Username"},
		{"wrong type", map[string]any{"username": 5, "password": a.password}, 400, "username"},
		{"missing", map[string]any{"username": a.username}, 400, "password"},
		{"null", map[string]any{"username": a.username, "password": nil}, 400, "password"},
		{"too long", map[string]any{"username": strings.Repeat("a", 65), "password": "x"}, 400, "username"},
		{"NUL", map[string]any{"username": "a\x00b", "password": "x"}, 400, "username"},
	}
	for _, tt := range tests {
		r := e.call(t, http.MethodPost, "/auth/login", anonymous, tt.body)
		wantProblem(t, tt.name, r, tt.status, tt.field)
	}
	if strings.Contains(e.logs(), a.password) || strings.Contains(e.logs(), tok.AccessToken) || strings.Contains(e.logs(), tok.RefreshToken) {
		t.Fatal("a password or a token reached the log")
	}
}

func jsonID(id int64) string { return strconv.FormatInt(id, 10) }

// TestAuth_Matrix: every way a request can fail to authenticate answers a 401 problem with
// WWW-Authenticate, and a role that may not act a 403.
func TestAuth_Matrix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, accounts.RoleAdmin)
	tok := e.login(t, a)
	key, kid := signingKey()
	now := time.Now()
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "xtreamd", "aud": "xtreamd-admin-api", "sub": jsonID(a.id), "role": "admin", "name": a.username,
			"sid": 1, "jti": "x", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	tampered := tok.AccessToken[:len(tok.AccessToken)-2] + "xx"
	parts := strings.Split(tok.AccessToken, ".")
	tests := []struct {
		name string
		a    auth
	}{
		{"no token", anonymous},
		{"garbage", bearer("garbage")},
		{"tampered signature", bearer(tampered)},
		{"expired", bearer(forge(t, jwt.SigningMethodHS256, kid, key, claims(func(c jwt.MapClaims) {
			c["exp"], c["iat"], c["nbf"] = now.Add(-time.Minute).Unix(), now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
		})))},
		{"not yet valid", bearer(forge(t, jwt.SigningMethodHS256, kid, key, claims(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() })))},
		{"unknown kid", bearer(forge(t, jwt.SigningMethodHS256, "other", key, claims(nil)))},
		{"other key", bearer(forge(t, jwt.SigningMethodHS256, kid, []byte("another-key-another-key-another-k"), claims(nil)))},
		{"HS512", bearer(forge(t, jwt.SigningMethodHS512, kid, key, claims(nil)))},
		{"alg none", bearer(forge(t, jwt.SigningMethodNone, kid, jwt.UnsafeAllowNoneSignatureType, claims(nil)))},
		{"alg none, real payload", bearer(noneHeader(kid) + "." + parts[1] + ".")},
		{"wrong audience", bearer(forge(t, jwt.SigningMethodHS256, kid, key, claims(func(c jwt.MapClaims) { c["aud"] = "partner" })))},
		{"no exp", bearer(forge(t, jwt.SigningMethodHS256, kid, key, claims(func(c jwt.MapClaims) { delete(c, "exp") })))},
		{"unknown role", bearer(forge(t, jwt.SigningMethodHS256, kid, key, claims(func(c jwt.MapClaims) { c["role"] = "root" })))},
		{"api key garbage", apiKey("xk1234567890.nope")},
		{"refresh token as access token", bearer(tok.RefreshToken)},
	}
	for _, tt := range tests {
		r := e.call(t, http.MethodPost, "/auth/logout", tt.a, nil)
		wantProblem(t, tt.name, r, 401, "")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: WWW-Authenticate = %q", tt.name, r.header.Get("WWW-Authenticate"))
		}
	}
}

// noneHeader is a JOSE header claiming alg=none.
func noneHeader(kid string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"` + kid + `"}`))
}

// TestRefresh_RotationAndReuse: a refresh spends its token and hands a new pair; presenting a
// spent token revokes the whole login, access tokens included.
func TestRefresh_RotationAndReuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, accounts.RoleAdmin)
	first := e.login(t, a)
	r := e.call(t, http.MethodPost, "/auth/refresh", anonymous, map[string]string{"refresh_token": first.RefreshToken})
	wantStatus(t, "refresh", r, 200)
	var second tokens
	r.json(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh handed back the same tokens")
	}
	wantStatus(t, "logout probe with the new access token", e.call(t, http.MethodGet, "/auth/whoami", bearer(second.AccessToken), nil), 200)

	// The first refresh token again: a theft. The login ends, whatever token it holds.
	r = e.call(t, http.MethodPost, "/auth/refresh", anonymous, map[string]string{"refresh_token": first.RefreshToken})
	wantProblem(t, "reused refresh token", r, 401, "")
	r = e.call(t, http.MethodPost, "/auth/refresh", anonymous, map[string]string{"refresh_token": second.RefreshToken})
	wantProblem(t, "refresh token of a revoked login", r, 401, "")
	wantProblem(t, "access token of a revoked login", e.call(t, http.MethodGet, "/auth/whoami", bearer(second.AccessToken), nil), 401, "")
	wantProblem(t, "unknown refresh token", e.call(t, http.MethodPost, "/auth/refresh", anonymous,
		map[string]string{"refresh_token": "xtr_nope"}), 401, "")
}

// TestLogout_RevokesOnEveryInstance: a logout on one instance ends the access token on a
// second one within a second.
func TestLogout_RevokesOnEveryInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := e.start(t, envOpts{})
	a := e.admin(t, accounts.RoleAdmin)
	tok := e.login(t, a)
	wantStatus(t, "whoami on the second instance", e.callOn(t, other, http.MethodGet, "/auth/whoami", bearer(tok.AccessToken), nil), 200)
	wantStatus(t, "logout", e.call(t, http.MethodPost, "/auth/logout", bearer(tok.AccessToken), nil), 204)
	wantProblem(t, "whoami after logout, same instance", e.call(t, http.MethodGet, "/auth/whoami", bearer(tok.AccessToken), nil), 401, "")
	start := time.Now()
	for {
		r := e.callOn(t, other, http.MethodGet, "/auth/whoami", bearer(tok.AccessToken), nil)
		if r.status == 401 {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the second instance still accepts the token %v after the logout", time.Since(start))
		}
	}
	t.Logf("revocation seen by the second instance after %v", time.Since(start))
}

// TestLogin_LockedOutAfterFailures: the players' flood settings lock a password guesser out.
func TestLogin_LockedOutAfterFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{settings: map[string]string{"flood_auth_failures": "3", "flood_block_seconds": "60"}})
	a := e.admin(t, accounts.RoleAdmin)
	bad := map[string]string{"username": a.username, "password": "guess"}
	for i := range 2 {
		wantProblem(t, "guess "+strconv.Itoa(i+1), e.call(t, http.MethodPost, "/auth/login", anonymous, bad), 401, "")
	}
	r := e.call(t, http.MethodPost, "/auth/login", anonymous, bad)
	wantProblem(t, "third guess", r, 429, "")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After = %q, want seconds", ra)
	}
	// Locked out: even the right password is refused now, without being checked.
	good := map[string]string{"username": a.username, "password": a.password}
	wantProblem(t, "right password while locked out", e.call(t, http.MethodPost, "/auth/login", anonymous, good), 429, "")
}

// TestOpenAPIDocument: the document loads and validates (newEnv does it), every operation has
// an id, a tag and problem answers, and the reference page renders it without a script.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ops := 0
	for path, item := range e.spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops++
			if op.OperationID == "" || len(op.Tags) != 1 || op.Responses.Default() == nil {
				t.Errorf("%s %s: operationId %q, tags %v, default answer %v", method, path, op.OperationID, op.Tags, op.Responses.Default())
			}
		}
	}
	if ops < 3 || e.spec.doc.Components.SecuritySchemes["bearerAuth"] == nil || e.spec.doc.Components.SecuritySchemes["apiKeyAuth"] == nil {
		t.Fatalf("document: %d operations, security schemes %v", ops, e.spec.doc.Components.SecuritySchemes)
	}
	resp, err := http.Get(e.srv.base + "/api/v1/docs")
	must(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	body := string(raw)
	if resp.StatusCode != 200 || !strings.Contains(body, "operationId <code>login</code>") || strings.Contains(body, "<script") ||
		strings.Contains(body, "http://") && strings.Contains(body, "cdn") {
		t.Fatalf("/api/v1/docs = %d, %d bytes, want the rendered reference without scripts", resp.StatusCode, len(body))
	}
	wantProblem(t, "unknown operation", e.call(t, http.MethodGet, "/nope", anonymous, nil), 404, "")
}
