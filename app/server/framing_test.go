package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestServe_RefusesAmbiguousFraming sends requests whose bytes two HTTP parsers could read
// differently (a reverse proxy in front and xtreamd behind it): each must be answered 400 and
// the connection closed, never served, so that nothing a proxy passed on as one request's body
// becomes a second request here (request smuggling), and no control byte reaches a handler.
// The answer names no byte of the request: a password in its query stays out of it.
func TestServe_RefusesAmbiguousFraming(t *testing.T) {
	t.Parallel()
	s := newServer(t, testdb.New(t), io.Discard)
	base, _, _ := serveOn(t, s)
	addr := strings.TrimPrefix(base, "http://")
	for _, tc := range []struct{ name, raw string }{
		{"two Content-Length values", "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: 2\r\nContent-Length: 40\r\n\r\n{}"},
		{"NUL in a header value", "GET /player_api.php?username=u&password=s3cret HTTP/1.1\r\nHost: x\r\nX-Request-Id: ab\x00cd\r\n\r\n"},
		{"CR inside a header value", "GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: VLC\rX-Injected: 1\r\n\r\n"},
		{"LF in a chunk extension", "POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"5;ext\nGET /smuggled HTTP/1.1\r\nhello\r\n0\r\n\r\n"},
		{"space before the header colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 5\r\n\r\nhello"},
		{"a Content-Length that is not a number", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5x\r\n\r\nhello"},
		// RFC 9112 §3.2: HTTP/1.1 without Host is refused (HTTP/1.0 without it is served: below).
		{"HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\nUser-Agent: probe\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, tc.raw); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Plain text on every surface: a head that does not parse names no route.
			if resp.StatusCode != http.StatusBadRequest || string(body) != "malformed HTTP request" {
				t.Errorf("answer %d %q, want 400 \"malformed HTTP request\"", resp.StatusCode, body)
			}
			if rest, _ := io.ReadAll(r); len(rest) > 0 {
				t.Errorf("a second answer on the connection: %q", rest)
			}
		})
	}
	// Each refusal is counted, by its status: the access log never sees them.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `xtreamd_http_parse_refusals_total{status="400"} 7`; !strings.Contains(string(metrics), want+"\n") {
		t.Errorf("/metrics has no %q", want)
	}
	// What old clients and health checks send is still served.
	for _, raw := range []string{
		"GET /healthz HTTP/1.0\r\n\r\n",
		"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: caf\xe9 (Latin-1)\r\n\r\n",
		"GET http://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%q: %v %v, want 200", raw, resp, err)
		}
	}
}
