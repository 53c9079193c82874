package access_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

// testPartner is the partner id the fixture's Partners answers for (its scope: f.scope).
const testPartner = 7

func partnerFor(line store.Line, ip netip.Addr) access.Request {
	return access.Request{Who: access.PartnerLine{PartnerID: testPartner, LineID: line.ID}, ClientIP: ip, UserAgent: testUA,
		Surface: "partner"}
}

// TestCheck_PartnerLine: step 1 of a partner acting for a line passes only for a line in the
// partner's scope (by id or username), gives the partner credential, and a failure never
// counts towards the flood limit of the viewer's address: the partner named the line.
func TestCheck_PartnerLine(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.set(t, map[string]any{"flood_auth_failures": 2})
	in, pw := testdb.NewLine(t, f.st, nil)
	out, _ := testdb.NewLine(t, f.st, nil)
	banned, _ := testdb.NewLine(t, f.st, func(li *store.LineInput) { li.Banned = true })
	f.scope.Store(in.ID, true)
	f.scope.Store(banned.ID, true)
	for _, tt := range []struct {
		name string
		who  access.PartnerLine
		want access.Code
	}{
		{"in scope, by id", access.PartnerLine{PartnerID: testPartner, LineID: in.ID}, access.OK},
		{"in scope, by username", access.PartnerLine{PartnerID: testPartner, Username: in.Username}, access.OK},
		{"outside the scope", access.PartnerLine{PartnerID: testPartner, LineID: out.ID}, access.AuthFailed},
		{"another partner", access.PartnerLine{PartnerID: testPartner + 1, LineID: in.ID}, access.AuthFailed},
		{"no such line", access.PartnerLine{PartnerID: testPartner, LineID: out.ID + 1000}, access.AuthFailed},
		{"no such username", access.PartnerLine{PartnerID: testPartner, Username: "nobody"}, access.AuthFailed},
		{"no line named", access.PartnerLine{PartnerID: testPartner}, access.AuthFailed},
		{"in scope and banned → USER_BAN", access.PartnerLine{PartnerID: testPartner, LineID: banned.ID}, access.UserBan},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := f.check(t, access.Request{Who: tt.who, ClientIP: ipDE, UserAgent: testUA, Surface: "partner"})
			if d.Code != tt.want {
				t.Fatalf("Check(%v) = %v, want %v", tt.who, d.Code, tt.want)
			}
			if tt.want == access.OK && d.IssuingCredential() != access.PartnerCredential(testPartner) {
				t.Fatalf("IssuingCredential() = %+v, want the partner's", d.IssuingCredential())
			}
		})
	}
	if d := f.check(t, login(in, pw, ipDE)); d.Code != access.OK {
		t.Fatalf("the viewer's own login after the partner's failures = %v, want OK (no flood block)", d.Code)
	}
}

// TestCheck_ProbeSlots: step 9 of a probe takes no slot and weighs the connection policy: a
// second address is refused at the limit, the address holding the slot may replace it.
func TestCheck_ProbeSlots(t *testing.T) {
	t.Parallel()
	f := setup(t)
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 1 })
	f.scope.Store(line.ID, true)
	f.check(t, open(line, pw, ipDE, streamInBouquet))
	probe := func(ip netip.Addr, stream int64) access.Request {
		r := partnerFor(line, ip)
		r.Probe, r.ProbeSlots, r.StreamID = true, true, stream
		return r
	}
	for _, tt := range []struct {
		name string
		req  access.Request
		want access.Code
	}{
		{"another address at the limit", probe(ipDE2, streamInBouquet), access.UserAlreadyConnected},
		{"the address holding the slot (replace_same_ip)", probe(ipDE, streamInBouquet2), access.OK},
		{"full and not in bouquet → USER_ALREADY_CONNECTED", probe(ipDE2, streamNotInBouquet), access.UserAlreadyConnected},
		{"not in bouquet", probe(ipDE, streamNotInBouquet), access.NotInBouquet},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := f.check(t, tt.req); d.Code != tt.want || d.Lease != nil {
				t.Fatalf("Check(probe) = %v, lease %v; want %v without a lease", d.Code, d.Lease, tt.want)
			}
		})
	}
	if n, _ := f.checker.ActiveConnections(context.Background(), line.ID); n != 1 {
		t.Fatalf("active connections after the probes = %d, want 1", n)
	}
}

// TestCheckEach: the shared steps run once; each stream gets step 10, or the shared denial.
func TestCheckEach(t *testing.T) {
	t.Parallel()
	f := setup(t)
	line, _ := testdb.NewLine(t, f.st, nil)
	banned, _ := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Banned = true })
	f.scope.Store(line.ID, true)
	f.scope.Store(banned.ID, true)
	ids := []int64{streamInBouquet, streamNotInBouquet, streamInBouquet2}
	for _, tt := range []struct {
		name string
		line store.Line
		want []access.Code
	}{
		{"per stream", line, []access.Code{access.OK, access.NotInBouquet, access.OK}},
		{"a shared denial is every stream's", banned, []access.Code{access.UserBan, access.UserBan, access.UserBan}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := partnerFor(tt.line, ipDE)
			r.ProbeSlots = true
			d, codes, err := f.checker.CheckEach(context.Background(), r, ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, codes); diff != "" || d.Lease != nil {
				t.Fatalf("CheckEach codes (-want +got):\n%s (lease %v)", diff, d.Lease)
			}
		})
	}
}

// mediaToken signs a partner media token for line bound to ip, with a session.
func (f *fixture) mediaToken(t *testing.T, line store.Line, ip netip.Addr, partnerID int64) (string, [16]byte) {
	t.Helper()
	session := [16]byte{byte(line.ID), 0xfe, 1, 2, 3}
	tok, err := f.tokens.Sign(token.Claims{Kind: token.KindMedia, LineID: line.ID, ExpiresUnix: f.clock.Now().Add(time.Minute).Unix(),
		ClientIP: token.BindIP(ip), SessionID: session, Credential: access.PartnerCredential(partnerID)})
	if err != nil {
		t.Fatal(err)
	}
	return tok, session
}

func tokenOpen(tok string, kind token.Kind, ip netip.Addr, stream int64) access.Request {
	return access.Request{Who: access.PlayToken{Token: tok, Kind: kind}, ClientIP: ip, UserAgent: testUA, Surface: "test",
		StreamOpen: true, StreamID: stream, Format: "ts", Container: conns.ContainerTS}
}

// TestCheck_MediaToken: a partner's media token opens any stream of its line on the play
// routes, from its address only, while its partner may act for the line; never as a /play
// link or a segment token.
func TestCheck_MediaToken(t *testing.T) {
	t.Parallel()
	f := setup(t)
	line, _ := testdb.NewLine(t, f.st, nil)
	f.scope.Store(line.ID, true)
	tok, _ := f.mediaToken(t, line, ipDE, testPartner)
	foreign, _ := f.mediaToken(t, line, ipDE, testPartner+1)
	for _, tt := range []struct {
		name string
		req  access.Request
		want access.Code
	}{
		{"live route", tokenOpen(tok, token.KindLive, ipDE, streamInBouquet), access.OK},
		{"movie route, another stream", tokenOpen(tok, token.KindVOD, ipDE, streamInBouquet2), access.OK},
		{"not in bouquet", tokenOpen(tok, token.KindLive, ipDE, streamNotInBouquet), access.NotInBouquet},
		{"from another address", tokenOpen(tok, token.KindLive, ipDE2, streamInBouquet), access.AuthFailed},
		{"as a /play link", tokenOpen(tok, 0, ipDE, streamInBouquet), access.AuthFailed},
		{"as a segment token", tokenOpen(tok, token.KindSegment, ipDE, streamInBouquet), access.AuthFailed},
		{"of a partner that may not act for the line", tokenOpen(foreign, token.KindLive, ipDE, streamInBouquet), access.AuthFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if d := f.check(t, tt.req); d.Code != tt.want {
				t.Fatalf("Check = %v, want %v", d.Code, tt.want)
			}
		})
	}
}

// TestRevokeSession_EndsItsStreams: a revoked media session's tokens are refused and the
// streams they opened end (logged_out); another session's stream of the line plays on.
func TestRevokeSession_EndsItsStreams(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	line, _ := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	f.scope.Store(line.ID, true)
	tok, session := f.mediaToken(t, line, ipDE, testPartner)
	other, err := f.tokens.Sign(token.Claims{Kind: token.KindMedia, LineID: line.ID, ExpiresUnix: f.clock.Now().Add(time.Minute).Unix(),
		ClientIP: token.BindIP(ipDE), SessionID: [16]byte{9}, Credential: access.PartnerCredential(testPartner)})
	if err != nil {
		t.Fatal(err)
	}
	d := f.check(t, tokenOpen(tok, token.KindLive, ipDE, streamInBouquet))
	keep := f.check(t, tokenOpen(other, token.KindLive, ipDE, streamInBouquet2))
	if d.Code != access.OK || keep.Code != access.OK {
		t.Fatalf("opens = %v, %v; want OK", d.Code, keep.Code)
	}
	start := time.Now()
	f.checker.RevokeSession(session)
	t.Logf("ended after %s", waitEnded(t, d.Lease, access.ReasonLoggedOut, start))
	if again := f.check(t, tokenOpen(tok, token.KindLive, ipDE, streamInBouquet)); again.Code != access.AuthFailed {
		t.Fatalf("a revoked session's token = %v, want AUTH_FAILED", again.Code)
	}
	if keep.Lease.Ended() {
		t.Fatalf("another session's stream ended (%s)", keep.Lease.Reason())
	}
}

// TestRevokeSession_FromTheDatabase: a revocation another instance recorded reaches this one
// by NOTIFY (and by the reload that follows).
func TestRevokeSession_FromTheDatabase(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	line, _ := testdb.NewLine(t, f.st, nil)
	f.scope.Store(line.ID, true)
	tok, session := f.mediaToken(t, line, ipDE, testPartner)
	if _, err := f.st.RevokePartnerToken(context.Background(), store.RevokedMediaSession, session, 0, line.ID,
		time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, reauthWait, "the revoked session refused", func() bool {
		d, err := f.checker.Check(context.Background(), tokenOpen(tok, token.KindLive, ipDE, streamInBouquet))
		if err == nil && d.Lease != nil {
			d.Lease.Release(context.Background())
		}
		return err == nil && d.Code == access.AuthFailed
	})
}

// TestPartnersChanged_EndsItsStreams: a partner that may no longer act for a line ends the
// streams its tokens opened (partner_revoked); a password stream of the line plays on.
func TestPartnersChanged_EndsItsStreams(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.run(t)
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 0 })
	f.scope.Store(line.ID, true)
	tok, _ := f.mediaToken(t, line, ipDE, testPartner)
	d := f.check(t, tokenOpen(tok, token.KindLive, ipDE, streamInBouquet))
	byPassword := f.check(t, open(line, pw, ipDE, streamInBouquet2))
	if d.Code != access.OK || byPassword.Code != access.OK {
		t.Fatalf("opens = %v, %v; want OK", d.Code, byPassword.Code)
	}
	f.scope.Delete(line.ID)
	start := time.Now()
	f.checker.PartnersChanged()
	t.Logf("ended after %s", waitEnded(t, d.Lease, access.ReasonPartnerRevoked, start))
	if byPassword.Lease.Ended() {
		t.Fatalf("the password stream ended (%s)", byPassword.Lease.Reason())
	}
}

// TestPartnerLine_String: the identity prints the partner and the line, cleaned.
func TestPartnerLine_String(t *testing.T) {
	t.Parallel()
	for who, want := range map[access.PartnerLine]string{
		{PartnerID: 3, LineID: 42}:         "partner(3 for #42)",
		{PartnerID: 3, Username: "a\x00b"}: "partner(3 for ab)",
		{PartnerID: 3, Username: "alice"}:  "partner(3 for alice)",
	} {
		if got := fmt.Sprint(who); got != want {
			t.Errorf("fmt.Sprint(%#v) = %q, want %q", who, got, want)
		}
	}
}
