package stream_test

import (
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
)

// TestRateLimit_StreamOpens: stream opens are rate-limited per client (an IPv4 address, an
// IPv6 /64) on every stream route and method that opens or probes: 429 with an empty body once
// the burst is spent. HLS segment links continue an admitted open and are not limited; another
// client is not affected.
func TestRateLimit_StreamOpens(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{
		// A burst of 3 and (practically) no refill during the test.
		settings: map[string]string{"stream_rate_limit_per_second": "0.001", "stream_rate_limit_burst": "3"},
		cfg: func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} // clients named by X-Forwarded-For
		},
	})
	u := e.line.Username
	live := "/live/" + u + "/nope/" + itoa(e.live) + ".ts"
	from := func(client string) map[string]string { return map[string]string{"X-Forwarded-For": client} }
	tests := []struct {
		name   string
		client string
		method string
		path   string
		want   int
	}{
		{"first open", "198.51.100.7", "GET", live, 401},
		{"second open", "198.51.100.7", "GET", live, 401},
		{"third open", "198.51.100.7", "HEAD", live, 200},
		{"burst spent", "198.51.100.7", "GET", live, 429},
		{"burst spent, movie", "198.51.100.7", "GET", "/movie/" + u + "/nope/" + itoa(e.movie) + ".mp4", 429},
		{"burst spent, short form", "198.51.100.7", "POST", "/" + u + "/nope/" + itoa(e.live), 429},
		{"burst spent, HEAD", "198.51.100.7", "HEAD", live, 429},
		{"burst spent, play token", "198.51.100.7", "GET", "/play/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ts", 429},
		{"hls links are not opens", "198.51.100.7", "GET", "/hls/!!!/1.ts", 403},
		{"other methods open nothing", "198.51.100.7", "OPTIONS", live, 200},
		{"another IPv4 client", "198.51.100.8", "GET", live, 401},
		{"an IPv6 client", "2001:db8:1:2::1", "GET", live, 401},
		{"the same /64", "2001:db8:1:2::2", "GET", live, 401},
		{"the same /64 again", "2001:db8:1:2:aaaa::3", "GET", live, 401},
		{"the /64's burst spent", "2001:db8:1:2:ffff:ffff:ffff:ffff", "GET", live, 429},
		{"the next /64", "2001:db8:1:3::1", "GET", live, 401},
	}
	for _, tt := range tests { // in order: each row spends a token
		code, hdr, body := do(t, tt.method, e.base+tt.path, from(tt.client))
		if code != tt.want || len(body) != 0 {
			t.Errorf("%s: %s %s from %s = %d with %d bytes (%s), want %d with an empty body",
				tt.name, tt.method, tt.path, tt.client, code, len(body), hdr.Get("Content-Type"), tt.want)
		}
	}
	if got := counterValue(t, e, "xtreamd_access_rate_limited_total", "stream_open"); got != 6 {
		t.Errorf("xtreamd_access_rate_limited_total{limit=stream_open} = %v, want 6", got)
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("rate-limited opens logged an error:\n%s", e.logs.String())
	}
}

// TestHashQueue_Deadline: with every hashing slot taken, a stream open waits for one no longer
// than --hash-queue-wait and is answered 503 with an empty body (the surface's "undecided") and
// Retry-After: 1, never left waiting; the overload is one warning, not a log line per request.
func TestHashQueue_Deadline(t *testing.T) {
	t.Parallel()
	// The holders' verifications run until the test lets go of them: the opens find every slot
	// taken however fast or loaded the machine is.
	var holding atomic.Pointer[string]
	letGo := make(chan struct{})
	release := sync.OnceFunc(func() { close(letGo) })
	t.Cleanup(release)
	e := setup(t, envOpts{cfg: func(c *config.Config) { c.HashQueueWait = 20 * time.Millisecond },
		hashVerify: func(encodedHash, password string) (bool, error) {
			if h := holding.Load(); h != nil && encodedHash == *h {
				<-letGo
			}
			return credential.Verify(encodedHash, password)
		}})
	line, _ := e.newLine(nil)
	holding.Store(&line.PasswordHash)
	slots := runtime.NumCPU() // the server's hashing slots
	var holders sync.WaitGroup
	for i := range slots { // distinct wrong passwords: one hash each, nothing shared
		holders.Add(1)
		go func() {
			defer holders.Done()
			if code, _, _ := do(t, "GET", e.url("/live/%s/wrong-%d/%d.ts", line.Username, i, e.live), nil); code != 401 {
				t.Errorf("slot holder %d = %d, want 401", i, code)
			}
		}()
	}
	eventually(t, "every hashing slot taken", func() bool {
		return gaugeValue(t, e, "xtreamd_credential_hashes_in_flight") == float64(slots)
	})
	var refused sync.WaitGroup
	for i := range 3 {
		refused.Add(1)
		go func() {
			defer refused.Done()
			code, hdr, body := do(t, "GET", e.url("/live/nobody-%d/guess/%d.ts", i, e.live), nil)
			if code != 503 || len(body) != 0 || hdr.Get("Retry-After") != "1" {
				t.Errorf("open while the hashing queue is full = %d with %d bytes, Retry-After %q; want 503 with an empty body, Retry-After 1",
					code, len(body), hdr.Get("Retry-After"))
			}
		}()
	}
	refused.Wait()
	release()
	holders.Wait()
	logs := e.logs.String()
	if n := strings.Count(logs, "password hashing overloaded"); n != 1 {
		t.Errorf("%d overload warnings for 3 refused opens, want 1", n)
	}
	if strings.Contains(logs, "stream check failed") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("a refused open was logged per request:\n%s", logs)
	}
	if got := counterValue(t, e, "xtreamd_credential_hashes_refused_total", ""); got != 3 {
		t.Errorf("xtreamd_credential_hashes_refused_total = %v, want 3", got)
	}
}

// gaugeValue is the value of the unlabelled gauge name.
func gaugeValue(t *testing.T, e *env, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	must(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// counterValue is the value of the counter name whose one label has the value label ("": the
// unlabelled counter).
func counterValue(t *testing.T, e *env, name, label string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	must(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label == "" && len(m.GetLabel()) == 0 || len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == label {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
