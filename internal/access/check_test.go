package access_test

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// Test addresses: GeoIP puts 198.51.100.0/24 in DE at "Alpha Net" (AS64500) and
// 203.0.113.0/24 in GB at "Beta Telecom" (AS64501); 192.0.2.0/24 is unknown to both.
var (
	ipDE      = netip.MustParseAddr("198.51.100.10")
	ipDE2     = netip.MustParseAddr("198.51.100.11")
	ipGB      = netip.MustParseAddr("203.0.113.20")
	ipUnknown = netip.MustParseAddr("192.0.2.30")
)

const (
	streamInBouquet    = 1
	streamInBouquet2   = 2
	streamNotInBouquet = 3
	testUA             = "VLC/3.0.18 LibVLC/3.0.18"
)

// fixture is one instance: a checker with its own pool, lease manager and caches.
type fixture struct {
	st      *store.Store
	conns   *conns.Manager
	checker *access.Checker
	tokens  *token.Keyring
	clock   *testkit.Clock
	// scope is what partner testPartner may act for: line ids (partner_test.go).
	scope  sync.Map
	hasher *credential.Limiter
	reg    *prometheus.Registry // the checker's metrics
}

type fixtureOpts struct {
	noGeo  bool
	hasher *credential.Limiter // nil: two slots, default wait
	// noRecords turns the shared verified-credential records off (today's behaviour before
	// them: every instance hashes each line's password itself).
	noRecords bool
}

// testSecret is the cluster's token secret in these tests; the credential pepper derives from
// it as in production, so every instance of a test shares both.
const testSecret = "0123456789abcdef0123456789abcdef"

func newInstance(t testing.TB, dsn string, opts fixtureOpts) *fixture {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st := store.New(pool)
	log := slog.New(slog.DiscardHandler)
	clock := testkit.NewClock(time.Now())
	var g *geo.DB
	if !opts.noGeo {
		countryPath, ispPath := testdb.GeoDBs(t)
		g = geo.New(countryPath, ispPath, log)
	}
	kr, err := token.NewKeyring([]byte(testSecret), 1)
	if err != nil {
		t.Fatal(err)
	}
	cm := conns.New(st, conns.Options{InstanceID: "test"}, log)
	if opts.hasher == nil {
		opts.hasher = credential.NewLimiter(credential.LimiterOptions{Slots: 2})
	}
	reg := prometheus.NewRegistry()
	recordTTL := 24 * time.Hour
	if opts.noRecords {
		recordTTL = 0
	}
	f := &fixture{st: st, conns: cm, tokens: kr, clock: clock, hasher: opts.hasher, reg: reg}
	f.checker = access.New(access.Deps{
		Store: st, Conns: cm, Geo: g, Tokens: kr,
		Cache: credential.NewCache(credential.CacheOptions{TTL: 2 * time.Minute, MaxEntries: 10000, Now: clock.Now,
			Pepper: credential.Pepper([]byte(testSecret))}),
		Hasher:              opts.hasher,
		CredentialRecordTTL: recordTTL,
		Entitled: func(_ *access.Line, streamID int64) bool {
			return streamID == streamInBouquet || streamID == streamInBouquet2
		},
		Log: log, Now: clock.Now, Registerer: reg,
		Partners: func(partnerID int64, line *access.Line) bool {
			_, ok := f.scope.Load(line.ID)
			return partnerID == testPartner && ok
		},
	})
	if err := f.checker.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

func setup(t testing.TB) *fixture {
	t.Helper()
	return newInstance(t, testdb.NewDSN(t), fixtureOpts{})
}

// run starts the instance's background loops (reload, client log) and its LISTEN connection.
func (f *fixture) run(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	l := store.NewListener(f.st.Pool(), slog.New(slog.DiscardHandler))
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeLine, store.ChangeSecurity, store.ChangeSettings, store.ChangeMediaSession},
		OnChange: f.checker.OnChange, OnReconnect: f.checker.OnReconnect})
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeKill}, OnChange: f.conns.OnChange})
	wg.Add(2)
	go func() { defer wg.Done(); l.Run(ctx) }()
	go func() { defer wg.Done(); f.checker.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("listener not ready")
	}
}

func (f *fixture) check(t testing.TB, r access.Request) access.Decision {
	t.Helper()
	d, err := f.checker.Check(context.Background(), r)
	if err != nil {
		t.Fatalf("Check(%+v): %v", r, err)
	}
	if d.Lease != nil {
		t.Cleanup(func() { d.Lease.Release(context.Background()) })
	}
	return d
}

func login(line store.Line, password string, ip netip.Addr) access.Request {
	return access.Request{Who: access.Password{Username: line.Username, Password: password}, ClientIP: ip, UserAgent: testUA, Surface: "test"}
}

func open(line store.Line, password string, ip netip.Addr, streamID int64) access.Request {
	r := login(line, password, ip)
	r.StreamOpen, r.StreamID, r.Format, r.Container = true, streamID, "ts", conns.ContainerTS
	return r
}

func ptr[T any](v T) *T { return &v }

// TestCheck_EachCode drives every outcome once.
func TestCheck_EachCode(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	past, future := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if err := f.st.BlockIP(ctx, netip.MustParsePrefix("203.0.113.16/28"), "admin", "test", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddBlockedUserAgent(ctx, "BadBot", "substring"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddBlockedISP(ctx, nil, ptr[int64](64501)); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	ipGBUnblocked := netip.MustParseAddr("203.0.113.200") // GB, outside the blocked /28, on the blocked ASN

	plain, pw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ExpDate = &future })
	expired, expiredPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ExpDate = &past })
	banned, bannedPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Banned = true })
	disabled, disabledPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Disabled = true })
	onlyIP, onlyIPPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("198.51.100.10/32")} })
	forcedGB, forcedGBPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ForcedCountry = ptr("GB") })
	onlyUA, onlyUAPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.AllowedUserAgents = []string{"TiviMate/4.7"} })
	ispLocked, ispLockedPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ISPLock = true })
	tsOnly, tsOnlyPW := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.AllowedOutputFormats = []string{"ts"} })
	busy, busyPW := testdb.NewLine(t, f.st, nil)
	f.check(t, open(busy, busyPW, ipDE, streamInBouquet)) // takes the only slot
	// ISP-locked line: first use from Alpha Net records it.
	if d := f.check(t, login(ispLocked, ispLockedPW, ipDE)); d.Code != access.OK {
		t.Fatalf("first use of ISP-locked line = %v", d.Code)
	}

	badBot := login(plain, pw, ipDE)
	badBot.UserAgent = "Mozilla BadBot 1.0"
	hls := open(tsOnly, tsOnlyPW, ipDE, streamInBouquet)
	hls.Format, hls.Container = "m3u8", conns.ContainerHLS

	tests := []struct {
		name string
		req  access.Request
		want access.Code
	}{
		{"valid login", login(plain, pw, ipDE), access.OK},
		{"valid stream open", open(plain, pw, ipDE, streamInBouquet), access.OK},
		{"wrong password", login(plain, "nope", ipDE), access.AuthFailed},
		// The same credential through a pointer (app/player passes one) and a nil pointer.
		{"valid login, *Password", access.Request{Who: &access.Password{Username: plain.Username, Password: pw}, ClientIP: ipDE, UserAgent: testUA}, access.OK},
		{"wrong password, *Password", access.Request{Who: &access.Password{Username: plain.Username, Password: "nope"}, ClientIP: ipDE, UserAgent: testUA}, access.AuthFailed},
		{"nil *Password", access.Request{Who: (*access.Password)(nil), ClientIP: ipDE, UserAgent: testUA}, access.AuthFailed},
		{"unknown username", access.Request{Who: access.Password{Username: "ghost", Password: "x"}, ClientIP: ipDE}, access.AuthFailed},
		{"empty password", login(plain, "", ipDE), access.AuthFailed},
		{"expired", login(expired, expiredPW, ipDE), access.UserExpired},
		{"banned", login(banned, bannedPW, ipDE), access.UserBan},
		{"disabled", login(disabled, disabledPW, ipDE), access.UserDisabled},
		{"globally blocked network", login(plain, pw, ipGB), access.IPBan},
		{"not in the line's allowed IPs", login(onlyIP, onlyIPPW, ipDE2), access.IPBan},
		{"in the line's allowed IPs", login(onlyIP, onlyIPPW, ipDE), access.OK},
		{"forced country", login(forcedGB, forcedGBPW, ipDE), access.CountryDisallow},
		{"blocked user agent", badBot, access.UserAgentBan},
		{"user agent not allowed for the line", login(onlyUA, onlyUAPW, ipDE), access.UserAgentBan},
		{"blocked ASN", login(plain, pw, ipGBUnblocked), access.ISPLockFailed},
		{"ISP-locked line from another ISP", login(ispLocked, ispLockedPW, ipUnknown), access.ISPLockFailed},
		{"ISP-locked line from its ISP", login(ispLocked, ispLockedPW, ipDE2), access.OK},
		{"output format not allowed", hls, access.FormatDisallowed},
		{"connection limit", open(busy, busyPW, ipDE2, streamInBouquet), access.UserAlreadyConnected},
		{"not in bouquet", open(plain, pw, ipDE, streamNotInBouquet), access.NotInBouquet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := f.check(t, tt.req)
			if d.Code != tt.want {
				t.Fatalf("Check = %v, want %v", d.Code, tt.want)
			}
			if (d.Line == nil) != (tt.want == access.AuthFailed) {
				t.Fatalf("Check line = %v for %v", d.Line, d.Code)
			}
			if (d.Lease != nil) != (tt.want == access.OK && tt.req.StreamOpen) {
				t.Fatalf("lease = %v for %v", d.Lease, d.Code)
			}
		})
	}
}

// TestCheck_Order proves the order with requests failing two rules at once.
func TestCheck_Order(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	if err := f.st.SetAllowedCountries(ctx, []string{"DE"}); err != nil {
		t.Fatal(err)
	}
	if err := f.st.AddBlockedUserAgent(ctx, "badbot", "exact"); err != nil {
		t.Fatal(err)
	}
	if err := f.st.BlockIP(ctx, netip.MustParsePrefix("198.51.100.11/32"), "admin", "", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	expiredBanned, pw1 := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ExpDate, in.Banned = &past, true })
	bannedDisabled, pw2 := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Banned, in.Disabled = true, true })
	plain, pw3 := testdb.NewLine(t, f.st, nil)
	full, pw4 := testdb.NewLine(t, f.st, nil)
	locked, pw5 := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ISPLock = true })
	f.check(t, open(full, pw4, ipDE, streamInBouquet))

	badUAFromGB := login(plain, pw3, ipGB)
	badUAFromGB.UserAgent = "BadBot"
	badUAUnknownISP := login(locked, pw5, ipUnknown)
	badUAUnknownISP.UserAgent = "badbot"
	if err := f.st.SetAllowedCountries(ctx, []string{"ALL"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		req  access.Request
		want access.Code
	}{
		{"wrong password and expired → AUTH_FAILED", login(expiredBanned, "wrong", ipDE), access.AuthFailed},
		{"expired and banned → USER_EXPIRED", login(expiredBanned, pw1, ipDE), access.UserExpired},
		{"banned and disabled → USER_BAN", login(bannedDisabled, pw2, ipDE), access.UserBan},
		{"blocked IP and disabled → USER_DISABLED", func() access.Request {
			l, p := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.Disabled = true })
			return login(l, p, ipDE2)
		}(), access.UserDisabled},
		{"blocked IP and wrong country → IP_BAN", login(plain, pw3, ipDE2), access.IPBan},
		{"wrong country and bad user agent → COUNTRY_DISALLOW", badUAFromGB, access.CountryDisallow},
		{"wrong country and not in bouquet → COUNTRY_DISALLOW", open(plain, pw3, ipGB, streamNotInBouquet), access.CountryDisallow},
		{"full line and not in bouquet → USER_ALREADY_CONNECTED", open(full, pw4, netip.MustParseAddr("198.51.100.12"), streamNotInBouquet), access.UserAlreadyConnected},
	}
	// Reload with the country list restricted for the country cases.
	if err := f.st.SetAllowedCountries(ctx, []string{"DE"}); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := f.check(t, tt.req); d.Code != tt.want {
				t.Fatalf("Check = %v, want %v", d.Code, tt.want)
			}
		})
	}
	t.Run("bad user agent and unknown ISP → USER_AGENT_BAN", func(t *testing.T) {
		if err := f.st.SetAllowedCountries(ctx, []string{"ALL"}); err != nil {
			t.Fatal(err)
		}
		if err := f.checker.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if d := f.check(t, badUAUnknownISP); d.Code != access.UserAgentBan {
			t.Fatalf("Check = %v, want USER_AGENT_BAN", d.Code)
		}
	})
}

func TestCheck_NotInBouquetTakesNoSlot(t *testing.T) {
	t.Parallel()
	f := setup(t)
	line, pw := testdb.NewLine(t, f.st, nil)
	for range 3 {
		if d := f.check(t, open(line, pw, ipDE, streamNotInBouquet)); d.Code != access.NotInBouquet {
			t.Fatalf("Check = %v, want NOT_IN_BOUQUET", d.Code)
		}
	}
	if n, _ := f.checker.ActiveConnections(context.Background(), line.ID); n != 0 {
		t.Fatalf("active connections after refused opens = %d", n)
	}
	if d := f.check(t, open(line, pw, ipDE, streamInBouquet)); d.Code != access.OK {
		t.Fatalf("Check after refusals = %v", d.Code)
	}
}

// TestCheck_MissingGeoIP: without databases, lines without rules work and lines with a
// country or ISP rule fail closed.
func TestCheck_MissingGeoIP(t *testing.T) {
	t.Parallel()
	f := newInstance(t, testdb.NewDSN(t), fixtureOpts{noGeo: true})
	plain, pw := testdb.NewLine(t, f.st, nil)
	forced, fpw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ForcedCountry = ptr("DE") })
	locked, lpw := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.ISPLock = true })
	for _, tt := range []struct {
		req  access.Request
		want access.Code
	}{
		{login(plain, pw, ipDE), access.OK},
		{open(plain, pw, ipDE, streamInBouquet), access.OK},
		{login(forced, fpw, ipDE), access.CountryDisallow},
		{login(locked, lpw, ipDE), access.ISPLockFailed},
	} {
		if d := f.check(t, tt.req); d.Code != tt.want {
			t.Errorf("Check(%s) without GeoIP = %v, want %v", tt.req.Who, d.Code, tt.want)
		}
	}
}

func TestCheck_PlayTokenAndMAC(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	line, _ := testdb.NewLine(t, f.st, func(in *store.LineInput) { in.IsMAG = true; in.MaxConnections = 5 })
	// More refusals follow than the flood limit allows one address.
	if err := f.st.SetSetting(ctx, "flood_auth_failures", 0); err != nil {
		t.Fatal(err)
	}
	if err := f.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute).Unix()
	cred := access.PasswordCredential(line.PasswordHash)
	sign := func(mod func(*token.Claims)) string {
		c := token.Claims{Kind: token.KindLive, LineID: line.ID, StreamID: streamInBouquet, ExpiresUnix: exp,
			ClientIP: token.BindIP(ipDE), Credential: cred}
		if mod != nil {
			mod(&c)
		}
		tok, err := f.tokens.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tok := sign(nil)
	req := func(tok string, ip netip.Addr, stream int64) access.Request {
		return access.Request{Who: access.PlayToken{Token: tok, Kind: token.KindLive}, ClientIP: ip, UserAgent: testUA,
			StreamOpen: true, StreamID: stream, Format: "ts", Container: conns.ContainerTS}
	}
	if d := f.check(t, req(tok, ipDE, streamInBouquet)); d.Code != access.OK || d.Line.ID != line.ID {
		t.Fatalf("valid play token = %v", d.Code)
	}
	for name, r := range map[string]access.Request{
		"other stream": req(tok, ipDE, streamInBouquet2),
		"other IP":     req(tok, ipDE2, streamInBouquet),
		"forged":       req(tok[:len(tok)-2]+"AA", ipDE, streamInBouquet),
		"garbage":      req("%%%", ipDE, streamInBouquet),
		"wrong kind": func() access.Request {
			r := req(tok, ipDE, streamInBouquet)
			r.Who = access.PlayToken{Token: tok, Kind: token.KindVOD}
			return r
		}(),
		"expired token":         req(sign(func(c *token.Claims) { c.ExpiresUnix = time.Now().Add(-time.Hour).Unix() }), ipDE, streamInBouquet),
		"no issuing credential": req(sign(func(c *token.Claims) { c.Credential = token.Credential{} }), ipDE, streamInBouquet),
		"another password's":    req(sign(func(c *token.Claims) { c.Credential.Sum++ }), ipDE, streamInBouquet),
		"segment token on a route of any kind": func() access.Request {
			r := req(sign(func(c *token.Claims) { c.Kind = token.KindSegment }), ipDE, streamInBouquet)
			r.Who = access.PlayToken{Token: r.Who.(access.PlayToken).Token}
			return r
		}(),
	} {
		if d := f.check(t, r); d.Code != access.AuthFailed {
			t.Errorf("%s: Check = %v, want AUTH_FAILED", name, d.Code)
		}
	}

	mac := mustMAC(t, "00:1A:79:00:00:42")
	devID, err := f.st.CreateMAGDevice(ctx, line.ID, mac.String())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256Sum("portal-token-1")
	if err := f.st.SetMAGToken(ctx, devID, sum); err != nil {
		t.Fatal(err)
	}
	macReq := access.Request{Who: access.PortalSession{MAC: mac, Token: "portal-token-1"}, ClientIP: ipDE, UserAgent: testUA}
	d := f.check(t, macReq)
	if d.Code != access.OK || d.Line.ID != line.ID {
		t.Fatalf("MAC + token = %v", d.Code)
	}
	// A link issued to the portal session plays while that session holds, and not after the
	// device's next handshake.
	portalTok := sign(func(c *token.Claims) { c.Credential = d.IssuingCredential() })
	if d.IssuingCredential().Kind != token.CredentialPortal {
		t.Fatalf("portal session's issuing credential = %+v", d.IssuingCredential())
	}
	if d := f.check(t, req(portalTok, ipDE, streamInBouquet)); d.Code != access.OK {
		t.Fatalf("link of the portal session = %v", d.Code)
	}
	if err := f.st.SetMAGToken(ctx, devID, sha256Sum("portal-token-next")); err != nil {
		t.Fatal(err)
	}
	if d := f.check(t, req(portalTok, ipDE, streamInBouquet)); d.Code != access.AuthFailed {
		t.Fatalf("link of an ended portal session = %v, want AUTH_FAILED", d.Code)
	}
	if err := f.st.SetMAGToken(ctx, devID, sum); err != nil {
		t.Fatal(err)
	}
	macReq.Who = access.PortalSession{MAC: mac, Token: "portal-token-2"}
	if d := f.check(t, macReq); d.Code != access.AuthFailed {
		t.Fatalf("MAC + wrong token = %v", d.Code)
	}
	macReq.Who = access.PortalSession{MAC: mustMAC(t, "00:1A:79:00:00:43"), Token: "portal-token-1"}
	if d := f.check(t, macReq); d.Code != access.AuthFailed {
		t.Fatalf("unknown MAC = %v", d.Code)
	}
}

func mustMAC(t *testing.T, s string) mag.MAC {
	t.Helper()
	m, err := mag.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCheck_CacheInvalidationAcrossInstances: a password change on one instance is seen by
// another, whose cache held the old password, within a second.
func TestCheck_CacheInvalidationAcrossInstances(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
	b.run(t)
	line, pw := testdb.NewLine(t, a.st, nil)
	if d := b.check(t, login(line, pw, ipDE)); d.Code != access.OK {
		t.Fatalf("first check on b = %v", d.Code)
	}
	newHash, err := credential.Hash("new-password", testdb.FastHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.SetLinePasswordHash(context.Background(), line.ID, newHash); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		d := b.check(t, login(line, pw, ipDE2))
		if d.Code == access.AuthFailed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old password still accepted by the other instance after 1s (%v)", d.Code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if d := b.check(t, login(line, "new-password", ipDE2)); d.Code != access.OK {
		t.Fatalf("new password on b = %v", d.Code)
	}
	// A ban is seen as quickly.
	if err := a.st.UpdateLineFlags(context.Background(), line.ID, true, false, nil); err != nil {
		t.Fatal(err)
	}
	testdb.Eventually(t, time.Second, "the ban on the other instance", func() bool {
		return b.check(t, login(line, "new-password", ipDE2)).Code == access.UserBan
	})
}

// TestFlood_BlocksIPNotUsername: N failures from one IP block that IP (on every instance)
// until the block expires; the line itself keeps working from elsewhere.
func TestFlood_BlocksIPNotUsername(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
	b.run(t)
	ctx := context.Background()
	for k, v := range map[string]any{"flood_auth_failures": 3, "flood_window_seconds": 60, "flood_block_seconds": 120} {
		if err := a.st.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.checker.Load(ctx); err != nil {
		t.Fatal(err)
	}
	line, pw := testdb.NewLine(t, a.st, nil)
	attacker := netip.MustParseAddr("198.51.100.66")
	for i := range 3 {
		if d := a.check(t, login(line, "guess", attacker)); d.Code != access.AuthFailed {
			t.Fatalf("guess %d = %v, want AUTH_FAILED", i, d.Code)
		}
	}
	if d := a.check(t, login(line, pw, attacker)); d.Code != access.FloodBlocked {
		t.Fatalf("after 3 failures, even the right password = %v, want FLOOD_BLOCKED", d.Code)
	}
	if d := a.check(t, login(line, pw, ipDE)); d.Code != access.OK {
		t.Fatalf("the victim's line from its own IP = %v, want OK (no username lockout)", d.Code)
	}
	testdb.Eventually(t, 2*time.Second, "the flood block on the other instance", func() bool {
		return b.check(t, login(line, pw, attacker)).Code == access.FloodBlocked
	})
	// The block expires.
	a.clock.Advance(121 * time.Second)
	if d := a.check(t, login(line, pw, attacker)); d.Code != access.OK {
		t.Fatalf("after the block expired = %v, want OK", d.Code)
	}
}

func TestRateLimiter(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Unix(1_700_000_000, 0))
	r := access.NewRateLimiter(clock.Now, 0)
	allowed := 0
	for range 50 {
		if r.Allow(ipDE, 10, 20) {
			allowed++
		}
	}
	if allowed != 20 {
		t.Fatalf("burst allowed %d, want 20", allowed)
	}
	if r.Allow(ipDE2, 10, 20) != true {
		t.Fatal("another IP is limited too")
	}
	clock.Advance(500 * time.Millisecond)
	allowed = 0
	for range 50 {
		if r.Allow(ipDE, 10, 20) {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("after 0.5 s at 10/s allowed %d, want 5", allowed)
	}
	if !r.Allow(ipDE, 0, 0) {
		t.Fatal("rate 0 must disable the limit")
	}
}

// TestCheck_ConcurrentOpensTwoInstances: 200 simultaneous stream opens through the whole check
// on a 3-connection line, from two instances with separate pools, under the refuse policy →
// exactly 3 leases.
func TestCheck_ConcurrentOpensTwoInstances(t *testing.T) {
	t.Parallel()
	dsn := testdb.NewDSN(t)
	a, b := newInstance(t, dsn, fixtureOpts{}), newInstance(t, dsn, fixtureOpts{})
	ctx := context.Background()
	if err := a.st.SetSetting(ctx, "connection_policy", "refuse"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []*fixture{a, b} {
		if err := f.checker.Load(ctx); err != nil {
			t.Fatal(err)
		}
	}
	line, pw := testdb.NewLine(t, a.st, func(in *store.LineInput) { in.MaxConnections = 3 })
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[access.Code]int{}
	start := make(chan struct{})
	for i := range 200 {
		f := a
		if i%2 == 1 {
			f = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ip := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			d, err := f.checker.Check(ctx, open(line, pw, ip, streamInBouquet))
			if err != nil {
				t.Errorf("Check: %v", err)
				return
			}
			mu.Lock()
			codes[d.Code]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	n, _ := a.checker.ActiveConnections(ctx, line.ID)
	if codes[access.OK] != 3 || codes[access.UserAlreadyConnected] != 197 || n != 3 {
		t.Fatalf("outcomes %v, %d active; want 3 OK, 197 USER_ALREADY_CONNECTED, 3 active", codes, n)
	}
}
