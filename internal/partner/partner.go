// Package partner holds partner clients: an operator's own backend (a storefront, the server of
// its apps) that asks the panel, server to server, to authorize its viewers (seeds 000, 001,
// 002). It keeps the clients admins register (or that register themselves, RFC 7591, with an
// initial access token), authenticates them at the token endpoint (OAuth 2.0 client
// credentials, RFC 6749 §4.4) and issues and verifies their short-lived HS256 access tokens,
// whose keys rotate by key id; it signs the media tokens a partner hands its viewers and
// revokes them (seed 001's logout), caches the permits of decisions and bounds a partner's
// denials.
//
// It decides nothing about a line: decisions are internal/access's (the PartnerLine identity),
// which asks Holds whether a partner may act for a line. Every instance keeps the active
// clients, the signing keys and the revoked tokens in memory and follows the database's
// changes (partner, partner_key, partner_token), so a revocation is refused everywhere within
// a second; a token issue or check reads no database at all.
//
// Errors: a refused admin input is an *input.FieldError; the OAuth and bearer failures are the
// Err* sentinels below, wrapped with the reason (for the log, never for the caller).
package partner

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// The failures a surface answers in its standard's terms.
var (
	// ErrInvalidClient: client authentication failed (unknown client, wrong secret, revoked,
	// or calling from outside its networks): OAuth invalid_client.
	ErrInvalidClient = errors.New("partner: invalid client")
	// ErrInvalidScope: a scope asked for is unknown or not the client's: OAuth invalid_scope.
	ErrInvalidScope = errors.New("partner: invalid scope")
	// ErrInvalidToken: a bearer token that is malformed, forged, expired, revoked, of a
	// retired or unknown key, or of a revoked client or an old secret: 401.
	ErrInvalidToken = errors.New("partner: invalid access token")
	// ErrAddress: a valid token used from outside its client's networks: 403.
	ErrAddress = errors.New("partner: not allowed from this address")
	// ErrRegistrationClosed: dynamic client registration is switched off.
	ErrRegistrationClosed = errors.New("partner: registration closed")
	// ErrInvalidRegistrationToken: the initial access token is unknown, revoked, expired or
	// used up, or its networks do not hold the caller.
	ErrInvalidRegistrationToken = errors.New("partner: invalid initial access token")
)

// The OAuth scopes a partner client may hold; an endpoint names the one it needs.
const (
	ScopeDecisions   = "decisions"    // decisions/preauthorize, decisions/authorize
	ScopeMediaTokens = "media_tokens" // tokens: media tokens for the stream routes
	ScopeLogout      = "logout"       // logout: revoke media sessions and access tokens
	ScopeProfiles    = "profiles"     // profiles of second-screen logins
)

// Scopes lists every scope, in documentation order.
var Scopes = []string{ScopeDecisions, ScopeMediaTokens, ScopeLogout, ScopeProfiles}

// Settings are the panel settings the partner side reads (access.Settings holds them; the
// server hands them over on every call).
type Settings struct {
	Registration     bool          // dynamic client registration is open
	TokenTTL         time.Duration // of access tokens
	PermitTTL        time.Duration // of cached permits; 0: none
	DenialsPerSecond float64       // one partner's denials; 0: unbounded
	DenialsBurst     int
}

// MaxTokenTTL is the longest an access token may live (partner_token_seconds is at most as
// long): a retired signing key verifies nothing after it.
const MaxTokenTTL = time.Hour

// Leeway absorbs clock skew between instances in every expiry here, as token.Leeway does for
// play tokens.
const Leeway = token.Leeway

// Options configure a Service.
type Options struct {
	Store *store.Store
	// Secret is the cluster's token secret: the access-token signing keys are derived from it
	// and their key ids, so every instance verifies every other's tokens.
	Secret []byte
	// Media signs media tokens (the play-token keyring the stream routes verify with).
	Media    *token.Keyring
	Settings func() Settings // nil: the defaults
	Log      *slog.Logger
	Now      func() time.Time
}

// Service is the partner side of one instance.
type Service struct {
	store    *store.Store
	media    *token.Keyring
	settings func() Settings
	log      *slog.Logger
	now      func() time.Time

	dir     *directory
	keys    *keyring
	revoked *token.Revoked // access tokens, by jti
	parser  *jwt.Parser    // access tokens, fully validated
	opener  *jwt.Parser    // access tokens to revoke: signature and key only
	// Permits and Denials are the decision surface's cache and bound (permits.go, limit.go).
	Permits *Permits
	Denials *Limiter

	kick chan struct{} // wakes Run for pending directory or key reloads
}

// Settings returns the settings as they are now.
func (s *Service) Settings() Settings { return s.settings() }

// DefaultSettings are the settings' defaults (panel.Settings has the same).
func DefaultSettings() Settings {
	return Settings{TokenTTL: 15 * time.Minute, PermitTTL: 30 * time.Second, DenialsPerSecond: 2, DenialsBurst: 60}
}

// New returns the service; call Load before serving and Run to follow changes.
func New(o Options) (*Service, error) {
	if len(o.Secret) < token.MinSecretLen {
		return nil, fmt.Errorf("partner: secret shorter than %d bytes", token.MinSecretLen)
	}
	if o.Media == nil || o.Store == nil {
		return nil, errors.New("partner: no store or media keyring")
	}
	if o.Settings == nil {
		o.Settings = DefaultSettings
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{store: o.Store, media: o.Media, settings: o.Settings, log: o.Log, now: o.Now,
		dir: newDirectory(), keys: newKeyring(o.Secret), revoked: token.NewRevoked(),
		parser: newParser(o.Now, true), opener: newParser(o.Now, false),
		Permits: NewPermits(o.Now, 100_000), Denials: NewLimiter(o.Now), kick: make(chan struct{}, 1)}
	return s, nil
}

// Load reads the active clients, the signing keys and the revoked access tokens. Call it
// before serving; a reconnect of the listener calls it again.
func (s *Service) Load(ctx context.Context) error {
	clients, err := s.store.ActivePartners(ctx)
	if err != nil {
		return fmt.Errorf("partner: load: %w", err)
	}
	keys, err := s.store.PartnerSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("partner: load: %w", err)
	}
	revoked, err := s.store.PartnerRevocations(ctx, store.RevokedAccessToken)
	if err != nil {
		return fmt.Errorf("partner: load: %w", err)
	}
	if s.dir.replace(clients) {
		s.dir.changedAll()
	}
	s.keys.set(keys)
	now := s.now()
	for _, r := range revoked {
		s.revoked.Add(now, r.TokenID, r.ExpiresAt.Add(Leeway))
	}
	return nil
}

// OnChange handles a change from store.Listener (subscribed to partner, partner_key and
// partner_token changes): a revoked access token is refused at once; a changed client or key
// is read again by Run, right away.
func (s *Service) OnChange(ch store.Change) {
	switch ch.Kind {
	case store.ChangePartner:
		s.dir.stale(ch.ID)
		s.wake()
	case store.ChangePartnerKey:
		s.keys.stale()
		s.wake()
	case store.ChangePartnerToken:
		now := s.now()
		s.revoked.Add(now, ch.Token, now.Add(MaxTokenTTL+Leeway))
	}
}

// OnReconnect reads everything again: changes sent while the listener was away are lost.
func (s *Service) OnReconnect() {
	s.dir.staleAll()
	s.keys.stale()
	s.wake()
}

func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// OnPartnerChange registers fn to run after a client was read again and found changed (on
// Run's goroutine; partnerID 0: any client may have): the checker decides the streams its
// tokens opened again, its permits go. Register before Load.
func (s *Service) OnPartnerChange(fn func(partnerID int64)) {
	s.dir.onChange = append(s.dir.onChange, fn)
}

// Run reads changed clients and keys when told, and everything again every minute (healing a
// missed notification; that also forgets expired revocations), and deletes revocations whose
// tokens expired, hourly, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	heal := time.NewTicker(time.Minute)
	defer heal.Stop()
	sweep := time.NewTicker(time.Hour)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.kick:
		case <-heal.C:
			s.dir.staleAll()
			s.keys.stale()
		case <-sweep.C:
			if _, err := s.store.SweepPartnerRevocations(ctx, s.now().Add(-time.Hour)); err != nil && ctx.Err() == nil {
				s.log.Warn("sweeping partner revocations", "err", err)
			}
			continue
		}
		if err := s.refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("reading partner clients", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
				s.wake() // try again
			}
		}
	}
}

// refresh reads what OnChange, OnReconnect or the heal marked stale.
func (s *Service) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if s.keys.isStale() {
		keys, err := s.store.PartnerSigningKeys(ctx)
		if err != nil {
			return err
		}
		s.keys.set(keys)
	}
	if s.dir.allStale() {
		return s.Load(ctx)
	}
	for _, id := range s.dir.takeStale() {
		p, err := s.store.PartnerByID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.dir.stale(id)
			return err
		}
		s.dir.put(id, p, err == nil && p.RevokedAt == nil)
	}
	return nil
}

// secrets: every credential this package hands out is 256 random bits after a prefix naming
// what it is, kept only as its SHA-256 (a fast hash of 256 random bits is as strong as a slow
// one).
const (
	secretPrefix       = "xps_" // a client secret
	registrationPrefix = "xpr_" // an initial access token
	clientIDPrefix     = "xp"
)

func newSecret(prefix string) (string, []byte) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	s := prefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(s))
	return s, sum[:]
}

// newClientID is "xp" and 16 characters of lower-case base32 (80 random bits).
func newClientID() string {
	raw := make([]byte, 10)
	_, _ = rand.Read(raw)
	return clientIDPrefix + strings.ToLower(base32.StdEncoding.EncodeToString(raw))
}
