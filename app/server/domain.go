package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
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
	devices   *mag.Devices
	refresher *epg.Refresher
	relay     *relay.Manager
	listener  *store.Listener
	files     *source.Files // which local files viewers may be served
	accounts  *accounts.Service
	sessions  *accounts.Sessions
	imports   *importer.Runner // the admin API's background imports
	partners  *partner.Service // partner clients, their tokens, permits and denial bounds
	// activation is second-screen activation: device codes and device credentials.
	activation *activation.Service
}

func buildDomain(ctx context.Context, d Deps) (*domain, error) {
	cfg := d.Config
	dom := &domain{}
	dom.geo = geo.New(cfg.GeoIPCountryDB, cfg.GeoIPISPDB, d.Log)
	tokens, err := keyring(cfg, d.Log)
	if err != nil {
		return nil, err
	}
	dom.tokens = tokens
	dom.conns = conns.New(d.Store, conns.Options{InstanceID: cfg.InstanceID}, d.Log)
	dom.catalog = catalog.New(d.Store, d.Log, catalog.Options{})
	if err := dom.catalog.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	dom.guide = epg.NewGuide(d.Store, d.Now)
	dom.devices = mag.NewDevices(d.Store, mag.Options{})
	dom.refresher = epg.NewRefresher(d.Store, d.Log, epg.RefresherOptions{})
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
	hasher := credential.NewLimiter(credential.LimiterOptions{MaxWait: cfg.HashQueueWait, Log: d.Log}) // players' and admins' passwords share one hashing limit
	if dom.partners, err = dom.buildPartners(d); err != nil {
		return nil, err
	}
	dom.access = access.New(access.Deps{
		Store:      d.Store,
		Conns:      dom.conns,
		Geo:        dom.geo,
		Cache:      credential.NewCache(2*time.Minute, 100_000, time.Now),
		Hasher:     hasher,
		Tokens:     dom.tokens,
		Entitled:   dom.entitled,
		Log:        d.Log,
		Registerer: d.Registry,

		RateLimitClients: cfg.RateLimitClients,
		Partners:         dom.partners.Holds,
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
	dom.activation = activation.New(d.Store, dom.accounts, activation.Options{Key: deviceCodeKey(cfg, d.Log), Log: d.Log})
	dom.listener = dom.subscribe(store.NewListener(d.Store.Pool(), d.Log))
	return dom, nil
}

// keyring is the play-token keyring of the configured secret. Without one (tests; serve
// always has one, generated into the data dir) a random key serves this process alone, so that
// the check, the stream routes and the portal's create_link share one keyring all the same.
func keyring(cfg config.Config, log *slog.Logger) (*token.Keyring, error) {
	secret := []byte(cfg.TokenSecret.Reveal())
	if len(secret) == 0 {
		secret = make([]byte, token.MinSecretLen)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
		log.Warn("no token secret: play tokens are signed with a per-process key")
	}
	kr, err := token.NewKeyring(secret, 1)
	if err != nil {
		return nil, fmt.Errorf("token secret: %w", err)
	}
	return kr, nil
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
	g.Go(func() error { return dom.sessions.Run(ctx) })
	g.Go(func() error { return dom.imports.Run(ctx) })
	g.Go(func() error { return dom.partners.Run(ctx) })
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

// adminJWTLabel is what the admin API's signing key is derived from the token secret with:
// one operator secret, two keys that never verify each other's tokens.
const adminJWTLabel = "xtreamd admin-api access-token v1"

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
