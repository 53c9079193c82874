package edge

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/xtreamd/xtreamd/internal/config"
)

func serveClientIP(t *testing.T, proxies []netip.Prefix) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/ip", func(c *fiber.Ctx) error { return c.SendString(ClientIP(c, proxies).String()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String() + "/ip"
}

func getIP(t *testing.T, url string, hdr map[string]string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestClientIP(t *testing.T) {
	t.Parallel()
	trusted, _ := config.ParsePrefixList("127.0.0.1,10.0.0.0/8")
	untrustedURL := serveClientIP(t, nil)
	trustedURL := serveClientIP(t, trusted)
	tests := []struct {
		name string
		url  string
		hdr  map[string]string
		want string
	}{
		{"no proxies: headers ignored", untrustedURL, map[string]string{"X-Forwarded-For": "203.0.113.9"}, "127.0.0.1"},
		{"trusted peer: XFF used", trustedURL, map[string]string{"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"},
		{"spoofed left part ignored", trustedURL, map[string]string{"X-Forwarded-For": "1.1.1.1, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"},
		{"mapped IPv6 unmapped", trustedURL, map[string]string{"X-Forwarded-For": "::ffff:198.51.100.7"}, "198.51.100.7"},
		{"X-Real-IP fallback", trustedURL, map[string]string{"X-Real-IP": "198.51.100.8"}, "198.51.100.8"},
		{"garbage XFF falls back to peer", trustedURL, map[string]string{"X-Forwarded-For": "not-an-ip"}, "127.0.0.1"},
		{"only proxies in XFF", trustedURL, map[string]string{"X-Forwarded-For": "10.0.0.1"}, "127.0.0.1"},
		{"a zone in XFF is garbled", trustedURL, map[string]string{"X-Forwarded-For": "fe80::1%eth0"}, "127.0.0.1"},
		{"a zone on a mapped address is garbled", trustedURL, map[string]string{"X-Forwarded-For": "198.51.100.7, ::ffff:203.0.113.5%x"}, "127.0.0.1"},
		{"a zone in X-Real-IP is garbled", trustedURL, map[string]string{"X-Real-IP": "2001:db8::1%25"}, "127.0.0.1"},
		{"a garbled XFF hop leaves X-Real-IP", trustedURL, map[string]string{"X-Forwarded-For": "fe80::1%eth0", "X-Real-IP": "198.51.100.8"}, "198.51.100.8"},
	}
	for _, tt := range tests {
		if got := getIP(t, tt.url, tt.hdr); got != tt.want {
			t.Errorf("%s: ClientIP = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// FuzzClientIP: whatever a trusted proxy's X-Forwarded-For and X-Real-IP hold, the client
// address is a valid one without a zone (PostgreSQL's inet refuses zones), IPv4 when it is
// IPv4-mapped.
func FuzzClientIP(f *testing.F) {
	for _, s := range [][2]string{
		{"203.0.113.9", ""}, {"1.1.1.1, 203.0.113.9, 10.1.2.3", ""}, {"::ffff:198.51.100.7", ""}, {"", "198.51.100.8"},
		{"fe80::1%eth0", ""}, {"198.51.100.7, ::ffff:203.0.113.5%x", "2001:db8::1%25"}, {"10.0.0.1", "10.0.0.2"},
		{" , ,,", "not-an-ip"}, {"\x00", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, xff, real string) {
		var fctx fasthttp.RequestCtx
		fctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
		fctx.Request.Header.Set(fiber.HeaderXForwardedFor, xff)
		fctx.Request.Header.Set("X-Real-Ip", real)
		c := app.AcquireCtx(&fctx)
		defer app.ReleaseCtx(c)
		a := ClientIP(c, proxies)
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("ClientIP(XFF %q, X-Real-IP %q) = %v", xff, real, a)
		}
	})
}
