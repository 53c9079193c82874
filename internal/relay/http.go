package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

// Errors of the upstream client's hop rules. Compare with errors.Is (they arrive wrapped in a
// *url.Error and, for a dial, a *net.OpError).
var (
	// ErrForbiddenAddress: a redirect (or a URL from an upstream's playlist on another host)
	// led to a loopback, private, link-local, multicast or unspecified address.
	ErrForbiddenAddress = errors.New("upstream hop to a non-public address refused")
	// ErrRedirectScheme: a redirect led to something else than http or https.
	ErrRedirectScheme = errors.New("upstream redirect to a scheme other than http(s) refused")
)

// maxRedirects is how many redirects one fetch follows (net/http's own limit).
const maxRedirects = 10

// HTTPOptions shape an upstream HTTP client. The zero value of each field means its default.
//
// Every upstream fetch of xtreamd goes through a client from NewHTTPClient: the relay's live
// sources and HLS segments, and app/stream's VOD and catch-up proxy. The rules for where an
// upstream may send us live here, once.
type HTTPOptions struct {
	// ConnectTimeout bounds dialing and the TLS handshake (default 10 s).
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for the response headers once the request is sent
	// (default: ConnectTimeout).
	HeaderTimeout time.Duration
	// MaxIdleConnsPerHost is how many idle connections are kept per upstream host (default 8).
	MaxIdleConnsPerHost int
	// DisableCompression sends no "Accept-Encoding: gzip": media is compressed already, and a
	// gzip-encoded answer would break Range.
	DisableCompression bool
	// HTTP2 lets TLS upstreams speak HTTP/2 (several fetches share one connection). Without it
	// every transfer has its own HTTP/1.1 connection.
	HTTP2 bool
	// PrivateRedirects lets a hop lead to a loopback, private, link-local or unspecified
	// address. A hop is a redirect, or a fetch the relay derived from an upstream's HLS
	// playlist on another host than the configured source's. Off (the default) such a hop is
	// refused with ErrForbiddenAddress, judged on the address actually dialled, so a DNS name
	// that resolves (or re-resolves) there is caught too. The source URL the operator
	// configured is never judged: it may name any address.
	PrivateRedirects bool
}

// NewHTTPClient returns an upstream client: bounded dial, TLS and header waits, and no overall
// timeout, because streams are endless and movies long (a caller catches stalls per read, as
// the relay's watchdog and the VOD proxy's idle timeout do). Redirects are followed up to 10
// times, only to http(s), and (unless PrivateRedirects) only to public addresses: hops run on
// a transport of their own whose dialer checks every address, so a connection an operator's
// private source opened is never reused for a hop. Proxies come from the environment; a hop
// through a proxy is judged on the addresses its host name resolves to here.
func NewHTTPClient(o HTTPOptions) *http.Client { return newHTTPClient(o, http.ProxyFromEnvironment) }

// newHTTPClient is NewHTTPClient with the proxy rule given (tests pass a fixed proxy).
func newHTTPClient(o HTTPOptions, proxy func(*http.Request) (*url.URL, error)) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = o.ConnectTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 8
	}
	direct := newTransport(o, nil, proxy)
	c := &http.Client{Transport: direct, CheckRedirect: checkRedirect}
	if !o.PrivateRedirects {
		c.Transport = &guarded{direct: direct, hop: newTransport(o, controlHop, proxyHop(proxy))}
	}
	return c
}

func newTransport(o HTTPOptions, control func(context.Context, string, string, syscall.RawConn) error,
	proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second, ControlContext: control}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     o.HTTP2,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		DisableCompression:    o.DisableCompression,
	}
}

// checkRedirect follows at most maxRedirects redirects, to http(s) only.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return ErrRedirectScheme
	}
	return nil
}

// guarded sends the first request of a fetch on direct and every hop on hop.
type guarded struct {
	direct, hop *http.Transport
}

type hopKey struct{}

// hopState travels with a hop's context to its dial: through a proxy, the dial goes to the
// proxy (the operator's), and the target was judged when the proxy was chosen.
type hopState struct{ proxied atomic.Bool }

type derivedKey struct{}

// derived marks ctx so that a fetch made with it is a hop: its URL came from an upstream's
// data (an HLS playlist), not from the operator.
func derived(ctx context.Context) context.Context { return context.WithValue(ctx, derivedKey{}, true) }

// RoundTrip implements http.RoundTripper. Client sets req.Response on a redirect's request.
func (g *guarded) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Response == nil && req.Context().Value(derivedKey{}) == nil {
		return g.direct.RoundTrip(req)
	}
	if a, err := netip.ParseAddr(req.URL.Hostname()); err == nil && !publicAddr(a) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%s: %w", a, ErrForbiddenAddress)
	}
	return g.hop.RoundTrip(req.WithContext(context.WithValue(req.Context(), hopKey{}, &hopState{})))
}

// CloseIdleConnections closes both transports' idle connections (http.Client.CloseIdleConnections).
func (g *guarded) CloseIdleConnections() {
	g.direct.CloseIdleConnections()
	g.hop.CloseIdleConnections()
}

// controlHop refuses a hop's dial to a non-public address (the address after DNS).
func controlHop(ctx context.Context, _, address string, _ syscall.RawConn) error {
	if h, _ := ctx.Value(hopKey{}).(*hopState); h != nil && h.proxied.Load() {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !publicAddr(ap.Addr()) {
		return fmt.Errorf("%s: %w", address, ErrForbiddenAddress)
	}
	return nil
}

// proxyHop wraps the proxy rule for hops: a hop through a proxy has its host name resolved here
// and is refused when any of its addresses is not public (the proxy is then the operator's
// egress control, and its own address is not judged).
func proxyHop(proxy func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		u, err := proxy(req)
		if err != nil || u == nil {
			return u, err
		}
		addrs, err := net.DefaultResolver.LookupNetIP(req.Context(), "ip", req.URL.Hostname())
		if err != nil {
			return nil, fmt.Errorf("resolve hop: %w", err)
		}
		for _, a := range addrs {
			if !publicAddr(a) {
				return nil, fmt.Errorf("%s: %w", a, ErrForbiddenAddress)
			}
		}
		if h, _ := req.Context().Value(hopKey{}).(*hopState); h != nil {
			h.proxied.Store(true)
		}
		return u, nil
	}
}

// IPv6 ranges that carry an IPv4 address, judged by that address.
var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// nonPublic are the special-purpose ranges (RFC 6890) that netip's predicates do not name.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT: somebody's inside
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b:1::/48"), // local-use NAT64
	netip.MustParsePrefix("100::/64"),       // discard-only
	netip.MustParsePrefix("2001::/23"),      // IETF protocol assignments (Teredo, benchmarking, ORCHID)
	netip.MustParsePrefix("2001:db8::/32"),  // documentation
	netip.MustParsePrefix("fec0::/10"),      // deprecated site-local
}

// publicAddr reports whether a is a unicast address on the public internet. IPv4 addresses
// inside IPv6 (mapped, NAT64, 6to4) are judged as that IPv4 address.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	switch b := a.As16(); {
	case !a.IsValid():
		return false
	case nat64.Contains(a):
		return publicAddr(netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return publicAddr(netip.AddrFrom4([4]byte(b[2:6])))
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// UpstreamError strips the URL from an error of http.Client.Do: upstream URLs often carry
// credentials (XC-style /live/user/pass/…, ?token=), and errors end up in logs and events.
func UpstreamError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
