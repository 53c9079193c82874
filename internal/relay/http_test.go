package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNewHTTPClient: defaults fill the zero options, and options reach the transport.
func TestNewHTTPClient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		in                HTTPOptions
		header, tls       time.Duration
		idle              int
		noGzip, forceHTTP bool
	}{
		{"defaults", HTTPOptions{}, 10 * time.Second, 10 * time.Second, 8, false, false},
		{"relay", HTTPOptions{ConnectTimeout: 3 * time.Second, HTTP2: true}, 3 * time.Second, 3 * time.Second, 8, false, true},
		{"vod", HTTPOptions{ConnectTimeout: 10 * time.Second, HeaderTimeout: 15 * time.Second, MaxIdleConnsPerHost: 16,
			DisableCompression: true}, 15 * time.Second, 10 * time.Second, 16, true, false},
	} {
		tr := NewHTTPClient(tt.in).Transport.(*guarded).direct
		if tr.ResponseHeaderTimeout != tt.header || tr.TLSHandshakeTimeout != tt.tls || tr.MaxIdleConnsPerHost != tt.idle ||
			tr.DisableCompression != tt.noGzip || tr.ForceAttemptHTTP2 != tt.forceHTTP {
			t.Errorf("%s: transport header %v tls %v idle %d gzip off %v h2 %v", tt.name, tr.ResponseHeaderTimeout,
				tr.TLSHandshakeTimeout, tr.MaxIdleConnsPerHost, tr.DisableCompression, tr.ForceAttemptHTTP2)
		}
	}
	if _, ok := NewHTTPClient(HTTPOptions{PrivateRedirects: true}).Transport.(*http.Transport); !ok {
		t.Error("PrivateRedirects: want one plain transport")
	}
}

// TestUpstreamError: an upstream's credentials in its URL never reach the error.
func TestUpstreamError(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:1/live/user/secret-pass/1.ts", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewHTTPClient(HTTPOptions{ConnectTimeout: time.Second}).Do(req)
	if err == nil {
		t.Fatal("Do on a closed port succeeded")
	}
	if got := UpstreamError(err); got == nil || strings.Contains(got.Error(), "secret-pass") {
		t.Fatalf("UpstreamError(%v) = %v, want the error without the URL", err, got)
	}
	plain := errors.New("status 500")
	if got := UpstreamError(plain); got != plain {
		t.Errorf("UpstreamError(%v) = %v, want it unchanged", plain, got)
	}
}

// redirector answers every request with a redirect to target(r), counting requests.
func redirector(t *testing.T, target func(r *http.Request) string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/final" {
			fmt.Fprint(w, "final")
			return
		}
		http.Redirect(w, r, target(r), http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(c *http.Client, u string) (string, error) {
	resp, err := c.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestNewHTTPClient_Redirects: the configured URL may be a loopback one, but a redirect is
// followed only to http(s) and never to a loopback address, whether named by its IP, by a name
// that resolves to it, or by the configured origin itself (whose open connection is not
// reused for the hop); PrivateRedirects lifts the address rule.
func TestNewHTTPClient_Redirects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target string // with {port} for the final server's port; "" → the redirector itself
		want   error  // nil: followed to "final"
	}{
		{"loopback IP", "http://127.0.0.1:{port}/final", ErrForbiddenAddress},
		{"name resolving to loopback", "http://localhost:{port}/final", ErrForbiddenAddress},
		{"IPv4-mapped loopback", "http://[::ffff:127.0.0.1]:{port}/final", ErrForbiddenAddress},
		{"unspecified", "http://0.0.0.0:{port}/final", ErrForbiddenAddress},
		{"link-local metadata", "http://169.254.169.254/latest/meta-data/", ErrForbiddenAddress},
		{"private", "http://10.0.0.1:{port}/final", ErrForbiddenAddress},
		{"same origin", "", ErrForbiddenAddress},
		{"file scheme", "file:///etc/passwd", ErrRedirectScheme},
		{"ftp scheme", "ftp://127.0.0.1:{port}/x", ErrRedirectScheme},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			final, finalHits := redirector(t, nil)
			_, port, _ := net.SplitHostPort(strings.TrimPrefix(final.URL, "http://"))
			src, _ := redirector(t, func(r *http.Request) string {
				if tt.target == "" {
					return "/final"
				}
				return strings.ReplaceAll(tt.target, "{port}", port)
			})
			c := NewHTTPClient(HTTPOptions{ConnectTimeout: 2 * time.Second})
			defer c.CloseIdleConnections()
			body, err := get(c, src.URL+"/live.ts")
			if !errors.Is(err, tt.want) {
				t.Fatalf("GET through a redirect to %s = %q, %v; want %v", tt.target, body, err, tt.want)
			}
			if n := finalHits.Load(); n != 0 {
				t.Errorf("the refused target was contacted %d times", n)
			}
		})
	}
	t.Run("same origin by name", func(t *testing.T) {
		t.Parallel()
		// The configured source's connection to localhost is open; the hop does not reuse it.
		src, hits := redirector(t, func(*http.Request) string { return "/final" })
		c := NewHTTPClient(HTTPOptions{})
		defer c.CloseIdleConnections()
		byName := strings.Replace(src.URL, "127.0.0.1", "localhost", 1)
		if body, err := get(c, byName+"/live.ts"); !errors.Is(err, ErrForbiddenAddress) || hits.Load() != 1 {
			t.Fatalf("GET %s redirected to /final = %q, %v after %d requests; want ErrForbiddenAddress after 1",
				byName, body, err, hits.Load())
		}
	})
	t.Run("allowed by PrivateRedirects", func(t *testing.T) {
		t.Parallel()
		final, _ := redirector(t, nil)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(final.URL, "http://"))
		src, _ := redirector(t, func(*http.Request) string { return "http://localhost:" + port + "/final" })
		c := NewHTTPClient(HTTPOptions{PrivateRedirects: true})
		defer c.CloseIdleConnections()
		if body, err := get(c, src.URL+"/live.ts"); err != nil || body != "final" {
			t.Fatalf("GET with PrivateRedirects = %q, %v; want the final answer", body, err)
		}
	})
	t.Run("configured loopback URL", func(t *testing.T) {
		t.Parallel()
		final, _ := redirector(t, nil)
		c := NewHTTPClient(HTTPOptions{})
		defer c.CloseIdleConnections()
		if body, err := get(c, final.URL+"/final"); err != nil || body != "final" {
			t.Fatalf("GET of a configured loopback URL = %q, %v; want it served", body, err)
		}
	})
}

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		addr string
		want bool
	}{
		{"8.8.8.8", true}, {"2606:4700:4700::1111", true}, {"93.184.216.34", true},
		{"127.0.0.1", false}, {"127.1.2.3", false}, {"::1", false}, {"0.0.0.0", false}, {"::", false},
		{"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false}, {"fd00::1", false},
		{"169.254.169.254", false}, {"fe80::1%eth0", false}, {"100.64.0.1", false}, {"0.1.2.3", false},
		{"224.0.0.1", false}, {"ff02::1", false}, {"255.255.255.255", false}, {"240.0.0.1", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:8.8.8.8", true}, {"64:ff9b::7f00:1", false}, {"64:ff9b::808:808", true},
		{"2002:7f00:1::1", false}, {"2002:808:808::1", true}, {"2001::1", false}, {"2001:db8::1", false},
	} {
		if got := publicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("publicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// TestProxiedHop: behind a proxy a hop's host name is resolved here and judged before the
// proxy is asked.
func TestProxiedHop(t *testing.T) {
	t.Parallel()
	var proxied atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		http.Redirect(w, r, "http://localhost:1/final", http.StatusFound)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c := newHTTPClient(HTTPOptions{}, http.ProxyURL(pu))
	defer c.CloseIdleConnections()
	_, err := get(c, "http://origin.example/live.ts")
	if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("proxied redirect to localhost = %v, want ErrForbiddenAddress", err)
	}
	if n := proxied.Load(); n != 1 {
		t.Fatalf("proxy asked %d times, want once (the configured URL, not the hop)", n)
	}
}
