package partner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Media tokens (seed 000: the operator's backend gets a token bound to its viewer's address and
// a time, which the viewer's player presents to the streaming routes). They are play tokens of
// the panel's keyring (HMAC-SHA256 with key ids, internal/token): KindMedia for any stream of
// the line (POST …/tokens), or a stream's own kind for one stream (a decision's permit). Each
// carries a fresh session id, by which the partner's logout revokes it, and the partner's
// credential, so that a revoked partner's tokens die with it. A token that expires while its
// stream plays does not end the stream (only the next open needs a new one), but the stream
// stays answerable to the line's state: a ban still ends it.

// Media token lifetimes.
const (
	MinMediaTTL     = 10 * time.Second
	MaxMediaTTL     = 24 * time.Hour
	DefaultMediaTTL = 5 * time.Minute
)

// MediaGrant is a media token to sign, for a decision that permitted it.
type MediaGrant struct {
	Kind     token.Kind // token.KindMedia, or KindLive, KindVOD, KindSeries for StreamID alone
	LineID   int64
	StreamID int64 // 0 for KindMedia
	IP       netip.Addr
	TTL      time.Duration
	// Credential is the decision's issuing credential: the partner's (access.PartnerCredential).
	Credential token.Credential
}

// MediaToken is a signed media token.
type MediaToken struct {
	Token     string
	Session   [16]byte
	ExpiresAt time.Time
}

// SignMedia signs a media token of p's decision, bound to the viewer's address.
func (s *Service) SignMedia(p Principal, g MediaGrant) (MediaToken, error) {
	switch {
	case g.Credential.Kind != token.CredentialPartner || int64(g.Credential.Sum) != p.PartnerID:
		return MediaToken{}, errors.New("sign media token: not the partner's credential")
	case !g.IP.IsValid():
		return MediaToken{}, errors.New("sign media token: no viewer address")
	case g.TTL < MinMediaTTL || g.TTL > MaxMediaTTL:
		return MediaToken{}, fmt.Errorf("sign media token: lifetime %s out of range", g.TTL)
	}
	mt := MediaToken{ExpiresAt: s.now().Add(g.TTL).Truncate(time.Second)}
	_, _ = rand.Read(mt.Session[:]) // never fails (Go 1.24+)
	tok, err := s.media.Sign(token.Claims{Kind: g.Kind, LineID: g.LineID, StreamID: g.StreamID, ExpiresUnix: mt.ExpiresAt.Unix(),
		ClientIP: token.BindIP(g.IP), SessionID: mt.Session, Credential: g.Credential})
	if err != nil {
		return MediaToken{}, fmt.Errorf("sign media token: %w", err)
	}
	mt.Token = tok
	return mt, nil
}

// Logout is what a logout revoked.
type Logout struct {
	// Sessions are the media sessions revoked just now: the caller ends their open streams
	// here at once (access.Checker.RevokeSession); the other instances do on the NOTIFY.
	Sessions [][16]byte
	// AccessToken reports whether the calling access token itself was revoked.
	AccessToken bool
}

// Logout revokes, for p, the sessions of the media tokens given (each must be one p issued,
// expired or not: an *input.FieldError names the first that is not) and, when self, p's own
// access token; one transaction, one audit entry. Revoking what is revoked already is no error.
func (s *Service) Logout(ctx context.Context, p Principal, mediaTokens []string, self bool) (Logout, error) {
	claims := make([]token.Claims, 0, len(mediaTokens))
	for i, tok := range mediaTokens {
		c, err := s.media.Open(tok)
		if err != nil || c.Credential.Kind != token.CredentialPartner || int64(c.Credential.Sum) != p.PartnerID ||
			c.SessionID == [16]byte{} {
			return Logout{}, fmt.Errorf("logout: %w", input.Invalid(fmt.Sprintf("media_tokens[%d]", i), "not a media token of this partner"))
		}
		claims = append(claims, c)
	}
	var out Logout
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		sessions := make([]string, 0, len(claims))
		for _, c := range claims {
			expires := time.Unix(c.ExpiresUnix, 0).Add(token.Leeway)
			if _, err := tx.RevokePartnerToken(ctx, store.RevokedMediaSession, c.SessionID, p.PartnerID, c.LineID, expires); err != nil {
				return err
			}
			out.Sessions = append(out.Sessions, c.SessionID)
			sessions = append(sessions, hex.EncodeToString(c.SessionID[:]))
		}
		if self {
			if _, err := tx.RevokePartnerToken(ctx, store.RevokedAccessToken, p.TokenID, p.PartnerID, 0, p.ExpiresAt); err != nil {
				return err
			}
			out.AccessToken = true
		}
		return audit.Record(ctx, tx, p.Actor(), audit.Entry{Action: "partner.logout", TargetType: "partner",
			TargetID: strconv.FormatInt(p.PartnerID, 10), Extra: map[string]any{"media_sessions": sessions, "access_token": self}})
	})
	if err != nil {
		return Logout{}, fmt.Errorf("logout: %w", err)
	}
	if self {
		s.revoked.Add(s.now(), p.TokenID, p.ExpiresAt.Add(Leeway)) // here at once, the others on the NOTIFY
	}
	return out, nil
}

// RevokeToken is RFC 7009 revocation of one of the authenticated client's access tokens. A
// token that is not one (malformed, forged, another client's, expired) is ignored, as §2.2
// says: the answer is the same; client authentication failing is ErrInvalidClient.
func (s *Service) RevokeToken(ctx context.Context, req TokenRequest, tok string) error {
	c, err := s.authenticateClient(req.ClientID, req.Secret, req.IP)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	owner, claims, err := s.parse(tok, s.opener)
	var jti [16]byte
	if err != nil || owner.id != c.id || claims.ExpiresAt == nil || len(claims.ID) != 2*len(jti) {
		return nil
	}
	if _, err := hex.Decode(jti[:], []byte(claims.ID)); err != nil || !s.now().Before(claims.ExpiresAt.Add(Leeway)) {
		return nil
	}
	p := Principal{PartnerID: c.id, ClientID: c.clientID, IP: req.IP}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.RevokePartnerToken(ctx, store.RevokedAccessToken, jti, c.id, 0, claims.ExpiresAt.Time); err != nil {
			return err
		}
		return audit.Record(ctx, tx, p.Actor(), audit.Entry{Action: "partner.revoke_token", TargetType: "partner",
			TargetID: strconv.FormatInt(c.id, 10), Extra: map[string]any{"jti": claims.ID}})
	})
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	s.revoked.Add(s.now(), jti, claims.ExpiresAt.Add(Leeway))
	return nil
}
