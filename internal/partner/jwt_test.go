package partner

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/audit"
)

// claimsOf decodes a token's header and claims without verifying it.
func claimsOf(t *testing.T, tok string) (map[string]any, jwt.MapClaims) {
	t.Helper()
	var c jwt.MapClaims
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, &c)
	must(t, err)
	return parsed.Header, c
}

// TestIssueToken_Claims: a client-credentials token is HS256 with kid, and carries exp, iat,
// nbf, jti, sub (the client id), the scopes granted and the issuer and audience.
func TestIssueToken_Claims(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.partner(t)
	tok, err := f.svc.IssueToken(TokenRequest{ClientID: c.Partner.ClientID, Secret: c.Secret.Reveal(),
		Scopes: []string{ScopeDecisions}, IP: callerIP})
	must(t, err)
	hdr, claims := claimsOf(t, tok.Token)
	if hdr["alg"] != "HS256" || hdr["kid"] != "pk1" || tok.ExpiresIn != 15*time.Minute {
		t.Fatalf("header %v, expires in %s; want HS256, kid pk1, 15m", hdr, tok.ExpiresIn)
	}
	for _, k := range []string{"exp", "iat", "nbf", "jti", "sub", "scope", "iss", "aud"} {
		if claims[k] == nil {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["sub"] != c.Partner.ClientID || claims["scope"] != ScopeDecisions {
		t.Fatalf("sub %v scope %v, want %s and decisions", claims["sub"], claims["scope"], c.Partner.ClientID)
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 900 {
		t.Fatalf("exp - iat = %v, want 900", exp-iat)
	}
	all := f.token(t, c)
	if _, cl := claimsOf(t, all); cl["scope"] != strings.Join(Scopes, " ") {
		t.Fatalf("no scope asked: granted %v, want all the client's", cl["scope"])
	}
}

// TestIssueToken_Refusals: wrong or missing credentials, a revoked client and a caller outside
// the client's networks are invalid_client; a scope the client lacks is invalid_scope.
func TestIssueToken_Refusals(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.partner(t)
	narrow, err := f.svc.Create(context.Background(), audit.CLI, "Narrow", Grant{Scopes: []string{ScopeDecisions}, AllowedIPs: partnerIn})
	must(t, err)
	revoked := f.partner(t)
	must(t, f.svc.Revoke(context.Background(), audit.CLI, revoked.Partner.ID))
	id, secret := c.Partner.ClientID, c.Secret.Reveal()
	for _, tt := range []struct {
		name string
		req  TokenRequest
		want error
	}{
		{"wrong secret", TokenRequest{ClientID: id, Secret: secret + "x", IP: callerIP}, ErrInvalidClient},
		{"no secret", TokenRequest{ClientID: id, IP: callerIP}, ErrInvalidClient},
		{"unknown client", TokenRequest{ClientID: "xpnobody", Secret: secret, IP: callerIP}, ErrInvalidClient},
		{"outside its networks", TokenRequest{ClientID: id, Secret: secret, IP: outsideIP}, ErrInvalidClient},
		{"revoked", TokenRequest{ClientID: revoked.Partner.ClientID, Secret: revoked.Secret.Reveal(), IP: callerIP}, ErrInvalidClient},
		{"a scope it lacks", TokenRequest{ClientID: narrow.Partner.ClientID, Secret: narrow.Secret.Reveal(),
			Scopes: []string{ScopeLogout}, IP: callerIP}, ErrInvalidScope},
		{"an unknown scope", TokenRequest{ClientID: id, Secret: secret, Scopes: []string{"admin"}, IP: callerIP}, ErrInvalidScope},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := f.svc.IssueToken(tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("IssueToken = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerify_KeyRotation: after a rotation new tokens name the new kid; a token of the retired
// key still verifies until it expires, and nothing signed by the retired key after it retired
// does; an unknown kid never does.
func TestVerify_KeyRotation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.partner(t)
	old := f.token(t, c)
	k, err := f.svc.RotateKey(context.Background(), audit.CLI)
	must(t, err)
	fresh := f.token(t, c)
	if hdr, _ := claimsOf(t, fresh); hdr["kid"] != k.KID || k.KID == "pk1" {
		t.Fatalf("after rotating to %s the new token names kid %v", k.KID, hdr["kid"])
	}
	for name, tok := range map[string]string{"old kid": old, "new kid": fresh} {
		if _, err := f.svc.Verify(tok, callerIP); err != nil {
			t.Fatalf("Verify(%s) after the rotation = %v, want valid", name, err)
		}
	}
	retired := f.svc.keys.lookup("pk1")
	f.clock.Advance(time.Minute) // past the retirement: pk1 may not sign any more
	for name, tok := range map[string]string{
		"retired key, issued after it retired": f.craft(t, c, jwt.SigningMethodHS256, "pk1", retired.key, 0),
		"unknown kid":                          f.craft(t, c, jwt.SigningMethodHS256, "pk99", retired.key, 0),
		"no kid":                               f.craft(t, c, jwt.SigningMethodHS256, "", retired.key, 0),
	} {
		if _, err := f.svc.Verify(tok, callerIP); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(%s) = %v, want ErrInvalidToken", name, err)
		}
	}
	if _, err := f.svc.Verify(old, callerIP); err != nil {
		t.Fatalf("Verify(old kid, before its expiry) = %v, want valid", err)
	}
	f.clock.Advance(15*time.Minute + Leeway)
	if _, err := f.svc.Verify(old, callerIP); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify(old kid, expired) = %v, want ErrInvalidToken", err)
	}
}

// craft signs a token of c's with method under kid and key, iat offset from the clock.
func (f *fixture) craft(t *testing.T, c Credentials, method jwt.SigningMethod, kid string, key any, offset time.Duration) string {
	t.Helper()
	now := f.clock.Now().Add(offset).Truncate(time.Second)
	var jti [16]byte
	_, _ = rand.Read(jti[:])
	tok := jwt.NewWithClaims(method, accessClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: c.Partner.ClientID,
		Audience: jwt.ClaimStrings{jwtAudience}, ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
		NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), ID: hex.EncodeToString(jti[:])},
		Scope: ScopeDecisions, Generation: c.Partner.Generation})
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	must(t, err)
	return s
}

// TestVerify_AlgorithmsPinned: alg=none, RS256 (whatever the key), HS384 and HS512 with the
// right key, and a tampered payload are refused; only HS256 under a known kid verifies.
func TestVerify_AlgorithmsPinned(t *testing.T) {
	t.Parallel()
	f := setup(t)
	c := f.partner(t)
	key := f.svc.keys.lookup("pk1").key
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	good := f.craft(t, c, jwt.SigningMethodHS256, "pk1", key, 0)
	if _, err := f.svc.Verify(good, callerIP); err != nil {
		t.Fatalf("Verify(HS256, pk1) = %v, want valid (the crafting is right)", err)
	}
	parts := strings.Split(good, ".")
	_, claims := claimsOf(t, good)
	claims["scope"] = strings.Join(Scopes, " ")
	tampered, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SigningString()
	must(t, err)
	for name, tok := range map[string]string{
		"alg none":        f.craft(t, c, jwt.SigningMethodNone, "pk1", jwt.UnsafeAllowNoneSignatureType, 0),
		"RS256":           f.craft(t, c, jwt.SigningMethodRS256, "pk1", rsaKey, 0),
		"HS384, our key":  f.craft(t, c, jwt.SigningMethodHS384, "pk1", key, 0),
		"HS512, our key":  f.craft(t, c, jwt.SigningMethodHS512, "pk1", key, 0),
		"HS256, another":  f.craft(t, c, jwt.SigningMethodHS256, "pk1", []byte("another-key-0123456789abcdef-0123"), 0),
		"tampered scope":  strings.Split(tampered, ".")[0] + "." + strings.Split(tampered, ".")[1] + "." + parts[2],
		"no signature":    parts[0] + "." + parts[1] + ".",
		"not before, now": f.craft(t, c, jwt.SigningMethodHS256, "pk1", key, time.Hour),
	} {
		if _, err := f.svc.Verify(tok, callerIP); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("Verify(%s) = %v, want ErrInvalidToken", name, err)
		}
	}
}

// TestVerify_ClientState: a token stops verifying when its client is revoked, gets a new
// secret or loses a scope it grants, when it is revoked itself, and outside the client's
// networks it is ErrAddress.
func TestVerify_ClientState(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, f *fixture, c Credentials, tok string)
		want   error
	}{
		{"outside the networks", func(*testing.T, *fixture, Credentials, string) {}, ErrAddress},
		{"client revoked", func(t *testing.T, f *fixture, c Credentials, _ string) {
			must(t, f.svc.Revoke(ctx, audit.CLI, c.Partner.ID))
		}, ErrInvalidToken},
		{"new secret", func(t *testing.T, f *fixture, c Credentials, _ string) {
			_, err := f.svc.RotateSecret(ctx, audit.CLI, c.Partner.ID)
			must(t, err)
		}, ErrInvalidToken},
		{"scope withdrawn", func(t *testing.T, f *fixture, c Credentials, _ string) {
			_, err := f.svc.Update(ctx, audit.CLI, c.Partner.ID, Patch{Scopes: &[]string{ScopeLogout}})
			must(t, err)
		}, ErrInvalidToken},
		{"token logged out", func(t *testing.T, f *fixture, c Credentials, tok string) {
			p, err := f.svc.Verify(tok, callerIP)
			must(t, err)
			_, err = f.svc.Logout(ctx, p, nil, true)
			must(t, err)
		}, ErrInvalidToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			c := f.partner(t)
			tok := f.token(t, c, ScopeDecisions)
			tt.change(t, f, c, tok)
			ip := callerIP
			if tt.want == ErrAddress {
				ip = outsideIP
			}
			if _, err := f.svc.Verify(tok, ip); !errors.Is(err, tt.want) {
				t.Fatalf("Verify after %s = %v, want %v", tt.name, err, tt.want)
			}
		})
	}
}

// TestRevokeToken_RFC7009: a client revokes its own token; another client's, or garbage, is
// answered the same and revokes nothing; bad client credentials are invalid_client.
func TestRevokeToken_RFC7009(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a, b := f.partner(t), f.partner(t)
	ta, tb := f.token(t, a), f.token(t, b)
	req := TokenRequest{ClientID: a.Partner.ClientID, Secret: a.Secret.Reveal(), IP: callerIP}
	must(t, f.svc.RevokeToken(context.Background(), req, tb))
	must(t, f.svc.RevokeToken(context.Background(), req, "garbage"))
	if _, err := f.svc.Verify(tb, callerIP); err != nil {
		t.Fatalf("another client's token after a's revocation of it = %v, want valid", err)
	}
	must(t, f.svc.RevokeToken(context.Background(), req, ta))
	if _, err := f.svc.Verify(ta, callerIP); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("Verify(revoked) = %v, want ErrInvalidToken", err)
	}
	bad := req
	bad.Secret = "wrong"
	if err := f.svc.RevokeToken(context.Background(), bad, tb); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("RevokeToken(wrong secret) = %v, want ErrInvalidClient", err)
	}
	entries := f.audit(t, "partner.revoke_token")
	if len(entries) != 1 || entries[0].Actor != "partner:"+a.Partner.ClientID {
		t.Fatalf("audit entries %+v, want one by partner a", entries)
	}
}
