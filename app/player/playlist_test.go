package player_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestPlaylist_Golden: get.php in both types and both outputs (spec §3.1), byte for byte.
func TestPlaylist_Golden(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tt := range []struct {
		name, user, pass, typ, output string
		filename                      string
	}{
		{"m3u_plus_ts", "alice", alicePass, "m3u_plus", "ts", "tv_channels_alice_plus.m3u"},
		{"m3u_plus_m3u8", "alice", alicePass, "m3u_plus", "m3u8", "tv_channels_alice_plus.m3u"},
		{"m3u_ts", "alice", alicePass, "m3u", "ts", "tv_channels_alice.m3u"},
		{"m3u_m3u8", "alice", alicePass, "m3u", "hls", "tv_channels_alice.m3u"},
		{"m3u_plus_bob", "bob", bobPass, "m3u_plus", "mpegts", "tv_channels_bob_plus.m3u"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, hdr, body := f.get(t, api("/get.php", "username", tt.user, "password", tt.pass, "type", tt.typ, "output", tt.output))
			if code != 200 || hdr.Get("Content-Type") != "application/octet-stream" ||
				hdr.Get("Content-Disposition") != `attachment; filename="`+tt.filename+`"` {
				t.Fatalf("status %d, headers %v", code, hdr)
			}
			checkM3U(t, body)
			golden(t, "get_"+tt.name+".golden.m3u", body)
		})
	}
	// No output means MPEG-TS.
	_, _, def := f.get(t, api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus"))
	_, _, ts := f.get(t, api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus", "output", "ts"))
	if !bytes.Equal(def, ts) {
		t.Errorf("get.php without output differs from output=ts")
	}
}

// checkM3U applies what M3U parsers need (spec §7 #20): #EXTM3U first, then #EXTINF and URL
// pairs, attribute values without stray quotes, absolute URLs.
func checkM3U(t testing.TB, body []byte) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "#EXTM3U") {
		t.Fatalf("first line %q", lines[0])
	}
	if (len(lines)-1)%2 != 0 {
		t.Fatalf("%d lines after the header: not #EXTINF/URL pairs", len(lines)-1)
	}
	for i := 1; i < len(lines); i += 2 {
		ext, u := lines[i], lines[i+1]
		if !strings.HasPrefix(ext, "#EXTINF:-1") {
			t.Errorf("line %d: %q", i, ext)
		}
		attrs, _, ok := strings.Cut(ext, ",")
		if !ok {
			t.Errorf("line %d has no name: %q", i, ext)
		}
		if strings.Count(attrs, `"`)%2 != 0 {
			t.Errorf("line %d: unbalanced quotes: %q", i, ext)
		}
		if p, err := url.Parse(u); err != nil || p.Scheme != "http" || p.Host == "" {
			t.Errorf("line %d: URL %q: %v", i+1, u, err)
		}
	}
}

// TestPlaylist_URLsRoundTrip: bob's password, full of URL syntax, comes back out of every
// stream URL path intact.
func TestPlaylist_URLsRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, _, body := f.get(t, api("/get.php", "username", "bob", "password", bobPass, "type", "m3u", "output", "m3u8"))
	n := 0
	for _, line := range strings.Split(string(body), "\r\n") {
		if !strings.HasPrefix(line, "http://tv.example.com:8080/") {
			continue
		}
		u, err := url.Parse(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		parts := strings.Split(u.EscapedPath(), "/")
		if len(parts) != 5 {
			t.Fatalf("%q: %d path segments", line, len(parts))
		}
		user, _ := url.PathUnescape(parts[2])
		pass, _ := url.PathUnescape(parts[3])
		if user != "bob" || pass != bobPass {
			t.Errorf("%q carries %q / %q", line, user, pass)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no stream URLs")
	}
}

// TestPlaylist_Refusals: unknown type or output, bad credentials, any line state but active,
// and an output the line may not use are all an empty 404 (spec §3.1).
func TestPlaylist_Refusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, q := range [][]string{
		{"username", "alice", "password", alicePass},
		{"username", "alice", "password", alicePass, "type", "enigma16"},
		{"username", "alice", "password", alicePass, "type", "m3u_plus", "output", "rtmp"},
		{"username", "alice", "password", alicePass, "type", "m3u_plus", "output", "mkv"},
		{"username", "alice", "password", alicePass, "type", strings.Repeat("m3u_plus", 100)},
		{"username", "alice", "password", "wrong", "type", "m3u_plus"},
		{"username", "carol", "password", otherPass, "type", "m3u_plus"},
		{"username", "dave", "password", otherPass, "type", "m3u_plus"},
		{"username", "erin", "password", otherPass, "type", "m3u_plus"},
		{"username", "frank", "password", otherPass, "type", "m3u_plus", "output", "m3u8"},
		{"type", "m3u_plus"},
	} {
		if code, _, body := f.get(t, api("/get.php", q...)); code != 404 || len(body) != 0 {
			t.Errorf("get.php %v = %d %q, want 404 and no body", q, code, clip(body))
		}
	}
	if code, _, _ := f.get(t, api("/get.php", "username", "frank", "password", otherPass, "type", "m3u_plus", "output", "ts")); code != 200 {
		t.Errorf("frank's ts playlist = %d, want 200", code)
	}
}

// TestPlaylist_Streamed: over a real connection the playlist arrives in full, with its
// Content-Length (computed before it is written as it is sent); to a client that accepts gzip
// it comes gzip-encoded (chunked: the compressed length is known only at the end) and decodes
// to the same bytes.
func TestPlaylist_Streamed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	base, client := f.listen(t)
	get := func(acceptEncoding string) (*http.Response, []byte) {
		t.Helper()
		resp, body := fetchEncoded(t, client, base+api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus", "output", "ts"), acceptEncoding)
		if resp.StatusCode != 200 || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Errorf("status %d, Vary %q", resp.StatusCode, resp.Header.Get("Vary"))
		}
		return resp, body
	}
	resp, body := get("identity")
	// Written as it is sent, with its length known first (players show a download's progress).
	if len(resp.TransferEncoding) != 0 || resp.ContentLength != int64(len(body)) || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("transfer encoding %v, Content-Length %d for %d bytes, Content-Encoding %q; want the length, no encoding",
			resp.TransferEncoding, resp.ContentLength, len(body), resp.Header.Get("Content-Encoding"))
	}
	golden(t, "get_m3u_plus_ts.golden.m3u", body)

	resp, zbody := get("gzip, deflate")
	if ce := resp.Header.Get("Content-Encoding"); ce != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	if decoded := testkit.Gunzip(t, zbody); !bytes.Equal(decoded, body) {
		t.Fatalf("the gzip body decodes to %d bytes, want the playlist's %d", len(decoded), len(body))
	}
	t.Logf("playlist %d bytes, %d gzip-encoded", len(body), len(zbody))
}

// TestPlaylist_ClientGoneStopsWriter: a client that reads the headers and hangs up leaves no
// writer behind, plain or gzip-encoded (the package's goleak check at exit would catch one).
func TestPlaylist_ClientGoneStopsWriter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	base, _ := f.listen(t)
	for _, acceptEncoding := range []string{"identity", "gzip"} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		target := api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus")
		if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: "+acceptEncoding+"\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
			t.Fatalf("%s: status line %q, %v", acceptEncoding, line, err)
		}
		conn.Close()
	}
}

// listen serves the fixture's app on a loopback port until the test ends and returns its
// base URL and a client whose connections close with the test (goleak checks at exit).
func (f *fixture) listen(t testing.TB) (string, *http.Client) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = f.srv.App().ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String(), testClient(t, 0)
}

// testClient is an HTTP client with its own connection pool, closed when the test ends.
func testClient(t testing.TB, conns int) *http.Client {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	t.Cleanup(tr.CloseIdleConnections) // runs before the server's shutdown (registered earlier)
	return &http.Client{Transport: tr}
}

// TestURLs_FromConfigNotHost: every URL handed out is built from the configured public
// address; a forged Host header changes nothing (spec §7 #15).
func TestURLs_FromConfigNotHost(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{
		api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus"),
		api("/enigma2.php", "username", "alice", "password", alicePass, "type", "get_live_streams"),
		api("/enigma2.php", "username", "alice", "password", alicePass),
		api("/xmltv.php", "username", "alice", "password", alicePass),
		api(playerAPI, "username", "alice", "password", alicePass),
	} {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Host = "evil.example:6666"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		resp, err := f.srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || bytes.Contains(body, []byte("evil")) || !bytes.Contains(body, []byte("tv.example.com")) {
			t.Errorf("%s: %d, answer uses the request's host or not the configured one:\n%s", target, resp.StatusCode, clip(body))
		}
	}
}

// TestPlaylist_HEAD: a HEAD probe gets the headers and no body, and leaves no writer behind.
func TestPlaylist_HEAD(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, target := range []string{
		api("/get.php", "username", "alice", "password", alicePass, "type", "m3u_plus"),
		api("/xmltv.php", "username", "alice", "password", alicePass),
	} {
		code, _, body := f.do(t, http.MethodHead, target, nil, nil)
		if code != 200 || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes", target, code, len(body))
		}
	}
}
