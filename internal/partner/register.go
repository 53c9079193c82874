package partner

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Dynamic client registration (RFC 7591), for partners that register themselves: an admin
// issues an initial access token carrying a grant, and a partner holding it registers (while
// the partner_registration setting is on) and gets that grant, or a narrower one it asks for,
// and nothing more.

// RegistrationToken is an initial access token as admins see it: never the token.
type RegistrationToken struct {
	ID         int64          `json:"id"`
	Name       string         `json:"name"`
	Scopes     []string       `json:"scopes"`
	BouquetIDs []int64        `json:"bouquet_ids"`
	LineIDs    []int64        `json:"line_ids"`
	AllowedIPs []netip.Prefix `json:"allowed_ips"`
	MaxUses    int            `json:"max_uses"`
	Uses       int            `json:"uses"`
	ExpiresAt  time.Time      `json:"expires_at"`
	RevokedAt  *time.Time     `json:"revoked_at"`
	CreatedAt  time.Time      `json:"created_at"`
}

func registrationTokenOf(r store.RegistrationToken) RegistrationToken {
	return RegistrationToken{ID: r.ID, Name: r.Name, Scopes: r.Scopes, BouquetIDs: r.BouquetIDs, LineIDs: r.LineIDs,
		AllowedIPs: r.AllowedIPs, MaxUses: r.MaxUses, Uses: r.Uses, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt,
		CreatedAt: r.CreatedAt}
}

// NewRegistrationToken is an initial access token to issue: its grant, how many clients may
// register with it (1 … 10000) and until when.
type NewRegistrationToken struct {
	Name      string
	Grant     Grant
	MaxUses   int
	ExpiresAt time.Time
}

// IssuedRegistrationToken is a new initial access token with the token itself, shown once.
type IssuedRegistrationToken struct {
	RegistrationToken
	Token config.Secret
}

// CreateRegistrationToken issues an initial access token.
func (s *Service) CreateRegistrationToken(ctx context.Context, a audit.Actor, in NewRegistrationToken) (IssuedRegistrationToken, error) {
	if err := checkName("name", in.Name); err != nil {
		return IssuedRegistrationToken{}, fmt.Errorf("create registration token: %w", err)
	}
	if err := checkGrant(ctx, s.store, &in.Grant, ""); err != nil {
		return IssuedRegistrationToken{}, fmt.Errorf("create registration token: %w", err)
	}
	switch {
	case in.MaxUses < 1 || in.MaxUses > 10000:
		return IssuedRegistrationToken{}, fmt.Errorf("create registration token: %w", input.Invalid("max_uses", "1 to 10000"))
	case !in.ExpiresAt.After(s.now()):
		return IssuedRegistrationToken{}, fmt.Errorf("create registration token: %w", input.Invalid("expires_at", "in the future"))
	}
	tok, sum := newSecret(registrationPrefix)
	var row store.RegistrationToken
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		row, err = tx.CreateRegistrationToken(ctx, sum, store.RegistrationToken{Name: in.Name, Scopes: in.Grant.Scopes,
			BouquetIDs: in.Grant.BouquetIDs, LineIDs: in.Grant.LineIDs, AllowedIPs: in.Grant.AllowedIPs, MaxUses: in.MaxUses,
			ExpiresAt: in.ExpiresAt, CreatedByAdminID: adminOf(a)})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner_registration_token.create", TargetType: "partner_registration_token",
			TargetID: strconv.FormatInt(row.ID, 10), After: map[string]any{"name": row.Name, "scopes": row.Scopes,
				"bouquet_ids": row.BouquetIDs, "line_ids": row.LineIDs, "allowed_ips": row.AllowedIPs,
				"max_uses": row.MaxUses, "expires_at": row.ExpiresAt}})
	})
	if err != nil {
		return IssuedRegistrationToken{}, fmt.Errorf("create registration token: %w", err)
	}
	return IssuedRegistrationToken{RegistrationToken: registrationTokenOf(row), Token: config.Secret(tok)}, nil
}

func adminOf(a audit.Actor) *int64 {
	if a.AdminID == 0 {
		return nil
	}
	id := a.AdminID
	return &id
}

// RegistrationTokens lists up to limit initial access tokens after afterID, in id order.
func (s *Service) RegistrationTokens(ctx context.Context, afterID int64, limit int) ([]RegistrationToken, error) {
	rows, err := s.store.ListRegistrationTokens(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", err)
	}
	out := make([]RegistrationToken, len(rows))
	for i, r := range rows {
		out[i] = registrationTokenOf(r)
	}
	return out, nil
}

// RevokeRegistrationToken revokes initial access token id: nobody registers with it any more
// (the clients registered with it stay).
func (s *Service) RevokeRegistrationToken(ctx context.Context, a audit.Actor, id int64) error {
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeRegistrationToken(ctx, id); errors.Is(err, store.ErrNotFound) {
			return input.NotFound("id", "no such registration token")
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner_registration_token.revoke",
			TargetType: "partner_registration_token", TargetID: strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return fmt.Errorf("revoke registration token: %w", err)
	}
	return nil
}

// The client metadata values registration accepts (RFC 7591 §2): only confidential clients of
// the client-credentials grant, authenticating at the token endpoint with HTTP Basic (the
// default) or the form.
const (
	GrantClientCredentials = "client_credentials"
	AuthSecretBasic        = "client_secret_basic"
	AuthSecretPost         = "client_secret_post"
)

// ClientMetadata is what a registering client asks for (RFC 7591 §2). A refused value is an
// *input.FieldError on its member's name (OAuth invalid_client_metadata).
type ClientMetadata struct {
	ClientName              string
	Scopes                  []string // empty: all the token grants
	GrantTypes              []string // empty: client_credentials
	TokenEndpointAuthMethod string   // empty: client_secret_basic
}

// Registration is a registered client: its credentials, shown once, and its metadata as
// registered.
type Registration struct {
	Credentials
	IssuedAt time.Time
	Metadata ClientMetadata
}

// Register registers a client with an initial access token, from ip. Closed registration is
// ErrRegistrationClosed; a token that is unknown, revoked, expired, used up or whose networks
// do not hold ip is ErrInvalidRegistrationToken (and spends nothing); metadata asking for more
// than the token grants is refused on its member.
func (s *Service) Register(ctx context.Context, initial string, md ClientMetadata, ip netip.Addr) (Registration, error) {
	if !s.settings().Registration {
		return Registration{}, fmt.Errorf("register: %w", ErrRegistrationClosed)
	}
	if err := normalizeMetadata(&md); err != nil {
		return Registration{}, fmt.Errorf("register: %w", err)
	}
	sum := sha256.Sum256([]byte(initial))
	var creds Credentials
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		rt, err := tx.UseRegistrationToken(ctx, sum[:])
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidRegistrationToken
		} else if err != nil {
			return err
		}
		if !(&client{networks: rt.AllowedIPs}).allows(ip) {
			return fmt.Errorf("%w: %s is outside its networks", ErrInvalidRegistrationToken, ip)
		}
		if len(md.Scopes) == 0 {
			md.Scopes = rt.Scopes
		}
		for _, sc := range md.Scopes {
			if !slices.Contains(rt.Scopes, sc) {
				return input.Invalid("scope", "the initial access token grants "+fmt.Sprint(rt.Scopes))
			}
		}
		a := audit.Actor{Name: "partner_registration_token:" + strconv.FormatInt(rt.ID, 10), IP: ip}
		in := store.PartnerInput{Name: md.ClientName, Scopes: md.Scopes, BouquetIDs: rt.BouquetIDs, LineIDs: rt.LineIDs,
			AllowedIPs: rt.AllowedIPs, Registration: "dynamic", RegistrationTokenID: &rt.ID}
		creds, err = s.create(ctx, tx, a, in, "partner.register", map[string]any{"registration_token_id": rt.ID,
			"token_endpoint_auth_method": md.TokenEndpointAuthMethod})
		return err
	})
	if err != nil {
		return Registration{}, fmt.Errorf("register: %w", err)
	}
	s.reread(ctx, creds.Partner.ID)
	return Registration{Credentials: creds, IssuedAt: creds.Partner.CreatedAt, Metadata: md}, nil
}

// normalizeMetadata checks md and fills its defaults.
func normalizeMetadata(md *ClientMetadata) error {
	if err := checkName("client_name", md.ClientName); err != nil {
		return err
	}
	if len(md.GrantTypes) == 0 {
		md.GrantTypes = []string{GrantClientCredentials}
	}
	if len(md.GrantTypes) != 1 || md.GrantTypes[0] != GrantClientCredentials {
		return input.Invalid("grant_types", `only ["client_credentials"]`)
	}
	switch md.TokenEndpointAuthMethod {
	case "":
		md.TokenEndpointAuthMethod = AuthSecretBasic
	case AuthSecretBasic, AuthSecretPost:
	default:
		return input.Invalid("token_endpoint_auth_method", "client_secret_basic or client_secret_post")
	}
	for i, sc := range md.Scopes {
		if !slices.Contains(Scopes, sc) || slices.Contains(md.Scopes[:i], sc) {
			return input.Invalid("scope", "each once, of "+fmt.Sprint(Scopes))
		}
	}
	return nil
}
