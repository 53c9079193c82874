package access_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

// TestIdentity_NoSecretsPrinted: an identity printed with fmt or logged with slog (text and
// JSON) shows neither the password, the portal token, the play token nor the full MAC.
func TestIdentity_NoSecretsPrinted(t *testing.T) {
	t.Parallel()
	secrets := []string{"hunter2-secret", "portal-secret-token", "play-secret-token", "00:1A:79:12:34:56"}
	ids := []access.Identity{
		access.Password{Username: "alice", Password: "hunter2-secret"},
		access.PortalSession{MAC: mustMAC(t, "00:1A:79:12:34:56"), Token: "portal-secret-token"},
		access.PlayToken{Token: "play-secret-token", Kind: token.KindLive},
	}
	for _, id := range ids {
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "%v %+v %s ", id, access.Request{Who: id}, id)
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "who", id)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "who", id)
		for _, s := range secrets {
			if strings.Contains(buf.String(), s) {
				t.Errorf("%T printed %q: %s", id, s, buf.String())
			}
		}
	}
}

// TestCheck_NoIdentity: a request that names nobody fails step 1.
func TestCheck_NoIdentity(t *testing.T) {
	t.Parallel()
	f := setup(t)
	if d := f.check(t, access.Request{ClientIP: ipDE, UserAgent: testUA}); d.Code != access.AuthFailed || d.Line != nil {
		t.Fatalf("Check(no identity) = %v, %v; want AUTH_FAILED without a line", d.Code, d.Line)
	}
}

// TestCheck_Probe: a probe runs step 10 in memory and never takes a lease; the earlier steps
// still come first.
func TestCheck_Probe(t *testing.T) {
	t.Parallel()
	f := setup(t)
	line, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.MaxConnections = 1 })
	banned, bpw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Banned = true })
	probe := func(l store.Line, p string, streamID int64) access.Request {
		r := login(l, p, ipDE)
		r.Probe, r.StreamID = true, streamID
		return r
	}
	f.check(t, open(line, pw, ipDE, streamInBouquet)) // the only slot: a probe does not need one
	for _, tt := range []struct {
		name string
		req  access.Request
		want access.Code
	}{
		{"in bouquet", probe(line, pw, streamInBouquet), access.OK},
		{"not in bouquet", probe(line, pw, streamNotInBouquet), access.NotInBouquet},
		{"banned and not in bouquet → USER_BAN", probe(banned, bpw, streamNotInBouquet), access.UserBan},
		{"wrong password", probe(line, "nope", streamInBouquet), access.AuthFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := f.check(t, tt.req)
			if d.Code != tt.want || d.Lease != nil {
				t.Fatalf("Check(probe) = %v, lease %v; want %v without a lease", d.Code, d.Lease, tt.want)
			}
		})
	}
	if n, _ := f.checker.ActiveConnections(context.Background(), line.ID); n != 1 {
		t.Fatalf("active connections after probes = %d, want 1", n)
	}
}
