package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/internal/store"
)

// poolCollector exposes the pgx pool's statistics at scrape time.
type poolCollector struct {
	st                                        *store.Store
	acquired, idle, total, max                *prometheus.Desc
	acquires, emptyAcquires, canceledAcquires *prometheus.Desc
	acquireSeconds                            *prometheus.Desc
}

func newPoolCollector(st *store.Store) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("xtreamd_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		st:               st,
		acquired:         d("acquired_conns", "Connections currently in use."),
		idle:             d("idle_conns", "Idle connections in the pool."),
		total:            d("total_conns", "All connections of the pool."),
		max:              d("max_conns", "Maximum size of the pool."),
		acquires:         d("acquires_total", "Successful connection acquisitions."),
		emptyAcquires:    d("empty_acquires_total", "Acquisitions that had to wait for a connection."),
		canceledAcquires: d("canceled_acquires_total", "Acquisitions canceled by their context."),
		acquireSeconds:   d("acquire_seconds_total", "Total time spent acquiring connections."),
	}
}

func (p *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.acquired, p.idle, p.total, p.max, p.acquires, p.emptyAcquires, p.canceledAcquires, p.acquireSeconds} {
		ch <- d
	}
}

func (p *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := p.st.Pool().Stat()
	ch <- prometheus.MustNewConstMetric(p.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(p.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(p.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(p.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(p.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(p.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(p.canceledAcquires, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
	ch <- prometheus.MustNewConstMetric(p.acquireSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
