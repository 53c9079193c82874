package access

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Partners: an operator's backend (internal/partner) acting for its viewers' lines. It asks
// for decisions with the PartnerLine identity, and hands out media tokens carrying the partner
// credential; both are honoured only while the partner may act for the line (Deps.Partners).
// A partner's logout revokes a media token's session: its tokens are refused from then on and
// its open streams end, on every instance (the media_session change).

// PartnerLine is a partner client acting for a line: the partner surface has verified the
// partner's access token, and step 1 finds the line (by LineID, else by Username) and passes
// only while the partner may act for it. A failure is AUTH_FAILED and, unlike a wrong
// password, does not count towards the flood limit of the viewer's address: the partner, not
// the viewer, named the line.
type PartnerLine struct {
	PartnerID int64
	LineID    int64
	Username  string
}

func (PartnerLine) identity() {}

// String names the partner and the line; there is no secret in it.
func (p PartnerLine) String() string {
	line := p.Username
	if p.LineID != 0 {
		line = "#" + strconv.FormatInt(p.LineID, 10)
	}
	return "partner(" + strconv.FormatInt(p.PartnerID, 10) + " for " + input.Sanitize(line, 128) + ")"
}

// LogValue is String.
func (p PartnerLine) LogValue() slog.Value { return slog.StringValue(p.String()) }

// PartnerCredential is the credential of tokens a partner hands out: its id (token.Credential
// keeps it exactly; partner ids stay below 2^32).
func PartnerCredential(partnerID int64) token.Credential {
	if partnerID <= 0 || partnerID > 1<<32-1 {
		return token.Credential{}
	}
	return token.Credential{Kind: token.CredentialPartner, Sum: uint32(partnerID)}
}

// authPartner is step 1 of a PartnerLine: the line exists and the partner may act for it.
func (c *Checker) authPartner(ctx context.Context, p PartnerLine) (authResult, error) {
	cred := PartnerCredential(p.PartnerID)
	if cred == (token.Credential{}) || c.d.Partners == nil {
		return authResult{}, nil
	}
	var line *Line
	var err error
	switch {
	case p.LineID > 0:
		line, err = c.lines.byIDLookup(ctx, p.LineID)
	case p.Username != "" && input.Text(p.Username, maxUsernameBytes):
		line, err = c.lines.byUsername(ctx, p.Username)
	}
	if err != nil || line == nil || !c.d.Partners(p.PartnerID, line) {
		return authResult{}, err
	}
	return authResult{line: line, cred: cred}, nil
}

// partnerHolds reports whether a partner credential still holds for line.
func (c *Checker) partnerHolds(line *Line, cred token.Credential) bool {
	return c.d.Partners != nil && cred.Kind == token.CredentialPartner && c.d.Partners(int64(cred.Sum), line)
}

// PartnersChanged is called once the partner directory behind Deps.Partners changed (a
// partner revoked, its scope narrowed): the open streams admitted under a partner's token are
// decided again, their credential included.
func (c *Checker) PartnersChanged() {
	c.changed()
	for _, id := range c.reg.linesWhere(func(a *admission) bool { return a.cred.Kind == token.CredentialPartner }) {
		c.queue.line(id)
	}
}

// notifiedKeep is how long a revocation heard by NOTIFY is kept before the next load reads its
// true expiry from the database (the load runs at once and then every 30 s).
const notifiedKeep = 2 * time.Minute

// loadRevokedSessions merges the revocations the database holds.
func (c *Checker) loadRevokedSessions(ctx context.Context) error {
	rows, err := c.d.Store.PartnerRevocations(ctx, store.RevokedMediaSession)
	if err != nil {
		return err
	}
	now := c.now()
	for _, r := range rows {
		c.revoked.Add(now, r.TokenID, r.ExpiresAt.Add(token.Leeway))
	}
	return nil
}

// RevokeSession refuses the tokens of media session id on this instance at once and ends its
// open streams here: the instance that recorded the revocation calls it, the others on the
// media_session change.
func (c *Checker) RevokeSession(id [16]byte) {
	now := c.now()
	c.revoked.Add(now, id, now.Add(notifiedKeep))
	c.queue.session(id)
}
