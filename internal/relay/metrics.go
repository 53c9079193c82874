package relay

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are the Manager's running totals, updated with atomics on the hot paths.
type counters struct {
	hubs, upstreamOpen, viewersTS                                 atomic.Int64
	upstreamFailures, failovers, bytesIn                          atomic.Uint64
	bytesOutTS, bytesOutHLS, skips, drops, stalls, segmentFetches atomic.Uint64
}

// Stats is a snapshot of a Manager's counters.
type Stats struct {
	Hubs             int64  // running hubs
	UpstreamOpen     int64  // upstream connections delivering data
	UpstreamFailures uint64 // sources that failed (connect error, non-2xx, stall, end)
	Failovers        uint64 // moves to another source (including back to the first after a failed round)
	BytesIn          uint64 // bytes read from upstreams
	BytesOutTS       uint64 // bytes written to TS viewers
	BytesOutHLS      uint64 // segment bytes handed out by Segment
	ViewersTS        int64  // TS viewers subscribed
	ViewersHLS       int64  // HLS sessions seen within HLSIdle
	ViewerSkips      uint64 // times a lagging viewer skipped to the newest keyframe
	ViewerDrops      uint64 // viewers dropped by the lag policy
	ViewerStalls     uint64 // viewers ended by the write stall watchdog
	SegmentFetches   uint64 // upstream HLS segments fetched
}

// Stats returns the current counters.
func (m *Manager) Stats() Stats {
	return Stats{
		Hubs:             m.c.hubs.Load(),
		UpstreamOpen:     m.c.upstreamOpen.Load(),
		UpstreamFailures: m.c.upstreamFailures.Load(),
		Failovers:        m.c.failovers.Load(),
		BytesIn:          m.c.bytesIn.Load(),
		BytesOutTS:       m.c.bytesOutTS.Load(),
		BytesOutHLS:      m.c.bytesOutHLS.Load(),
		ViewersTS:        m.c.viewersTS.Load(),
		ViewersHLS:       m.hlsSessions(),
		ViewerSkips:      m.c.skips.Load(),
		ViewerDrops:      m.c.drops.Load(),
		ViewerStalls:     m.c.stalls.Load(),
		SegmentFetches:   m.c.segmentFetches.Load(),
	}
}

// hlsSessions counts HLS sessions seen within HLSIdle over all hubs.
func (m *Manager) hlsSessions() int64 {
	now := m.opts.Now()
	var n int64
	m.mu.Lock()
	for _, h := range m.hubs {
		for _, t := range h.sessions {
			if now.Sub(t) < m.opts.HLSIdle {
				n++
			}
		}
	}
	m.mu.Unlock()
	return n
}

// register adds the relay's metrics to reg. They read the counters at scrape time, so the delivery path
// pays for nothing but its atomics.
func (m *Manager) register(reg prometheus.Registerer) error {
	c := &m.c
	u := func(a *atomic.Uint64) func() float64 { return func() float64 { return float64(a.Load()) } }
	i := func(a *atomic.Int64) func() float64 { return func() float64 { return float64(a.Load()) } }
	ts, hls := prometheus.Labels{"container": "ts"}, prometheus.Labels{"container": "hls"}
	cs := []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_relay_hubs",
			Help: "Live stream hubs running."}, i(&c.hubs)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_relay_upstream_open",
			Help: "Upstream connections delivering data."}, i(&c.upstreamOpen)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_upstream_failures_total",
			Help: "Upstream sources that failed (connect error, non-2xx, stall, end)."}, u(&c.upstreamFailures)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_failovers_total",
			Help: "Moves from one upstream source to another."}, u(&c.failovers)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_in_bytes_total",
			Help: "Bytes read from upstreams."}, u(&c.bytesIn)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_out_bytes_total",
			Help: "Bytes delivered to viewers.", ConstLabels: ts}, u(&c.bytesOutTS)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_out_bytes_total",
			Help: "Bytes delivered to viewers.", ConstLabels: hls}, u(&c.bytesOutHLS)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_relay_viewers",
			Help: "Viewers watching live streams.", ConstLabels: ts}, i(&c.viewersTS)),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_relay_viewers",
			Help: "Viewers watching live streams.", ConstLabels: hls}, func() float64 { return float64(m.hlsSessions()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_viewer_skips_total",
			Help: "Times a lagging viewer skipped to the newest keyframe."}, u(&c.skips)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_viewer_drops_total",
			Help: "Viewers dropped for lagging too often."}, u(&c.drops)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_viewer_stalls_total",
			Help: "Viewers ended because a write made no progress for the write stall timeout."}, u(&c.stalls)),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "xtreamd_relay_hls_segment_fetches_total",
			Help: "Upstream HLS segments fetched."}, u(&c.segmentFetches)),
	}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
