package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// ErrRefreshReused: a refresh token was presented a second time. The token was stolen or
// leaked (the rightful client used it already), so its whole session is revoked.
var ErrRefreshReused = fmt.Errorf("%w: refresh token reused", ErrUnauthenticated)

// The token claims that never change.
const (
	jwtIssuer   = "xtreamd"
	jwtAudience = "xtreamd-admin-api"
	// maxTokenLen bounds what is parsed at all: our tokens are a few hundred bytes.
	maxTokenLen = 4096
)

// SessionOptions configure Sessions.
type SessionOptions struct {
	// Keys are the HS256 signing keys by key id (each at least 32 bytes); CurrentKID names
	// the one new tokens are signed with. The others still verify (rotation).
	Keys       map[string][]byte
	CurrentKID string
	AccessTTL  time.Duration       // zero: 15 minutes
	RefreshTTL time.Duration       // a login's whole life; zero: 30 days
	Hasher     *credential.Limiter // password checks under the server's hashing limit (required)
	Now        func() time.Time
	Log        *slog.Logger
}

// Sessions are the logins of the admin API: short-lived HS256 access tokens (JWT) and
// refresh tokens that rotate on every use. A login is a session row (a refresh-token family);
// revoking it — logout, a reused refresh token, an admin disabled or deleted — ends its access
// tokens on every instance, which hear it on the admin_session change and keep the revoked
// session ids for as long as an access token lives.
type Sessions struct {
	store   *store.Store
	opts    SessionOptions
	now     func() time.Time
	log     *slog.Logger
	parser  *jwt.Parser
	revoked *revocations // shared with the Service, whose account changes revoke sessions
}

// revocations are the sessions this instance knows are revoked, kept for as long as one of
// their access tokens may live.
type revocations struct {
	now  func() time.Time
	keep time.Duration
	mu   sync.Mutex
	ids  map[int64]time.Time // session id → when this instance learnt of it
}

func newRevocations(now func() time.Time) *revocations {
	return &revocations{now: now, keep: 16 * time.Minute, ids: map[int64]time.Time{}}
}

func (r *revocations) has(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// add remembers revoked sessions and forgets the ones older than keep.
func (r *revocations) add(ids ...int64) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, at := range r.ids {
		if now.Sub(at) > r.keep {
			delete(r.ids, id)
		}
	}
	for _, id := range ids {
		r.ids[id] = now
	}
}

// DeriveKey derives a signing key from a configured secret and a label naming its use, so
// one operator secret can serve several purposes without one key verifying another's tokens.
func DeriveKey(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// KeyID names a key by its material (the first bytes of its SHA-256, in hex), so every
// instance configured with one secret agrees on the kid.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:6])
}

// NewSessions returns the sessions of svc's accounts; call Load before serving.
func NewSessions(svc *Service, opts SessionOptions) (*Sessions, error) {
	if len(opts.Keys[opts.CurrentKID]) < 32 {
		return nil, errors.New("admin sessions: the current signing key is missing or shorter than 32 bytes")
	}
	for kid, k := range opts.Keys {
		if len(k) < 32 {
			return nil, fmt.Errorf("admin sessions: key %q is shorter than 32 bytes", kid)
		}
	}
	if opts.AccessTTL <= 0 {
		opts.AccessTTL = 15 * time.Minute
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 30 * 24 * time.Hour
	}
	if opts.Hasher == nil {
		return nil, errors.New("admin sessions: no password hasher")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	svc.revoked.keep = opts.AccessTTL + time.Minute // the skew between instances' clocks
	s := &Sessions{store: svc.store, opts: opts, now: opts.Now, log: opts.Log, revoked: svc.revoked}
	// The algorithm is pinned: alg=none, RS256 with our key as a "public key", or anything
	// but HS256 is refused before any key is looked up.
	s.parser = jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(jwtIssuer),
		jwt.WithAudience(jwtAudience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(opts.Now))
	return s, nil
}

// AccessTTL is how long an access token lives.
func (s *Sessions) AccessTTL() time.Duration { return s.opts.AccessTTL }

// Tokens are what a login or a refresh hands out, once. Both print as [redacted].
type Tokens struct {
	AccessToken  config.Secret
	ExpiresIn    time.Duration
	RefreshToken config.Secret
}

// Client is where a login comes from.
type Client struct {
	IP        netip.Addr
	UserAgent string
}

// accessClaims are the claims of an access token: the registered ones (iss, sub = the admin
// id, aud, exp, nbf, iat, jti), the role, the admin's name (for audit entries) and the session.
type accessClaims struct {
	jwt.RegisteredClaims
	Role    string `json:"role"`
	Name    string `json:"name"`
	Session int64  `json:"sid"`
}

// Login checks an admin's username and password and opens a session. Wrong credentials, an
// unknown username and a disabled admin are all ErrUnauthenticated, and cost the same time.
func (s *Sessions) Login(ctx context.Context, username, password string, from Client) (Tokens, Principal, error) {
	admin, err := s.store.AdminByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", err)
	}
	if err != nil || len(password) > credential.MaxPasswordLen {
		if err := s.opts.Hasher.DummyVerify(ctx, username, password); err != nil {
			return Tokens{}, Principal{}, fmt.Errorf("login: %w", err)
		}
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", ErrUnauthenticated)
	}
	ok, err := s.opts.Hasher.Verify(ctx, admin.PasswordHash, password)
	if err != nil && !errors.Is(err, credential.ErrMalformedHash) {
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", err)
	}
	if !ok || admin.Disabled {
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", ErrUnauthenticated)
	}
	refresh, sum, err := newRefreshToken()
	if err != nil {
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", err)
	}
	now := s.now()
	p := principalOf(admin, from.IP)
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		p.SessionID, err = tx.CreateAdminSession(ctx, store.NewAdminSession{AdminID: admin.ID,
			ExpiresAt: now.Add(s.opts.RefreshTTL), ClientIP: from.IP, UserAgent: from.UserAgent,
			TokenSHA256: sum, TokenExpiresAt: now.Add(s.opts.RefreshTTL)})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: "auth.login", TargetType: "admin",
			TargetID: strconv.FormatInt(admin.ID, 10), Extra: map[string]any{"session_id": p.SessionID}})
	})
	if err != nil {
		return Tokens{}, Principal{}, fmt.Errorf("login: %w", err)
	}
	tokens, err := s.issue(p, refresh)
	return tokens, p, err
}

func principalOf(a store.Admin, ip netip.Addr) Principal {
	return Principal{Actor: audit.Actor{AdminID: a.ID, Name: a.Username, IP: ip}, Role: Role(a.Role)}
}

// issue signs an access token for p's session and bundles it with refresh.
func (s *Sessions) issue(p Principal, refresh string) (Tokens, error) {
	now := s.now().Truncate(time.Second)
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return Tokens{}, fmt.Errorf("issue token: %w", err)
	}
	c := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: jwtIssuer, Subject: strconv.FormatInt(p.AdminID(), 10), Audience: jwt.ClaimStrings{jwtAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(s.opts.AccessTTL)), NotBefore: jwt.NewNumericDate(now),
			IssuedAt: jwt.NewNumericDate(now), ID: hex.EncodeToString(jti),
		},
		Role: string(p.Role), Name: p.Actor.Name, Session: p.SessionID,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = s.opts.CurrentKID
	signed, err := t.SignedString(s.opts.Keys[s.opts.CurrentKID])
	if err != nil {
		return Tokens{}, fmt.Errorf("issue token: %w", err)
	}
	return Tokens{AccessToken: config.Secret(signed), ExpiresIn: s.opts.AccessTTL, RefreshToken: config.Secret(refresh)}, nil
}

// newRefreshToken returns a fresh refresh token and its SHA-256.
func newRefreshToken() (string, []byte, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	tok := "xtr_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:], nil
}

// Verify checks an access token: its signature under a known key id, HS256 only, the issuer,
// audience and times, and that its session is not revoked. Any failure is ErrUnauthenticated,
// wrapped with the reason (for the log, never for the client).
func (s *Sessions) Verify(token string, ip netip.Addr) (Principal, error) {
	if len(token) > maxTokenLen {
		return Principal{}, fmt.Errorf("%w: token too long", ErrUnauthenticated)
	}
	var c accessClaims
	if _, err := s.parser.ParseWithClaims(token, &c, s.keyFor); err != nil {
		return Principal{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	role, rerr := ParseRole(c.Role)
	if err != nil || id <= 0 || rerr != nil || c.Session <= 0 || c.ID == "" || c.NotBefore == nil {
		return Principal{}, fmt.Errorf("%w: incomplete claims", ErrUnauthenticated)
	}
	if s.revoked.has(c.Session) {
		return Principal{}, fmt.Errorf("%w: session revoked", ErrUnauthenticated)
	}
	return Principal{Actor: audit.Actor{AdminID: id, Name: c.Name, IP: ip}, Role: role, SessionID: c.Session}, nil
}

func (s *Sessions) keyFor(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 { // WithValidMethods checked already; the key type depends on it
		return nil, errors.New("unexpected signing method")
	}
	kid, _ := t.Header["kid"].(string)
	k, ok := s.opts.Keys[kid]
	if !ok {
		return nil, errors.New("unknown key id")
	}
	return k, nil
}

// Refresh rotates a refresh token: the presented one is spent and a new pair comes back. A
// token used before revokes its whole session (ErrRefreshReused); an unknown, expired or
// revoked one, or a disabled admin, is ErrUnauthenticated.
func (s *Sessions) Refresh(ctx context.Context, refresh string, ip netip.Addr) (Tokens, Principal, error) {
	if len(refresh) > maxTokenLen {
		return Tokens{}, Principal{}, fmt.Errorf("refresh: %w", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(refresh))
	next, nextSum, err := newRefreshToken()
	if err != nil {
		return Tokens{}, Principal{}, fmt.Errorf("refresh: %w", err)
	}
	var p Principal
	var refusal error
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		rt, err := tx.LockRefreshToken(ctx, sum[:])
		if errors.Is(err, store.ErrNotFound) {
			refusal = ErrUnauthenticated
			return nil
		} else if err != nil {
			return err
		}
		p = principalOf(rt.Admin, ip)
		p.SessionID = rt.SessionID
		now := s.now()
		switch {
		case rt.UsedAt != nil:
			refusal = ErrRefreshReused
			return s.revokeReused(ctx, tx, p)
		case rt.SessionRevokedAt != nil || rt.Admin.Disabled || !now.Before(rt.ExpiresAt) || !now.Before(rt.SessionExpiresAt):
			refusal = ErrUnauthenticated
			return nil
		}
		if err := tx.UseRefreshToken(ctx, rt.ID, rt.SessionID); err != nil {
			return err
		}
		return tx.AddRefreshToken(ctx, rt.SessionID, nextSum, rt.SessionExpiresAt)
	})
	if err == nil {
		err = refusal
	}
	if err != nil {
		return Tokens{}, Principal{}, fmt.Errorf("refresh: %w", err)
	}
	tokens, err := s.issue(p, next)
	return tokens, p, err
}

// revokeReused revokes the session of a reused refresh token, with an audit entry.
func (s *Sessions) revokeReused(ctx context.Context, tx *store.Store, p Principal) error {
	if _, err := tx.RevokeAdminSession(ctx, p.SessionID, "refresh_reuse"); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "refresh token reused: session revoked", "admin_id", p.AdminID(), "session_id", p.SessionID,
		"client_ip", p.Actor.IP.String())
	s.revoked.add(p.SessionID)
	return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: "auth.refresh_reuse", TargetType: "admin",
		TargetID: strconv.FormatInt(p.AdminID(), 10), Extra: map[string]any{"session_id": p.SessionID}})
}

// Logout revokes the session of p's access token.
func (s *Sessions) Logout(ctx context.Context, p Principal) error {
	if p.SessionID == 0 {
		return fmt.Errorf("logout: %w", invalid("session", "an API key has no session to end"))
	}
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.RevokeAdminSession(ctx, p.SessionID, "logout"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: "auth.logout", TargetType: "admin",
			TargetID: strconv.FormatInt(p.AdminID(), 10), Extra: map[string]any{"session_id": p.SessionID}})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.revoked.add(p.SessionID) // here at once; the others on the NOTIFY
	return nil
}

// revokeAdmin revokes every session of an admin on tx (disabled, deleted, role or password
// changed) and returns them, for the caller to remember once tx committed; the sessions'
// trigger tells every other instance.
func revokeAdmin(ctx context.Context, tx *store.Store, adminID int64, reason string) ([]int64, error) {
	return tx.RevokeAdminSessions(ctx, adminID, reason)
}

// Load reads the sessions revoked recently enough for their access tokens to live. Call it
// before serving; OnReconnect calls it again.
func (s *Sessions) Load(ctx context.Context) error {
	ids, err := s.store.RevokedAdminSessions(ctx, s.now().Add(-s.opts.AccessTTL-time.Minute))
	if err != nil {
		return fmt.Errorf("admin sessions: %w", err)
	}
	s.revoked.add(ids...)
	return nil
}

// OnChange handles a change from store.Listener (subscribed to admin_session changes): the
// session's access tokens stop working here.
func (s *Sessions) OnChange(ch store.Change) {
	if ch.Kind == store.ChangeAdminSession {
		s.revoked.add(ch.ID)
	}
}

// OnReconnect reloads the revoked sessions: revocations sent while the listener was away
// are lost.
func (s *Sessions) OnReconnect() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Load(ctx); err != nil {
		s.log.Warn("reloading revoked admin sessions", "err", err)
	}
}

// Run deletes sessions ended more than a day ago, hourly, until ctx ends.
func (s *Sessions) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.store.SweepAdminSessions(ctx, s.now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				s.log.Warn("sweeping admin sessions", "err", err)
			}
		}
	}
}
