package access

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/stripe"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Deps is what the checker uses.
type Deps struct {
	Store *store.Store
	Conns *conns.Manager
	Geo   *geo.DB // nil: no GeoIP; lines with country or ISP rules fail closed
	// Cache remembers verified credentials. Its pepper is the cluster's (credential.Pepper of
	// the token secret) for records one instance writes to admit viewers on another.
	Cache  *credential.Cache
	Hasher *credential.Limiter
	Tokens *token.Keyring // nil: play tokens are refused
	// Entitled reports whether the line's bouquets hold the stream (step 10); the catalog
	// snapshot provides it.
	Entitled   func(line *Line, streamID int64) bool
	Log        *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
	// RateLimitClients bounds the clients each per-client rate limiter (requests, stream opens)
	// tracks in memory; <= 0 means DefaultRateLimitClients.
	RateLimitClients int
	// Partners reports whether partner client partnerID is active and may act for line (the
	// partner directory answers it, in memory). nil: no partner acts for any line.
	Partners func(partnerID int64, line *Line) bool
	// CredentialRecordTTL is how long a verified-credential record, shared by every instance
	// through the database, lives after it was last written (records.go); <= 0: no records,
	// every instance verifies each line's password itself. Records mean something to another
	// instance only when Cache's pepper is the cluster's (credential.Pepper).
	CredentialRecordTTL time.Duration
}

// ErrBusy is in the error of a check that could not decide because the password-hashing queue
// is overloaded (credential.ErrBusy): the surface answers its "unavailable" and need not log
// it, since the hashing limiter warns about the overload once a minute.
var ErrBusy = credential.ErrBusy

// Checker runs the check. Load it before use and Run it for reloads and background writes.
type Checker struct {
	d     Deps
	now   func() time.Time
	lines *lineCache
	sec   atomic.Pointer[security]
	// secMu orders the writers of sec (a reload, a flood block), so a reload that read the
	// lists before a block was written cannot replace the snapshot that holds it.
	secMu   sync.Mutex
	rate    *RateLimiter // player requests
	opens   *RateLimiter // stream opens
	reload  chan struct{}
	denials chan denial
	// newCounters counts the failed-login counters this instance created since its last trim
	// of the table; trimming serialises on trimming.
	newCounters atomic.Int64
	trimming    sync.Mutex

	// Re-authorization (reauth.go): the registered streams, what must be decided again, and a
	// count of changes (read at the start of a check, see admitted).
	reg        *registry
	queue      *recheckQueue
	changes    atomic.Uint64
	unregister func(*conns.Lease) // a lease's OnEnd, made once

	// revoked are the media-token sessions partners logged out (partner.go); rules counts the
	// changes of what every decision depends on (RulesVersion).
	revoked *token.Revoked
	rules   atomic.Uint64
	// Verified-credential records waiting to be written (records.go).
	records chan store.VerifiedCredential

	// Striped (internal/stripe): every check updates both, from every core.
	checks  *stripe.CounterVec
	latency *stripe.HistogramVec
	// checksBy and latencyBy are the two vectors' children, resolved once in New: a check
	// costs an index rather than WithLabelValues' label hashing (both are on every request).
	checksBy    [numCodes]*stripe.Counter
	latencyBy   [numCheckKinds]*stripe.Histogram
	epoch       time.Time // New's time.Now: check latencies are monotonic offsets from it
	floodBlocks prometheus.Counter
	dropped     prometheus.Counter
	limited     *prometheus.CounterVec

	recordLookups *prometheus.CounterVec
	recordWrites  *prometheus.CounterVec
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
		d: d, now: d.Now, lines: newLineCache(d.Store, d.Now), epoch: time.Now(),
		rate: NewRateLimiter(d.Now, d.RateLimitClients), opens: NewRateLimiter(d.Now, d.RateLimitClients),
		reload: make(chan struct{}, 1), denials: make(chan denial, 1024), revoked: token.NewRevoked(),
		records: make(chan store.VerifiedCredential, recordQueue),
		checks: stripe.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_access_checks_total", Help: "Security checks by outcome code.",
		}, []string{"code"}),
		latency: stripe.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xtreamd_access_check_duration_seconds", Help: "Time of a security check; stream opens include the lease.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .002, .005, .01, .025, .05, .1, .5},
		}, []string{"kind"}),
		floodBlocks: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xtreamd_access_flood_blocks_total", Help: "Client addresses blocked for failed-login floods.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "xtreamd_access_client_log_dropped_total", Help: "Denials not written to the client log because the queue was full.",
		}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_access_rate_limited_total", Help: "Requests refused by a per-client rate limit, by limit (request, stream_open).",
		}, []string{"limit"}),
		recordLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_credential_record_lookups_total",
			Help: "Shared verified-credential records looked up after an in-memory miss, by outcome (hit, mismatch, none, error).",
		}, []string{"outcome"}),
		recordWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xtreamd_credential_record_writes_total",
			Help: "Shared verified-credential records written, by outcome (written, failed, dropped: the write queue was full).",
		}, []string{"outcome"}),
	}
	c.queue = newRecheckQueue()
	c.reg = newRegistry(c.queue.line, d.Now)
	c.unregister = c.reg.remove
	if d.Registerer != nil {
		c.register(d.Registerer)
	}
	for code := range numCodes {
		c.checksBy[code] = c.checks.WithLabelValues(code.String())
	}
	for kind, name := range checkKindNames {
		c.latencyBy[kind] = c.latency.WithLabelValues(name)
	}
	return c
}

// Now reads the checker's clock, the one its TTLs, expiry dates and windows compare against
// (cheap in production: see Deps.Now); the surfaces' own short-lived caches use it too.
func (c *Checker) Now() time.Time { return c.now() }

// checkKind labels the check latency: a request's check, a stream open's (with the lease) or
// a multi-stream probe's.
type checkKind uint8

const (
	kindRequest checkKind = iota
	kindStreamOpen
	kindProbeEach
	numCheckKinds
)

var checkKindNames = [numCheckKinds]string{kindRequest: "request", kindStreamOpen: "stream_open", kindProbeEach: "probe_each"}

func (c *Checker) register(reg prometheus.Registerer) {
	reg.MustRegister(c.checks, c.latency, c.floodBlocks, c.dropped, c.limited, c.recordLookups, c.recordWrites,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xtreamd_access_rate_limit_clients", Help: "Clients tracked by the per-client rate limits (bounded by --rate-limit-clients each).",
		}, func() float64 { return float64(c.rate.Tracked() + c.opens.Tracked()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xtreamd_access_registered_streams",
			Help: "Open streams and HLS sessions of this instance registered for re-checks after changes.",
		}, func() float64 { return float64(c.RegisteredStreams()) }))
	if h := c.d.Hasher; h != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "xtreamd_credential_hashes_in_flight", Help: "Password hashes being computed now.",
		}, func() float64 { return float64(h.Stats().InFlight) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "xtreamd_credential_hashes_refused_total", Help: "Password verifications refused because no hashing slot came within --hash-queue-wait.",
			}, func() float64 { return float64(h.Stats().Refused) }))
	}
}

// Load reads the global rules and the revoked media sessions; call it once before serving.
// When the rules changed since the last load, every open stream is decided again against them.
func (c *Checker) Load(ctx context.Context) error {
	c.secMu.Lock()
	defer c.secMu.Unlock()
	l, err := c.d.Store.LoadSecurityLists(ctx)
	if err != nil {
		return fmt.Errorf("access: %w", err)
	}
	if err := c.loadRevokedSessions(ctx); err != nil {
		return fmt.Errorf("access: %w", err)
	}
	s, errs := buildSecurity(l, c.now())
	for _, e := range errs {
		c.d.Log.Warn("ignoring a bad setting", "err", e)
	}
	prev := c.sec.Swap(s)
	if prev != nil && (prev.version != s.version || prev.settingsVersion != s.settingsVersion) {
		c.rules.Add(1)
		c.changed()
		c.queue.all()
	}
	return nil
}

// RulesVersion changes whenever something every decision depends on may have changed: the
// security lists or settings (once reloaded), the catalog's entitlements, a reconnect of the
// listener. A cache of decisions (the partner surface's permits) keeps an entry only while it
// is unchanged; changes of one line are that line's (store.ChangeLine) to follow.
func (c *Checker) RulesVersion() uint64 { return c.rules.Load() }

// Settings returns the current panel settings.
func (c *Checker) Settings() Settings {
	if s := c.sec.Load(); s != nil {
		return s.settings
	}
	return DefaultSettings()
}

// AllowRequest applies the per-client request rate limit of the player surfaces.
func (c *Checker) AllowRequest(ip netip.Addr) bool {
	return c.allow(c.rate, "request", ip, func(s Settings) (float64, int) { return s.RatePerSecond, s.RateBurst })
}

// AllowStreamOpen applies the per-client rate limit of stream opens (the stream surface's
// routes but HLS segments and session polls, which continue an admitted open).
func (c *Checker) AllowStreamOpen(ip netip.Addr) bool {
	return c.allow(c.opens, "stream_open", ip, func(s Settings) (float64, int) { return s.StreamRatePerSecond, s.StreamRateBurst })
}

// allow takes a token from ip's bucket of r; flood-exempt addresses are not limited.
func (c *Checker) allow(r *RateLimiter, limit string, ip netip.Addr, rate func(Settings) (float64, int)) bool {
	sec := c.sec.Load()
	if sec == nil {
		return true // not loaded: Check refuses anyway
	}
	perSecond, burst := rate(sec.settings)
	if perSecond <= 0 || len(sec.exempt.lens) > 0 && sec.exempt.contains(ip, c.now()) {
		return true
	}
	if r.Allow(ip, perSecond, burst) {
		return true
	}
	c.limited.WithLabelValues(limit).Inc()
	return false
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

// OnChange handles a change from store.Listener (subscribed to line, security, settings and
// media-session changes): a changed line leaves every cache and its open streams here are
// decided again; a change of the security lists or settings reloads them (and then decides
// every open stream again); a revoked media session is refused and its streams end.
func (c *Checker) OnChange(ch store.Change) {
	switch ch.Kind {
	case store.ChangeLine:
		c.lines.invalidate(ch.ID)
		if c.d.Cache != nil {
			c.d.Cache.InvalidateLine(ch.ID)
		}
		c.changed() // after the invalidation: a check that reads the count after it reads fresh
		if c.reg.has(ch.ID) {
			c.queue.line(ch.ID)
		}
	case store.ChangeSecurity, store.ChangeSettings:
		c.requestReload()
	case store.ChangeMediaSession:
		c.RevokeSession(ch.Token)
		c.requestReload() // reads the revocation's true expiry
	}
}

// OnReconnect drops every cache and reads every line with open streams again: notifications
// sent while the listener was away are lost.
func (c *Checker) OnReconnect() {
	c.rules.Add(1)
	c.lines.purge()
	if c.d.Cache != nil {
		c.d.Cache.Purge()
	}
	c.changed()
	c.queue.rereadAll()
	c.requestReload()
}

// sweep forgets refilled rate buckets, expired blocks and failure counters, and trims the
// counters to their bound.
func (c *Checker) sweep(ctx context.Context) {
	c.rate.Sweep()
	c.opens.Sweep()
	if err := c.d.Store.SweepSecurity(ctx); err != nil && ctx.Err() == nil {
		c.d.Log.Warn("sweeping expired blocks", "err", err)
	}
	if err := c.trimCounters(ctx, c.Settings()); err != nil && ctx.Err() == nil {
		c.d.Log.Warn("trimming failed-login counters", "err", err)
	}
	c.sweepRecords(ctx)
}

func (c *Checker) requestReload() {
	select {
	case c.reload <- struct{}{}:
	default:
	}
}

// Run reloads the rules when told and every 30 s (healing a missed notification), sweeps
// expired blocks, failure counters, verified-credential records, refilled rate buckets and HLS
// sessions gone quiet, writes denials to the client log, and re-checks open streams after
// changes and writes verified-credential records (each on a goroutine of its own), until ctx
// ends.
func (c *Checker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { c.runRechecks(ctx) })
	wg.Go(func() { c.runRecordWrites(ctx) })
	defer wg.Wait()
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
			c.sweep(ctx)
			c.reg.prune(c.now().Add(-c.d.Conns.HLSTTL()), c.d.Conns.SessionEnded)
		case d := <-c.denials:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := c.d.Store.LogClientDenial(wctx, d.lineID, d.username, d.code, d.surface, d.ip, d.ua, d.streamID); err != nil && ctx.Err() == nil {
				c.d.Log.Warn("writing client log", "err", err)
			}
			cancel()
		}
	}
}
