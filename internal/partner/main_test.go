package partner

import (
	"context"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/token"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

var (
	testSecret = []byte("partner-test-secret-0123456789abcdef")
	// callerIP is in the test partners' networks, outsideIP is not.
	callerIP  = netip.MustParseAddr("192.0.2.10")
	outsideIP = netip.MustParseAddr("203.0.113.10")
	partnerIn = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
)

// fixture is a service over its own database, on a settable clock.
type fixture struct {
	st       *store.Store
	svc      *Service
	clock    *testkit.Clock
	settings Settings
	media    *token.Keyring
}

func setup(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{st: store.New(testdb.New(t)), clock: testkit.NewClock(time.Now()), settings: DefaultSettings()}
	kr, err := token.NewKeyring(testSecret, 1)
	if err != nil {
		t.Fatal(err)
	}
	f.media = kr
	f.svc, err = New(Options{Store: f.st, Secret: testSecret, Media: kr, Now: f.clock.Now,
		Settings: func() Settings { return f.settings }})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

// partner registers a partner client with every scope, callable from partnerIn, acting for
// the lines of bouquets.
func (f *fixture) partner(t testing.TB, bouquets ...int64) Credentials {
	t.Helper()
	c, err := f.svc.Create(context.Background(), audit.CLI, "Shop", Grant{Scopes: Scopes, BouquetIDs: bouquets, AllowedIPs: partnerIn})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// token issues an access token of c from callerIP.
func (f *fixture) token(t testing.TB, c Credentials, scopes ...string) string {
	t.Helper()
	tok, err := f.svc.IssueToken(TokenRequest{ClientID: c.Partner.ClientID, Secret: c.Secret.Reveal(), Scopes: scopes, IP: callerIP})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// audit returns the audit entries of action, newest first.
func (f *fixture) audit(t testing.TB, action string) []store.AuditEntry {
	t.Helper()
	entries, err := f.st.SearchAudit(context.Background(), store.AuditFilter{Action: action, Limit: 100})
	must(t, err)
	return entries
}
