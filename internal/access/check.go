package access

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Request is what a surface knows about a request. Exactly one way of identifying the line is
// used: a play token if set, else a MAC (with its portal token), else username and password.
type Request struct {
	Username string
	Password string
	// MAC is the canonical MAC address of a MAG box (mag.MAC.String()); PortalToken its Bearer
	// token from the handshake.
	MAC         string
	PortalToken string
	// PlayToken is a signed play/segment token; PlayTokenKind the kind the route accepts.
	PlayToken     string
	PlayTokenKind token.Kind

	ClientIP  netip.Addr
	UserAgent string
	// Surface names the caller in the client log: player_api, get, xmltv, stream, portal ...
	Surface string

	// StreamOpen asks for steps 9 and 10 and a connection lease for StreamID.
	StreamOpen bool
	StreamID   int64
	// Format is the live output format asked for ("ts", "m3u8"), checked against the line's
	// allowed formats; empty for VOD, series and anything else.
	Format string
	// Container is the lease's container: conns.ContainerTS, HLS, VOD or Timeshift.
	Container string
}

// Decision is the check's answer. A denial is a Decision, not an error.
type Decision struct {
	Code Code
	// Line is set unless Code is AuthFailed or FloodBlocked.
	Line *Line
	// Lease is set only for a stream open that passed every step. Release it when the viewer
	// goes (HLS sessions end by themselves when their polls stop).
	Lease *conns.Lease
	// Country and ISP of the client, when GeoIP knows them (for logs and the activity log).
	Country string
	ISP     string
	// PlayClaims are the verified claims of a play token request.
	PlayClaims token.Claims
}

// Deps is what the checker uses.
type Deps struct {
	Store  *store.Store
	Conns  *conns.Manager
	Geo    *geo.DB // nil: no GeoIP; lines with country or ISP rules fail closed
	Cache  *credential.Cache
	Hasher *credential.Limiter
	Tokens *token.Keyring // nil: play tokens are refused
	// Entitled reports whether the line's bouquets hold the stream (step 10); the catalog
	// snapshot provides it.
	Entitled   func(line *Line, streamID int64) bool
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Checker runs the check. Load it before use and Run it for reloads and background writes.
type Checker struct {
	d       Deps
	now     func() time.Time
	lines   *lineCache
	sec     atomic.Pointer[security]
	rate    *RateLimiter
	reload  chan struct{}
	denials chan denial

	checks      *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	floodBlocks prometheus.Counter
	dropped     prometheus.Counter
}

type denial struct {
	lineID   *int64
	username string
	code     string
	surface  string
	ip       netip.Addr
	ua       string
	streamID *int64
}

// New builds a checker.
func New(d Deps) *Checker {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	c := &Checker{
		d: d, now: d.Now, lines: newLineCache(d.Store, d.Now), rate: NewRateLimiter(d.Now),
		reload: make(chan struct{}, 1), denials: make(chan denial, 1024),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_access_checks_total", Help: "Security checks by outcome code.",
		}, []string{"code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xtreamd_access_check_duration_seconds", Help: "Time of a security check; stream opens include the lease.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .002, .005, .01, .025, .05, .1, .5},
		}, []string{"kind"}),
		floodBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xtreamd_access_flood_blocks_total", Help: "Client addresses blocked for failed-login floods.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xtreamd_access_client_log_dropped_total", Help: "Denials not written to the client log because the queue was full.",
		}),
	}
	if d.Registerer != nil {
		d.Registerer.MustRegister(c.checks, c.latency, c.floodBlocks, c.dropped)
		if d.Hasher != nil {
			d.Registerer.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "xtreamd_credential_hashes_in_flight", Help: "Password hashes being computed now.",
			}, func() float64 { return float64(d.Hasher.Stats().InFlight) }))
		}
	}
	return c
}

// Load reads the global rules; call it once before serving.
func (c *Checker) Load(ctx context.Context) error {
	l, err := c.d.Store.LoadSecurityLists(ctx)
	if err != nil {
		return fmt.Errorf("access: %w", err)
	}
	s, errs := buildSecurity(l, c.now())
	for _, e := range errs {
		c.d.Log.Warn("ignoring a bad setting", "err", e)
	}
	c.sec.Store(s)
	return nil
}

// Settings returns the current panel settings.
func (c *Checker) Settings() Settings {
	if s := c.sec.Load(); s != nil {
		return s.settings
	}
	return DefaultSettings()
}

// AllowRequest applies the per-IP request rate limit of the player surfaces.
func (c *Checker) AllowRequest(ip netip.Addr) bool {
	st := c.Settings()
	return c.rate.Allow(ip, st.RatePerSecond, st.RateBurst)
}

// HasherStats reports the password-hashing limiter: hashes running, requests waiting.
func (c *Checker) HasherStats() credential.LimiterStats {
	if c.d.Hasher == nil {
		return credential.LimiterStats{}
	}
	return c.d.Hasher.Stats()
}

// ActiveConnections is the number of open connections of a line (user_info.active_cons).
func (c *Checker) ActiveConnections(ctx context.Context, lineID int64) (int, error) {
	return c.d.Conns.Count(ctx, lineID)
}

// OnChange handles a change from store.Listener (subscribed to line, security and settings
// changes): a changed line leaves every cache; a change of the security lists or settings
// reloads them.
func (c *Checker) OnChange(ch store.Change) {
	switch ch.Kind {
	case store.ChangeLine:
		c.lines.invalidate(ch.ID)
		if c.d.Cache != nil {
			c.d.Cache.InvalidateLine(ch.ID)
		}
	case store.ChangeSecurity, store.ChangeSettings:
		c.requestReload()
	}
}

// OnReconnect drops every cache: notifications sent while the listener was away are lost.
func (c *Checker) OnReconnect() {
	c.lines.purge()
	if c.d.Cache != nil {
		c.d.Cache.Purge()
	}
	c.requestReload()
}

func (c *Checker) requestReload() {
	select {
	case c.reload <- struct{}{}:
	default:
	}
}

// Run reloads the rules when told and every 30 s (healing a missed notification), sweeps
// expired blocks and idle rate buckets, and writes denials to the client log, until ctx ends.
func (c *Checker) Run(ctx context.Context) error {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.reload:
			if err := c.Load(ctx); err != nil && ctx.Err() == nil {
				c.d.Log.Warn("reloading security lists", "err", err)
			}
		case <-tick.C:
			if err := c.Load(ctx); err != nil && ctx.Err() == nil {
				c.d.Log.Warn("reloading security lists", "err", err)
			}
			c.rate.Sweep(5 * time.Minute)
			if err := c.d.Store.SweepSecurity(ctx, c.Settings().AuthFailWindow); err != nil && ctx.Err() == nil {
				c.d.Log.Warn("sweeping expired blocks", "err", err)
			}
		case d := <-c.denials:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := c.d.Store.LogClientDenial(wctx, d.lineID, d.username, d.code, d.surface, d.ip, d.ua, d.streamID); err != nil && ctx.Err() == nil {
				c.d.Log.Warn("writing client log", "err", err)
			}
			cancel()
		}
	}
}

// errNotInBouquet aborts a lease transaction at step 10.
var errNotInBouquet = errors.New("access: stream not in the line's bouquets")

// Check runs the ordered check. It returns an error only when it could not decide (database
// down, context done); the surface then answers "unavailable" and never allows the request.
func (c *Checker) Check(ctx context.Context, r Request) (Decision, error) {
	start := time.Now()
	d, err := c.check(ctx, r)
	kind := "request"
	if r.StreamOpen {
		kind = "stream_open"
	}
	c.latency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	if err != nil {
		return Decision{}, err
	}
	c.checks.WithLabelValues(d.Code.String()).Inc()
	if d.Code != OK {
		c.recordDenial(ctx, r, d)
	}
	return d, nil
}

func (c *Checker) check(ctx context.Context, r Request) (Decision, error) {
	sec := c.sec.Load()
	if sec == nil {
		return Decision{}, errors.New("access: security lists not loaded")
	}
	now := c.now()
	ip := r.ClientIP.Unmap()
	if sec.flood.contains(ip, now) {
		return Decision{Code: FloodBlocked}, nil
	}

	// 1 AUTH_FAILED
	line, claims, code, err := c.authenticate(ctx, r, now, ip)
	if err != nil {
		return Decision{}, err
	}
	if code != OK {
		if err := c.countFailure(ctx, ip, sec, now); err != nil {
			c.d.Log.WarnContext(ctx, "counting a failed login", "err", err)
		}
		return Decision{Code: code}, nil
	}
	d := Decision{Line: line, PlayClaims: claims}

	// 2 USER_EXPIRED, 3 USER_BAN, 4 USER_DISABLED
	switch {
	case line.ExpDate != nil && !now.Before(*line.ExpDate):
		d.Code = UserExpired
	case line.Banned:
		d.Code = UserBan
	case line.Disabled:
		d.Code = UserDisabled
	}
	if d.Code != OK {
		return d, nil
	}

	// 5 IP_BAN
	if sec.blocked.contains(ip, now) || (len(line.AllowedIPs) > 0 && !prefixesContain(line.AllowedIPs, ip)) {
		d.Code = IPBan
		return d, nil
	}

	// 6 COUNTRY_DISALLOW: allow-lists fail closed without a country database.
	country, haveCountry := "", false
	if c.d.Geo != nil {
		country, haveCountry = c.d.Geo.Country(ip)
	}
	d.Country = country
	if line.ForcedCountry != nil && *line.ForcedCountry != "" {
		if !haveCountry || country != *line.ForcedCountry {
			d.Code = CountryDisallow
			return d, nil
		}
	} else if sec.countries != nil && (!haveCountry || !sec.countries[country]) {
		d.Code = CountryDisallow
		return d, nil
	}

	// 7 USER_AGENT_BAN
	if (r.UserAgent == "" && sec.settings.DisallowEmptyUserAgent) ||
		(!line.BypassUABlock && sec.userAgentBlocked(r.UserAgent)) ||
		(len(line.AllowedUserAgents) > 0 && !slices.Contains(line.AllowedUserAgents, r.UserAgent)) {
		d.Code = UserAgentBan
		return d, nil
	}

	// 8 ISP_LOCK_FAILED: the global deny-lists fail open without an ISP database; a locked
	// line fails closed.
	var isp geo.ISP
	haveISP := false
	if c.d.Geo != nil && (line.ISPLock || len(sec.ispNames) > 0 || len(sec.asns) > 0 || r.StreamOpen) {
		isp, haveISP = c.d.Geo.ISP(ip)
	}
	ispName := ispKey(isp)
	if haveISP {
		d.ISP = ispName
		if sec.asns[isp.ASN] && isp.ASN != 0 || sec.ispNames[strings.ToLower(isp.Name)] && isp.Name != "" ||
			sec.ispNames[strings.ToLower(isp.Organization)] && isp.Organization != "" {
			d.Code = ISPLockFailed
			return d, nil
		}
	}
	if line.ISPLock {
		if !haveISP || ispName == "" {
			d.Code = ISPLockFailed
			return d, nil
		}
		if line.ISPName == nil || *line.ISPName == "" {
			recorded, err := c.d.Store.RecordLineISP(ctx, line.ID, ispName, int64(isp.ASN))
			if err != nil {
				return Decision{}, fmt.Errorf("access: %w", err)
			}
			if !strings.EqualFold(recorded, ispName) {
				d.Code = ISPLockFailed
				return d, nil
			}
		} else if !strings.EqualFold(*line.ISPName, ispName) {
			d.Code = ISPLockFailed
			return d, nil
		}
	}

	// An output format the line may not use never takes a slot.
	if r.Format != "" && !slices.Contains(line.AllowedOutputFormats, r.Format) {
		d.Code = FormatDisallowed
		return d, nil
	}
	if !r.StreamOpen {
		return d, nil
	}

	// 9 USER_ALREADY_CONNECTED and 10 NOT_IN_BOUQUET, in one lease transaction: the limit is
	// decided first; a stream outside the bouquets then rolls it back, taking no slot.
	admit := func() error {
		if c.d.Entitled == nil || !c.d.Entitled(line, r.StreamID) {
			return errNotInBouquet
		}
		return nil
	}
	creq := conns.Request{
		LineID: line.ID, MaxConnections: line.MaxConnections, StreamID: r.StreamID, Container: r.Container,
		ClientIP: ip, UserAgent: r.UserAgent, Country: country, ISP: d.ISP,
	}
	policy := sec.settings.ConnectionPolicy
	var lease *conns.Lease
	if r.Container == conns.ContainerHLS {
		lease, _, err = c.d.Conns.TouchHLS(ctx, creq, policy, admit)
	} else {
		lease, err = c.d.Conns.Acquire(ctx, creq, policy, admit)
	}
	switch {
	case errors.Is(err, conns.ErrLimitReached):
		d.Code = UserAlreadyConnected
	case errors.Is(err, errNotInBouquet):
		d.Code = NotInBouquet
	case errors.Is(err, conns.ErrSessionKilled):
		d.Code = SessionEnded
	case err != nil:
		return Decision{}, fmt.Errorf("access: %w", err)
	default:
		d.Lease = lease
	}
	return d, nil
}

// authenticate is step 1. Every failing path costs about one password hash, whether or not
// the username exists, so timing tells an attacker nothing.
func (c *Checker) authenticate(ctx context.Context, r Request, now time.Time, ip netip.Addr) (*Line, token.Claims, Code, error) {
	switch {
	case r.PlayToken != "":
		if c.d.Tokens == nil {
			return nil, token.Claims{}, AuthFailed, nil
		}
		claims, err := c.d.Tokens.Verify(r.PlayToken, now, ip)
		if err != nil || (r.PlayTokenKind != 0 && claims.Kind != r.PlayTokenKind) ||
			(r.StreamOpen && claims.StreamID != r.StreamID) {
			return nil, token.Claims{}, AuthFailed, nil
		}
		line, err := c.lines.byIDLookup(ctx, claims.LineID)
		if err != nil {
			return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
		}
		if line == nil {
			return nil, token.Claims{}, AuthFailed, nil
		}
		return line, claims, OK, nil

	case r.MAC != "":
		dev, err := c.d.Store.MAGDeviceByMAC(ctx, r.MAC)
		if errors.Is(err, store.ErrNotFound) {
			return nil, token.Claims{}, AuthFailed, nil
		}
		if err != nil {
			return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
		}
		sum := sha256.Sum256([]byte(r.PortalToken))
		if r.PortalToken == "" || len(dev.TokenSHA256) != sha256.Size || subtle.ConstantTimeCompare(sum[:], dev.TokenSHA256) != 1 {
			return nil, token.Claims{}, AuthFailed, nil
		}
		line, err := c.lines.byIDLookup(ctx, dev.LineID)
		if err != nil {
			return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
		}
		if line == nil {
			return nil, token.Claims{}, AuthFailed, nil
		}
		return line, token.Claims{}, OK, nil
	}

	if r.Username == "" || r.Password == "" || len(r.Password) > credential.MaxPasswordLen {
		return nil, token.Claims{}, AuthFailed, nil
	}
	line, err := c.lines.byUsername(ctx, r.Username)
	if err != nil {
		return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
	}
	if line == nil {
		if err := c.d.Hasher.DummyVerify(ctx, r.Password); err != nil {
			return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
		}
		return nil, token.Claims{}, AuthFailed, nil
	}
	if id, ok := c.d.Cache.Lookup(r.Username, r.Password, line.PasswordHash); ok && id == line.ID {
		return line, token.Claims{}, OK, nil
	}
	ok, err := c.d.Hasher.Verify(ctx, line.PasswordHash, r.Password)
	if err != nil && !errors.Is(err, credential.ErrMalformedHash) {
		return nil, token.Claims{}, OK, fmt.Errorf("access: %w", err)
	}
	if !ok {
		return nil, token.Claims{}, AuthFailed, nil
	}
	c.d.Cache.Remember(r.Username, r.Password, line.PasswordHash, line.ID)
	return line, token.Claims{}, OK, nil
}

// countFailure counts a failed login of ip (in the database, so every instance counts
// together) and blocks ip for a while once it reaches the limit. No username is ever locked:
// that would let anyone lock a victim out.
func (c *Checker) countFailure(ctx context.Context, ip netip.Addr, sec *security, now time.Time) error {
	st := sec.settings
	if st.AuthFailLimit <= 0 || !ip.IsValid() || sec.exempt.contains(ip, now) {
		return nil
	}
	n, err := c.d.Store.RecordAuthFailure(ctx, ip, st.AuthFailWindow)
	if err != nil || n < st.AuthFailLimit {
		return err
	}
	network := blockNetworkFor(ip)
	until := now.Add(st.AuthBlockFor)
	reason := fmt.Sprintf("%d failed logins within %s", n, st.AuthFailWindow)
	if err := c.d.Store.BlockIP(ctx, network, "flood", reason, &until); err != nil {
		return err
	}
	if err := c.d.Store.ClearAuthFailures(ctx, ip); err != nil {
		return err
	}
	// Block here at once; other instances follow on the security NOTIFY.
	next := *sec
	next.flood = sec.flood.clone()
	next.flood.add(network, &until)
	c.sec.CompareAndSwap(sec, &next)
	c.floodBlocks.Inc()
	c.d.Log.WarnContext(ctx, "client blocked for failed logins", "client_ip", ip.String(), "network", network.String(), "failures", n, "until", until)
	return nil
}

// recordDenial logs a denial and queues it for the client log without waiting for the database.
func (c *Checker) recordDenial(ctx context.Context, r Request, d Decision) {
	dn := denial{code: d.Code.String(), surface: r.Surface, ip: r.ClientIP.Unmap(), ua: truncate(r.UserAgent, 512)}
	if d.Line != nil {
		id := d.Line.ID
		dn.lineID, dn.username = &id, d.Line.Username
	} else if r.Username != "" {
		dn.username = truncate(r.Username, 128)
	}
	if r.StreamOpen {
		sid := r.StreamID
		dn.streamID = &sid
	}
	level := slog.LevelWarn
	if d.Code == AuthFailed || d.Code == FloodBlocked {
		level = slog.LevelInfo
	}
	c.d.Log.Log(ctx, level, "access denied", "code", dn.code, "surface", r.Surface, "username", dn.username,
		"client_ip", dn.ip.String(), "stream_id", r.StreamID)
	select {
	case c.denials <- dn:
	default:
		c.dropped.Inc()
	}
}

func prefixesContain(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ispKey is the name an ISP lock records and compares: the ISP name, else the AS organisation,
// else "AS<number>".
func ispKey(i geo.ISP) string {
	switch {
	case i.Name != "":
		return i.Name
	case i.Organization != "":
		return i.Organization
	case i.ASN != 0:
		return "AS" + strconv.FormatUint(uint64(i.ASN), 10)
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
