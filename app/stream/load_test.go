package stream_test

// The load benchmark (bench/stream.sh runs it): many viewers of one channel through the whole
// server, next to nginx proxying the same source. It is a test gated by XTREAMD_BENCH=1, not a
// testing.B, because it measures a running system: delivered rates, skips and drops, CPU time
// per delivered GB, memory per viewer, time to first byte. Viewers run in a child process (this
// test binary again, as TestBenchClient), so the server's CPU time is its own.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchOrigin serves a prepared TS buffer, looped, paced at rate bytes/s (0: as fast as the
// client reads). Every connection gets the same bytes; no per-connection work but the copy.
func benchOrigin(t testing.TB, data []byte, rate float64) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/mp2t")
		rc := http.NewResponseController(w)
		const chunk = 188 * 70
		start, sent := time.Now(), 0
		for off := 0; ; off = (off + chunk) % (len(data) / chunk * chunk) {
			if _, err := w.Write(data[off : off+chunk]); err != nil || rc.Flush() != nil {
				return
			}
			sent += chunk
			if rate > 0 {
				if d := time.Until(start.Add(time.Duration(float64(sent) / rate * float64(time.Second)))); d > 0 {
					select {
					case <-r.Context().Done():
						return
					case <-time.After(d):
					}
				}
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
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
	Bytes   []int64 `json:"bytes"`  // per viewer, within the window
	Errors  int     `json:"errors"` // viewers that failed or ended early
	WindowS float64 `json:"window_s"`
	CPUS    float64 `json:"cpu_s"` // the client process's CPU time
}

// TestBenchClient is the viewer process: XTREAMD_BENCH_CLIENT="url n warmup window" opens n
// viewers of url, discards warmup, counts bytes for window, prints one JSON line.
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
	var counting atomic.Bool
	var errs atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", target.Host)
			if err != nil {
				errs.Add(1)
				return
			}
			defer c.Close()
			go func() { <-stop; c.Close() }()
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench/%d\r\n\r\n", target.RequestURI(), target.Host, i)
			br := bufio.NewReaderSize(c, 64<<10)
			line, err := br.ReadString('\n')
			if err != nil || !strings.Contains(line, " 200 ") {
				errs.Add(1)
				return
			}
			buf := make([]byte, 64<<10)
			for {
				k, err := br.Read(buf)
				if counting.Load() {
					counts[i].Add(int64(k))
				}
				if err != nil {
					select {
					case <-stop:
					default:
						errs.Add(1)
					}
					return
				}
			}
		}(i)
		if i%50 == 49 {
			time.Sleep(50 * time.Millisecond) // ramp up
		}
	}
	time.Sleep(warm)
	cpu0 := cpuSelf()
	counting.Store(true)
	start := time.Now()
	time.Sleep(window)
	counting.Store(false)
	res := clientResult{WindowS: time.Since(start).Seconds(), CPUS: cpuSelf() - cpu0}
	close(stop)
	wg.Wait()
	for i := range counts {
		res.Bytes = append(res.Bytes, counts[i].Load())
	}
	res.Errors = int(errs.Load())
	b, _ := json.Marshal(res)
	fmt.Println("RESULT " + string(b))
}

// runViewers starts the viewer process and returns its result.
func runViewers(t *testing.T, u string, n int, warm, window time.Duration) clientResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("XTREAMD_BENCH_CLIENT=%s %d %s %s", u, n, warm, window))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("viewer process: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(l, "RESULT "); ok {
			var r clientResult
			must(t, json.Unmarshal([]byte(j), &r))
			return r
		}
	}
	t.Fatalf("no result from the viewer process:\n%s", out)
	return clientResult{}
}

// cpuSelf is this process's user+system CPU time in seconds.
func cpuSelf() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// cpuPIDs sums the user+system CPU time of processes (nginx master and workers) from /proc.
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

func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func summarize(r clientResult, expect float64) (totalMBs float64, minRatio float64, behind int) {
	minRatio = 1e9
	var total int64
	for _, b := range r.Bytes {
		total += b
		ratio := float64(b) / r.WindowS / expect
		minRatio = min(minRatio, ratio)
		if ratio < 0.95 {
			behind++
		}
	}
	return float64(total) / r.WindowS / 1e6, minRatio, behind
}

// TestBenchLoad: XTREAMD_BENCH=1 go test ./app/stream -run TestBenchLoad -v -timeout 20m
// Options: XTREAMD_BENCH_VIEWERS (500), XTREAMD_BENCH_CLIP (an 8 Mbit/s TS; default: clip.ts
// paced at 8 Mbit/s), XTREAMD_BENCH_WINDOW (20s), XTREAMD_BENCH_NGINX (nginx binary, "" skips).
func TestBenchLoad(t *testing.T) {
	if os.Getenv("XTREAMD_BENCH") != "1" {
		t.Skip("set XTREAMD_BENCH=1 (bench/stream.sh)")
	}
	viewers := envInt("XTREAMD_BENCH_VIEWERS", 500)
	window := envDur("XTREAMD_BENCH_WINDOW", 20*time.Second)
	warm := 5 * time.Second
	data := clip(t)
	bitrate := 8e6
	if p := os.Getenv("XTREAMD_BENCH_CLIP"); p != "" {
		b, err := os.ReadFile(p)
		must(t, err)
		data = b
	}
	l := newLoop(data)
	clipRate := float64(len(l.data)) / (float64(l.dur90k) / 90000) // bytes/s of the clip at real time
	rate := bitrate / 8
	t.Logf("source: %d bytes, %.2f Mbit/s at real time; served at %.2f Mbit/s", len(l.data), clipRate*8/1e6, rate*8/1e6)
	src := loopedTS(data, max(2, int(64e6/float64(len(l.data)))))
	paced := benchOrigin(t, src, rate)

	e := setup(t, envOpts{sources: func(*origin) []string { return []string{paced.URL + "/live.ts"} }})
	u := e.liveURL(e.live, "ts")

	// Warm the channel (its ring fills in 8 s) and the credential cache.
	resp := openStream(t, u)
	readN(t, resp.Body, 188*100)
	time.Sleep(9 * time.Second)
	resp.Body.Close()

	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	rss0 := rssBytes()
	skips0, drops0 := metricValue(e, "xtreamd_relay_viewer_skips_total"), metricValue(e, "xtreamd_relay_viewer_drops_total")
	bytes0 := metricValue(e, `xtreamd_stream_bytes_out_total{container="ts"}`)

	// Memory with every viewer attached is sampled mid-window from another goroutine.
	var heapMid, rssMid uint64
	var cpu0, cpu1 float64
	var bytesMid0, bytesMid1 float64
	go func() {
		time.Sleep(warm)
		cpu0, bytesMid0 = cpuSelf(), metricValue(e, `xtreamd_stream_bytes_out_total{container="ts"}`)
		time.Sleep(window / 2)
		runtime.GC() // live memory, not garbage awaiting collection
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heapMid, rssMid = ms.HeapInuse+ms.StackInuse, uint64(rssBytes())
		time.Sleep(window / 2)
		cpu1, bytesMid1 = cpuSelf(), metricValue(e, `xtreamd_stream_bytes_out_total{container="ts"}`)
	}()
	r := runViewers(t, u, viewers, warm, window)
	total, minRatio, behind := summarize(r, rate)
	skips := metricValue(e, "xtreamd_relay_viewer_skips_total") - skips0
	drops := metricValue(e, "xtreamd_relay_viewer_drops_total") - drops0
	gb := (bytesMid1 - bytesMid0) / 1e9
	t.Logf("RELAY %d viewers × %.1f Mbit/s for %.1f s: delivered %.1f MB/s (%.2f Gbit/s; expected %.1f MB/s), "+
		"slowest viewer %.3f of the channel rate, %d below 95%%, %d client errors, skips %.0f, drops %.0f",
		viewers, rate*8/1e6, r.WindowS, total, total*8/1e3, float64(viewers)*rate/1e6, minRatio, behind, r.Errors, skips, drops)
	t.Logf("RELAY server CPU %.2f s for %.3f GB delivered = %.2f CPU-s/GB (%.0f%% of one core); viewer process CPU %.2f s",
		cpu1-cpu0, gb, (cpu1-cpu0)/gb, (cpu1-cpu0)/r.WindowS*100, r.CPUS)
	t.Logf("RELAY memory per viewer: live heap+stacks %.1f KiB, RSS %.1f KiB (heap %d→%d MiB, RSS %d→%d MiB)",
		float64(heapMid-(ms0.HeapInuse+ms0.StackInuse))/float64(viewers)/1024, float64(int64(rssMid)-rss0)/float64(viewers)/1024,
		(ms0.HeapInuse+ms0.StackInuse)>>20, heapMid>>20, rss0>>20, rssMid>>20)
	_ = bytes0

	ttfb(t, u, 200)

	if bin := os.Getenv("XTREAMD_BENCH_NGINX"); bin != "" {
		ng := startNginx(t, bin, paced.URL)
		time.Sleep(time.Second)
		pids := nginxPIDs(t, ng.pidFile)
		c0 := cpuSelf()
		done := make(chan float64, 1)
		go func() {
			time.Sleep(warm)
			a := cpuPIDs(pids)
			time.Sleep(window)
			done <- cpuPIDs(pids) - a
		}()
		r2 := runViewers(t, ng.url+"/live.ts", viewers, warm, window)
		ngCPU := <-done
		originCPU := cpuSelf() - c0
		total2, minRatio2, behind2 := summarize(r2, rate)
		gb2 := total2 * r2.WindowS / 1e3
		t.Logf("NGINX proxy_pass, %d viewers (each its own upstream pull): delivered %.1f MB/s (%.2f Gbit/s), slowest %.3f, %d below 95%%, %d errors",
			viewers, total2, total2*8/1e3, minRatio2, behind2, r2.Errors)
		t.Logf("NGINX CPU %.2f s for %.3f GB = %.2f CPU-s/GB; origin (in the test process) served %d pulls using %.2f CPU-s over warm-up and window",
			ngCPU, gb2, ngCPU/gb2, viewers, originCPU)
		t.Logf("RATIO relay/nginx delivered throughput %.3f; CPU-s per GB relay/nginx %.3f (relay pulls the source once, nginx %d times)",
			total/total2, ((cpu1-cpu0)/gb)/(ngCPU/gb2), viewers)
	}
}

// ttfb opens the (already running) channel n times one after the other and reports the time
// from dialing to the first body byte, check included.
func ttfb(t *testing.T, u string, n int) {
	target, _ := url.Parse(u)
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		c, err := net.Dial("tcp", target.Host)
		must(t, err)
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ttfb\r\n\r\n", target.RequestURI(), target.Host)
		br := bufio.NewReader(c)
		tp, err := readHeaders(br)
		if err != nil || !strings.Contains(tp, " 200 ") {
			t.Fatalf("ttfb open %d: %q %v", i, tp, err)
		}
		if _, err := br.ReadByte(); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, time.Since(start))
		c.Close()
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[int(p*float64(len(ds)-1))].Round(10 * time.Microsecond) }
	t.Logf("TTFB of a running channel over %d opens (dial, check with a lease, relay join, first byte): p50 %v p90 %v p99 %v max %v",
		n, q(.5), q(.9), q(.99), ds[len(ds)-1].Round(10*time.Microsecond))
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

// startNginx runs a private nginx on a free loopback port proxying / to upstream.
func startNginx(t *testing.T, bin, upstream string) nginx {
	return runNginx(t, bin, freeAddr(t), `location / {
      proxy_pass `+upstream+`;
      proxy_http_version 1.1;
      proxy_buffering off;
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

func metricValue(e *env, name string) float64 {
	m := e.metric(name)
	i := strings.LastIndexByte(m, ' ')
	if i < 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(m[i+1:], 64)
	return v
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

var _ = context.Background
var _ = io.EOF
