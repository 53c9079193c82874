package server

import (
	"fmt"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/stream"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/demo"
	"github.com/xtreamd/xtreamd/internal/source"
	"github.com/xtreamd/xtreamd/internal/token"
)

// streamRedirect builds redirect mode's signer from the configuration (zero when off).
func streamRedirect(cfg config.Config) (stream.Redirect, error) {
	r := stream.Redirect{BaseURL: cfg.StreamRedirectURL, TTL: cfg.StreamRedirectTTL}
	switch cfg.StreamRedirect {
	case "":
		return stream.Redirect{}, nil
	case "secure_link":
		sl, err := token.NewSecureLink(cfg.StreamRedirectSecret.Reveal(), cfg.StreamRedirectTemplate)
		if err != nil {
			return stream.Redirect{}, fmt.Errorf("stream redirect: %w", err)
		}
		r.SecureLink = sl
	case "edgeauth":
		ea, err := token.NewEdgeAuth(token.EdgeAuthOptions{KeyHex: cfg.StreamRedirectSecret.Reveal()})
		if err != nil {
			return stream.Redirect{}, fmt.Errorf("stream redirect: %w", err)
		}
		r.EdgeAuth = ea
	default:
		return stream.Redirect{}, fmt.Errorf("stream redirect: unknown mode %q", cfg.StreamRedirect)
	}
	return r, nil
}

// MediaFiles is the rule for local sources that cfg gives: served only from the --media-dir
// directories (and, with --demo, the demo clip's), never from the data directory (the token
// secret, the private PostgreSQL cluster) or a secret's *_FILE. `serve` uses it for every
// viewer, `import m3u` to refuse entries early.
func MediaFiles(cfg config.Config) (*source.Files, error) {
	o := source.FilesOptions{MediaDirs: cfg.MediaDirs, Private: slices.Clone(cfg.SecretFiles)}
	if cfg.DataDir != "" {
		o.Private = append(o.Private, cfg.DataDir)
	}
	if cfg.Demo {
		o.Builtin = []string{demo.ClipDir(cfg.DataDir)}
	}
	f, err := source.NewFiles(o)
	if err != nil {
		return nil, fmt.Errorf("media dirs: %w", err)
	}
	return f, nil
}

// keepAlwaysOn has the relay pull the always-on channels with no viewer, now and after every
// catalog change. In redirect mode the edge serves every stream, so the relay keeps none. The
// hook is registered before the first call, so no snapshot swapped meanwhile is missed.
func (s *Server) keepAlwaysOn() {
	if s.redirect.Enabled() {
		return
	}
	keep := func(snap *catalog.Snapshot) { s.dom.relay.Keep(stream.AlwaysOn(snap)) }
	s.dom.catalog.OnSwap(keep)
	keep(s.dom.catalog.Current())
}

// mountStreams mounts the stream surface (last: its short form matches any three segments).
func (s *Server) mountStreams(app *fiber.App) {
	cfg := s.deps.Config
	s.streams = stream.New(stream.Deps{
		Access:     s.dom.access,
		Catalog:    s.dom.catalog,
		Relay:      s.dom.relay,
		Tokens:     s.dom.tokens,
		Log:        s.deps.Log,
		Registerer: s.deps.Registry,
		Base:       s.streamCtx,
		Proxies:    cfg.TrustedProxies,
		Location:   cfg.Timezone,
		Redirect:   s.redirect,

		Files:            s.dom.files,
		UpstreamIdle:     cfg.UpstreamIdleTimeout,
		PrivateRedirects: cfg.UpstreamPrivateRedirects,
	})
	s.streams.Routes(app)
}
