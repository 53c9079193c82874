package epg

import "github.com/prometheus/client_golang/prometheus"

// Collectors are the metrics of d, for a registry.
func (d *Documents) Collectors() []prometheus.Collector {
	builds := func(result string, n func(DocumentsStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "xtreamd_guide_exports_total", ConstLabels: prometheus.Labels{"result": result},
			Help: "Guide answers (xmltv.php documents, the portal's get_epg_info) built to be kept, by how the build ended: kept, too_large (built per ask instead), failed.",
		}, func() float64 { return float64(n(d.Stats())) })
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_guide_documents",
			Help: "Guide answers kept (gzip-compressed, shared by the lines of a bouquet set; --guide-cache-mb)."},
			func() float64 { return float64(d.Stats().Kept) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xtreamd_guide_document_bytes",
			Help: "Compressed bytes of the guide answers kept."},
			func() float64 { return float64(d.Stats().Bytes) }),
		builds("kept", func(s DocumentsStats) uint64 { return s.Exported }),
		builds("too_large", func(s DocumentsStats) uint64 { return s.TooLarge }),
		builds("failed", func(s DocumentsStats) uint64 { return s.Failed }),
	}
}
