package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	activation "github.com/xtreamd/xtreamd/internal/device"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/importer"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/panel"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/relay"
	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// domain is the wiring of the internal packages behind the surfaces.
type domain struct {
	geo       *geo.DB
	tokens    *token.Keyring
	conns     *conns.Manager
	access    *access.Checker
	catalog   *catalog.Catalog
	guide     *epg.Guide
	guideDocs *epg.Documents // the guide answers kept for xmltv.php and the portal (newGuideDocuments)
	devices   *mag.Devices
	refresher *epg.Refresher
	relay     *relay.Manager
	listener  *store.Listener
	files     *source.Files // which local files viewers may be served
	store     *store.Store
	log       *slog.Logger
	accounts  *accounts.Service
	sessions  *accounts.Sessions
	imports   *importer.Runner // the admin API's background imports
	partners  *partner.Service // partner clients, their tokens, permits and denial bounds
	sampler   *panel.Sampler   // this instance's connection samples (the dashboard's chart)
	// activation is second-screen activation: device codes and device credentials.
	activation *activation.Service
}

// warmLines bounds the lines (and their verified keys) a starting instance loads from the
// shared verified-credential records: the viewers of a few busy instances, some 20 MB.
const warmLines = 20_000

func buildDomain(ctx context.Context, d Deps) (*domain, error) {
	cfg := d.Config
	dom := &domain{store: d.Store, log: d.Log}
	dom.geo = geo.New(cfg.GeoIPCountryDB, cfg.GeoIPISPDB, d.Log)
	secret := tokenSecret(cfg, d.Log)
	tokens, err := token.NewKeyring(secret, 1)
	if err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	dom.tokens = tokens
	dom.conns = conns.New(d.Store, conns.Options{InstanceID: cfg.InstanceID}, d.Log)
	dom.catalog = catalog.New(d.Store, d.Log, catalog.Options{})
	if err := dom.catalog.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	dom.guide = epg.NewGuide(d.Store, d.Now)
	dom.devices = mag.NewDevices(d.Store, mag.Options{})
	dom.refresher = epg.NewRefresher(d.Store, d.Log, epg.RefresherOptions{Now: d.Now}) // its retention sweep by the guide's clock
	files, err := MediaFiles(cfg)
	if err != nil {
		return nil, err
	}
	dom.files = files
	rm, err := relay.NewManager(relay.Options{Logger: d.Log, Registerer: d.Registry, OpenFile: files.Open,
		PrivateRedirects: cfg.UpstreamPrivateRedirects})
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	dom.relay = rm
	hasher := credential.NewLimiter(credential.LimiterOptions{MaxWait: cfg.HashQueueWait, Log: d.Log, Verify: d.HashVerify}) // players' and admins' passwords share one hashing limit
	if dom.partners, err = dom.buildPartners(d); err != nil {
		return nil, err
	}
	dom.access = access.New(access.Deps{
		Store: d.Store,
		Conns: dom.conns,
		Geo:   dom.geo,
		// The pepper of the verified-credential keys derives from the token secret, which every
		// instance of a cluster shares and the database never holds: a key one instance wrote
		// into the shared record serves every other (internal/access records.go).
		Cache: credential.NewCache(credential.CacheOptions{TTL: 2 * time.Minute, MaxEntries: 100_000,
			Pepper: credential.Pepper(secret), Now: d.CheckClock}),
		Now:        d.CheckClock,
		Hasher:     hasher,
		Tokens:     dom.tokens,
		Entitled:   dom.entitled,
		Log:        d.Log,
		Registerer: d.Registry,

		RateLimitClients:    cfg.RateLimitClients,
		Partners:            dom.partners.Holds,
		CredentialRecordTTL: cfg.CredentialRecordTTL,
	})
	if err := dom.access.Load(ctx); err != nil {
		return nil, err
	}
	// A partner read again (revoked, its scope changed): the streams its tokens opened are
	// decided again, its permits go.
	dom.partners.OnPartnerChange(func(id int64) {
		dom.access.PartnersChanged()
		dom.partners.Permits.DropPartner(id)
	})
	if err := dom.partners.Load(ctx); err != nil {
		return nil, err
	}
	// A new snapshot may take streams out of a line's bouquets: open ones are decided again
	// (and the partner permits, which carry the checker's RulesVersion, lapse).
	dom.catalog.OnSwap(func(*catalog.Snapshot) { dom.access.EntitlementsChanged() })
	if err := dom.buildAccounts(ctx, d, hasher); err != nil {
		return nil, err
	}
	dom.imports = importer.New(d.Store, d.Log, importer.Options{InstanceID: cfg.InstanceID})
	dom.sampler = panel.NewSampler(d.Store, dom.conns.InstanceID(), d.Log)
	dom.activation = activation.New(d.Store, dom.accounts, activation.Options{Key: deviceCodeKey(cfg, d.Log), Log: d.Log})
	dom.listener = dom.subscribe(store.NewListener(d.Store.Pool(), d.Log))
	return dom, nil
}

// tokenSecret is the configured token secret. Without one (tests; serve always has one,
// generated into the data dir) a random key serves this process alone, so that the check, the
// stream routes and the portal's create_link share one keyring all the same (and the
// verified-credential records it writes mean nothing to another instance).
func tokenSecret(cfg config.Config, log *slog.Logger) []byte {
	secret := []byte(cfg.TokenSecret.Reveal())
	if len(secret) == 0 {
		secret = make([]byte, token.MinSecretLen)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
		log.Warn("no token secret: play tokens and verified-credential records use a per-process key")
	}
	return secret
}

// entitled is step 10: the line's bouquets (in the current catalog snapshot) hold the stream.
func (dom *domain) entitled(line *access.Line, streamID int64) bool {
	return dom.catalog.Current().Entitlement(line.BouquetIDs).Allows(streamID)
}

// subscribe hands every change to the caches that follow it. After a reconnect each drops or
// checks its cache whole: notifications sent while the listener was away are lost.
func (dom *domain) subscribe(l *store.Listener) *store.Listener {
	l.Subscribe(store.Subscriber{
		Kinds:       []store.ChangeKind{store.ChangeLine, store.ChangeSecurity, store.ChangeSettings, store.ChangeMediaSession},
		OnChange:    dom.access.OnChange,
		OnReconnect: dom.access.OnReconnect,
	})
	l.Subscribe(store.Subscriber{
		Kinds:       []store.ChangeKind{store.ChangePartner, store.ChangePartnerKey, store.ChangePartnerToken},
		OnChange:    dom.partners.OnChange,
		OnReconnect: dom.partners.OnReconnect,
	})
	// A partner's permits of a line go the moment the line changes (the other rules they
	// depend on are the checker's RulesVersion).
	l.Subscribe(store.Subscriber{
		Kinds:       []store.ChangeKind{store.ChangeLine},
		OnChange:    func(ch store.Change) { dom.partners.Permits.DropLine(ch.ID) },
		OnReconnect: func() { dom.partners.Permits.DropPartner(0) },
	})
	l.Subscribe(store.Subscriber{
		Kinds:       []store.ChangeKind{store.ChangeCatalog},
		OnChange:    dom.catalog.OnChange,
		OnReconnect: dom.catalog.OnReconnect,
	})
	l.Subscribe(store.Subscriber{
		Kinds:       []store.ChangeKind{store.ChangeAdminSession},
		OnChange:    dom.sessions.OnChange,
		OnReconnect: dom.sessions.OnReconnect,
	})
	// A kill missed while away needs no reconnect step: the next heartbeat finds the lease gone
	// (a killed HLS session's next poll is refused; its segment links expire with their token).
	l.Subscribe(store.Subscriber{Kinds: []store.ChangeKind{store.ChangeKill}, OnChange: dom.conns.OnChange})
	return l
}

// startWorkers runs every background loop until ctx ends.
func (dom *domain) startWorkers(ctx context.Context) *errgroup.Group {
	var g errgroup.Group
	g.Go(func() error { return dom.listener.Run(ctx) })
	g.Go(func() error { return dom.access.Run(ctx) })
	g.Go(func() error { return dom.conns.Run(ctx) })
	g.Go(func() error { return dom.geo.Run(ctx) })
	g.Go(func() error { return dom.catalog.Run(ctx) })
	g.Go(func() error { return dom.refresher.Run(ctx) })
	g.Go(func() error { return dom.relay.Run(ctx) })
	g.Go(func() error { dom.warm(ctx); return nil })
	g.Go(func() error { warmPool(ctx, dom.store); return nil })
	g.Go(func() error { return dom.sessions.Run(ctx) })
	g.Go(func() error { return dom.imports.Run(ctx) })
	g.Go(func() error { return dom.partners.Run(ctx) })
	g.Go(func() error { return dom.sampler.Run(ctx) })
	g.Go(func() error { return dom.activation.Run(ctx) })
	return &g
}

// buildPartners builds the partner side: its access-token keys derive from the token secret
// (every instance of a cluster shares it; without one, tests only, a random one serves this
// process alone), its media tokens are the play-token keyring's, and it reads the settings as
// the checker last loaded them.
func (dom *domain) buildPartners(d Deps) (*partner.Service, error) {
	secret := []byte(d.Config.TokenSecret.Reveal())
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
		d.Log.Warn("no token secret: partner access tokens are valid on this instance only")
	}
	p, err := partner.New(partner.Options{Store: d.Store, Secret: secret, Media: dom.tokens, Log: d.Log,
		Settings: func() partner.Settings { return partnerSettings(dom.access.Settings()) }})
	if err != nil {
		return nil, fmt.Errorf("partners: %w", err)
	}
	return p, nil
}

// partnerSettings are the partner side's panel settings.
func partnerSettings(s access.Settings) partner.Settings {
	return partner.Settings{Registration: s.PartnerRegistration, TokenTTL: s.PartnerTokenTTL, PermitTTL: s.PartnerPermitTTL,
		DenialsPerSecond: s.PartnerDenialsPerSecond, DenialsBurst: s.PartnerDenialsBurst}
}

// warmPool opens the pool's connections at start, all at once, instead of one by one as the
// first requests wait for them: a reconnect storm right after a start would otherwise queue
// behind connection set-ups (a fork and an authentication each on the server). Idle ones stay
// open (pgxpool keeps them up to its idle time) for the storm to use.
func warmPool(ctx context.Context, st *store.Store) {
	pool := st.Pool()
	n := int(pool.Config().MaxConns)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	conns := make(chan func(), n)
	for range n {
		wg.Go(func() {
			if c, err := pool.Acquire(ctx); err == nil {
				conns <- c.Release
			}
		})
	}
	wg.Wait()
	close(conns)
	for release := range conns {
		release()
	}
}

// warm loads the lines of the viewers verified lately (on any instance) into the checker's
// caches once the change listener is in place, so that the viewers reconnecting after a
// restart are admitted without a database read before their lease. A failure only leaves the
// caches to fill as requests come.
func (dom *domain) warm(ctx context.Context) {
	select {
	case <-dom.listener.Ready():
	case <-ctx.Done():
		return
	}
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	n, err := dom.access.Warm(wctx, warmLines)
	switch {
	case err != nil && ctx.Err() == nil:
		dom.log.Warn("warming caches from verified-credential records", "err", err)
	case n > 0:
		dom.log.Info("caches warmed from verified-credential records", "lines", n, "dur_ms", time.Since(start).Milliseconds())
	}
}

// adminJWTLabel is what the admin API's signing key is derived from the token secret with:
// one operator secret, two keys that never verify each other's tokens. adminWebLabel derives
// the web page's key (second-factor challenges, sealed TOTP secrets) the same way.
const (
	adminJWTLabel = "xtreamd admin-api access-token v1"
	adminWebLabel = "xtreamd admin-web v1"
)

// deviceCodeLabel is what the key of the device code hashes is derived from the token secret
// with, so every instance of a cluster finds the codes another issued.
const deviceCodeLabel = "xtreamd device codes v1"

// deviceCodeKey is the key of the device code hashes; nil without a token secret (tests only:
// serve always has one), which leaves the codes to this process.
func deviceCodeKey(cfg config.Config, log *slog.Logger) []byte {
	secret := []byte(cfg.TokenSecret.Reveal())
	if len(secret) == 0 {
		log.Warn("no token secret: device codes are valid on this instance only")
		return nil
	}
	return accounts.DeriveKey(secret, deviceCodeLabel)
}

// buildAccounts builds the account rules and the admin API's sessions. The signing key is
// derived from the token secret, so every instance of a cluster (which shares that secret)
// verifies every other's access tokens; without one (tests only: serve always has one) the key
// is random and good for this process alone.
func (dom *domain) buildAccounts(ctx context.Context, d Deps, hasher *credential.Limiter) error {
	dom.accounts = accounts.New(d.Store, accounts.Options{Hasher: hasher})
	secret := []byte(d.Config.TokenSecret.Reveal())
	if len(secret) == 0 {
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return fmt.Errorf("admin sessions: %w", err)
		}
		d.Log.Warn("no token secret: admin API tokens are valid on this instance only")
	}
	key := accounts.DeriveKey(secret, adminJWTLabel)
	kid := accounts.KeyID(key)
	sessions, err := accounts.NewSessions(dom.accounts, accounts.SessionOptions{
		Keys: map[string][]byte{kid: key}, CurrentKID: kid, Hasher: hasher, Log: d.Log,
		WebKey: accounts.DeriveKey(secret, adminWebLabel),
	})
	if err != nil {
		return err
	}
	if err := sessions.Load(ctx); err != nil {
		return err
	}
	dom.sessions = sessions
	return nil
}

// guideBuildTimeout bounds the build of one kept guide answer.
const guideBuildTimeout = 10 * time.Minute

// newGuideDocuments returns the guide answers kept for every surface within
// --guide-cache-mb (0: the default, negative: none), their builds ending with the streams'
// context, and registers their metrics.
func newGuideDocuments(d Deps, g *epg.Guide, streams context.Context) *epg.Documents {
	budget := d.Config.GuideCacheBytes
	if budget == 0 {
		budget = config.DefaultGuideCacheBytes
	}
	docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: budget, Context: streams, Timeout: guideBuildTimeout, Log: d.Log})
	d.Registry.MustRegister(docs.Collectors()...)
	return docs
}
