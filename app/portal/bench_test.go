package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// The portal's performance bar: get_all_channels of a line entitled to 10,000 channels as
// cheap as the player API's get_live_streams of the same line (p50 under 20 ms through the
// whole production app over loopback), the start-up handshake + get_profile and create_link
// (with its play token) near a bare Fiber handler sending the same bytes. Each benchmark
// measures its baseline in the same run, with a Go client in the same process.
//
//	go test ./app/portal/ -run '^$' -bench . -benchtime 3s

const benchChannels = 10_000

type benchEnv struct {
	base       string
	mac, token string
	player     string // get_live_streams of the same line
	client     *http.Client
	// acceptEncoding, when set, is sent (the client decodes nothing); header is the last
	// answer's.
	acceptEncoding string
	header         http.Header
	st             *store.Store // the server's database
}

func newBench(b testing.TB) *benchEnv {
	b.Helper()
	ctx := context.Background()
	st := store.New(testdb.New(b))
	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"A", "B", "C", "D", "E"})
	must(b, err)
	items := make([]store.StreamInput, benchChannels)
	for i := range items {
		cat, epg := cats[string(rune('A'+i%5))], fmt.Sprintf("ch%05d.bench", i)
		items[i] = store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Channel %05d HD", i), CategoryID: &cat,
			Icon: fmt.Sprintf("http://img.example/logos/%05d.png", i), EPGChannelID: &epg, TVArchiveDays: int32(i % 3),
			Sources: []store.Source{{URL: fmt.Sprintf("http://upstream.example/live/%05d.ts", i)}}}
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	must(b, err)
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	bq, _, err := st.EnsureBouquet(ctx, "All")
	must(b, err)
	_, err = st.SetBouquetStreams(ctx, bq, ids)
	must(b, err)
	hash, err := credential.Hash("bench-pass", credential.DefaultParams)
	must(b, err)
	lineID, err := st.CreateLine(ctx, store.LineInput{Username: "bench", PasswordHash: hash, MaxConnections: 0, BouquetIDs: []int64{bq}})
	must(b, err)
	// DisableCompression: the answers as they are, the portal's and the player API's alike.
	be := &benchEnv{st: st, mac: "00:1A:79:BE:4C:01", client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}}}
	_, err = st.CreateMAGDevice(ctx, lineID, be.mac)
	must(b, err)
	must(b, st.SetSetting(ctx, "rate_limit_per_second", 0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	cfg := config.Config{Listen: ln.Addr().String(), PublicHost: "127.0.0.1", PublicPort: ln.Addr().(*net.TCPAddr).Port,
		PublicScheme: "http", ShutdownTimeout: 5 * time.Second, TokenSecret: "portal-bench-secret-0123456789abcdef",
		Timezone: time.UTC, TimezoneName: "UTC", InstanceID: "bench", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	// Production logging: every request formats its access-log line (to a discarding writer).
	srv, err := server.New(ctx, server.Deps{Config: cfg, Log: logx.New(io.Discard, "text", slog.LevelInfo), Store: st})
	must(b, err)
	go func() { _ = srv.App().Listener(ln) }()
	b.Cleanup(func() { _ = srv.App().ShutdownWithTimeout(5 * time.Second) })
	be.base = "http://" + ln.Addr().String()
	be.player = be.base + "/player_api.php?username=bench&password=bench-pass&action=get_live_streams"
	return be
}

// do sends q to base with the box's cookie, token and client address, and hands the body to
// read.
func (be *benchEnv) do(b testing.TB, base string, q url.Values, ip string, read func(io.Reader) ([]byte, error)) []byte {
	req, err := http.NewRequest(http.MethodGet, base+"/portal.php?"+q.Encode(), nil)
	must(b, err)
	req.Header.Set("Cookie", "mac="+url.QueryEscape(be.mac)+"; stb_lang=en; timezone=UTC")
	req.Header.Set("User-Agent", mag250UA)
	if be.token != "" {
		req.Header.Set("Authorization", "Bearer "+be.token)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	if be.acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", be.acceptEncoding)
	}
	resp, err := be.client.Do(req)
	must(b, err)
	be.header = resp.Header
	defer resp.Body.Close()
	body, err := read(resp.Body)
	must(b, err)
	if resp.StatusCode != 200 {
		b.Fatalf("%v = %d %.200s", q, resp.StatusCode, body)
	}
	return body
}

// get returns the body.
func (be *benchEnv) get(b testing.TB, base string, q url.Values, ip string) []byte {
	return be.do(b, base, q, ip, io.ReadAll)
}

// discard reads the body into io.Discard, as the player benchmark does.
func (be *benchEnv) discard(b *testing.B, q url.Values) {
	be.do(b, be.base, q, "", func(r io.Reader) ([]byte, error) { _, err := io.Copy(io.Discard, r); return nil, err })
}

func call(typ, action string, kv ...string) url.Values {
	q := url.Values{"type": {typ}, "action": {action}, "JsHttpRequest": {"1-xml"}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// handshake starts the box's session from ip and keeps its token; it returns the answer.
func (be *benchEnv) handshake(b testing.TB, ip string) []byte {
	be.token = ""
	body := be.get(b, be.base, call("stb", "handshake"), ip)
	var hs struct {
		JS struct {
			Token string `json:"token"`
		} `json:"js"`
	}
	must(b, json.Unmarshal(body, &hs))
	be.token = hs.JS.Token
	return body
}

// bareServer answers every path with body, as a bare Fiber app: the same-run baseline.
func bareServer(b *testing.B, bodies map[string][]byte) string {
	b.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, Network: fiber.NetworkTCP})
	app.Get("/portal.php", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
		return c.Send(bodies[c.Query("action")])
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(b, err)
	go func() { _ = app.Listener(ln) }()
	b.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return "http://" + ln.Addr().String()
}

// measure runs fn b.N times and reports the p50 and p99 latency.
func measure(b *testing.B, fn func(i int)) {
	b.Helper()
	var lat []time.Duration
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		start := time.Now()
		fn(i)
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkHandshakeProfile: a box's start-up, stb/handshake then stb/get_profile (each from
// a fresh client address: the handshake rate limit is per address).
func BenchmarkHandshakeProfile(b *testing.B) {
	be := newBench(b)
	prof := call("stb", "get_profile", mag250Profile("0123456789ABC")...)
	hs := be.handshake(b, "10.0.0.1")
	profBody := be.get(b, be.base, prof, "10.0.0.1")
	be.token = ""
	bare := bareServer(b, map[string][]byte{"handshake": hs, "get_profile": profBody})
	b.Run("xtreamd", func(b *testing.B) {
		measure(b, func(i int) {
			ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			be.handshake(b, ip)
			be.get(b, be.base, prof, ip)
		})
	})
	b.Run("bare", func(b *testing.B) {
		measure(b, func(int) {
			be.get(b, bare, call("stb", "handshake"), "")
			be.get(b, bare, prof, "")
		})
	})
}

// BenchmarkGetAllChannels10k: itv/get_all_channels of the 10,000-channel line, and the
// player API's get_live_streams of the same line, in the same run.
func BenchmarkGetAllChannels10k(b *testing.B) {
	be := newBench(b)
	be.handshake(b, "")
	all := call("itv", "get_all_channels")
	body := be.get(b, be.base, all, "") // warm: the lineup of this bouquet set
	var page struct {
		JS struct {
			TotalItems int `json:"total_items"`
		} `json:"js"`
	}
	must(b, json.Unmarshal(body, &page))
	if page.JS.TotalItems != benchChannels {
		b.Fatalf("get_all_channels lists %d channels", page.JS.TotalItems)
	}
	b.Run("get_all_channels", func(b *testing.B) {
		measure(b, func(int) { be.discard(b, all) })
		b.ReportMetric(float64(len(body)), "bytes/answer")
	})
	b.Run("get_all_channels_gzip", func(b *testing.B) {
		be.acceptEncoding = "gzip"
		defer func() { be.acceptEncoding = "" }()
		z := be.get(b, be.base, all, "") // the first ask compresses it
		if be.header.Get("Content-Encoding") != "gzip" {
			b.Fatalf("Content-Encoding %q", be.header.Get("Content-Encoding"))
		}
		measure(b, func(int) { be.discard(b, all) })
		b.ReportMetric(float64(len(z)), "bytes/answer")
	})
	b.Run("player_get_live_streams", func(b *testing.B) {
		fetch := func() int {
			resp, err := be.client.Get(be.player)
			must(b, err)
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return int(n)
		}
		n := fetch() // warm: argon2 once, then the credential cache
		measure(b, func(int) { fetch() })
		b.ReportMetric(float64(n), "bytes/answer")
	})
}

// BenchmarkCreateLink: itv/create_link, signing its play token, against a bare handler.
func BenchmarkCreateLink(b *testing.B) {
	be := newBench(b)
	be.handshake(b, "")
	link := call("itv", "create_link", "cmd", "ffmpeg http://localhost/ch/100_")
	body := be.get(b, be.base, link, "")
	var got struct {
		JS struct {
			Error string `json:"error"`
		} `json:"js"`
	}
	must(b, json.Unmarshal(body, &got))
	if got.JS.Error != "" {
		b.Fatalf("create_link = %s", body)
	}
	bare := bareServer(b, map[string][]byte{"create_link": body})
	b.Run("xtreamd", func(b *testing.B) { measure(b, func(int) { be.get(b, be.base, link, "") }) })
	b.Run("bare", func(b *testing.B) { measure(b, func(int) { be.get(b, bare, link, "") }) })
}

// TestGetAllChannels_Gzip: itv/get_all_channels of the 10,000-channel line goes gzip-encoded
// to a box that accepts gzip and decodes to the bytes a box that does not gets; the kept
// answer comes again; another set of favourites (its fav flags) is its own answer; the short
// lists never vary.
func TestGetAllChannels_Gzip(t *testing.T) {
	t.Parallel()
	be := newBench(t)
	be.handshake(t, "")
	all := call("itv", "get_all_channels")
	gunzip := func(z []byte) []byte { return testkit.Gunzip(t, z) }
	same := func() (plain, z []byte) {
		t.Helper()
		be.acceptEncoding = ""
		plain = be.get(t, be.base, all, "")
		if be.header.Get("Content-Encoding") != "" || be.header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("plain: Content-Encoding %q, Vary %q", be.header.Get("Content-Encoding"), be.header.Get("Vary"))
		}
		be.acceptEncoding = "gzip, deflate"
		z = be.get(t, be.base, all, "")
		if be.header.Get("Content-Encoding") != "gzip" || be.header.Get("Content-Type") != "application/json" {
			t.Fatalf("gzip: Content-Encoding %q, Content-Type %q", be.header.Get("Content-Encoding"), be.header.Get("Content-Type"))
		}
		if !bytes.Equal(gunzip(z), plain) {
			t.Fatal("the gzip answer decodes to other bytes than the plain one")
		}
		return plain, z
	}
	plain, z := same()
	t.Logf("get_all_channels: %d bytes, %d gzip-encoded", len(plain), len(z))
	if again := be.get(t, be.base, all, ""); !bytes.Equal(again, z) {
		t.Error("the second gzip answer is not the kept one")
	}
	var ok struct {
		JS bool `json:"js"`
	}
	must(t, json.Unmarshal(be.get(t, be.base, call("itv", "set_fav", "fav_ch", "1,2,3"), ""), &ok))
	favPlain, _ := same()
	if bytes.Equal(favPlain, plain) || bytes.Count(favPlain, []byte(`"fav":1`)) != 3 {
		t.Errorf("after set_fav: %d channels flagged, want 3", bytes.Count(favPlain, []byte(`"fav":1`)))
	}
	be.acceptEncoding = "gzip"
	be.get(t, be.base, call("itv", "get_ordered_list", "genre", "*", "p", "1"), "")
	if be.header.Get("Content-Encoding") != "" || be.header.Get("Vary") != "" {
		t.Errorf("a page of 14: Content-Encoding %q, Vary %q; want it as it is", be.header.Get("Content-Encoding"), be.header.Get("Vary"))
	}
}

// BenchmarkEPGInfo10k: itv/get_epg_info (period=3, the default) of the 10,000-channel line,
// every channel with a guide of hourly programmes: what a box or app fetches as its bulk
// guide. "built": each ask after a guide update (a statement on the programmes that changes
// no row bumps the EPG version), so the answer is built (and compressed, to be kept);
// "kept": the same minute's answer again, as it is and gzip-encoded. p50/p99 are the request
// latencies as the client sees them.
func BenchmarkEPGInfo10k(b *testing.B) {
	be := newBench(b)
	testdb.MustExec(b, be.st, `INSERT INTO epg_channels (id) SELECT 'ch'||lpad(c::text, 5, '0')||'.bench' FROM generate_series(0, $1 - 1) c`, benchChannels)
	testdb.MustExec(b, be.st, `INSERT INTO epg_programmes (channel_id, start_at, stop_at, title, description, lang)
		SELECT 'ch'||lpad(c::text, 5, '0')||'.bench', date_trunc('hour', now()) + h*interval '1 hour',
			date_trunc('hour', now()) + (h+1)*interval '1 hour', 'Programme '||h||' of '||c,
			'What happens in hour '||h||' on channel '||c||'.', 'en'
		FROM generate_series(0, $1 - 1) c, generate_series(-2, 21) h`, benchChannels)
	testdb.MustExec(b, be.st, `ANALYZE`)
	be.handshake(b, "")
	info := call("itv", "get_epg_info", "period", "3")
	body := be.get(b, be.base, info, "")
	var answer struct {
		JS struct {
			Data map[string][]json.RawMessage `json:"data"`
		} `json:"js"`
	}
	must(b, json.Unmarshal(body, &answer))
	if len(answer.JS.Data) != benchChannels {
		b.Fatalf("get_epg_info has %d channels", len(answer.JS.Data))
	}
	b.Run("built", func(b *testing.B) {
		measure(b, func(int) {
			testdb.MustExec(b, be.st, `UPDATE epg_programmes SET title = title WHERE false`)
			be.discard(b, info)
		})
		b.ReportMetric(float64(len(body)), "bytes/answer")
	})
	b.Run("kept", func(b *testing.B) {
		be.get(b, be.base, info, "")
		measure(b, func(int) { be.discard(b, info) })
		b.ReportMetric(float64(len(body)), "bytes/answer")
	})
	b.Run("kept_gzip", func(b *testing.B) {
		be.acceptEncoding = "gzip"
		defer func() { be.acceptEncoding = "" }()
		z := be.get(b, be.base, info, "")
		if be.header.Get("Content-Encoding") != "gzip" {
			b.Fatalf("Content-Encoding %q", be.header.Get("Content-Encoding"))
		}
		measure(b, func(int) { be.discard(b, info) })
		b.ReportMetric(float64(len(z)), "bytes/answer")
	})
}
