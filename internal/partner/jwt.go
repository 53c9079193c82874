package partner

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Access tokens (seed 002: key + secret → a short-lived HS256 JWT). A token is signed with the
// current key and names it in its kid header ("pk<id>"). A key's material is derived from the
// token secret and its id, so rotating (an admin's POST /api/v1/partner-keys/rotate) stores
// nothing secret: every instance derives the new key on the partner_key change. A retired key
// still verifies the tokens it signed before it retired — they expire within MaxTokenTTL —
// and nothing issued after; an unknown kid, alg=none, any algorithm but HS256 (RS256 with our
// key posing as a public key) and a token of an older secret generation are refused.

const (
	jwtIssuer   = "xtreamd"
	jwtAudience = "xtreamd-partner-api"
	kidPrefix   = "pk"
	keyLabel    = "xtreamd partner access-token v1\x00"
	// maxTokenLen bounds what is parsed at all: our tokens are a few hundred bytes.
	maxTokenLen = 4096
)

// accessClaims are an access token's claims: the registered ones (iss, sub = the client id,
// aud, exp, nbf, iat, jti), the granted scopes (space-separated, RFC 6749 §3.3) and the
// client's secret generation.
type accessClaims struct {
	jwt.RegisteredClaims
	Scope      string `json:"scope"`
	Generation int    `json:"gen"`
}

// signingKey is one key of the ring.
type signingKey struct {
	kid     string
	key     []byte
	retired *time.Time
}

// keyring is the signing keys, as the database lists them.
type keyring struct {
	secret  []byte
	mu      sync.RWMutex
	byKID   map[string]*signingKey
	current *signingKey
	dirty   atomic.Bool
}

func newKeyring(secret []byte) *keyring {
	return &keyring{secret: secret, byKID: map[string]*signingKey{}}
}

func kidOf(id int64) string { return kidPrefix + strconv.FormatInt(id, 10) }

// set installs the keys (newest first, as the store lists them).
func (k *keyring) set(rows []store.SigningKey) {
	byKID := make(map[string]*signingKey, len(rows))
	var current *signingKey
	for _, r := range rows {
		kid := kidOf(r.ID)
		m := hmac.New(sha256.New, k.secret)
		m.Write([]byte(keyLabel + kid))
		sk := &signingKey{kid: kid, key: m.Sum(nil), retired: r.RetiredAt}
		byKID[kid] = sk
		if r.RetiredAt == nil && current == nil {
			current = sk
		}
	}
	k.mu.Lock()
	k.byKID, k.current = byKID, current
	k.mu.Unlock()
	k.dirty.Store(false)
}

func (k *keyring) stale()        { k.dirty.Store(true) }
func (k *keyring) isStale() bool { return k.dirty.Load() }

func (k *keyring) signer() *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current
}

func (k *keyring) lookup(kid string) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byKID[kid]
}

// AccessToken is what the token endpoint hands out, once.
type AccessToken struct {
	Token     string
	ExpiresIn time.Duration
	Scopes    []string
}

// TokenRequest is a client-credentials grant: the client's credentials (from HTTP Basic or the
// form, RFC 6749 §2.3.1), the scopes asked for (empty: all the client holds) and the caller.
type TokenRequest struct {
	ClientID string
	Secret   string
	Scopes   []string
	IP       netip.Addr
}

// dummySum is compared when the client is unknown, so an unknown client id costs what a known
// one with a wrong secret does.
var dummySum = sha256.Sum256([]byte("xtreamd partner dummy secret"))

// IssueToken authenticates a client and signs an access token for the scopes it asked for.
// A client that is unknown, revoked, of another secret or calling from outside its networks is
// ErrInvalidClient; a scope it does not hold, ErrInvalidScope. It reads no database.
func (s *Service) IssueToken(req TokenRequest) (AccessToken, error) {
	c, err := s.authenticateClient(req.ClientID, req.Secret, req.IP)
	if err != nil {
		return AccessToken{}, fmt.Errorf("issue token: %w", err)
	}
	scopes := req.Scopes
	if len(scopes) == 0 {
		scopes = c.scopes
	}
	for _, sc := range scopes {
		if !c.hasScope(sc) {
			return AccessToken{}, fmt.Errorf("issue token: %w: %q", ErrInvalidScope, input.Sanitize(sc, 64))
		}
	}
	ttl := s.settings().TokenTTL
	if ttl <= 0 || ttl > MaxTokenTTL {
		ttl = DefaultSettings().TokenTTL
	}
	tok, err := s.sign(c, scopes, ttl)
	if err != nil {
		return AccessToken{}, fmt.Errorf("issue token: %w", err)
	}
	return AccessToken{Token: tok, ExpiresIn: ttl, Scopes: slices.Clone(scopes)}, nil
}

// authenticateClient checks a client's id and secret (SHA-256 sums compared in constant time)
// and the caller's address.
func (s *Service) authenticateClient(clientID, secret string, ip netip.Addr) (*client, error) {
	sum := sha256.Sum256([]byte(secret))
	c := s.dir.byClient(clientID)
	want := dummySum[:]
	if c != nil {
		want = c.sum
	}
	ok := subtle.ConstantTimeCompare(sum[:], want) == 1
	switch {
	case c == nil || secret == "" || len(secret) > 256:
		return nil, fmt.Errorf("%w: unknown client or no secret", ErrInvalidClient)
	case !ok:
		return nil, fmt.Errorf("%w: wrong secret", ErrInvalidClient)
	case !c.allows(ip):
		return nil, fmt.Errorf("%w: %s is outside the client's networks", ErrInvalidClient, ip)
	}
	return c, nil
}

// sign signs an access token of c for scopes with the current key.
func (s *Service) sign(c *client, scopes []string, ttl time.Duration) (string, error) {
	k := s.keys.signer()
	if k == nil {
		return "", errors.New("no current signing key")
	}
	now := s.now().Truncate(time.Second)
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // never fails (Go 1.24+)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: jwtIssuer, Subject: c.clientID, Audience: jwt.ClaimStrings{jwtAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)), NotBefore: jwt.NewNumericDate(now),
			IssuedAt: jwt.NewNumericDate(now), ID: hex.EncodeToString(jti[:]),
		},
		Scope: strings.Join(scopes, " "), Generation: c.generation,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = k.kid
	return t.SignedString(k.key)
}

// Principal is a partner client as a verified access token shows it.
type Principal struct {
	PartnerID int64
	ClientID  string
	Name      string
	Scopes    []string
	TokenID   [16]byte  // the jti
	ExpiresAt time.Time // of the token
	IP        netip.Addr
}

// HasScope reports whether the token grants scope.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// Actor is the partner as audit entries name it.
func (p Principal) Actor() audit.Actor { return audit.Actor{Name: "partner:" + p.ClientID, IP: p.IP} }

// newParser pins the algorithm: alg=none, RS256 with our key as a "public key", or anything
// but HS256 is refused before any key is looked up. validate false checks the signature, the
// key and the claims' types only (a revocation takes an expired token).
func newParser(now func() time.Time, validate bool) *jwt.Parser {
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithTimeFunc(now)}
	if !validate {
		return jwt.NewParser(append(opts, jwt.WithoutClaimsValidation())...)
	}
	return jwt.NewParser(append(opts, jwt.WithIssuer(jwtIssuer), jwt.WithAudience(jwtAudience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(Leeway))...)
}

// Verify checks a bearer access token used from ip: HS256 under a known key id (a retired key
// only for what it signed before it retired), issuer, audience and times, not revoked, of an
// active client's current secret; then that ip is in the client's networks (ErrAddress). Every
// other failure is ErrInvalidToken, wrapped with the reason. It reads no database.
func (s *Service) Verify(tok string, ip netip.Addr) (Principal, error) {
	c, claims, err := s.parse(tok, s.parser)
	if err != nil {
		return Principal{}, err
	}
	var jti [16]byte
	if n, err := hex.Decode(jti[:], []byte(claims.ID)); err != nil || n != len(jti) || len(claims.ID) != 2*len(jti) {
		return Principal{}, fmt.Errorf("%w: malformed jti", ErrInvalidToken)
	}
	switch {
	case claims.NotBefore == nil:
		return Principal{}, fmt.Errorf("%w: no nbf", ErrInvalidToken)
	case claims.ExpiresAt.Sub(claims.IssuedAt.Time) > MaxTokenTTL:
		return Principal{}, fmt.Errorf("%w: lifetime over %s", ErrInvalidToken, MaxTokenTTL)
	case s.revoked.Has(jti):
		return Principal{}, fmt.Errorf("%w: revoked", ErrInvalidToken)
	case !c.allows(ip):
		return Principal{}, fmt.Errorf("%w: %s is outside the networks of %s", ErrAddress, ip, c.clientID)
	}
	scopes := strings.Fields(claims.Scope)
	for _, sc := range scopes {
		if !c.hasScope(sc) { // the client lost it since
			return Principal{}, fmt.Errorf("%w: scope %q no longer held", ErrInvalidToken, input.Sanitize(sc, 64))
		}
	}
	return Principal{PartnerID: c.id, ClientID: c.clientID, Name: c.name, Scopes: scopes, TokenID: jti,
		ExpiresAt: claims.ExpiresAt.Time, IP: ip}, nil
}

// parse checks tok's signature, key and claims with p and finds its client (active, current
// secret generation).
func (s *Service) parse(tok string, p *jwt.Parser) (*client, *accessClaims, error) {
	if len(tok) > maxTokenLen {
		return nil, nil, fmt.Errorf("%w: too long", ErrInvalidToken)
	}
	var claims accessClaims
	if _, err := p.ParseWithClaims(tok, &claims, s.keyFor); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	c := s.dir.byClient(claims.Subject)
	switch {
	case c == nil:
		return nil, nil, fmt.Errorf("%w: unknown or revoked client", ErrInvalidToken)
	case claims.Generation != c.generation:
		return nil, nil, fmt.Errorf("%w: issued under a replaced secret", ErrInvalidToken)
	}
	return c, &claims, nil
}

// keyFor is the key of a token's kid. jwt parses the claims before it asks, so a retired key
// is given only for a token issued before it retired.
func (s *Service) keyFor(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 { // WithValidMethods checked already; the key type depends on it
		return nil, errors.New("unexpected signing method")
	}
	kid, _ := t.Header["kid"].(string)
	k := s.keys.lookup(kid)
	if k == nil {
		return nil, errors.New("unknown key id")
	}
	if k.retired != nil {
		c, ok := t.Claims.(*accessClaims)
		if !ok || c.IssuedAt == nil || !c.IssuedAt.Time.Before(*k.retired) {
			return nil, errors.New("key retired before the token was issued")
		}
	}
	return k.key, nil
}
