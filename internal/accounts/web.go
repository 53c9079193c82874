package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Browser logins (the admin web page) are admin sessions too, so one revocation path ends
// them with the API's: a cookie token (kept as its SHA-256) names an admin session, and is
// live only while that session is. Each login gets a new token (no session fixation) and a
// synchronizer token for its forms.

// ErrSecondFactor: the admin enrolled a second factor and the login gave no code for it. The
// login is refused (it wraps ErrUnauthenticated); a surface may ask for the code.
var ErrSecondFactor = fmt.Errorf("%w: second factor required", ErrUnauthenticated)

// webTokenPrefix marks a browser login's cookie token.
const webTokenPrefix = "xtw_"

// challengeTTL is how long the second step of a browser login may wait for its code.
const challengeTTL = 5 * time.Minute

// WebLogin is the outcome of a browser login's step: either the cookie token of a complete
// login (Token), or, for an admin with a second factor, the challenge to answer with its code
// (Challenge). Both print as [redacted].
type WebLogin struct {
	Token     config.Secret
	CSRF      string // the login's synchronizer token
	Challenge config.Secret
	Principal Principal
}

// WebPrincipal is a live browser login: who, and the synchronizer token its forms carry.
type WebPrincipal struct {
	Principal
	CSRF string
}

// LoginWeb checks an admin's username and password for the web page. An admin without a
// second factor is logged in (Token); one with a second factor gets a Challenge for
// LoginWebCode. Refusals are ErrUnauthenticated, as for Login.
func (s *Sessions) LoginWeb(ctx context.Context, username, password string, from Client) (WebLogin, error) {
	admin, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	enrolled, err := s.hasSecondFactor(ctx, admin.ID)
	if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	if enrolled {
		return WebLogin{Challenge: config.Secret(s.challenge(admin.ID)), Principal: principalOf(admin, from.IP)}, nil
	}
	return s.openWeb(ctx, admin, from)
}

// LoginWebCode completes a browser login with the code (TOTP or recovery) answering the
// challenge of LoginWeb. A bad, expired or foreign challenge, a wrong or replayed code and a
// disabled admin are ErrUnauthenticated.
func (s *Sessions) LoginWebCode(ctx context.Context, challenge, code string, from Client) (WebLogin, error) {
	id, ok := s.checkChallenge(challenge)
	if !ok {
		return WebLogin{}, fmt.Errorf("web login: %w: bad or expired challenge", ErrUnauthenticated)
	}
	admin, err := s.store.AdminByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && admin.Disabled {
		return WebLogin{}, fmt.Errorf("web login: %w", ErrUnauthenticated)
	} else if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	if strings.TrimSpace(code) == "" {
		return WebLogin{}, fmt.Errorf("web login: %w", ErrSecondFactor)
	}
	if err := s.secondFactor(ctx, admin, code); err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	return s.openWeb(ctx, admin, from)
}

// openWeb opens a browser login of admin: an admin session with a fresh cookie token.
func (s *Sessions) openWeb(ctx context.Context, admin store.Admin, from Client) (WebLogin, error) {
	token, sum, err := randomToken(webTokenPrefix)
	if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	csrf, _, err := randomToken("")
	if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	p, err := s.open(ctx, admin, from, nil, func(tx *store.Store, sessionID int64) error {
		return tx.CreateWebSession(ctx, sum, sessionID, csrf, s.now().Add(s.opts.WebIdle))
	})
	if err != nil {
		return WebLogin{}, fmt.Errorf("web login: %w", err)
	}
	return WebLogin{Token: config.Secret(token), CSRF: csrf, Principal: p}, nil
}

// randomToken returns prefix + 256 random bits (base64url) and the SHA-256 of the whole.
func randomToken(prefix string) (string, []byte, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("random token: %w", err)
	}
	tok := prefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(tok))
	return tok, sum[:], nil
}

// VerifyWeb returns the browser login of a cookie token: live while it is used within the
// idle time and its admin session is neither revoked nor expired (on any instance) and its
// admin enabled. The role and name are the admin's as they are now. Anything else is
// ErrUnauthenticated.
func (s *Sessions) VerifyWeb(ctx context.Context, token string, ip netip.Addr) (WebPrincipal, error) {
	if len(token) > maxTokenLen || !strings.HasPrefix(token, webTokenPrefix) {
		return WebPrincipal{}, fmt.Errorf("%w: not a web session token", ErrUnauthenticated)
	}
	sum := sha256.Sum256([]byte(token))
	w, err := s.store.LiveWebSession(ctx, sum[:])
	if errors.Is(err, store.ErrNotFound) {
		return WebPrincipal{}, fmt.Errorf("%w: no live web session", ErrUnauthenticated)
	} else if err != nil {
		return WebPrincipal{}, fmt.Errorf("verify web session: %w", err)
	}
	if s.revoked.has(w.SessionID) {
		return WebPrincipal{}, fmt.Errorf("%w: session revoked", ErrUnauthenticated)
	}
	// The idle deadline moves at most once a minute: a page's requests do not each write.
	if now := s.now(); now.Sub(w.SeenAt) > time.Minute {
		if err := s.store.TouchWebSession(ctx, sum[:], now.Add(s.opts.WebIdle)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return WebPrincipal{}, fmt.Errorf("verify web session: %w", err)
		}
	}
	p := principalOf(w.Admin, ip)
	p.SessionID = w.SessionID
	return WebPrincipal{Principal: p, CSRF: w.CSRFToken}, nil
}

// LogoutWeb ends a browser login: its admin session is revoked (on every instance) and its
// cookie token forgotten.
func (s *Sessions) LogoutWeb(ctx context.Context, token string, p Principal) error {
	if err := s.Logout(ctx, p); err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(token))
	if err := s.store.DeleteWebSession(ctx, sum[:]); err != nil {
		return fmt.Errorf("web logout: %w", err)
	}
	return nil
}

// challenge signs "admin id, expiry" for the second step of a browser login: stateless, so
// any instance answers the second step.
func (s *Sessions) challenge(adminID int64) string {
	b := make([]byte, 16, 32)
	binary.BigEndian.PutUint64(b[:8], uint64(adminID))
	binary.BigEndian.PutUint64(b[8:], uint64(s.now().Add(challengeTTL).Unix()))
	m := hmac.New(sha256.New, s.subKey("web login challenge v1"))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b)[:32])
}

// checkChallenge returns the admin of a valid, unexpired challenge.
func (s *Sessions) checkChallenge(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 32 {
		return 0, false
	}
	m := hmac.New(sha256.New, s.subKey("web login challenge v1"))
	m.Write(b[:16])
	if !hmac.Equal(m.Sum(nil)[:16], b[16:]) {
		return 0, false
	}
	id, exp := int64(binary.BigEndian.Uint64(b[:8])), int64(binary.BigEndian.Uint64(b[8:16]))
	return id, id > 0 && s.now().Unix() < exp
}

// subKey is the key of one use of the web key.
func (s *Sessions) subKey(label string) []byte { return DeriveKey(s.opts.WebKey, label) }

// auditSelf records an admin's change to its own login settings.
func auditSelf(ctx context.Context, tx *store.Store, p Principal, action string) error {
	return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: action, TargetType: "admin",
		TargetID: strconv.FormatInt(p.AdminID(), 10)})
}
