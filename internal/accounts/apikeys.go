package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// An API key reads "<key id>.<secret>": the key id (xk + 10 characters, stored in clear as
// the lookup prefix and shown in lists) and 256 random bits. Only the SHA-256 of the whole key
// is kept: a key is not a password, a fast hash of 256 bits is as strong as a slow one.
const (
	apiKeyIDPrefix = "xk"
	apiKeyIDLen    = 12
	maxKeyName     = 128
	maxKeyScopes   = 64
)

// scopeRE is what a scope looks like: "*" or "<resource>:read|write".
var scopeRE = regexp.MustCompile(`^(\*|[a-z][a-z0-9_]{0,31}:(read|write))$`)

// NewAPIKey is an API key to create.
type NewAPIKey struct {
	Name string
	// Scopes are what the key may do: "*" (all its admin may) or "lines:read", "lines:write"
	// ... Empty is refused: a key that can do nothing is a mistake.
	Scopes    []string
	ExpiresAt *time.Time // nil: never
	// AdminID is the admin the key acts for; 0: the principal itself. Only an admin may make
	// a key for another account.
	AdminID int64
}

// APIKeyCredentials are what creating a key hands back, once: the whole key is in clear only
// here.
type APIKeyCredentials struct {
	ID    int64
	KeyID string
	Key   config.Secret
}

// CreateAPIKey creates a key for in.AdminID (p itself by default) and returns it, once.
func (s *Service) CreateAPIKey(ctx context.Context, p Principal, in NewAPIKey) (APIKeyCredentials, error) {
	if in.AdminID == 0 {
		in.AdminID = p.AdminID()
	}
	if err := checkNewKey(p, in, s.now()); err != nil {
		return APIKeyCredentials{}, fmt.Errorf("create api key: %w", err)
	}
	keyID, err := generate(s.rand, apiKeyIDLen-len(apiKeyIDPrefix))
	if err != nil {
		return APIKeyCredentials{}, fmt.Errorf("create api key: %w", err)
	}
	keyID = apiKeyIDPrefix + keyID
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return APIKeyCredentials{}, fmt.Errorf("create api key: %w", err)
	}
	key := keyID + "." + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(key))
	var id int64
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if id, err = tx.CreateAPIKey(ctx, store.NewAPIKey{AdminID: in.AdminID, Name: in.Name, Prefix: keyID,
			KeySHA256: sum[:], Scopes: in.Scopes, ExpiresAt: in.ExpiresAt}); err != nil {
			return keyRefusals.of(err)
		}
		return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: "api_key.create", TargetType: "api_key",
			TargetID: strconv.FormatInt(id, 10), After: map[string]any{"name": in.Name, "key_id": keyID,
				"admin_id": in.AdminID, "scopes": in.Scopes, "expires_at": in.ExpiresAt}})
	})
	if err != nil {
		return APIKeyCredentials{}, fmt.Errorf("create api key: %w", err)
	}
	return APIKeyCredentials{ID: id, KeyID: keyID, Key: config.Secret(key)}, nil
}

func checkNewKey(p Principal, in NewAPIKey, now time.Time) error {
	switch {
	case in.AdminID != p.AdminID() && !p.IsAdmin():
		return &FieldError{Field: "admin_id", Reason: "only an admin makes keys for other accounts", Kind: ErrForbidden}
	case in.Name == "" || !input.Text(in.Name, 4*maxKeyName) || len([]rune(in.Name)) > maxKeyName:
		return invalid("name", "1 to 128 characters")
	case len(in.Scopes) == 0 || len(in.Scopes) > maxKeyScopes:
		return invalid("scopes", "1 to 64 scopes")
	case in.ExpiresAt != nil && !in.ExpiresAt.After(now):
		return invalid("expires_at", "in the future")
	}
	for _, sc := range in.Scopes {
		if !scopeRE.MatchString(sc) {
			return invalid("scopes", `"*" or "<resource>:read" / "<resource>:write"`)
		}
	}
	return nil
}

var keyRefusals = refusals{
	conflict: FieldError{Field: "key_id", Reason: "collision, try again", Kind: ErrConflict},
	notFound: FieldError{Field: "admin_id", Reason: "no such admin", Kind: ErrNotFound},
	invalid:  FieldError{Field: "api_key", Reason: "refused by the schema", Kind: ErrInvalid},
}

// AuthenticateKey checks an API key and returns the principal it acts as: its admin, the
// admin's role and the key's scopes. An unknown, wrong, revoked or expired key, or one of a
// disabled admin, is ErrUnauthenticated (wrapped with the reason, for the log).
func (s *Service) AuthenticateKey(ctx context.Context, key string, ip netip.Addr) (Principal, error) {
	keyID, _, ok := strings.Cut(key, ".")
	if !ok || len(keyID) != apiKeyIDLen || !strings.HasPrefix(keyID, apiKeyIDPrefix) || len(key) > 256 || !input.Text(key, 256) {
		return Principal{}, fmt.Errorf("%w: malformed api key", ErrUnauthenticated)
	}
	k, err := s.store.APIKeyByPrefix(ctx, keyID)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: unknown api key", ErrUnauthenticated)
	} else if err != nil {
		return Principal{}, fmt.Errorf("api key: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	switch {
	case subtle.ConstantTimeCompare(sum[:], k.KeySHA256) != 1:
		return Principal{}, fmt.Errorf("%w: wrong api key secret", ErrUnauthenticated)
	case k.RevokedAt != nil, k.ExpiresAt != nil && !s.now().Before(*k.ExpiresAt), k.Admin.Disabled:
		return Principal{}, fmt.Errorf("%w: api key revoked, expired or of a disabled admin", ErrUnauthenticated)
	}
	if err := s.store.TouchAPIKey(ctx, k.ID); err != nil {
		return Principal{}, fmt.Errorf("api key: %w", err)
	}
	role, err := ParseRole(k.Admin.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: api key of an admin without a role", ErrUnauthenticated)
	}
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{} // never nil: nil means a login, which has every scope
	}
	return Principal{Actor: audit.Actor{AdminID: k.AdminID, Name: "api_key:" + k.Prefix, IP: ip}, Role: role,
		Scopes: scopes, KeyID: k.ID}, nil
}

// APIKey is a key as lists show it: never its secret.
type APIKey struct {
	ID         int64
	AdminID    int64
	Name       string
	KeyID      string
	Scopes     []string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

func apiKeyOf(k store.APIKey) APIKey {
	return APIKey{ID: k.ID, AdminID: k.AdminID, Name: k.Name, KeyID: k.Prefix, Scopes: k.Scopes, CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt}
}

// ListAPIKeys returns the keys p may see (an admin: all; anyone else: its own), in id order
// after afterID.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal, afterID int64, limit int) ([]APIKey, error) {
	owner := p.AdminID()
	if p.IsAdmin() {
		owner = 0
	}
	rows, err := s.store.ListAPIKeys(ctx, owner, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	out := make([]APIKey, 0, len(rows))
	for _, k := range rows {
		out = append(out, apiKeyOf(k))
	}
	return out, nil
}

// APIKeyByID returns key id when p may see it (else not found).
func (s *Service) APIKeyByID(ctx context.Context, p Principal, id int64) (APIKey, error) {
	k, err := s.store.APIKeyByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.IsAdmin() && k.AdminID != p.AdminID()) {
		return APIKey{}, fmt.Errorf("api key: %w", notFound("id", "no such api key"))
	} else if err != nil {
		return APIKey{}, fmt.Errorf("api key: %w", err)
	}
	return apiKeyOf(k), nil
}

// RevokeAPIKey revokes key id (p's own, or any for an admin). It stops working at once on
// every instance: keys are checked against the database on every request.
func (s *Service) RevokeAPIKey(ctx context.Context, p Principal, id int64) error {
	if _, err := s.APIKeyByID(ctx, p, id); err != nil {
		return fmt.Errorf("revoke %w", err)
	}
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeAPIKey(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p.Actor, audit.Entry{Action: "api_key.revoke", TargetType: "api_key",
			TargetID: strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}
