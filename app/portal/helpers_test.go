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
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/server"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// waitLimit bounds every wait: long enough for a loaded 2-core box, short enough to fail fast.
const waitLimit = 20 * time.Second

// The box every session test plays: a MAG250 on WiFi, as its firmware sends it (spec §5.2).
const (
	mag250UA  = "Mozilla/5.0 (QtEmbedded; U; Linux; C) AppleWebKit/533.3 (KHTML, like Gecko) MAG200 stbapp ver: 2 rev: 250 Safari/533.3"
	mag250XUA = "Model: MAG250; Link: WiFi"
)

// env is one running server on loopback over its own database:
//
//	live categories  News, Sports, Adults (adult); radio category Radio
//	channels         Live (News, the clip looped by an http origin, EPG live.test), Archive (News,
//	                 3 days of catch-up from an http upstream, EPG archive.test), 20 more in
//	                 Sports ("Sport 01" … "Sport 20"), Night (Adults), Jazz FM (Radio), and
//	                 Other (News, outside the bouquet)
//	movies           Film (the clip over http, ts) in Films; Secret (Adults VOD)
//	series           Show: season 1 episodes 1 and 2, season 2 episode 1 (the clip over http)
//	line             the fixture line (bouquet Main: everything but Other), with a MAG device
type env struct {
	t        *testing.T
	st       *store.Store
	srv      *server.Server
	base     string
	line     store.Line
	pass     string
	mac      string // the device's MAC, canonical
	deviceID int64
	live     int64
	archive  int64
	sports   []int64
	night    int64
	radio    int64
	other    int64
	movie    int64
	secret   int64
	seriesID int64
	episodes map[string]int64 // "1/1", "1/2", "2/1"
	news     int64            // category ids
	sportCat int64
	adultCat int64
	films    int64
	shows    int64
	bouquet  int64
	shiftReq chan string
	logs     *testkit.Buffer
	stop     func() error
	now      func() time.Time // the server's clock (envOpts.now)
}

type envOpts struct {
	line     func(*store.LineInput)
	cfg      func(*config.Config)
	settings map[string]any
	now      func() time.Time // the server's clock; nil: the real one
}

func setup(t *testing.T, o envOpts) *env {
	t.Helper()
	st := store.New(testdb.New(t))
	ctx := context.Background()
	e := &env{t: t, st: st, logs: &testkit.Buffer{}, shiftReq: make(chan string, 16), episodes: map[string]int64{}}
	settings := map[string]any{"flood_auth_failures": 0, "rate_limit_per_second": 0}
	for k, v := range o.settings {
		settings[k] = v
	}
	for k, v := range settings {
		must(t, st.SetSetting(ctx, k, v))
	}
	e.catalog(t)
	e.line, e.pass = testdb.NewLine(t, st, func(in *store.LineInput) {
		in.BouquetIDs, in.MaxConnections, in.IsMAG = []int64{e.bouquet}, 0, true
		if o.line != nil {
			o.line(in)
		}
	})
	e.mac = "00:1A:79:12:34:56"
	var err error
	e.deviceID, err = st.CreateMAGDevice(ctx, e.line.ID, e.mac)
	must(t, err)
	e.now = o.now
	e.start(t, o.cfg)
	return e
}

// catalog creates the fixture catalog and EPG.
func (e *env) catalog(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	st := e.st
	data := testmedia.Clip(t)
	// An http upstream for the movie, the episodes and the recordings: the clip with Range.
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/archive/") {
			select {
			case e.shiftReq <- r.URL.RequestURI():
			default:
			}
		}
		http.ServeContent(w, r, "clip.ts", time.Unix(0, 0), bytes.NewReader(data))
	}))
	t.Cleanup(up.Close)
	origin := testmedia.LiveOrigin(t, 4)
	live := func(name string) []store.Source {
		return []store.Source{{URL: origin + "/" + name + ".ts", Kind: store.SourceTS}}
	}

	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports", "Adults"})
	must(t, err)
	e.news, e.sportCat, e.adultCat = cats["News"], cats["Sports"], cats["Adults"]
	testdb.MustExec(t, st, `UPDATE categories SET is_adult = true WHERE id = $1`, e.adultCat)
	rcats, _, err := st.EnsureCategories(ctx, store.KindRadio, []string{"Radio"})
	must(t, err)
	stream := func(in store.StreamInput) int64 {
		t.Helper()
		id, err := st.CreateStream(ctx, in)
		must(t, err)
		return id
	}
	liveEPG, archiveEPG := "live.test", "archive.test"
	tpl := up.URL + "/archive/{stream_id}/{start_unix}/{duration_min}.ts"
	e.live = stream(store.StreamInput{Kind: store.KindLive, Name: "Live", CategoryID: &e.news, EPGChannelID: &liveEPG,
		Icon: "http://img.example/live.png", Sources: live("live")})
	e.archive = stream(store.StreamInput{Kind: store.KindLive, Name: "Archive", CategoryID: &e.news, EPGChannelID: &archiveEPG,
		TVArchiveDays: 3, CatchupSource: &tpl, Sources: live("archive")})
	for i := 1; i <= 20; i++ {
		e.sports = append(e.sports, stream(store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Sport %02d", i),
			CategoryID: &e.sportCat, Sources: live(fmt.Sprintf("sport%d", i))}))
	}
	e.night = stream(store.StreamInput{Kind: store.KindLive, Name: "Night", CategoryID: &e.adultCat, Sources: live("night")})
	radio := rcats["Radio"]
	e.radio = stream(store.StreamInput{Kind: store.KindRadio, Name: "Jazz FM", CategoryID: &radio, Sources: live("jazz")})
	e.other = stream(store.StreamInput{Kind: store.KindLive, Name: "Other", CategoryID: &e.news, Sources: live("other")})

	mcats, _, err := st.EnsureCategories(ctx, store.KindMovie, []string{"Films", "Adult films"})
	must(t, err)
	e.films = mcats["Films"]
	adultFilms := mcats["Adult films"]
	testdb.MustExec(t, st, `UPDATE categories SET is_adult = true WHERE id = $1`, adultFilms)
	ts := "ts"
	e.movie = stream(store.StreamInput{Kind: store.KindMovie, Name: "Film", CategoryID: &e.films, ContainerExtension: &ts,
		Info:    json.RawMessage(`{"plot":"A film.","director":"D. Rector","cast":"A. Actor","releasedate":"2020-01-01","rating":"7.5","duration_secs":600}`),
		Sources: []store.Source{{URL: up.URL + "/film.ts"}}})
	e.secret = stream(store.StreamInput{Kind: store.KindMovie, Name: "Secret", CategoryID: &adultFilms, ContainerExtension: &ts,
		Sources: []store.Source{{URL: up.URL + "/secret.ts"}}})

	scats, _, err := st.EnsureCategories(ctx, store.KindSeries, []string{"Shows"})
	must(t, err)
	e.shows = scats["Shows"]
	e.seriesID, _, err = st.UpsertSeries(ctx, store.SeriesInput{Name: "Show", CategoryID: &e.shows})
	must(t, err)
	for _, se := range [][2]int32{{1, 1}, {1, 2}, {2, 1}} {
		id, _, err := st.UpsertEpisode(ctx, store.EpisodeInput{SeriesID: e.seriesID, SeasonNumber: se[0], EpisodeNumber: se[1],
			Stream: store.StreamInput{Name: fmt.Sprintf("Show S%02dE%02d", se[0], se[1]), ContainerExtension: &ts,
				Sources: []store.Source{{URL: up.URL + fmt.Sprintf("/show-%d-%d.ts", se[0], se[1])}}}})
		must(t, err)
		e.episodes[fmt.Sprintf("%d/%d", se[0], se[1])] = id
	}

	bq, _, err := st.EnsureBouquet(ctx, "Main")
	must(t, err)
	e.bouquet = bq
	ids := append([]int64{e.live, e.archive}, e.sports...)
	ids = append(ids, e.night, e.radio, e.movie, e.secret)
	_, err = st.SetBouquetStreams(ctx, bq, ids)
	must(t, err)
	_, err = st.SetBouquetSeries(ctx, bq, []int64{e.seriesID})
	must(t, err)
	e.guide(t)
}

// guide imports programmes for the two channels with EPG: hourly, from two days back to a day
// ahead, aligned to the hour.
func (e *env) guide(t *testing.T) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Hour)
	var progs []store.Programme
	for _, ch := range []string{"live.test", "archive.test"} {
		for h := -48; h < 24; h++ {
			start := now.Add(time.Duration(h) * time.Hour)
			progs = append(progs, store.Programme{ChannelID: ch, StartAt: start, StopAt: start.Add(time.Hour),
				Title: fmt.Sprintf("%s at %s", ch, start.Format("15:04")), Description: "About " + ch, Lang: "en"})
		}
	}
	_, err := e.st.ImportEPG(context.Background(), store.EPGFromSlices(
		[]store.EPGChannel{{ID: "live.test", DisplayName: "Live"}, {ID: "archive.test", DisplayName: "Archive"}}, progs))
	must(t, err)
}

// start runs the server on a loopback listener whose port it also advertises, so the links
// create_link hands out point back at it. 127.0.0.1 is a trusted proxy: tests speak for other
// client addresses with X-Forwarded-For.
func (e *env) start(t *testing.T, mod func(*config.Config)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := config.Config{Listen: ln.Addr().String(), PublicHost: "127.0.0.1", PublicPort: port, PublicScheme: "http",
		ShutdownTimeout: 5 * time.Second, TokenSecret: "portal-test-secret-0123456789abcdef", Timezone: time.UTC,
		TimezoneName: "UTC", InstanceID: "test", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	if mod != nil {
		mod(&cfg)
	}
	e.srv, err = server.New(t.Context(), server.Deps{Config: cfg, Log: logx.New(e.logs, "text", slog.LevelDebug), Store: e.st, Now: e.now})
	must(t, err)
	e.base = "http://" + ln.Addr().String()
	e.stop = testkit.Serve(t, e.srv, ln, waitLimit)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// box is a portal client: a MAC, the session token once it has one, and how it sends them.
type box struct {
	e       *env
	t       *testing.T
	mac     string
	token   string
	ip      string // X-Forwarded-For; "" for 127.0.0.1
	path    string // the API path, /portal.php by default
	encoded bool   // percent-encode the mac cookie, as the stock JavaScript does
	extra   string // more cookies
	ua, xua string
	// acceptEncoding, when set, is sent as it is and the body read as it came; unset, the
	// client asks for gzip and decodes it (Go's transport).
	acceptEncoding string
}

func (e *env) box(t *testing.T) *box {
	return &box{e: e, t: t, mac: e.mac, path: "/portal.php", ua: mag250UA, xua: mag250XUA}
}

// call sends type/action with params and returns the status, the content type and the body.
func (b *box) call(typ, action string, params ...string) (int, string, []byte) {
	b.t.Helper()
	q := url.Values{"type": {typ}, "action": {action}, "JsHttpRequest": {"1-xml"}}
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	req, err := http.NewRequest(http.MethodGet, b.e.base+b.path+"?"+q.Encode(), nil)
	must(b.t, err)
	mac := b.mac
	if b.encoded {
		mac = url.QueryEscape(mac)
	}
	cookie := "mac=" + mac + "; stb_lang=en; timezone=" + url.QueryEscape("Europe/Paris")
	if b.extra != "" {
		cookie += "; " + b.extra
	}
	req.Header.Set("Cookie", cookie)
	req.Header.Set("User-Agent", b.ua)
	if b.xua != "" {
		req.Header.Set("X-User-Agent", b.xua)
	}
	if b.token != "" {
		req.Header.Set("Authorization", "Bearer "+b.token)
	}
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	if b.acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", b.acceptEncoding)
	}
	resp, err := http.DefaultClient.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(b.t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// js calls and decodes the envelope's js into v (any JSON the envelope holds), failing on
// anything but a 200 JSON answer.
func (b *box) js(v any, typ, action string, params ...string) {
	b.t.Helper()
	code, ctype, body := b.call(typ, action, params...)
	if code != 200 || !strings.HasPrefix(ctype, "application/json") {
		b.t.Fatalf("%s/%s = %d %q %s", typ, action, code, ctype, body)
	}
	var env struct {
		JS json.RawMessage `json:"js"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		b.t.Fatalf("%s/%s: %v: %s", typ, action, err, body)
	}
	if err := json.Unmarshal(env.JS, v); err != nil {
		b.t.Fatalf("%s/%s: js into %T: %v: %s", typ, action, v, err, env.JS)
	}
}

// strict decodes like js, refusing fields v does not name: the headless clients' structs.
func (b *box) strict(v any, typ, action string, params ...string) {
	b.t.Helper()
	code, _, body := b.call(typ, action, params...)
	if code != 200 {
		b.t.Fatalf("%s/%s = %d %s", typ, action, code, body)
	}
	strictJSON(b.t, body, &struct {
		JS any `json:"js"`
	}{JS: v})
}

// strictJSON decodes body into v, refusing members v does not name.
func strictJSON(t testing.TB, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", v, err, body)
	}
}

// handshake starts a session, offering offered, and keeps the token it got.
func (b *box) handshake(offered string) string {
	b.t.Helper()
	var hs struct {
		Token string `json:"token"`
	}
	b.js(&hs, "stb", "handshake", "token", offered, "prehash", "0")
	b.token = hs.Token
	return hs.Token
}

// text asserts a plain-text refusal.
func (b *box) text(want, typ, action string, params ...string) {
	b.t.Helper()
	code, ctype, body := b.call(typ, action, params...)
	if code != 200 || string(body) != want || !strings.HasPrefix(ctype, "text/plain") {
		b.t.Fatalf("%s/%s = %d %q %q, want 200 %q", typ, action, code, ctype, body, want)
	}
}

// cmdURL is the URL part of a cmd ("ffmpeg http://…"): what clients keep after the space.
func cmdURL(t testing.TB, cmd string) string {
	t.Helper()
	sol, u, ok := strings.Cut(cmd, " ")
	if !ok || sol != "ffmpeg" || !strings.HasPrefix(u, "http://") {
		t.Fatalf("cmd %q is not \"ffmpeg <url>\"", cmd)
	}
	return u
}

// ffprobe runs ffprobe on url and returns the codec names it found.
func ffprobe(t *testing.T, url string) string { return testmedia.Codecs(t, url, waitLimit) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// eventually polls cond until it holds or waitLimit passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	testdb.Eventually(t, waitLimit, what, cond)
}
