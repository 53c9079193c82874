package stream_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/token"
)

// TestVOD_Range serves a local movie file and an http one with and without Range.
func TestVOD_Range(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	size := int64(len(e.vodData))
	sz := strconv.FormatInt(size, 10)
	for _, src := range []struct {
		name, path, ctype string
	}{
		{"file", "/movie/" + e.line.Username + "/" + e.pass + "/" + itoa(e.movie) + ".mp4", "video/mp4"},
		{"http", "/movie/" + e.line.Username + "/" + e.pass + "/" + itoa(e.httpVOD) + ".mkv", "video/x-matroska"},
		{"episode", "/series/" + e.line.Username + "/" + e.pass + "/" + itoa(e.episode) + ".mp4", "video/mp4"},
	} {
		tests := []struct {
			name         string
			rng          string
			code         int
			start, end   int64 // inclusive; -1: no body
			contentRange string
		}{
			{"whole", "", 200, 0, size - 1, ""},
			{"first ten", "bytes=0-9", 206, 0, 9, "bytes 0-9/" + sz},
			{"middle", "bytes=1000-1999", 206, 1000, 1999, "bytes 1000-1999/" + sz},
			{"open ended", "bytes=1048000-", 206, 1048000, size - 1, "bytes 1048000-" + strconv.FormatInt(size-1, 10) + "/" + sz},
			{"suffix", "bytes=-100", 206, size - 100, size - 1, "bytes " + strconv.FormatInt(size-100, 10) + "-" + strconv.FormatInt(size-1, 10) + "/" + sz},
			{"past the end", "bytes=" + sz + "-", 416, -1, -1, "bytes */" + sz},
		}
		if src.name != "http" {
			tests = append(tests, struct {
				name         string
				rng          string
				code         int
				start, end   int64
				contentRange string
			}{"several ranges: whole", "bytes=0-1,5-6", 200, 0, size - 1, ""})
		}
		for _, tt := range tests {
			t.Run(src.name+" "+tt.name, func(t *testing.T) {
				hdr := map[string]string{}
				if tt.rng != "" {
					hdr["Range"] = tt.rng
				}
				code, h, body := do(t, http.MethodGet, e.base+src.path, hdr)
				if code != tt.code {
					t.Fatalf("GET %s = %d, want %d", tt.rng, code, tt.code)
				}
				if got := h.Get("Content-Range"); got != tt.contentRange {
					t.Errorf("Content-Range = %q, want %q", got, tt.contentRange)
				}
				if tt.start < 0 {
					if len(body) != 0 {
						t.Errorf("416 body = %d bytes, want none", len(body))
					}
					return
				}
				if want := e.vodData[tt.start : tt.end+1]; !bytes.Equal(body, want) {
					t.Errorf("body = %d bytes, want bytes %d-%d (%d)", len(body), tt.start, tt.end, len(want))
				}
				if got := h.Get("Content-Length"); got != strconv.Itoa(len(body)) {
					t.Errorf("Content-Length = %q, want %d", got, len(body))
				}
				if h.Get("Content-Type") != src.ctype || h.Get("Accept-Ranges") != "bytes" {
					t.Errorf("Content-Type %q Accept-Ranges %q, want %s bytes", h.Get("Content-Type"), h.Get("Accept-Ranges"), src.ctype)
				}
			})
		}
	}
	code, h, body := do(t, http.MethodHead, e.base+"/movie/"+e.line.Username+"/"+e.pass+"/"+itoa(e.movie)+".mp4", nil)
	if code != 200 || len(body) != 0 || h.Get("Content-Length") != sz || h.Get("Accept-Ranges") != "bytes" || h.Get("Content-Type") != "video/mp4" {
		t.Errorf("HEAD movie = %d, %d bytes, Content-Length %q, Accept-Ranges %q, Content-Type %q",
			code, len(body), h.Get("Content-Length"), h.Get("Accept-Ranges"), h.Get("Content-Type"))
	}
	eventually(t, "every VOD lease released", func() bool { return e.leases() == 0 })
}

// TestVOD_LeaseHeldWhileOpen: an open download holds a slot; a kill ends it.
func TestVOD_LeaseHeldWhileOpen(t *testing.T) {
	t.Parallel()
	e, big := bigMovieEnv(t)
	resp := openStream(t, e.base+"/movie/"+e.line.Username+"/"+e.pass+"/"+itoa(big)+".mp4")
	readN(t, resp.Body, 1000)
	rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
	must(t, err)
	if len(rows) != 1 || rows[0].Container != "vod" {
		t.Fatalf("leases during a download = %+v, want one vod lease", rows)
	}
	resp.Body.Close()
	eventually(t, "the vod lease released", func() bool { return e.leases() == 0 })
}

// TestVOD_KillEndsLocalFileDownload: a kill ends the download of a local file while the client
// has stopped reading, so the server's send is blocked in the kernel (sendfile), and the
// connection and the lease are released; what the client did read is the file's bytes.
func TestVOD_KillEndsLocalFileDownload(t *testing.T) {
	t.Parallel()
	e, big := bigMovieEnv(t)
	resp := openStream(t, e.base+"/movie/"+e.line.Username+"/"+e.pass+"/"+itoa(big)+".mp4")
	if resp.StatusCode != http.StatusOK || resp.ContentLength != bigMovieLen {
		t.Fatalf("status %d, length %d; want 200 and %d", resp.StatusCode, resp.ContentLength, bigMovieLen)
	}
	if got := readN(t, resp.Body, 1<<20); !bytes.Equal(got, make([]byte, 1<<20)) {
		t.Fatal("the first MiB is not the file's (zeros)")
	}
	rows, err := e.st.LiveLeases(context.Background(), e.line.ID)
	must(t, err)
	if len(rows) != 1 {
		t.Fatalf("leases = %+v, want one", rows)
	}
	// Not reading fills the socket buffers, and the server's send blocks.
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	must(t, conns.New(e.st, conns.Options{InstanceID: "other"}, nil).Kill(context.Background(), rows[0].ID))
	// The server ends the response on its own, the client still not reading: its close line
	// comes only once the blocked send has returned.
	eventually(t, "the download's close logged with reason=killed", func() bool {
		return strings.Contains(e.logs.String(), "reason=killed")
	})
	t.Logf("the download ended %v after the kill", time.Since(start).Round(time.Millisecond))
	eventually(t, "the vod lease released", func() bool { return e.leases() == 0 })
	n, _ := io.Copy(io.Discard, resp.Body) // what the socket buffers held, then the end
	if n+1<<20 >= bigMovieLen {
		t.Errorf("the client read the whole movie (%d bytes after the first MiB) after the kill", n)
	}
}

// bigMovieLen is the size of bigMovieEnv's movie: larger than the loopback socket buffers, so
// a download is still running while a test looks at it.
const bigMovieLen = 256 << 20

// bigMovieEnv sets up a server with a local movie of bigMovieLen bytes (a sparse file of
// zeros) in the test line's bouquet.
func bigMovieEnv(t *testing.T) (*env, int64) {
	var big int64
	e := setup(t, envOpts{extra: func(t *testing.T, e *env) {
		path := filepath.Join(t.TempDir(), "big.mp4")
		must(t, os.WriteFile(path, nil, 0o644))
		must(t, os.Truncate(path, bigMovieLen))
		var err error
		mp4 := "mp4"
		big, err = e.st.CreateStream(context.Background(), store.StreamInput{Kind: store.KindMovie, Name: "Big",
			ContainerExtension: &mp4, Sources: []store.Source{{URL: "file://" + path}}})
		must(t, err)
		_, err = e.st.AppendBouquetStreams(context.Background(), e.bouquet, []int64{big})
		must(t, err)
	}})
	return e, big
}

// TestTimeshift: both URL forms and the query form expand the catch-up template with the start
// read in the panel time zone, and proxy the recording.
func TestTimeshift(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no tzdata")
	}
	e := setup(t, envOpts{cfg: func(c *config.Config) { c.Timezone, c.TimezoneName = london, "Europe/London" }})
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	local := start.In(london).Format("2006-01-02:15-04")
	short := start.In(london).Format("20060102-15")
	u := start.UTC()
	want := "/archive/" + itoa(e.shift) + "/" + u.Format("20060102-150405") + "/" + strconv.FormatInt(u.Unix(), 10) + "-" +
		strconv.FormatInt(u.Add(90*time.Minute).Unix(), 10) + "/90m-5400s.ts?iso=" + u.Format("2006-01-02T15:04:05Z")
	cred := e.line.Username + "/" + e.pass
	for _, path := range []string{
		"/timeshift/" + cred + "/90/" + local + "/" + itoa(e.shift) + ".ts",
		"/timeshift/" + cred + "/90/" + short + "/" + itoa(e.shift) + ".ts",
		"/timeshifts/" + cred + "/90/" + itoa(e.shift) + "/" + local + ".ts",
		"/streaming/timeshift.php?username=" + e.line.Username + "&password=" + e.pass + "&stream=" + itoa(e.shift) +
			"&start=" + local + "&duration=90",
	} {
		code, h, body := do(t, http.MethodGet, e.base+path, nil)
		if code != 200 || h.Get("Content-Type") != "video/mp2t" || len(body) != 188*100 {
			t.Errorf("GET %s = %d %q %d bytes", path, code, h.Get("Content-Type"), len(body))
			continue
		}
		select {
		case got := <-e.shiftReq:
			if got != want {
				t.Errorf("upstream asked for %q\nwant             %q", got, want)
			}
		case <-time.After(waitLimit):
			t.Fatal("upstream not asked")
		}
	}
	// The .m3u8 form is a one-entry playlist naming the .ts form.
	path := "/timeshift/" + cred + "/90/" + local + "/" + itoa(e.shift)
	code, _, pl := do(t, http.MethodGet, e.base+path+".m3u8", nil)
	if code != 200 || !strings.Contains(string(pl), "\n"+path+".ts\n") || !strings.Contains(string(pl), "#EXT-X-ENDLIST") {
		t.Errorf("timeshift m3u8 = %d:\n%s", code, pl)
	}
	for _, tt := range []struct{ name, start string }{
		{"future", time.Now().Add(2 * time.Hour).In(london).Format("2006-01-02:15-04")},
		{"older than the archive", time.Now().Add(-5 * 24 * time.Hour).In(london).Format("2006-01-02:15-04")},
	} {
		code, _, _ := do(t, http.MethodGet, e.base+"/timeshift/"+cred+"/60/"+tt.start+"/"+itoa(e.shift)+".ts", nil)
		if code != http.StatusForbidden {
			t.Errorf("timeshift %s = %d, want 403", tt.name, code)
		}
	}
	if got := ffprobe(t, e.base+path+".ts"); !strings.HasPrefix(got, "h264") {
		t.Errorf("ffprobe of a catch-up recording = %q", got)
	}
}

// TestRedirect_SecureLink: in secure_link redirect mode a checked open is a 302 to the edge,
// signed as nginx computes it; the slot is held for the link's lifetime; HLS stays local.
func TestRedirect_SecureLink(t *testing.T) {
	t.Parallel()
	const secret = "edge-secret"
	e := setup(t, envOpts{cfg: func(c *config.Config) {
		c.StreamRedirect, c.StreamRedirectURL, c.StreamRedirectSecret = "secure_link", "https://edge.example.com", secret
		c.StreamRedirectTTL, c.StreamRedirectTemplate = 30*time.Second, "{expires}{uri}{ip} {secret}"
	}})
	sl, err := token.NewSecureLink(secret, "")
	must(t, err)
	for _, tt := range []struct{ path, edgePath string }{
		{"/live/" + e.line.Username + "/" + e.pass + "/" + itoa(e.live) + ".ts", "/live/" + itoa(e.live) + ".ts"},
		{"/" + e.line.Username + "/" + e.pass + "/" + itoa(e.live), "/live/" + itoa(e.live) + ".ts"},
		{"/movie/" + e.line.Username + "/" + e.pass + "/" + itoa(e.movie) + ".mp4", "/movie/" + itoa(e.movie) + ".mp4"},
		{"/series/" + e.line.Username + "/" + e.pass + "/" + itoa(e.episode) + ".mp4", "/series/" + itoa(e.episode) + ".mp4"},
	} {
		resp, err := noRedirect.Get(e.base + tt.path)
		must(t, err)
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "edge.example.com" || loc.Path != tt.edgePath {
			t.Errorf("GET %s = %d Location %q, want 302 to https://edge.example.com%s", tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.edgePath)
			continue
		}
		exp, _ := strconv.ParseInt(loc.Query().Get("expires"), 10, 64)
		if d := time.Until(time.Unix(exp, 0)); d < 20*time.Second || d > 31*time.Second {
			t.Errorf("expires in %v, want about 30 s", d)
		}
		if got, want := loc.Query().Get("md5"), sl.Hash(tt.edgePath, time.Unix(exp, 0), netip.MustParseAddr("127.0.0.1")); got != want {
			t.Errorf("md5 = %q, want %q", got, want)
		}
	}
	if n := e.leases(); n != 4 {
		t.Errorf("leases held for the redirect links = %d, want 4", n)
	}
	if code, _, _ := do(t, http.MethodGet, e.base+"/live/"+e.line.Username+"/nope/"+itoa(e.live)+".ts", nil); code != 401 {
		t.Errorf("redirect mode with a wrong password = %d, want 401", code)
	}
	if code, h, _ := do(t, http.MethodGet, e.liveURL(e.live, "m3u8"), nil); code != 200 || h.Get("Content-Type") != "application/x-mpegurl" {
		t.Errorf("HLS in redirect mode = %d %q, want the local playlist", code, h.Get("Content-Type"))
	}
}

// TestRedirect_EdgeAuth signs the edge link as an Akamai EdgeAuth v2 URL token.
func TestRedirect_EdgeAuth(t *testing.T) {
	t.Parallel()
	const key = "7a5c2be9f42a1f32cd889d1cf775f05d0cd162bd2871d00fe705ab28c9bba5a5"
	e := setup(t, envOpts{cfg: func(c *config.Config) {
		c.StreamRedirect, c.StreamRedirectURL, c.StreamRedirectSecret, c.StreamRedirectTTL = "edgeauth", "https://cdn.example.com/", key, time.Minute
	}})
	ea, err := token.NewEdgeAuth(token.EdgeAuthOptions{KeyHex: key})
	must(t, err)
	resp, err := noRedirect.Get(e.base + "/movie/" + e.line.Username + "/" + e.pass + "/" + itoa(e.movie) + ".mp4")
	must(t, err)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != "cdn.example.com" || loc.Path != "/movie/"+itoa(e.movie)+".mp4" {
		t.Fatalf("GET movie = %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tok := loc.Query().Get("hdnts")
	exp, _ := strconv.ParseInt(strings.TrimPrefix(strings.Split(tok, "~")[0], "exp="), 10, 64)
	want, err := ea.Token(token.EdgeAuthClaims{Expires: time.Unix(exp, 0), URL: loc.Path})
	must(t, err)
	if tok != want {
		t.Errorf("hdnts = %q, want %q", tok, want)
	}
	_ = io.Discard
}

// TestRedirect_RealNginx: in secure_link mode, a player following the 302 gets the file from a
// real nginx that checks the signature with its secure_link module; a tampered or expired link
// is refused there.
func TestRedirect_RealNginx(t *testing.T) {
	t.Parallel()
	bin := nginxBinary(t)
	const secret = "edge-secret-for-nginx"
	root := t.TempDir()
	// nginx workers run as another user: let them in (t.TempDir makes 0700 directories).
	must(t, os.Chmod(root, 0o755))
	must(t, os.Chmod(filepath.Dir(root), 0o755))
	addr := freeAddr(t)
	ng := runNginx(t, bin, addr, `location ~ ^/(live|movie|series|timeshift)/ {
      secure_link     $arg_md5,$arg_expires;
      secure_link_md5 "$secure_link_expires$uri$remote_addr `+secret+`";
      if ($secure_link = "")  { return 403; }
      if ($secure_link = "0") { return 410; }
      root `+root+`;
    }`)
	e := setup(t, envOpts{cfg: func(c *config.Config) {
		c.StreamRedirect, c.StreamRedirectURL, c.StreamRedirectSecret = "secure_link", ng.url, secret
		c.StreamRedirectTTL, c.StreamRedirectTemplate = 30*time.Second, "{expires}{uri}{ip} {secret}"
	}})
	must(t, os.MkdirAll(filepath.Join(root, "movie"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "movie", itoa(e.movie)+".mp4"), e.vodData, 0o644))

	code, _, body := do(t, http.MethodGet, e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie), nil)
	if code != 200 || !bytes.Equal(body, e.vodData) {
		t.Fatalf("GET movie through the redirect = %d, %d bytes; want 200 and the file", code, len(body))
	}
	resp, err := noRedirect.Get(e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, e.movie))
	must(t, err)
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	q.Set("md5", forge(q.Get("md5"), 3))
	loc.RawQuery = q.Encode()
	if code, _, _ := do(t, http.MethodGet, loc.String(), nil); code != http.StatusForbidden {
		t.Errorf("tampered link = %d, want nginx's 403", code)
	}
	sl, err := token.NewSecureLink(secret, "")
	must(t, err)
	past := time.Now().Add(-time.Minute).Truncate(time.Second)
	loc.RawQuery = sl.Query(loc.Path, past, netip.MustParseAddr("127.0.0.1"))
	if code, _, _ := do(t, http.MethodGet, loc.String(), nil); code != http.StatusGone {
		t.Errorf("expired link = %d, want nginx's 410", code)
	}
}

// TestVOD_DirectSource: a direct-source movie is a 302 to its source, holding no slot.
func TestVOD_DirectSource(t *testing.T) {
	t.Parallel()
	var direct int64
	e := setup(t, envOpts{extra: func(t *testing.T, e *env) {
		mp4 := "mp4"
		var err error
		direct, err = e.st.CreateStream(context.Background(), store.StreamInput{Kind: store.KindMovie, Name: "Direct",
			ContainerExtension: &mp4, DirectSource: true, Sources: []store.Source{{URL: "http://cdn.example.com/m/9.mp4"}}})
		must(t, err)
		_, err = e.st.AppendBouquetStreams(context.Background(), e.bouquet, []int64{direct})
		must(t, err)
	}})
	resp, err := noRedirect.Get(e.url("/movie/%s/%s/%d.mp4", e.line.Username, e.pass, direct))
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "http://cdn.example.com/m/9.mp4" {
		t.Errorf("direct source = %d Location %q, want 302 to the source", resp.StatusCode, resp.Header.Get("Location"))
	}
	eventually(t, "no slot held", func() bool { return e.leases() == 0 })
}
