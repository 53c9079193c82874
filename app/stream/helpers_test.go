package stream_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/testmedia"
	"github.com/xtreamd/xtreamd/internal/token"
)

func TestMain(m *testing.M) {
	if os.Getenv("XTREAMD_BENCH_CLIENT") != "" || os.Getenv("XTREAMD_BENCH_ORIGIN") != "" || os.Getenv("XTREAMD_STORM_CLIENT") != "" {
		// A process of the load or storm benchmark (load_test.go, storm_test.go) that needs no
		// database: without this the storm's viewer process ran initdb and a PostgreSQL cluster
		// of its own beside the server it measures.
		os.Exit(m.Run())
	}
	// Every server, stream writer, relay hub and origin must be gone once the tests are.
	os.Exit(testdb.Main(m, noRedirect))
}

// waitLimit bounds every wait: long enough for a loaded 2-core box, short enough to fail fast.
const waitLimit = 20 * time.Second

const tokenSecret = "stream-test-secret-0123456789abcdef"

// origin is a live MPEG-TS upstream: the clip looped and restamped into one continuous stream,
// paced at speed times real time. It counts the connections it served.
type origin struct {
	*httptest.Server
	conns atomic.Int64 // requests served so far
	open  atomic.Int64 // requests in progress
}

func newOrigin(t testing.TB, speed int) *origin {
	t.Helper()
	lf := newLoop(testmedia.Clip(t))
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.conns.Add(1)
		o.open.Add(1)
		defer o.open.Add(-1)
		w.Header().Set("Content-Type", "video/mp2t")
		lf.serve(r.Context(), w, speed)
	}))
	t.Cleanup(o.Close)
	return o
}

const pkt = 188

// loop is a TS clip prepared for looping.
type loop struct {
	data    []byte
	dur90k  int64
	packets int
}

func newLoop(data []byte) *loop {
	data = data[:len(data)/pkt*pkt]
	l := &loop{data: data, packets: len(data) / pkt}
	var first, last uint64
	n, pcrPID := 0, -1
	for i := 0; i < len(data); i += pkt {
		p := data[i : i+pkt]
		if pcr, ok := pcrOf(p); ok && (pcrPID < 0 || pid(p) == pcrPID) {
			if pcrPID < 0 {
				pcrPID, first = pid(p), pcr
			}
			last = pcr
			n++
		}
	}
	span := int64(last - first)
	l.dur90k = span + span/int64(n-1)
	return l
}

func pid(p []byte) int { return int(p[1]&0x1f)<<8 | int(p[2]) }

func pcrOf(p []byte) (uint64, bool) {
	if p[3]&0x20 == 0 || p[4] < 7 || p[5]&0x10 == 0 {
		return 0, false
	}
	return uint64(p[6])<<25 | uint64(p[7])<<17 | uint64(p[8])<<9 | uint64(p[9])<<1 | uint64(p[10])>>7, true
}

// serve writes the loop until ctx ends or a write fails: loop k adds k loop lengths to every
// PCR, PTS and DTS and keeps continuity counters running, so players see one live stream.
func (l *loop) serve(ctx context.Context, w http.ResponseWriter, speed int) {
	rc := http.NewResponseController(w)
	cc := map[int]byte{}
	perPacket := time.Duration(l.dur90k) * time.Second / 90000 / time.Duration(l.packets) / time.Duration(speed)
	buf := make([]byte, 7*pkt)
	start, sent := time.Now(), 0
	for k := int64(0); ; k++ {
		off := k * l.dur90k
		for i := 0; i+len(buf) <= len(l.data); i += len(buf) {
			copy(buf, l.data[i:])
			for j := 0; j < len(buf); j += pkt {
				restamp(buf[j:j+pkt], off, cc)
			}
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				return
			}
			sent += 7
			if d := time.Until(start.Add(time.Duration(sent) * perPacket)); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
	}
}

// readTimestamp decodes a PES header's 5-byte PTS or DTS field (90 kHz).
func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

func restamp(p []byte, off int64, cc map[int]byte) {
	id := pid(p)
	if p[3]&0x10 != 0 {
		if c, ok := cc[id]; ok {
			p[3] = p[3]&0xf0 | c
		}
		cc[id] = (p[3] + 1) & 0x0f
	}
	if off == 0 {
		return
	}
	if pcr, ok := pcrOf(p); ok {
		v := (pcr + uint64(off)) & (1<<33 - 1)
		p[6], p[7], p[8], p[9] = byte(v>>25), byte(v>>17), byte(v>>9), byte(v>>1)
		p[10] = p[10]&0x7f | byte(v<<7)
	}
	if p[1]&0x40 == 0 {
		return
	}
	pl := p[4:]
	if p[3]&0x20 != 0 {
		pl = p[5+int(p[4]):]
	}
	if len(pl) < 19 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 {
		return
	}
	ts := func(b []byte) {
		v := readTimestamp(b) + off
		v &= 1<<33 - 1
		b[0] = b[0]&0xf1 | byte(v>>29)&0x0e
		b[1], b[2] = byte(v>>22), byte(v>>14)|1
		b[3], b[4] = byte(v>>7), byte(v<<1)|1
	}
	switch pl[7] >> 6 {
	case 2:
		ts(pl[9:14])
	case 3:
		ts(pl[9:14])
		ts(pl[14:19])
	}
}

// env is one running server over its own database with a catalog: a live channel on a paced
// origin, a movie on a local file, a movie on an http origin, an episode, a catch-up channel.
type env struct {
	t        testing.TB
	st       *store.Store
	srv      *server.Server
	base     string
	line     store.Line
	pass     string
	origin   *origin
	live     int64 // on the origin
	down     int64 // a live channel whose only source is dead
	movie    int64 // local file
	httpVOD  int64 // http origin with Range
	episode  int64
	shift    int64 // catch-up channel
	other    int64 // a live channel outside the line's bouquet
	bouquet  int64
	vodData  []byte
	shiftReq chan string // catch-up upstream request URIs
	keys     *token.Keyring
	logs     *testkit.Buffer
	reg      *prometheus.Registry
	cfg      config.Config
	stop     func() error // shuts the server down; returns Serve's error
}

type envOpts struct {
	speed    int                        // origin pacing (default 4× real time)
	line     func(*store.LineInput)     // line adjustments
	cfg      func(*config.Config)       // config adjustments
	sources  func(o *origin) []string   // live channel sources (default: the origin)
	settings map[string]string          // settings rows (JSON values)
	extra    func(t *testing.T, e *env) // more catalog before the server starts (tests only)
	// hashVerify is the server's password verification in a hashing slot (nil: argon2id).
	hashVerify func(encodedHash, password string) (bool, error)
}

func setup(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.speed == 0 {
		o.speed = 4
	}
	pool := testdb.New(t)
	st := store.New(pool)
	ctx := context.Background()
	e := &env{t: t, st: st, logs: &testkit.Buffer{}, shiftReq: make(chan string, 16), reg: prometheus.NewRegistry()}
	e.origin = newOrigin(t, o.speed)
	for k, v := range o.settings {
		testdb.MustExec(t, st, `INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)`, k, v)
	}
	// No flood block of the loopback address while a test sends wrong passwords.
	testdb.MustExec(t, st, `INSERT INTO settings (key, value) VALUES ('flood_auth_failures', '0') ON CONFLICT (key) DO NOTHING`)
	// Nor a stream-open rate limit: the tests open streams faster than any player (see stream_flood_test.go).
	testdb.MustExec(t, st, `INSERT INTO settings (key, value) VALUES ('stream_rate_limit_per_second', '0') ON CONFLICT (key) DO NOTHING`)

	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	must(t, err)
	live := cats["News"]
	srcs := []store.Source{{URL: e.origin.URL + "/live.ts", Kind: store.SourceTS}}
	if o.sources != nil {
		srcs = nil
		for _, u := range o.sources(e.origin) {
			srcs = append(srcs, store.Source{URL: u})
		}
	}
	e.live, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Live", CategoryID: &live, Sources: srcs})
	must(t, err)
	dead := deadURL(t)
	e.down, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Down", CategoryID: &live,
		Sources: []store.Source{{URL: dead, Kind: store.SourceTS}}})
	must(t, err)
	e.other, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Other", CategoryID: &live,
		Sources: []store.Source{{URL: e.origin.URL + "/other.ts"}}})
	must(t, err)

	// Catch-up upstream: records what it was asked for and answers a short TS body.
	shiftUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case e.shiftReq <- r.URL.RequestURI():
		default:
		}
		w.Header().Set("Content-Type", "video/mp2t")
		_, _ = w.Write(testmedia.Clip(t)[:188*100])
	}))
	t.Cleanup(shiftUp.Close)
	tpl := shiftUp.URL + "/archive/{stream_id}/{Y}{m}{d}-{H}{M}{S}/{start_unix}-{end_unix}/{duration_min}m-{duration_sec}s.ts?iso={utc_iso}"
	e.shift, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: "Archive", CategoryID: &live,
		TVArchiveDays: 3, CatchupSource: &tpl, Sources: []store.Source{{URL: e.origin.URL + "/shift.ts"}}})
	must(t, err)

	// Movies: a local file and an http origin, both 1 MiB of a known pattern.
	e.vodData = make([]byte, 1<<20)
	for i := range e.vodData {
		e.vodData[i] = byte(i*7 + i>>8)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "movie.mp4")
	must(t, os.WriteFile(path, e.vodData, 0o644))
	mcats, _, err := st.EnsureCategories(ctx, store.KindMovie, []string{"Films"})
	must(t, err)
	films := mcats["Films"]
	mp4, mkv := "mp4", "mkv"
	e.movie, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "Movie", CategoryID: &films,
		ContainerExtension: &mp4, Sources: []store.Source{{URL: "file://" + path, Kind: store.SourceFile}}})
	must(t, err)
	vodUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "movie.mkv", time.Unix(0, 0), bytes.NewReader(e.vodData))
	}))
	t.Cleanup(vodUp.Close)
	e.httpVOD, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "Remote", CategoryID: &films,
		ContainerExtension: &mkv, Sources: []store.Source{{URL: vodUp.URL + "/movie.mkv"}}})
	must(t, err)

	scats, _, err := st.EnsureCategories(ctx, store.KindSeries, []string{"Shows"})
	must(t, err)
	shows := scats["Shows"]
	seriesID, _, err := st.UpsertSeries(ctx, store.SeriesInput{Name: "Show", CategoryID: &shows})
	must(t, err)
	e.episode, _, err = st.UpsertEpisode(ctx, store.EpisodeInput{SeriesID: seriesID, SeasonNumber: 1, EpisodeNumber: 1,
		Stream: store.StreamInput{Name: "Pilot", ContainerExtension: &mp4, Sources: []store.Source{{URL: "file://" + path}}}})
	must(t, err)

	bq, _, err := st.EnsureBouquet(ctx, "Main")
	must(t, err)
	e.bouquet = bq
	_, err = st.SetBouquetStreams(ctx, bq, []int64{e.live, e.down, e.shift, e.movie, e.httpVOD})
	must(t, err)
	_, err = st.SetBouquetSeries(ctx, bq, []int64{seriesID})
	must(t, err)
	if o.extra != nil {
		tt, ok := t.(*testing.T)
		if !ok {
			t.Fatal("envOpts.extra is for tests, not benchmarks")
		}
		o.extra(tt, e)
	}
	e.line, e.pass = testdb.NewLine(t, st, func(in *store.LineInput) {
		in.BouquetIDs = []int64{bq}
		in.MaxConnections = 0
		if o.line != nil {
			o.line(in)
		}
	})

	// Local movies live in t.TempDir() directories, all below os.TempDir(); the tests of the
	// media-dir rule itself (stream_source_test.go) narrow it.
	cfg := config.Config{Listen: "127.0.0.1:0", PublicHost: "tv.example.com", PublicScheme: "http",
		ShutdownTimeout: 5 * time.Second, TokenSecret: tokenSecret, Timezone: time.UTC, TimezoneName: "UTC",
		InstanceID: "test", MediaDirs: []string{os.TempDir()}}
	if o.cfg != nil {
		o.cfg(&cfg)
	}
	e.keys, err = token.NewKeyring([]byte(tokenSecret), 1)
	must(t, err)
	e.cfg = cfg
	e.srv, e.base, e.stop = startServer(t, server.Deps{Config: cfg, Store: st, Registry: e.reg, HashVerify: o.hashVerify}, e.logs)
	return e
}

// startServer runs the production server of d (its log at debug level to logs) on a loopback
// listener until the test ends. It returns the server, its base URL and the function that
// shuts it down (returning Serve's error; the cleanup calls it too).
func startServer(t testing.TB, d server.Deps, logs io.Writer) (*server.Server, string, func() error) {
	t.Helper()
	d.Log = logx.New(logs, "text", slog.LevelDebug)
	srv, err := server.New(t.Context(), d)
	must(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	return srv, "http://" + ln.Addr().String(), testkit.Serve(t, srv, ln, waitLimit)
}

// peer starts a second server instance over the same database, with a pool of its own (as
// another machine behind the load balancer would), and returns its store and base URL.
func (e *env) peer() (*store.Store, string) {
	e.t.Helper()
	pool, err := pgxpool.New(context.Background(), e.st.Pool().Config().ConnString())
	must(e.t, err)
	e.t.Cleanup(pool.Close)
	st := store.New(pool)
	cfg := e.cfg
	cfg.InstanceID = "peer"
	_, base, _ := startServer(e.t, server.Deps{Config: cfg, Store: st, Registry: prometheus.NewRegistry()}, e.logs)
	return st, base
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// deadURL is an http URL whose server closes every connection at once, before a byte. It keeps
// its port until the test ends: a port merely closed again could be taken by another test's
// origin running in parallel, and the "dead" source would serve that test's stream (a flake:
// the open answered 200, then waited for data from an origin that had since gone).
func deadURL(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String() + "/dead.ts"
}

func (e *env) url(format string, args ...any) string { return e.base + fmt.Sprintf(format, args...) }

// liveURL is the /live URL of stream id with extension ext, with the line's credentials.
func (e *env) liveURL(id int64, ext string) string {
	return e.url("/live/%s/%s/%d.%s", e.line.Username, e.pass, id, ext)
}

// do sends a request and returns the status, headers and whole body.
func do(t testing.TB, method, url string, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	must(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := boundedClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, b
}

// boundedClient is do's client: a whole answer that takes longer than this fails the test
// instead of hanging it (a live stream, which never ends, is opened with openStream).
var boundedClient = &http.Client{Timeout: 3 * waitLimit}

// noRedirect is a client that reports redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// openStream starts a GET and returns the response with its body unread.
func openStream(t testing.TB, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// readN reads n bytes of a stream within waitLimit.
func readN(t testing.TB, r io.Reader, n int) []byte {
	t.Helper()
	buf := make([]byte, n)
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(r, buf); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("reading %d bytes: %v", n, err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("reading %d bytes: timed out", n)
	}
	return buf
}

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testdb.Eventually(t, waitLimit, what, cond)
}

// leases counts the live connection leases of the test line (or of the line given).
func (e *env) leases(line ...int64) int {
	id := e.line.ID
	if len(line) > 0 {
		id = line[0]
	}
	n, err := e.st.CountLiveLeases(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// ffprobe runs ffprobe on url and returns the codec names it found.
func ffprobe(t *testing.T, url string) string { return testmedia.Codecs(t, url, waitLimit) }

// metric returns the text exposition lines of the server's registry that start with name.
func (e *env) metric(name string) string {
	_, _, b := do(e.t, http.MethodGet, e.base+"/metrics", nil)
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// metricValue is the value of the (last) series named name.
func metricValue(e *env, name string) float64 {
	m := e.metric(name)
	i := strings.LastIndexByte(m, ' ')
	if i < 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(m[i+1:], 64)
	return v
}

// newLine adds a line entitled to the test bouquet.
func (e *env) newLine(mod func(*store.LineInput)) (store.Line, string) {
	return testdb.NewLine(e.t, e.st, func(in *store.LineInput) {
		in.BouquetIDs = []int64{e.bouquet}
		in.MaxConnections = 0
		if mod != nil {
			mod(in)
		}
	})
}

// sign signs a token with the server's secret; a token of the test line without an issuing
// credential gets the line's password as one, as a link handed out to its player would.
func (e *env) sign(c token.Claims) string {
	if c.Credential == (token.Credential{}) && c.LineID == e.line.ID {
		c.Credential = access.PasswordCredential(e.line.PasswordHash)
	}
	tok, err := e.keys.Sign(c)
	must(e.t, err)
	return tok
}
