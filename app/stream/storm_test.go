package stream_test

// The reconnect-storm benchmark (bench/storm.sh runs it): N lines with distinct argon2id
// hashes (production cost) watch a live channel on `xtreamd serve`; the instance restarts and
// all N reconnect within a couple of seconds. Each viewer measures the time from its first
// dial to the first byte of video, retrying a 503 (hashing queue full) after a second as a
// player would. Then the same N join the running channel again (warm joins). It runs twice in
// one go: with the shared verified-credential records (the default) and without them
// (--credential-record-ttl 0, every instance hashing each line's password itself: the
// behaviour before the records), each on a freshly started instance.
//
// The server is the real binary in a process of its own, over a PostgreSQL cluster of its own
// (durable settings, as the private cluster of `xtreamd serve`) that stays up across the
// restarts, as an external database does; the viewers run in another process (this test
// binary again, as TestStormClient), each from its own loopback address (127.1.x.y), so the
// per-client limits see N clients as they would in the field.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/pgserver"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// stormViewer is one viewer of the storm: its URL and the loopback address it dials from.
type stormViewer struct {
	URL   string `json:"url"`
	Local string `json:"local"`
}

// stormResult is what the viewer process reports, per viewer in input order.
type stormResult struct {
	FirstMS  []float64 `json:"first_ms"` // dial to first body byte, retries included; -1: never
	Attempts []int     `json:"attempts"` // requests sent (1 + the 503s retried)
	Statuses []int     `json:"statuses"` // the last status seen
}

// stormSpec is the viewer process's task.
type stormSpec struct {
	Viewers []stormViewer `json:"viewers"`
	Spread  time.Duration `json:"spread"`  // viewer i starts at i*Spread/N
	Retry   time.Duration `json:"retry"`   // pause after a 503
	GiveUp  time.Duration `json:"give_up"` // a viewer without a first byte by then has failed
	Hold    time.Duration `json:"hold"`    // everyone keeps reading this long after the last first byte
	Watch   bool          `json:"watch"`   // read the stream after the first byte, as a player does
}

// TestStormClient is the viewer process: XTREAMD_STORM_CLIENT names a JSON stormSpec file; it
// prints one line "RESULT {stormResult}".
func TestStormClient(t *testing.T) {
	path := os.Getenv("XTREAMD_STORM_CLIENT")
	if path == "" {
		t.Skip("viewer process of the storm benchmark")
	}
	b, err := os.ReadFile(path)
	must(t, err)
	var spec stormSpec
	must(t, json.Unmarshal(b, &spec))
	n := len(spec.Viewers)
	res := stormResult{FirstMS: make([]float64, n), Attempts: make([]int, n), Statuses: make([]int, n)}
	stop := make(chan struct{})
	var first, all sync.WaitGroup
	start := time.Now()
	for i, v := range spec.Viewers {
		first.Add(1)
		all.Go(func() {
			time.Sleep(time.Until(start.Add(time.Duration(i) * spec.Spread / time.Duration(n))))
			res.FirstMS[i], res.Attempts[i], res.Statuses[i] = stormJoin(spec, v, first.Done, stop)
		})
	}
	first.Wait()
	time.Sleep(spec.Hold)
	close(stop)
	all.Wait()
	out, _ := json.Marshal(res)
	fmt.Println("RESULT " + string(out))
}

// stormJoin opens one viewer's stream until the first body byte (retrying 503s), calls got,
// then reads until stop. It returns the time to the first byte in ms (-1: none), the attempts
// and the last status.
func stormJoin(spec stormSpec, v stormViewer, got func(), stop <-chan struct{}) (float64, int, int) {
	start := time.Now()
	gotOnce := sync.OnceFunc(got)
	defer gotOnce()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(v.Local)}, Timeout: 10 * time.Second}
	for attempt := 1; ; attempt++ {
		c, status, br := stormOpen(d, v.URL)
		if status == http.StatusOK {
			if _, err := br.ReadByte(); err != nil {
				c.Close()
				return -1, attempt, status
			}
			ms := float64(time.Since(start).Microseconds()) / 1e3
			gotOnce()
			go func() { <-stop; c.Close() }()
			if spec.Watch {
				watch(br) // at the channel's rate, until stop closes c
			}
			<-stop
			return ms, attempt, status
		}
		if c != nil {
			c.Close()
		}
		if status != http.StatusServiceUnavailable || time.Since(start) > spec.GiveUp {
			return -1, attempt, status
		}
		time.Sleep(spec.Retry)
	}
}

// watch reads a stream until it fails, as a player does: up to its 64 KB buffer per read.
// (io.Copy to io.Discard reads 8 KB at a time: eight times the system calls for the same bytes,
// which made the 1,000 viewers' process use more CPU than the server it measures, on the same two
// cores.)
func watch(br *bufio.Reader) {
	for {
		if _, err := br.Discard(br.Size()); err != nil {
			return
		}
	}
}

// stormOpen sends the GET and reads the response head; status 0 means no answer.
func stormOpen(d net.Dialer, u string) (net.Conn, int, *bufio.Reader) {
	host, uri, _ := strings.Cut(strings.TrimPrefix(u, "http://"), "/")
	c, err := d.Dial("tcp", host)
	if err != nil {
		return nil, 0, nil
	}
	_ = c.SetDeadline(time.Now().Add(60 * time.Second))
	fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: storm\r\n\r\n", uri, host)
	br := bufio.NewReaderSize(c, 64<<10)
	tp, err := readHeaders(br)
	_ = c.SetDeadline(time.Time{})
	f := strings.Fields(tp)
	if err != nil || len(f) < 2 {
		c.Close()
		return nil, 0, nil
	}
	status, _ := strconv.Atoi(f[1])
	return c, status, br
}

// stormFixture is the database, channel and lines of the benchmark.
type stormFixture struct {
	dsn    string
	st     *store.Store
	lives  []int64 // the channels; viewer i watches lives[i % len(lives)]
	n      int     // storm lines; lines n.. keep one channel each running between phases
	users  []string
	pass   []string
	tmp    string
	binary string
	base   string // the running instance's base URL
	pid    int    // the running instance's process id
	// newEvery > 0: every newEvery-th line (from newEvery/2) never logged in before the restart,
	// so the storm mixes first logins (argon2id) with known viewers.
	newEvery int
}

// isNew reports whether line i is one of the first logins of the storm.
func (f *stormFixture) isNew(i int) bool {
	return f.newEvery > 0 && i < f.n && i%f.newEvery == f.newEvery/2
}

func (f *stormFixture) newCount() int {
	n := 0
	for i := range f.users {
		if f.isNew(i) {
			n++
		}
	}
	return n
}

// TestBenchStorm: XTREAMD_BENCH_STORM=1 go test ./app/stream -run TestBenchStorm -v -timeout 30m
// Options: XTREAMD_STORM_LINES (1000), XTREAMD_STORM_SPREAD (2s), XTREAMD_STORM_HOLD (3s),
// XTREAMD_STORM_WATCH (1: viewers read the stream after the first byte; 0: they only hold it),
// XTREAMD_STORM_NEW (lines among the N that never logged in before the restart: first logins
// in the storm, reported apart; 0), XTREAMD_STORM_BASELINE (0 skips the run without records),
// XTREAMD_BENCH_XTREAMD_ALT (another xtreamd binary, run last with records as "ALT");
// XTREAMD_STORM_PGSAMPLE (1: sample pg_stat_activity during each phase and report it);
// XTREAMD_STORM_UPSTREAM_DELAY (each upstream connection answered after this long, as a
// remote provider's is; 0); XTREAMD_STORM_CHANNELS (channels, each from its own place in the
// clip; viewer i watches channel i mod CHANNELS; 1);
// XTREAMD_STORM_WATCHED (0: nobody watches the channel when the first instance stops, so
// the next one has no channel to warm and its storm starts it cold; 1);
// XTREAMD_* settings of the server (XTREAMD_DB_MAX_CONNS ...) pass through to it;
// XTREAMD_BENCH_CLIP (an 8 Mbit/s TS; default: clip.ts paced at 8 Mbit/s), XTREAMD_BENCH_XTREAMD
// (the xtreamd binary; default: built here).
func TestBenchStorm(t *testing.T) {
	if os.Getenv("XTREAMD_BENCH_STORM") != "1" {
		t.Skip("set XTREAMD_BENCH_STORM=1 (bench/storm.sh)")
	}
	n := envInt("XTREAMD_STORM_LINES", 1000)
	spread := envDur("XTREAMD_STORM_SPREAD", 2*time.Second)
	f := newStormFixture(t, n, envInt("XTREAMD_STORM_CHANNELS", 1))
	if m := envInt("XTREAMD_STORM_NEW", 0); m < n {
		f.newEvery = n / max(m, 1) * min(m, 1)
	}

	type run struct {
		name   string
		binary string
		env    []string
	}
	runs := []run{
		{"RECORDS", f.binary, []string{"XTREAMD_CREDENTIAL_RECORD_TTL=24h"}},
		{"BASELINE", f.binary, []string{"XTREAMD_CREDENTIAL_RECORD_TTL=0"}},
	}
	if os.Getenv("XTREAMD_STORM_BASELINE") == "0" {
		runs = runs[:1]
	}
	if alt := os.Getenv("XTREAMD_BENCH_XTREAMD_ALT"); alt != "" { // another build, e.g. an earlier commit
		runs = append(runs, run{"ALT", alt, []string{"XTREAMD_CREDENTIAL_RECORD_TTL=24h"}})
	}
	// Before the restart: every line logged in on a running instance (so each was verified
	// once with argon2id, and, with records on, has its record).
	stop := f.serve(t, "before", f.binary, runs[0].env)
	f.loginAll(t)
	f.waitRecords(t, len(f.users)-f.newCount())
	unkeep := func() {}
	if os.Getenv("XTREAMD_STORM_WATCHED") != "0" {
		// The channel is being watched when the instance stops, as it is when viewers are
		// about to reconnect: the instance notes it for the next one (app/server/warm.go).
		unkeep = f.keep(t)
	}
	stop()
	unkeep()
	for _, r := range runs {
		stop := f.serve(t, strings.ToLower(r.name), r.binary, r.env)
		f.storm(t, r.name+" storm after a restart", n, spread)
		unkeep := f.keep(t) // warm joins join a running channel
		f.storm(t, r.name+" warm joins", n, spread)
		unkeep()
		t.Logf("%s instance: %s", r.name, f.recordMetrics(t))
		stop()
	}
}

func newStormFixture(t *testing.T, n, channels int) *stormFixture {
	// As root the cluster runs as the postgres user, which must enter the directory (and
	// t.TempDir's parent is private).
	tmp, err := os.MkdirTemp("", "xtreamd-storm-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(tmp) })
	must(t, os.Chmod(tmp, 0o755))
	f := &stormFixture{tmp: tmp, n: n}
	f.binary = os.Getenv("XTREAMD_BENCH_XTREAMD")
	if f.binary == "" {
		f.binary = filepath.Join(f.tmp, "xtreamd")
		out, err := exec.Command("go", "build", "-o", f.binary, "../../cmd/xtreamd").CombinedOutput()
		if err != nil {
			t.Fatalf("go build xtreamd: %v\n%s", err, out)
		}
	}
	ctx := context.Background()
	pg, err := pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(f.tmp, "pg"), MaxConnections: 200})
	must(t, err)
	t.Cleanup(func() { _ = pg.Stop(context.Background()) })
	must(t, store.EnsureDatabase(ctx, pg.DSN("postgres"), "xtreamd"))
	f.dsn = pg.DSN("xtreamd")
	pool, err := pgxpool.New(ctx, f.dsn)
	must(t, err)
	t.Cleanup(pool.Close)
	must(t, store.Migrate(ctx, pool))
	f.st = store.New(pool)

	data := testmedia.Clip(t)
	if p := os.Getenv("XTREAMD_BENCH_CLIP"); p != "" {
		data, err = os.ReadFile(p)
		must(t, err)
	}
	l := newLoop(data)
	looped := loopedTS(data, max(2, int(64e6/float64(len(l.data)))))
	delay := envDur("XTREAMD_STORM_UPSTREAM_DELAY", 0)
	mux := http.NewServeMux()
	origins := make([]string, max(channels, 1))
	for i := range origins {
		// Each channel its own place in the clip, so their keyframes do not come at once.
		source := pacedSource(looped, 8e6/8, time.Now().Add(-time.Duration(i)*313*time.Millisecond))
		mux.HandleFunc(fmt.Sprintf("/live-%d.ts", i), func(w http.ResponseWriter, r *http.Request) {
			// A provider far away: each new upstream connection waits this long for its answer
			// (the connect, TLS and redirects of a remote source), which loopback does not have.
			select {
			case <-time.After(delay):
				source.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		})
		origins[i] = fmt.Sprintf("/live-%d.ts", i)
	}
	paced := httptest.NewServer(mux)
	t.Cleanup(paced.Close)
	for i := range origins {
		origins[i] = paced.URL + origins[i]
	}
	f.catalog(t, n, origins)
	return f
}

// catalog creates a channel per origin, a bouquet and n lines (+1 per channel that keeps it
// running between phases) with distinct production-cost argon2id hashes.
func (f *stormFixture) catalog(t *testing.T, n int, origins []string) {
	ctx := context.Background()
	cats, _, err := f.st.EnsureCategories(ctx, store.KindLive, []string{"News"})
	must(t, err)
	cat := cats["News"]
	for i, origin := range origins {
		id, err := f.st.CreateStream(ctx, store.StreamInput{Kind: store.KindLive, Name: fmt.Sprintf("Live 8M %d", i+1),
			CategoryID: &cat, Sources: []store.Source{{URL: origin, Kind: store.SourceTS}}})
		must(t, err)
		f.lives = append(f.lives, id)
	}
	bq, _, err := f.st.EnsureBouquet(ctx, "Main")
	must(t, err)
	_, err = f.st.SetBouquetStreams(ctx, bq, f.lives)
	must(t, err)

	start := time.Now()
	lines := n + len(origins)
	hashes := make([]string, lines)
	f.users, f.pass = make([]string, lines), make([]string, lines)
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range work {
				f.users[i], f.pass[i] = fmt.Sprintf("storm%05d", i), fmt.Sprintf("pw-%05d-%x", i, time.Now().UnixNano())
				h, err := credential.Hash(f.pass[i], credential.DefaultParams)
				if err != nil {
					t.Error(err)
				}
				hashes[i] = h
			}
		})
	}
	for i := range lines {
		work <- i
	}
	close(work)
	wg.Wait()
	const q = `WITH l AS (INSERT INTO lines (username, password_hash, max_connections)
		SELECT u, h, 1 FROM unnest($1::text[], $2::text[]) AS x(u, h) RETURNING id)
	INSERT INTO line_bouquets (line_id, bouquet_id) SELECT id, $3 FROM l`
	_, err = f.st.Pool().Exec(ctx, q, f.users, hashes, bq)
	must(t, err)
	t.Logf("setup: %d lines with distinct argon2id hashes (m=%d KiB, t=%d), %d channels, in %v", lines,
		credential.DefaultParams.MemoryKiB, credential.DefaultParams.Time, len(origins), time.Since(start).Round(time.Millisecond))
}

// serve starts `xtreamd serve` over the fixture's database and returns the function that stops
// it (SIGTERM, then waiting for it to exit).
func (f *stormFixture) serve(t *testing.T, name, binary string, env []string) func() {
	addr := freeAddr(t)
	logPath := filepath.Join(f.tmp, "xtreamd-"+name+".log")
	logFile, err := os.Create(logPath)
	must(t, err)
	cmd := exec.Command(binary, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+f.dsn, "XTREAMD_LISTEN="+addr, "XTREAMD_DATA_DIR="+f.tmp,
		"XTREAMD_TOKEN_SECRET=storm-benchmark-token-secret-0123456789", "XTREAMD_INSTANCE_ID=storm-"+name,
		"XTREAMD_PUBLIC_HOST=127.0.0.1", "XTREAMD_LOG_LEVEL=info")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	must(t, cmd.Start())
	f.base, f.pid = "http://"+addr, cmd.Process.Pid
	ready := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(f.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("xtreamd %s not ready:\n%s", name, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			logFile.Close()
		})
	}
	t.Cleanup(stop)
	return stop
}

// viewerAddr is viewer i's own loopback address.
func viewerAddr(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1) }

// loginAll logs every line in once through player_api.php (4 at a time), as the viewers did
// before the restart.
func (f *stormFixture) loginAll(t *testing.T) {
	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(viewerAddr(i))}}
				c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
				resp, err := c.Get(fmt.Sprintf("%s/player_api.php?username=%s&password=%s", f.base, f.users[i], f.pass[i]))
				if err != nil {
					t.Errorf("login %d: %v", i, err)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !strings.Contains(string(b), `"auth":1`) {
					t.Errorf("login %d: %d %.80s", i, resp.StatusCode, b)
				}
				c.CloseIdleConnections()
			}
		})
	}
	for i := range f.users {
		if !f.isNew(i) {
			work <- i
		}
	}
	close(work)
	wg.Wait()
	t.Logf("before the restart: %d logins (one argon2id verification each) in %v", len(f.users), time.Since(start).Round(time.Millisecond))
}

// waitRecords waits until n lines have a verified-credential record.
func (f *stormFixture) waitRecords(t *testing.T, n int) {
	eventually(t, "the verified-credential records written", func() bool {
		var got int
		err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM verified_credentials WHERE expires_at > now()`).Scan(&got)
		return err == nil && got >= n
	})
}

// storm has n viewers join the live channel over spread and reports their time to first byte.
func (f *stormFixture) storm(t *testing.T, what string, n int, spread time.Duration) {
	viewers := make([]stormViewer, n)
	for i := range n {
		viewers[i] = stormViewer{URL: fmt.Sprintf("%s/live/%s/%s/%d.ts", f.base, f.users[i], f.pass[i], f.lives[i%len(f.lives)]),
			Local: viewerAddr(i)}
	}
	spec := stormSpec{Viewers: viewers, Spread: spread, Retry: time.Second, GiveUp: 2 * time.Minute,
		Hold: envDur("XTREAMD_STORM_HOLD", 3*time.Second), Watch: os.Getenv("XTREAMD_STORM_WATCH") != "0"}
	// The previous phase's viewers have left: their leases end (and write the activity log)
	// before this phase starts, so the two do not overlap.
	eventually(t, "the previous viewers' leases ended", func() bool {
		var live int
		err := f.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM connection_leases`).Scan(&live)
		return err == nil && live <= len(f.lives) // the keepers'
	})
	path := filepath.Join(f.tmp, "storm.json")
	b, _ := json.Marshal(spec)
	must(t, os.WriteFile(path, b, 0o644))
	pid := f.pid
	m0 := f.scrape(t)
	var pgs *pgSampler
	if os.Getenv("XTREAMD_STORM_PGSAMPLE") == "1" {
		pgs = startPGSampler(f.st.Pool())
	}
	cpu0 := cpuPIDs([]int{pid})
	start := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStormClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), "XTREAMD_STORM_CLIENT="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("viewer process: %v\n%s", err, out)
	}
	took, cpu := time.Since(start), cpuPIDs([]int{pid})-cpu0
	if pgs != nil {
		t.Logf("%s: %s", what, pgs.stop())
	}
	clientCPU := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	var r stormResult
	for _, l := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(l, "RESULT "); ok {
			must(t, json.Unmarshal([]byte(j), &r))
		}
	}
	if len(r.FirstMS) != n {
		t.Fatalf("no result from the viewer process:\n%s", out)
	}
	summary := summarizeStorm(r, spread, func(int) bool { return true })
	if f.newEvery > 0 {
		summary = "known viewers: " + summarizeStorm(r, spread, func(i int) bool { return !f.isNew(i) }) +
			"; first logins: " + summarizeStorm(r, spread, f.isNew)
	}
	t.Logf("%s: %s; server CPU %.1f s (viewers' process %.1f s) over %.1f s; %s", what, summary, cpu, clientCPU,
		took.Seconds(), phaseMetrics(m0, f.scrape(t)))
}

// summarizeStorm renders the first-byte distribution of the viewers in: viewers without one
// count as infinitely late.
func summarizeStorm(r stormResult, spread time.Duration, in func(i int) bool) string {
	var ds []float64
	failed, retried, behind := 0, 0, 0
	for i, d := range r.FirstMS {
		if !in(i) {
			continue
		}
		if d < 0 {
			failed++
			d = 1e12
		}
		if r.Attempts[i] > 1 {
			retried++
		}
		if d > float64(spread.Milliseconds()) {
			behind++
		}
		ds = append(ds, d)
	}
	slices.Sort(ds)
	q := func(p float64) string {
		v := ds[int(p*float64(len(ds)-1))]
		if v >= 1e12 {
			return "never"
		}
		return (time.Duration(v * float64(time.Millisecond))).Round(100 * time.Microsecond).String()
	}
	return fmt.Sprintf("%d viewers over %v: first byte p50 %s p90 %s p99 %s max %s; %d later than %v, %d answered 503 and retried, %d never",
		len(ds), spread, q(.5), q(.9), q(.99), q(1), behind, spread, retried, failed)
}

// keep opens each channel's stream for its keeper line (lines n.., which no storm viewer
// uses) and reads them until the returned function is called, so the channels keep running
// meanwhile.
func (f *stormFixture) keep(t *testing.T) func() {
	var closers []func()
	for j, live := range f.lives {
		k := f.n + j
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(viewerAddr(k))}}
		c, status, br := stormOpen(d, fmt.Sprintf("%s/live/%s/%s/%d.ts", f.base, f.users[k], f.pass[k], live))
		if status != http.StatusOK {
			t.Fatalf("keeper stream of channel %d: status %d", live, status)
		}
		done := make(chan struct{})
		go func() { defer close(done); _, _ = io.Copy(io.Discard, br) }()
		closers = append(closers, func() { c.Close(); <-done })
	}
	return func() {
		for _, c := range closers {
			c()
		}
	}
}

// scrape reads the running instance's metrics: sample name with labels → value.
func (f *stormFixture) scrape(t *testing.T) map[string]float64 {
	resp, err := http.Get(f.base + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if i := strings.LastIndexByte(l, ' '); i > 0 && !strings.HasPrefix(l, "#") {
			m[l[:i]], _ = strconv.ParseFloat(l[i+1:], 64)
		}
	}
	return m
}

// phaseMetrics renders what the instance did between two scrapes: the stream-open checks'
// latency, the server's time from accept to a TS response's start (its share of the viewers'
// first byte), both as histogram bucket bounds, and the database pool's waits.
func phaseMetrics(before, after map[string]float64) string {
	d := func(k string) float64 { return after[k] - before[k] }
	checks := histogramDelta(before, after, `xtreamd_access_check_duration_seconds_bucket{kind="stream_open",le="`)
	starts := histogramDelta(before, after, `xtreamd_stream_ts_start_seconds_bucket{le="`)
	acq := d("xtreamd_db_pool_acquires_total")
	return fmt.Sprintf("stream-open checks (%.0f) p50 %s p99 %s; server accept to response (%.0f) p50 %s p90 %s p99 %s; "+
		"pool: %.0f acquires, %.0f waited, %.2f ms mean acquire",
		checks.total, checks.q(.5), checks.q(.99), starts.total, starts.q(.5), starts.q(.9), starts.q(.99),
		acq, d("xtreamd_db_pool_empty_acquires_total"), d("xtreamd_db_pool_acquire_seconds_total")/max(acq, 1)*1e3)
}

// histogram is what a histogram counted between two scrapes: cumulative counts by bucket bound.
type histogram struct {
	les    []float64
	counts map[float64]float64
	total  float64
}

// histogramDelta reads the buckets named prefix+le+`"}` of two scrapes.
func histogramDelta(before, after map[string]float64, prefix string) histogram {
	h := histogram{counts: map[float64]float64{}}
	for k, v := range after {
		if b, ok := strings.CutPrefix(k, prefix); ok {
			le, _ := strconv.ParseFloat(strings.TrimSuffix(b, `"}`), 64) // +Inf parses too
			h.les = append(h.les, le)
			h.counts[le] = v - before[k]
		}
	}
	slices.Sort(h.les)
	h.total = h.counts[math.Inf(1)]
	return h
}

// q renders the p-quantile as the bound of its bucket ("≤ 5ms"; "> 10s" past the last one).
func (h histogram) q(p float64) string {
	for i, le := range h.les {
		switch {
		case h.counts[le] < p*h.total:
		case math.IsInf(le, 1) && i > 0:
			return "> " + time.Duration(h.les[i-1]*float64(time.Second)).String()
		default:
			return "≤ " + time.Duration(le*float64(time.Second)).String()
		}
	}
	return "?"
}

// recordMetrics returns the instance's record and hashing counters.
func (f *stormFixture) recordMetrics(t *testing.T) string {
	var out []string
	for k, v := range f.scrape(t) {
		if strings.HasPrefix(k, "xtreamd_credential_") {
			out = append(out, fmt.Sprintf("%s %g", k, v))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}
