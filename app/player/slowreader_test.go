package player_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/logx"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// The slow-reader scenario of issue 11: 20 clients open xmltv.php?next_days=14 of a large
// guide (200 channels, hourly programmes from 8 days back to 15 days ahead: 110,400 stored,
// a 15-day window of about 28 MB of XMLTV per download) and stop reading, while logins, stream
// opens and /readyz go on. The database pool is the test pool of 4 connections: before the fix
// each stalled download held one for up to 10 minutes, and everything else waited for one
// until its deadline (503).
const (
	slowChannels = 200
	slowReaders  = 20
	slowSamples  = 30 // requests of each kind per phase
)

// slowEnv is one database with the large guide, a movie on an http upstream and lines.
type slowEnv struct {
	st    *store.Store
	movie int64
	bq    int64
}

func newSlowEnv(t *testing.T) *slowEnv {
	t.Helper()
	ctx := context.Background()
	st := store.New(testdb.New(t))
	e := &slowEnv{st: st}
	cats, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"Live"})
	if err != nil {
		t.Fatal(err)
	}
	cat := cats["Live"]
	items := make([]store.StreamInput, slowChannels)
	for i := range items {
		epg := fmt.Sprintf("ch%03d.tv", i)
		items[i] = store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Channel %03d", i), CategoryID: &cat,
			EPGChannelID: &epg, Sources: []store.Source{{URL: fmt.Sprintf("http://upstream.example/%d.ts", i)}}}
	}
	res, err := st.ImportStreams(ctx, store.MatchBySource, items)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	blob := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "movie.mp4", time.Unix(0, 0), bytes.NewReader(blob))
	}))
	t.Cleanup(up.Close)
	mp4 := "mp4"
	if e.movie, err = st.CreateStream(ctx, store.StreamInput{Kind: store.KindMovie, Name: "Movie",
		ContainerExtension: &mp4, Sources: []store.Source{{URL: up.URL + "/movie.mp4"}}}); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, e.movie)
	if e.bq, _, err = st.EnsureBouquet(ctx, "All"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetBouquetStreams(ctx, e.bq, ids); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Hour)
	testdb.MustExec(t, st, `INSERT INTO epg_channels (id, display_name) SELECT 'ch'||lpad(c::text, 3, '0')||'.tv', 'Channel '||c
		FROM generate_series(0, $1 - 1) c`, slowChannels)
	testdb.MustExec(t, st, `INSERT INTO epg_programmes (channel_id, start_at, stop_at, title, description, lang)
		SELECT 'ch'||lpad(c::text, 3, '0')||'.tv', $2::timestamptz + h*interval '1 hour', $2::timestamptz + (h+1)*interval '1 hour',
			'Programme '||h, repeat('A plausible description of this hour. ', 7), 'en'
		FROM generate_series(0, $1 - 1) c, generate_series(-8*24, 15*24 - 1) h`, slowChannels, now)
	testdb.MustExec(t, st, `ANALYZE`)
	for k, v := range map[string]any{"rate_limit_per_second": 0, "stream_rate_limit_per_second": 0, "flood_auth_failures": 0} {
		if err := st.SetSetting(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// serve starts a production server with the given download limits and guide budget (0: the
// default) on loopback.
func (e *slowEnv) serve(t *testing.T, perLine, perIP int, guideBytes int64) string {
	t.Helper()
	return liveServer(t, e.st, nil, func(c *config.Config) {
		c.DownloadsPerLine, c.DownloadsPerIP, c.GuideCacheBytes = perLine, perIP, guideBytes
		c.InstanceID = "slow"
	})
}

// newLines creates n lines on the bouquet (their first login is cold: a lookup, a hash and a
// connection count).
func (e *slowEnv) newLines(t *testing.T, n int) (users, passwords []string) {
	t.Helper()
	for range n {
		line, pass := testdb.NewLine(t, e.st, func(in *store.LineInput) {
			in.BouquetIDs, in.MaxConnections = []int64{e.bq}, 0
		})
		users, passwords = append(users, line.Username), append(passwords, pass)
	}
	return users, passwords
}

// stalled is a client that sent its request, read the status line and a first megabyte of a
// 200 answer, and then stopped reading.
type stalled struct {
	conn   net.Conn
	r      *bufio.Reader
	status int
}

func openStalled(t *testing.T, base, user, pass string) *stalled {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	q := url.Values{"username": {user}, "password": {pass}, "next_days": {"14"}}
	fmt.Fprintf(conn, "GET /xmltv.php?%s HTTP/1.1\r\nHost: tv\r\n\r\n", q.Encode())
	s := &stalled{conn: conn, r: bufio.NewReaderSize(conn, 64<<10)}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second)) // status 0: no answer in time
	resp, err := http.ReadResponse(s.r, nil)
	if err != nil {
		return s
	}
	s.status = resp.StatusCode
	if s.status == http.StatusOK {
		if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
			s.status = 0
			return s
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	s.r = bufio.NewReader(resp.Body) // what is left of the body, unread for now
	return s
}

// latencies is one kind of request's timings in one phase.
type latencies []time.Duration

func (l latencies) String() string {
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration {
		return s[min(len(s)-1, int(p*float64(len(s))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %v p99 %v max %v", q(0.5), q(0.99), s[len(s)-1].Round(100*time.Microsecond))
}

// measure times slowSamples cold logins (of lines users, created beforehand: a stalled pool
// would stall the test's own inserts), movie opens and /readyz probes, one at a time, and fails
// t on any answer that is not a success.
func (e *slowEnv) measure(t *testing.T, base string, users, passes []string) (login, open, ready latencies) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	get := func(target string, hdr map[string]string, want int, body string) time.Duration {
		path, query, _ := strings.Cut(target, "?")
		shown := logx.RedactPath(path) + "?" + logx.RedactQuery(query)
		req, _ := http.NewRequest(http.MethodGet, base+target, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", shown, err)
			return time.Since(start)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != want || !strings.Contains(string(b), body) {
			t.Errorf("GET %s = %d %.80q, want %d", shown, resp.StatusCode, b, want)
		}
		return d
	}
	for i := range slowSamples {
		login = append(login, get(api(playerAPI, "username", users[i], "password", passes[i]), nil, 200, `"auth":1`))
		open = append(open, get(fmt.Sprintf("/movie/%s/%s/%d.mp4", users[i], passes[i], e.movie),
			map[string]string{"Range": "bytes=0-9"}, http.StatusPartialContent, "0123456789"))
		ready = append(ready, get("/readyz", nil, 200, "ok"))
	}
	return login, open, ready
}

// TestSlowReaders_XMLTV: with 20 stalled guide downloads, logins, stream opens and /readyz
// answer as they do without them. With the default limits (2 per line, 4 per address) 18 of
// the 20 are refused with 429 at once; with the limits lifted all 20 run and stall, and still
// no request waits for them: the stalled downloads are copies of one kept document, or, with no
// guide kept, each reads the guide in pages with no pool connection held while its client is
// written to. Each stalled download is complete once its client reads on.
// The latencies are logged (go test -run TestSlowReaders -v), not asserted.
func TestSlowReaders_XMLTV(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a large guide")
	}
	e := newSlowEnv(t)
	for _, limits := range []struct {
		name            string
		perLine, perIP  int
		guideBytes      int64
		running, refuse int
	}{
		{"default limits", config.DefaultDownloadsPerLine, config.DefaultDownloadsPerIP, 0, 2, 18},
		{"limits lifted", slowReaders, slowReaders, 0, 20, 0},
		// Every download exporting its own document from the database as its client reads.
		{"limits lifted, no guide kept", slowReaders, slowReaders, -1, 20, 0},
	} {
		t.Run(limits.name, func(t *testing.T) {
			base := e.serve(t, limits.perLine, limits.perIP, limits.guideBytes)
			users, passes := e.newLines(t, 1+2*slowSamples) // the stalled one, then one per sample
			l0, o0, r0 := e.measure(t, base, users[1:1+slowSamples], passes[1:1+slowSamples])
			var readers []*stalled
			statuses := map[int]int{}
			for range slowReaders {
				s := openStalled(t, base, users[0], passes[0])
				readers = append(readers, s)
				statuses[s.status]++
			}
			if statuses[200] != limits.running || statuses[429] != limits.refuse {
				t.Errorf("stalled downloads answered %v, want %d × 200 and %d × 429", statuses, limits.running, limits.refuse)
			}
			pool := e.st.Pool()
			l1, o1, r1 := e.measure(t, base, users[1+slowSamples:], passes[1+slowSamples:])
			held := pool.Stat().AcquiredConns()
			t.Logf("without stalled readers: login %v | stream open %v | readyz %v", l0, o0, r0)
			t.Logf("with %d stalled (%d running): login %v | stream open %v | readyz %v; pool %d/%d acquired after",
				slowReaders, limits.running, l1, o1, r1, held, pool.Config().MaxConns)
			// Every running download was still mid-document and finishes once read.
			var wg sync.WaitGroup
			for _, s := range readers {
				if s.status != 200 {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					rest, err := io.ReadAll(s.r)
					if err != nil || len(rest) < 10<<20 || !bytes.HasSuffix(rest, []byte("</tv>\n")) {
						t.Errorf("stalled download: %d more bytes (%v), want the rest of the document (> 10 MB)", len(rest), err)
					}
				}()
			}
			wg.Wait()
		})
	}
}
