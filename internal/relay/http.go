package relay

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"
)

// HTTPOptions shape an upstream HTTP client. The zero value of each field means its default.
//
// Every upstream fetch of xtreamd goes through a client from NewHTTPClient: the relay's live
// sources and HLS segments, and app/stream's VOD and catch-up proxy. Rules for where an
// upstream may send us (redirect targets) and for idle reads belong here, once, too.
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
}

// NewHTTPClient returns an upstream client: bounded dial, TLS and header waits, and no overall
// timeout, because streams are endless and movies long (a caller catches stalls per read, as
// the relay's watchdog does). Redirects are followed, up to 10; proxies come from the
// environment.
func NewHTTPClient(o HTTPOptions) *http.Client {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = o.ConnectTimeout
	}
	if o.MaxIdleConnsPerHost <= 0 {
		o.MaxIdleConnsPerHost = 8
	}
	d := &net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     o.HTTP2,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.HeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   o.MaxIdleConnsPerHost,
		DisableCompression:    o.DisableCompression,
	}}
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
