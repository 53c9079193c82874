package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/netip"
	"time"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// authResult is the outcome of step 1: the line, nil for AUTH_FAILED, and for a play token its
// verified claims.
type authResult struct {
	line   *Line
	claims token.Claims
	cred   token.Credential // a portal session's or play token's; zero for a password
}

// authenticate is step 1, one function per kind of identity. Every failing path costs about
// one password hash or one lookup, whether or not the account exists, so timing tells an
// attacker nothing. An error means the step could not decide.
func (c *Checker) authenticate(ctx context.Context, r Request, now time.Time, ip netip.Addr) (authResult, error) {
	if p, ok := passwordOf(r.Who); ok {
		return c.authPassword(ctx, p)
	}
	switch who := r.Who.(type) {
	case PortalSession:
		return c.authPortal(ctx, who)
	case PlayToken:
		return c.authPlayToken(ctx, who, r, now, ip)
	case PartnerLine:
		return c.authPartner(ctx, who)
	}
	return authResult{}, nil
}

// maxUsernameBytes is the schema's 128 characters of up to 4 UTF-8 bytes each.
const maxUsernameBytes = 512

// authPassword checks a username and password, a line's or a device credential's: a cached
// verification when the stored hash is unchanged, else (a line's) the shared verified-credential
// record, else argon2id under the hashing limiter (and a dummy hash for unknown users). Only the
// last waits in the hashing queue: a viewer verified before, here or on another instance, never
// does.
//
// Credentials that are not text (a NUL byte, invalid UTF-8) or longer than any stored one fail
// at once, without a query or a hash: no line can have them, so answering fast reveals nothing,
// and PostgreSQL would refuse such a parameter with an error, turning a failed login into an
// undecided check (issue 11). The surfaces refuse them in their parse step already; this is
// the guard for any caller that does not.
func (c *Checker) authPassword(ctx context.Context, p Password) (authResult, error) {
	if p.Username == "" || p.Password == "" ||
		!input.Text(p.Username, maxUsernameBytes) || !input.Text(p.Password, credential.MaxPasswordLen) {
		return authResult{}, nil
	}
	e, err := c.lines.login(ctx, p.Username)
	if err != nil {
		return authResult{}, err
	}
	switch {
	case e.line != nil:
		ok, err := c.verifyPassword(ctx, p, e.line.PasswordHash, e.line.ID, true)
		if err != nil || !ok {
			return authResult{}, err
		}
		return authResult{line: e.line}, nil
	case e.device != nil:
		return c.authDevice(ctx, p, e.device)
	}
	// The record lookup a known username with a wrong password costs (no line has id 0), so
	// the time of a failure does not tell whether the username exists.
	if k, ok := c.d.Cache.Key(p.Username, p.Password, ""); ok {
		c.sharedRecord(ctx, 0, k)
	}
	return authResult{}, c.d.Hasher.DummyVerify(ctx, p.Username, p.Password)
}

// verifyPassword checks p's password against a stored hash of line lineID's: a cached
// verification when there is one, else, when shared (a line's own password), the line's
// verified-credential record, else argon2id under the hashing limiter (remembered when it
// passes, and recorded when shared). A device credential keeps no record (its revocation
// deletes the credential, not a line's record), but pays the same lookup, so its failures take
// as long as a line's.
func (c *Checker) verifyPassword(ctx context.Context, p Password, hash string, lineID int64, shared bool) (bool, error) {
	cr, keyed := c.d.Cache.Prepare(p.Username, p.Password, hash)
	if keyed {
		if id, ok := c.d.Cache.LookupCredentials(&cr); ok && id == lineID {
			return true, nil
		}
		if !shared {
			c.sharedRecord(ctx, 0, c.d.Cache.KeyOf(&cr))
		} else if c.sharedRecord(ctx, lineID, c.d.Cache.KeyOf(&cr)) {
			c.d.Cache.RememberCredentials(&cr, lineID)
			return true, nil
		}
	}
	ok, err := c.d.Hasher.Verify(ctx, hash, p.Password)
	if err != nil && !errors.Is(err, credential.ErrMalformedHash) {
		return false, err
	}
	if ok && keyed {
		c.d.Cache.RememberCredentials(&cr, lineID)
		if shared {
			c.queueRecord(lineID, c.d.Cache.KeyOf(&cr))
		}
	}
	return ok, nil
}

// authDevice checks a device credential's username and password (second-screen activation):
// it authenticates as its line, with the credential as the issuing one, so a stream it opens
// ends when the credential is revoked. The line may have gone since (the cascade takes the
// credential with it, but the cache may not know yet).
func (c *Checker) authDevice(ctx context.Context, p Password, dev *store.DeviceLogin) (authResult, error) {
	ok, err := c.verifyPassword(ctx, p, dev.PasswordHash, dev.LineID, false)
	if err != nil || !ok {
		return authResult{}, err
	}
	a, err := c.lineByID(ctx, dev.LineID, token.Claims{})
	a.cred = deviceCredential(dev.PasswordHash)
	return a, err
}

// authPortal checks a MAG box: its MAC must be a known device and the Bearer token the one its
// last handshake stored (compared as SHA-256 sums in constant time).
func (c *Checker) authPortal(ctx context.Context, s PortalSession) (authResult, error) {
	dev, err := c.d.Store.MAGDeviceByMAC(ctx, s.MAC.String())
	if errors.Is(err, store.ErrNotFound) {
		return authResult{}, nil
	}
	if err != nil {
		return authResult{}, err
	}
	sum := sha256.Sum256([]byte(s.Token))
	if s.Token == "" || len(dev.TokenSHA256) != sha256.Size || subtle.ConstantTimeCompare(sum[:], dev.TokenSHA256) != 1 {
		return authResult{}, nil
	}
	a, err := c.lineByID(ctx, dev.LineID, token.Claims{})
	a.cred = portalCredential(dev.TokenSHA256)
	return a, err
}

// authPlayToken checks a signed token: signature and expiry, the client address it is bound
// to, the kind the route accepts (any play kind when it names none: never a segment or session
// token) and, for a stream open, the stream (a partner's media token names none: any the line
// may open); that its session was not revoked (a partner's logout); then that the credential it
// was issued under still holds (a token without one is refused: a password change could not
// end it).
func (c *Checker) authPlayToken(ctx context.Context, t PlayToken, r Request, now time.Time, ip netip.Addr) (authResult, error) {
	if c.d.Tokens == nil {
		return authResult{}, nil
	}
	claims, err := c.d.Tokens.Verify(t.Token, now, ip)
	if err != nil || !kindAccepted(t.Kind, claims.Kind) || claims.Credential == (token.Credential{}) ||
		(r.StreamOpen && claims.Kind != token.KindMedia && claims.StreamID != r.StreamID) ||
		(claims.SessionID != [16]byte{} && claims.Credential.Kind == token.CredentialPartner && c.revoked.Has(claims.SessionID)) {
		return authResult{}, nil
	}
	a, err := c.lineByID(ctx, claims.LineID, claims)
	if err != nil || a.line == nil {
		return authResult{}, err
	}
	if ok, err := c.credentialHolds(ctx, a.line, claims.Credential); err != nil || !ok {
		return authResult{}, err
	}
	a.cred = claims.Credential
	return a, nil
}

// kindAccepted reports whether a route accepting want (0: any play link) takes a token of kind.
// A media token opens what the line may open on the live, movie, series and catch-up routes,
// never in a /play link (which names its stream) nor as a segment or session link.
func kindAccepted(want, kind token.Kind) bool {
	switch {
	case kind == token.KindMedia:
		return want == token.KindLive || want == token.KindVOD || want == token.KindSeries || want == token.KindTimeshift
	case want != 0:
		return kind == want
	}
	return kind != token.KindSegment && kind != token.KindSession
}

// lineByID finishes step 1 for identities that name a line by id: a line deleted since fails.
func (c *Checker) lineByID(ctx context.Context, id int64, claims token.Claims) (authResult, error) {
	line, err := c.lines.byIDLookup(ctx, id)
	if err != nil || line == nil {
		return authResult{}, err
	}
	return authResult{line: line, claims: claims}, nil
}
