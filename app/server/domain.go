package server

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/geo"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// domain is the wiring of the internal packages behind the surfaces.
type domain struct {
	geo      *geo.DB
	tokens   *token.Keyring
	conns    *conns.Manager
	access   *access.Checker
	listener *store.Listener
}

func buildDomain(ctx context.Context, d Deps) (*domain, error) {
	cfg := d.Config
	dom := &domain{}
	dom.geo = geo.New(cfg.GeoIPCountryDB, cfg.GeoIPISPDB, d.Log)
	if secret := cfg.TokenSecret.Reveal(); secret != "" {
		kr, err := token.NewKeyring([]byte(secret), 1)
		if err != nil {
			return nil, fmt.Errorf("token secret: %w", err)
		}
		dom.tokens = kr
	}
	dom.conns = conns.New(d.Store, conns.Options{InstanceID: cfg.InstanceID}, d.Log)
	dom.access = access.New(access.Deps{
		Store:      d.Store,
		Conns:      dom.conns,
		Geo:        dom.geo,
		Cache:      credential.NewCache(2*time.Minute, 100_000, time.Now),
		Hasher:     credential.NewLimiter(0),
		Tokens:     dom.tokens,
		Entitled:   nil, // the catalog snapshot provides it
		Log:        d.Log,
		Registerer: d.Registry,
	})
	if err := dom.access.Load(ctx); err != nil {
		return nil, err
	}
	dom.listener = store.NewListener(d.Store.Pool(), d.Log, dom.onNotify, dom.onReconnect)
	return dom, nil
}

// onNotify hands a change notification to every cache that cares.
func (dom *domain) onNotify(payload string) {
	switch {
	case strings.HasPrefix(payload, "kill:"):
		dom.conns.OnNotify(payload)
	default:
		dom.access.OnNotify(payload)
	}
}

// onReconnect drops every cache: notifications sent while the listener was away are lost.
func (dom *domain) onReconnect() {
	dom.access.OnReconnect()
}

// startWorkers runs every background loop until ctx ends.
func (dom *domain) startWorkers(ctx context.Context) *errgroup.Group {
	var g errgroup.Group
	g.Go(func() error { return dom.listener.Run(ctx) })
	g.Go(func() error { return dom.access.Run(ctx) })
	g.Go(func() error { return dom.conns.Run(ctx) })
	g.Go(func() error { return dom.geo.Run(ctx) })
	return &g
}
