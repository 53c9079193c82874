package player

import (
	"strings"
	"testing"
	"time"
)

// TestServerClock: server_info's clock fields are kept for one second only — a login in the
// next second, or one whose clock went back, gets its own time — and within a second they
// are what rendering them afresh gives.
func TestServerClock(t *testing.T) {
	t.Parallel()
	tz, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	s := &site{host: "tv.example", port: "80", httpsPort: "443", scheme: "http", rtmpPort: "25462", tzName: "Europe/Berlin", tz: tz}
	var k serverClock
	t0 := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC) // the second before Berlin's clocks go forward
	for _, tt := range []struct {
		now  time.Time
		want string
	}{
		{t0, `"timestamp_now":1774745999,"time_now":"2026-03-29 01:59:59"`},
		{t0.Add(900 * time.Millisecond), `"timestamp_now":1774745999,"time_now":"2026-03-29 01:59:59"`},
		{t0.Add(time.Second), `"timestamp_now":1774746000,"time_now":"2026-03-29 03:00:00"`},
		{t0, `"timestamp_now":1774745999,"time_now":"2026-03-29 01:59:59"`},
	} {
		got := string(k.full(tt.now, s))
		const head = `{"url":"tv.example","port":"80","https_port":"443","server_protocol":"http","rtmp_port":"25462","timezone":"Europe/Berlin",`
		if !strings.Contains(got, tt.want) || !strings.HasPrefix(got, head) || !strings.HasSuffix(got, `,"process":true}`) {
			t.Errorf("full(%v) = %s, want %s", tt.now, got, tt.want)
		}
	}
}
