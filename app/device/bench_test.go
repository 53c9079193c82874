package device_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// The benchmarks run over real HTTP on loopback against a real database, as a TV app calls
// the endpoints; each reports the p50 latency of one call (p50_ms) beside ns/op. The baseline is
// /healthz on the same server (the HTTP stack and the middleware without the database).

// send posts a form (nil: GETs path) and fails unless the status is want.
func send(b *testing.B, base, path string, form url.Values, want int) {
	var resp *http.Response
	var err error
	if form == nil {
		resp, err = http.Get(base + path)
	} else {
		resp, err = http.Post(base+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	}
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		b.Fatalf("%s = %d, want %d", path, resp.StatusCode, want)
	}
}

// BenchmarkDeviceCode: POST /oauth/device/code for a new device each time (a supersede that
// finds nothing and an insert, in one transaction).
func BenchmarkDeviceCode(b *testing.B) {
	e := newEnv(b, envOpts{})
	base := e.srv.base
	b.Run("issue", func(b *testing.B) {
		testkit.Latency(b, nil, func(i int) {
			send(b, base, "/oauth/device/code", url.Values{"client_id": {clientID}, "device_id": {fmt.Sprintf("bench-%d", i)}}, http.StatusOK)
		})
	})
	b.Run("baseline_healthz", func(b *testing.B) {
		testkit.Latency(b, nil, func(int) { send(b, base, "/healthz", nil, http.StatusOK) })
	})
}

// BenchmarkTokenPoll: POST /oauth/token with a pending code, as a device polls it: once the
// interval passed (authorization_pending; the code's last poll is moved back, untimed, before
// each), and sooner (slow_down: the same one statement).
func BenchmarkTokenPoll(b *testing.B) {
	e := newEnv(b, envOpts{})
	base := e.srv.base
	g := e.srv.requestCode(b, "bench", nil)
	form := url.Values{"grant_type": {device.GrantTypeDeviceCode}, "device_code": {g.DeviceCode}, "client_id": {clientID}}
	b.Run("pending", func(b *testing.B) {
		testkit.Latency(b, func(int) {
			testdb.MustExec(b, e.st, `UPDATE device_codes SET polled_at = now() - interval '1 hour', interval_s = 5`)
		}, func(int) { send(b, base, "/oauth/token", form, http.StatusBadRequest) })
	})
	b.Run("slow_down", func(b *testing.B) {
		testkit.Latency(b, nil, func(int) { send(b, base, "/oauth/token", form, http.StatusBadRequest) })
	})
	b.Run("baseline_healthz", func(b *testing.B) {
		testkit.Latency(b, nil, func(int) { send(b, base, "/healthz", nil, http.StatusOK) })
	})
}
