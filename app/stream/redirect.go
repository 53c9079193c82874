package stream

import (
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Redirect configures redirect mode: instead of relaying, a stream open that passed the access
// check is answered 302 to BaseURL + an edge path, signed for nginx secure_link (SecureLink) or
// Akamai EdgeAuth v2 (EdgeAuth), expiring after TTL. The edge checks the signature and expiry
// without calling back (DESIGN §4).
//
// Edge paths carry no credentials (a password must not land in an edge's logs):
//
//	/live/{id}.ts                          live MPEG-TS
//	/movie/{id}.{ext}, /series/{id}.{ext}  movies, episodes
//	/timeshift/{id}/{start_unix}/{minutes}.ts
//
// HLS (.m3u8) is always served by xtreamd itself: its segment links are relative to the
// playlist and would not carry a query-string signature.
//
// The slot: the check takes a lease as for any open (so the line's limit and the kick/replace
// policy apply at open time), and the lease is held for TTL, the link's lifetime, then released:
// an edge cannot report when the viewer leaves.
type Redirect struct {
	BaseURL    string // e.g. https://edge.example.com (no trailing slash); empty disables
	TTL        time.Duration
	SecureLink *token.SecureLink // one of SecureLink and EdgeAuth
	EdgeAuth   *token.EdgeAuth
}

// Enabled reports whether stream opens are redirected.
func (r Redirect) Enabled() bool {
	return r.BaseURL != "" && (r.SecureLink != nil || r.EdgeAuth != nil)
}

// linkTTL is TTL, or 30 s (the --stream-redirect-ttl default) when unset.
func (r Redirect) linkTTL() time.Duration {
	if r.TTL <= 0 {
		return 30 * time.Second
	}
	return r.TTL
}

// URL returns the signed edge URL of path for a client at ip.
func (r Redirect) URL(path string, clientIP netip.Addr, now time.Time) (string, error) {
	exp := now.Add(r.linkTTL()).Truncate(time.Second)
	base := strings.TrimSuffix(r.BaseURL, "/")
	if r.SecureLink != nil {
		return base + path + "?" + r.SecureLink.Query(path, exp, clientIP), nil
	}
	tok, err := r.EdgeAuth.Token(token.EdgeAuthClaims{Expires: exp, URL: path})
	if err != nil {
		return "", err
	}
	return base + path + "?" + r.EdgeAuth.Param(tok), nil
}

// redirect answers a checked open with the signed edge URL and holds its lease for the link's
// lifetime (a timer takes it over from the open).
func (h *Handler) redirect(c *fiber.Ctx, o *edge.Open, lease *conns.Lease, path string) error {
	u, err := h.d.Redirect.URL(path, lease.ClientIP, h.now())
	if err != nil {
		return err
	}
	o.Handoff()
	time.AfterFunc(h.d.Redirect.linkTTL(), func() { h.opens.Release(lease) })
	c.Set(fiber.HeaderLocation, u)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return edge.Empty(c, fiber.StatusFound)
}
