package epg_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// BenchmarkExport is one xmltv.php download of 200 channels: 2 days (the default window) of
// hourly programmes, 9,600 of them, out of 23 days stored, to a client that reads at once.
func BenchmarkExport(b *testing.B) {
	g, opts := exportBenchGuide(b)
	var n countWriter
	b.ReportAllocs()
	for b.Loop() {
		if err := g.Export(b.Context(), &n, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}

// BenchmarkDocuments is the same guide through epg.Documents: "first" is the download that
// exports and compresses it (a new key each time), "kept" every later one (the EPG version's
// read and the lookup). Compare "first" with BenchmarkExport, which compresses nothing.
func BenchmarkDocuments(b *testing.B) {
	g, opts := exportBenchGuide(b)
	b.Run("first", func(b *testing.B) {
		var gz int
		for b.Loop() {
			d, err := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20}).Get(b.Context(), epg.DocumentKey{Name: "k"}, exportOf(g, opts))
			if err != nil || d == nil {
				b.Fatal(d, err)
			}
			gz = len(d.Gzip)
		}
		b.ReportMetric(float64(gz), "gzip-bytes/op")
	})
	b.Run("kept", func(b *testing.B) {
		docs := epg.NewDocuments(g, epg.DocumentsOptions{Budget: 64 << 20})
		if _, err := docs.Get(b.Context(), epg.DocumentKey{Name: "k"}, exportOf(g, opts)); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if d, err := docs.Get(b.Context(), epg.DocumentKey{Name: "k"}, exportOf(g, opts)); err != nil || d == nil {
				b.Fatal(d, err)
			}
		}
	})
}

// exportBenchGuide stores the benchmarks' guide: 200 channels of hourly programmes from 8 days
// back to 15 days ahead, and the default window's export of all of them.
func exportBenchGuide(b *testing.B) (*epg.Guide, epg.ExportOptions) {
	st := store.New(testdb.New(b))
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	testdb.MustExec(b, st, `INSERT INTO epg_channels (id) SELECT 'ch'||lpad(c::text, 3, '0')||'.tv' FROM generate_series(0, 199) c`)
	testdb.MustExec(b, st, `INSERT INTO epg_programmes (channel_id, start_at, stop_at, title, description, lang)
		SELECT 'ch'||lpad(c::text, 3, '0')||'.tv', $1::timestamptz + h*interval '1 hour', $1::timestamptz + (h+1)*interval '1 hour',
			'Programme '||h, repeat('A plausible description of this hour. ', 7), 'en'
		FROM generate_series(0, 199) c, generate_series(-8*24, 15*24 - 1) h`, now)
	testdb.MustExec(b, st, `ANALYZE`)
	chans := make([]epg.Channel, 200)
	for i := range chans {
		chans[i] = epg.Channel{ID: fmt.Sprintf("ch%03d.tv", i), DisplayName: fmt.Sprintf("Channel %d", i)}
	}
	g := epg.NewGuide(st, func() time.Time { return now })
	return g, epg.ExportOptions{From: now.Add(-24 * time.Hour), To: now.Add(24 * time.Hour), Channels: chans}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
