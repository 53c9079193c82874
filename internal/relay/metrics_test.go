package relay

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsRegistered(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	m := newTestManager(t, Options{Registerer: reg})
	m.c.bytesOutTS.Add(1316)
	m.c.failovers.Add(2)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	got := map[string]float64{}
	series := 0
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			series++
			key := mf.GetName()
			for _, l := range mt.GetLabel() {
				key += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			if c := mt.GetCounter(); c != nil {
				got[key] = c.GetValue()
			} else {
				got[key] = mt.GetGauge().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"xtreamd_relay_failovers_total":                2,
		"xtreamd_relay_out_bytes_total{container=ts}":  1316,
		"xtreamd_relay_out_bytes_total{container=hls}": 0,
		"xtreamd_relay_viewers{container=ts}":          0,
		"xtreamd_relay_upstream_open":                  0,
		"xtreamd_relay_hls_segment_fetches_total":      0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("metric %s = %v (present %v), want %v", key, v, ok, want)
		}
	}
	if series != 13 {
		t.Errorf("gathered %d series, want 13", series)
	}
	// A second manager on the same registry is a duplicate registration, reported rather than panicking.
	if _, err := NewManager(Options{Registerer: reg}); err == nil {
		t.Fatal("NewManager with a registry that already has the relay metrics = nil error")
	}
}
