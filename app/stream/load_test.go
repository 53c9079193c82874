package stream_test

// The load benchmark (bench/stream.sh runs it): N viewers of one 8 Mbit/s channel, served in
// turn by each target of one run, every target its own process on this machine:
//
//	source  the paced source serving the viewers itself (the floor a relay is measured against)
//	relay   this tree's server (TestBenchServe: check, lease, relay), pulling the source once
//	base    the same harness over another tree's server (XTREAMD_BENCH_BASE_BIN, e.g. the
//	        base commit's test binary with benchserve_test.go copied in)
//	nginx   a private nginx proxy_pass to the source (buffering off, 64 KB buffers), one
//	        upstream pull per viewer
//
// It is a test gated by XTREAMD_BENCH=1, not a testing.B, because it measures running systems:
// the delivered share of real time, viewers behind, the target's CPU time per delivered GB (from
// /proc, over the counting window only), its memory per viewer, time to first byte of the load's
// viewers, of a running channel and of a cold one. Viewers run in a child process (this test
// binary again, as TestBenchClient), the source in another (TestBenchOrigin).

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"
	"github.com/xtreamd/xtreamd/internal/testmedia"
)

// benchRate is the channel's rate in bytes per second (8 Mbit/s).
const benchRate = 8e6 / 8

// TestBenchOrigin is the source process: it serves XTREAMD_BENCH_CLIP (default clip.ts),
// looped and restamped into one continuous stream, paced at 8 Mbit/s, on a loopback port, and
// prints "READY <url>". Every request starts at the stream's live position, as a real channel
// would (so a new pull waits for the next keyframe). It serves until its standard input closes.
func TestBenchOrigin(t *testing.T) {
	if os.Getenv("XTREAMD_BENCH_ORIGIN") != "1" {
		t.Skip("source process of the load benchmark")
	}
	data := testmedia.Clip(t)
	if p := os.Getenv("XTREAMD_BENCH_CLIP"); p != "" {
		b, err := os.ReadFile(p)
		must(t, err)
		data = b
	}
	l := newLoop(data)
	src := loopedTS(data, max(2, int(64e6/float64(len(l.data)))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	s := &http.Server{Handler: pacedSource(src, benchRate, time.Now())}
	go func() { _ = s.Serve(ln) }()
	defer s.Close()
	fmt.Printf("READY http://%s/live.ts\n", ln.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
}

// pacedSource serves data looped from its live position (where a viewer that connected at
// start would be now), paced at rate bytes/s, in 70-packet chunks each written and flushed on
// its own: the plain Go HTTP source the issue measured ("the paced source").
func pacedSource(data []byte, rate float64, start time.Time) http.Handler {
	const chunk = 188 * 70
	loopLen := len(data) / chunk * chunk
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		rc := http.NewResponseController(w)
		t0 := time.Now()
		live := int(t0.Sub(start).Seconds()*rate) / chunk * chunk
		sent := 0
		for off := live % loopLen; ; off = (off + chunk) % loopLen {
			if _, err := w.Write(data[off : off+chunk]); err != nil || rc.Flush() != nil {
				return
			}
			sent += chunk
			if d := time.Until(t0.Add(time.Duration(float64(sent) / rate * float64(time.Second)))); d > 0 {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(d):
				}
			}
		}
	})
}

// loopedTS restamps the clip into n consecutive loops (one continuous stream of n× its length).
func loopedTS(clip []byte, n int) []byte {
	l := newLoop(clip)
	out := make([]byte, 0, len(l.data)*n)
	cc := map[int]byte{}
	for k := 0; k < n; k++ {
		start := len(out)
		out = append(out, l.data...)
		for i := start; i < len(out); i += pkt {
			restamp(out[i:i+pkt], int64(k)*l.dur90k, cc)
		}
	}
	return out
}

type clientResult struct {
	Bytes   []int64        `json:"bytes"`  // per viewer, within the window
	FirstMS []float64      `json:"first"`  // per viewer that got one: dial to first body byte, ms
	Errors  int            `json:"errors"` // viewers that failed or ended early
	Why     map[string]int `json:"why"`    // Errors by cause
	WindowS float64        `json:"window_s"`
	CPUS    float64        `json:"cpu_s"` // the client process's CPU time over the window
}

// TestBenchClient is the viewer process: XTREAMD_BENCH_CLIENT="url n warmup window" opens n
// viewers of url (50 every 50 ms), waits warmup, then prints "COUNTING", counts bytes for
// window, prints "STOPPED" and one "RESULT <json>" line.
func TestBenchClient(t *testing.T) {
	spec := os.Getenv("XTREAMD_BENCH_CLIENT")
	if spec == "" {
		t.Skip("viewer process of the load benchmark")
	}
	f := strings.Fields(spec)
	target, _ := url.Parse(f[0])
	n, _ := strconv.Atoi(f[1])
	warm, _ := time.ParseDuration(f[2])
	window, _ := time.ParseDuration(f[3])
	counts := make([]atomic.Int64, n)
	firsts := make([]atomic.Int64, n)
	var counting atomic.Bool
	var errs atomic.Int64
	var whyMu sync.Mutex
	why := map[string]int{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if cause := benchView(target, i, stop, &counting, &counts[i], &firsts[i]); cause != "" {
				errs.Add(1)
				whyMu.Lock()
				why[cause]++
				whyMu.Unlock()
			}
		}(i)
		if i%50 == 49 {
			time.Sleep(50 * time.Millisecond) // ramp up
		}
	}
	time.Sleep(warm)
	cpu0 := testkit.ProcessCPU().Seconds()
	fmt.Println("COUNTING")
	counting.Store(true)
	start := time.Now()
	time.Sleep(window)
	counting.Store(false)
	fmt.Println("STOPPED")
	res := clientResult{WindowS: time.Since(start).Seconds(), CPUS: testkit.ProcessCPU().Seconds() - cpu0}
	close(stop)
	wg.Wait()
	for i := range counts {
		res.Bytes = append(res.Bytes, counts[i].Load())
		if d := firsts[i].Load(); d > 0 {
			res.FirstMS = append(res.FirstMS, float64(d)/1e6)
		}
	}
	res.Errors, res.Why = int(errs.Load()), why
	b, _ := json.Marshal(res)
	fmt.Println("RESULT " + string(b))
}

// benchView is one viewer: it reads until stop, counting while counting is set. It returns why
// the stream failed or ended before stop ("" when it did not).
func benchView(target *url.URL, i int, stop <-chan struct{}, counting *atomic.Bool, count, first *atomic.Int64) string {
	start := time.Now()
	c, err := net.Dial("tcp", target.Host)
	if err != nil {
		return "dial"
	}
	defer c.Close()
	go func() { <-stop; c.Close() }()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench/%d\r\n\r\n", target.RequestURI(), target.Host, i)
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := readHeaders(br)
	if err != nil {
		return "no answer"
	}
	if !strings.Contains(line, " 200 ") {
		return strings.TrimSpace(line)
	}
	if _, err := br.Peek(1); err == nil {
		first.Store(int64(time.Since(start)))
	}
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		if counting.Load() {
			count.Add(int64(k))
		}
		if err != nil {
			select {
			case <-stop:
				return ""
			default:
				return "ended early"
			}
		}
	}
}

// child is a benchmark process started by the driver; closing its standard input ends it.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

// startChild runs bin (a test binary) with -test.run=^test$ in dir and returns once it printed
// its READY line (whose fields follow READY).
func startChild(t *testing.T, bin, dir, test string, env ...string) (*child, []string) {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.count=1", "-test.timeout=2h")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 64)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(c.stop)
	deadline := time.After(5 * time.Minute)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				t.Fatalf("%s %s ended before READY", bin, test)
			}
			if f, ok := strings.CutPrefix(l, "READY "); ok {
				return c, strings.Fields(f)
			}
		case <-deadline:
			t.Fatalf("%s %s: no READY within 5 minutes", bin, test)
		}
	}
}

// stop ends the child (it shuts down cleanly when its standard input closes) and waits for it.
func (c *child) stop() {
	if c.stdin == nil {
		return
	}
	_ = c.stdin.Close()
	c.stdin = nil
	done := make(chan struct{})
	go func() {
		for range c.lines {
		}
		_ = c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-done
	}
}

// target is one server the viewers are pointed at, and the processes whose CPU it costs.
type target struct {
	name string
	url  string
	pids func() []int
	cold []string // cold channels (relay targets)
	prof string   // pprof address (relay targets, when profiling)
}

// benchStats is what one load run measured.
type benchStats struct {
	name             string
	viewers          int
	mbs, realTime    float64 // delivered MB/s; share of viewers × channel rate
	behind, errors   int
	why              map[string]int // errors by cause
	cpu, gb, cpuPerG float64
	clientCPU        float64
	rssPerViewer     float64 // KiB
	first            []float64
}

// runLoad points the viewers at tg and measures the window.
func runLoad(t *testing.T, tg target, viewers int, warm, window time.Duration, profDir string) benchStats {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("XTREAMD_BENCH_CLIENT=%s %d %s %s", tg.url, viewers, warm, window))
	out, err := cmd.StdoutPipe()
	must(t, err)
	cmd.Stderr = os.Stderr
	must(t, cmd.Start())
	pids := tg.pids()
	rss0 := rssOf(pids)
	var cpu0, cpu1 float64
	var rssMid int64
	var res clientResult
	var profDone chan struct{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case l == "COUNTING":
			cpu0 = cpuPIDs(pids)
			profDone = profile(t, tg, profDir, viewers, window)
			go func() { time.Sleep(window / 2); atomic.StoreInt64(&rssMid, rssOf(pids)) }()
		case l == "STOPPED":
			cpu1 = cpuPIDs(pids)
		case strings.HasPrefix(l, "RESULT "):
			must(t, json.Unmarshal([]byte(strings.TrimPrefix(l, "RESULT ")), &res))
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("viewer process: %v", err)
	}
	if profDone != nil {
		<-profDone
	}
	s := benchStats{name: tg.name, viewers: viewers, errors: res.Errors, why: res.Why, cpu: cpu1 - cpu0, clientCPU: res.CPUS, first: res.FirstMS}
	var total int64
	for _, b := range res.Bytes {
		total += b
		if float64(b)/res.WindowS/benchRate < 0.95 {
			s.behind++
		}
	}
	s.mbs = float64(total) / res.WindowS / 1e6
	s.realTime = float64(total) / res.WindowS / (float64(viewers) * benchRate)
	s.gb = float64(total) / 1e9
	s.cpuPerG = s.cpu / s.gb
	s.rssPerViewer = float64(atomic.LoadInt64(&rssMid)-rss0) / float64(viewers) / 1024
	return s
}

// profile fetches a CPU profile of tg over most of the window into dir (nil when not asked).
func profile(t *testing.T, tg target, dir string, viewers int, window time.Duration) chan struct{} {
	if dir == "" || tg.prof == "" {
		return nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		secs := max(1, int(window.Seconds())-2)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", tg.prof, secs))
		if err != nil {
			t.Errorf("profile %s: %v", tg.name, err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", tg.name, viewers)))
		if err != nil {
			t.Errorf("profile %s: %v", tg.name, err)
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, resp.Body)
	}()
	return done
}

func (s benchStats) log(t *testing.T) {
	q := quantiles(s.first)
	t.Logf("TARGET %-6s %4d viewers: delivered %7.1f MB/s = %5.1f%% of real time, %d below 95%%, %d errors %v; "+
		"CPU %.2f s for %.2f GB = %.3f CPU-s/GB; first byte p50 %s p99 %s; RSS/viewer %.0f KiB; client CPU %.1f s",
		s.name, s.viewers, s.mbs, s.realTime*100, s.behind, s.errors, s.why, s.cpu, s.gb, s.cpuPerG, q(.5), q(.99),
		s.rssPerViewer, s.clientCPU)
}

// quantiles returns a formatter of the p-quantile of ms values.
func quantiles(ms []float64) func(p float64) string {
	s := slices.Clone(ms)
	slices.Sort(s)
	return func(p float64) string {
		if len(s) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1fms", s[int(p*float64(len(s)-1))])
	}
}

// TestBenchLoad drives one run: XTREAMD_BENCH=1 go test ./app/stream -run TestBenchLoad -v.
// Options: XTREAMD_BENCH_VIEWERS (500), XTREAMD_BENCH_WINDOW (20s), XTREAMD_BENCH_CLIP (an
// 8 Mbit/s TS; default clip.ts), XTREAMD_BENCH_TARGETS (source,relay,base,nginx),
// XTREAMD_BENCH_BASE_BIN and XTREAMD_BENCH_BASE_DIR (the base test binary and its package
// directory; without them no base), XTREAMD_BENCH_NGINX (the nginx binary; "" skips nginx),
// XTREAMD_BENCH_PROFILE (a directory: CPU profiles of the relay targets over the window),
// XTREAMD_BENCH_COLD (5: cold channels opened once each before the load).
func TestBenchLoad(t *testing.T) {
	if os.Getenv("XTREAMD_BENCH") != "1" {
		t.Skip("set XTREAMD_BENCH=1 (bench/stream.sh)")
	}
	viewers := envInt("XTREAMD_BENCH_VIEWERS", 500)
	window := envDur("XTREAMD_BENCH_WINDOW", 20*time.Second)
	warm := 5 * time.Second
	profDir := os.Getenv("XTREAMD_BENCH_PROFILE")
	names := strings.Split(cmp.Or(os.Getenv("XTREAMD_BENCH_TARGETS"), "source,relay,base,nginx"), ",")
	self, err := os.Getwd()
	must(t, err)

	orig, f := startChild(t, os.Args[0], self, "TestBenchOrigin", "XTREAMD_BENCH_ORIGIN=1")
	source := f[0]
	results := map[string]benchStats{}
	for _, name := range names {
		tg, ok := benchTarget(t, name, source, self, profDir != "")
		if !ok {
			continue
		}
		if name == "source" {
			tg.pids = func() []int { return []int{orig.cmd.Process.Pid} }
		}
		coldFirstByte(t, tg, source)
		s := runLoad(t, tg, viewers, warm, window, profDir)
		s.log(t)
		results[name] = s
		if len(tg.cold) > 0 {
			ttfb(t, tg.name, tg.url, 200)
		}
	}
	ratio := func(a, b string) {
		x, okx := results[a]
		y, oky := results[b]
		if okx && oky {
			t.Logf("RATIO %s/%s: CPU-s per GB %.3f, delivered %.3f", a, b, x.cpuPerG/y.cpuPerG, x.mbs/y.mbs)
		}
	}
	ratio("relay", "source")
	ratio("relay", "nginx")
	ratio("relay", "base")
	ratio("base", "source")
	ratio("nginx", "source")
}

// benchTarget starts the server of target name (false when it is not available in this run).
func benchTarget(t *testing.T, name, source, self string, prof bool) (target, bool) {
	switch name {
	case "source":
		return target{name: name, url: source}, true
	case "relay", "base":
		bin, dir := os.Args[0], self
		if name == "base" {
			bin, dir = os.Getenv("XTREAMD_BENCH_BASE_BIN"), os.Getenv("XTREAMD_BENCH_BASE_DIR")
			if bin == "" {
				t.Logf("no base binary (XTREAMD_BENCH_BASE_BIN): base skipped")
				return target{}, false
			}
		}
		env := []string{"XTREAMD_BENCH_SERVE=" + source, fmt.Sprintf("XTREAMD_BENCH_COLD=%d", envInt("XTREAMD_BENCH_COLD", 5))}
		tg := target{name: name}
		if prof {
			tg.prof = freeAddr(t)
			env = append(env, "XTREAMD_BENCH_PPROF="+tg.prof)
		}
		c, f := startChild(t, bin, dir, "TestBenchServe", env...)
		tg.url = strings.TrimPrefix(f[0], "live=")
		if cold := strings.TrimPrefix(f[1], "cold="); cold != "" {
			tg.cold = strings.Split(cold, ",")
		}
		tg.pids = func() []int { return []int{c.cmd.Process.Pid} }
		return tg, true
	case "nginx":
		bin := os.Getenv("XTREAMD_BENCH_NGINX")
		if bin == "" {
			t.Logf("no nginx (XTREAMD_BENCH_NGINX): nginx skipped")
			return target{}, false
		}
		u, _ := url.Parse(source)
		ng := startNginx(t, bin, "http://"+u.Host)
		pidFile := ng.pidFile
		return target{name: name, url: ng.url + u.Path, pids: func() []int { return nginxPIDs(t, pidFile) }}, true
	}
	t.Fatalf("unknown benchmark target %q", name)
	return target{}, false
}

// coldFirstByte opens each cold channel of tg once, and at the same moment the source itself,
// and reports the time to the first body byte through tg beside the time the same keyframe
// (matched by its PTS) reached the direct connection: a relay cannot start a viewer earlier.
//
// Each open waits a random fraction of a GOP first, so that the opens fall at independent
// phases of the stream, as independent first viewers do. Opened one right after another, every
// open would come just after the keyframe that started the previous one, where the relay's own
// pull (which opens a few milliseconds after the direct connection, behind the check and the
// lease) can begin just past that keyframe and wait a whole GOP for the next. Such an open
// still counts ("later GOP"): its viewer did wait. The source starts each connection at the
// 13 ms chunk of its live position and paces it from its own start, so the two copies of a
// keyframe can arrive up to a chunk apart either way.
func coldFirstByte(t *testing.T, tg target, source string) {
	if len(tg.cold) == 0 {
		return
	}
	var relay, key, over []float64
	later := 0
	for _, u := range tg.cold {
		time.Sleep(rand.N(benchGOP))
		ctx, cancel := context.WithTimeout(t.Context(), 4*benchGOP)
		start := time.Now()
		direct := make(chan keyframe, 16)
		go func() {
			defer close(direct)
			_ = watchKeyframes(ctx, source, start, func(k keyframe) bool {
				select {
				case direct <- k:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
		var d time.Duration
		var first keyframe
		err := watchKeyframes(ctx, u, start, func(k keyframe) bool { first = k; return false },
			func() { d = time.Since(start) })
		if err != nil {
			cancel()
			t.Errorf("cold %s: %v", u, err)
			continue
		}
		// The same keyframe on the direct connection: it opened first, so it received that keyframe
		// too, after any earlier one the relay's pull began too late for.
		seen, found := 0, false
		for k := range direct {
			seen++
			if k.pts == first.pts {
				relay, key, over = append(relay, ms(d)), append(key, ms(k.at)), append(over, ms(d)-ms(k.at))
				later += min(seen-1, 1)
				found = true
				break
			}
			if k.pts > first.pts {
				break
			}
		}
		cancel()
		if !found {
			t.Errorf("cold %s: the relay's first keyframe (PTS %d) never reached the direct connection", u, first.pts)
		}
	}
	qr, qk, qo := quantiles(relay), quantiles(key), quantiles(over)
	t.Logf("COLD %-6s first byte of %d cold channels: p50 %s max %s; that keyframe on a direct connection p50 %s max %s; "+
		"first byte after it p50 %s max %s; %d started from a later GOP than the direct connection's first",
		tg.name, len(relay), qr(.5), qr(1), qk(.5), qk(1), qo(.5), qo(1), later)
}

// benchGOP is the keyframe interval of bench/stream.sh's clip (-g 50 at 25 fps).
const benchGOP = 2 * time.Second

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// keyframe is a video keyframe seen on a connection: its PTS (90 kHz) and when its first packet
// arrived, from the moment the measurement started.
type keyframe struct {
	pts int64
	at  time.Duration
}

// watchKeyframes GETs u and calls fn with every video keyframe (random access indicator on the
// program's video PID, at a PES start with a PTS) until fn returns false, ctx ends or the body
// does; onBody, if given, runs when the first body byte is there. A keyframe before the first
// PAT/PMT counts from its own arrival: a relay may start there too.
func watchKeyframes(ctx context.Context, u string, start time.Time, fn func(keyframe) bool, onBody ...func()) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ttfb")
	resp, err := http.DefaultClient.Do(req) // chunked answers are decoded as the relay's client does
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	if _, err := br.Peek(1); err != nil {
		return err
	}
	for _, f := range onBody {
		f()
	}
	p := make([]byte, pkt)
	early := map[int]keyframe{} // the first flagged PES start per PID, before the program is known
	pmtPID, video := -1, -1
	for {
		if _, err := io.ReadFull(br, p); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		id, pusi := pid(p), p[1]&0x40 != 0
		if pts, ok := keyframePTS(p); ok {
			k := keyframe{pts: pts, at: time.Since(start)}
			switch {
			case video < 0:
				if _, ok := early[id]; !ok {
					early[id] = k
				}
			case id == video && !fn(k):
				return nil
			}
		}
		switch sec := psiSection(p); {
		case id == 0 && pusi && len(sec) >= 12:
			pmtPID = int(sec[10]&0x1f)<<8 | int(sec[11])
		case id == pmtPID && pusi && len(sec) >= 12 && video < 0:
			if video = pmtVideoPID(sec); video >= 0 {
				if k, ok := early[video]; ok && !fn(k) {
					return nil
				}
			}
		}
	}
}

// keyframePTS returns the PTS of the PES a packet starts when the packet is flagged a random
// access point.
func keyframePTS(p []byte) (int64, bool) {
	if p[1]&0x40 == 0 || p[3]&0x20 == 0 || p[4] == 0 || p[5]&0x40 == 0 || 5+int(p[4]) >= len(p) {
		return 0, false
	}
	pl := p[5+int(p[4]):]
	if len(pl) < 14 || pl[0] != 0 || pl[1] != 0 || pl[2] != 1 || pl[7]&0x80 == 0 {
		return 0, false
	}
	return readTimestamp(pl[9:14]), true
}

// psiSection is the section a PSI packet starts (after the pointer field), or nil.
func psiSection(p []byte) []byte {
	pl := p[4:]
	if p[3]&0x20 != 0 {
		if 5+int(p[4]) >= len(p) {
			return nil
		}
		pl = p[5+int(p[4]):]
	}
	if len(pl) < 1 || 1+int(pl[0]) >= len(pl) {
		return nil
	}
	return pl[1+int(pl[0]):]
}

// pmtVideoPID returns the first video PID of a one-packet PMT section (-1: none).
func pmtVideoPID(sec []byte) int {
	if sec[0] != 0x02 { // not a PMT
		return -1
	}
	end := min(len(sec)-4, 3+(int(sec[1]&0x0f)<<8|int(sec[2]))-4) // before the CRC
	i := 12 + (int(sec[10]&0x0f)<<8 | int(sec[11]))
	for ; i+5 <= end; i += 5 + (int(sec[i+3]&0x0f)<<8 | int(sec[i+4])) {
		switch sec[i] {
		case 0x01, 0x02, 0x10, 0x1b, 0x24:
			return int(sec[i+1]&0x1f)<<8 | int(sec[i+2])
		}
	}
	return -1
}

// openRaw sends a GET for u and returns the connection positioned at the body (status 200).
func openRaw(t *testing.T, u string) (net.Conn, *bufio.Reader) {
	target, _ := url.Parse(u)
	c, err := net.Dial("tcp", target.Host)
	must(t, err)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ttfb\r\n\r\n", target.RequestURI(), target.Host)
	br := bufio.NewReader(c)
	tp, err := readHeaders(br)
	if err != nil || !strings.Contains(tp, " 200 ") {
		t.Fatalf("open %s: %q %v", u, tp, err)
	}
	return c, br
}

// ttfb opens the (already running) channel n times one after the other and reports the time
// from dialing to the first body byte, check included.
func ttfb(t *testing.T, name, u string, n int) {
	var ds []float64
	for i := 0; i < n; i++ {
		start := time.Now()
		c, br := openRaw(t, u)
		_, err := br.ReadByte()
		must(t, err)
		ds = append(ds, ms(time.Since(start)))
		c.Close()
	}
	q := quantiles(ds)
	t.Logf("TTFB %-6s running channel over %d opens (dial, check with a lease, relay join, first byte): p50 %s p90 %s p99 %s max %s",
		name, n, q(.5), q(.9), q(.99), q(1))
}

// cpuPIDs sums the user+system CPU time of processes from /proc.
func cpuPIDs(pids []int) float64 {
	var s float64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		s += (ut + st) / 100 // USER_HZ
	}
	return s
}

// rssOf sums the resident memory of processes.
func rssOf(pids []int) int64 {
	var s int64
	for _, pid := range pids {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
		if f := strings.Fields(string(b)); len(f) >= 2 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			s += pages * int64(os.Getpagesize())
		}
	}
	return s
}

func readHeaders(br *bufio.Reader) (string, error) {
	first, err := br.ReadString('\n')
	for err == nil {
		var l string
		if l, err = br.ReadString('\n'); l == "\r\n" {
			break
		}
	}
	return first, err
}

type nginx struct{ url, pidFile string }

// startNginx runs a private nginx on a free loopback port proxying / to upstream, unbuffered
// with 64 KB buffers (what a streaming proxy is configured with).
func startNginx(t *testing.T, bin, upstream string) nginx {
	return runNginx(t, bin, freeAddr(t), `location / {
      proxy_pass `+upstream+`;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_buffer_size 64k;
      proxy_buffers 8 64k;
      proxy_read_timeout 60s;
    }`)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// nginxBinary finds nginx, or skips the test.
func nginxBinary(t *testing.T) string {
	for _, p := range []string{"/usr/sbin/nginx", "nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	t.Skip("nginx not installed (apt-get install -y nginx-light)")
	return ""
}

// runNginx runs a private nginx on addr with one server block holding locations.
func runNginx(t *testing.T, bin, addr, locations string) nginx {
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon on;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
worker_processes 2;
worker_rlimit_nofile 20000;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fcgi;
  uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  server {
    listen %[2]s;
    %[3]s
  }
}
`, dir, addr, locations)
	must(t, os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644))
	out, err := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-s", "stop").Run()
	})
	return nginx{url: "http://" + addr, pidFile: filepath.Join(dir, "nginx.pid")}
}

// nginxPIDs returns the master's pid and its children's.
func nginxPIDs(t *testing.T, pidFile string) []int {
	b, err := os.ReadFile(pidFile)
	must(t, err)
	master, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	pids := []int{master}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+2:]))
		if ppid, _ := strconv.Atoi(f[1]); ppid == master {
			pids = append(pids, pid)
		}
	}
	return pids
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func envDur(k string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}
