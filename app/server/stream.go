package server

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/stream"
	"github.com/xtreamd/xtreamd/internal/config"
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
	})
	s.streams.Routes(app)
}
