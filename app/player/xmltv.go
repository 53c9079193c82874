package player

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/epg"
)

// guideExportTimeout bounds one xmltv.php download.
const guideExportTimeout = 10 * time.Minute

// guideDocumentWait bounds how long a download waits for the shared document's export before
// it exports its own: a player's HTTP library gives up on an answer that sends nothing for
// about 10 s (OkHttp's default read timeout), and only a guide of hundreds of MB takes that
// long to export and compress.
const guideDocumentWait = 5 * time.Second

// What an xmltv.php download was served from (Handler.guideFrom).
const (
	guideFromKept = iota
	guideFromExport
)

// registerGuideMetrics registers the download counter with reg (nil: none; it still counts).
// The guide documents' own metrics are registered where they are made (app/server).
func (h *Handler) registerGuideMetrics(reg prometheus.Registerer) {
	from := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xtreamd_guide_downloads_total",
		Help: "xmltv.php downloads answered, by what they were served from: a kept document (kept) or an export of their own (export: too large to keep, none kept, or the shared export slow or failed).",
	}, []string{"from"})
	h.guideFrom = [2]prometheus.Counter{from.WithLabelValues("kept"), from.WithLabelValues("export")}
	if reg != nil {
		reg.MustRegister(from)
	}
}

// xmltv serves xmltv.php (spec §3.2): the guide of the line's channels as XMLTV, prev_days
// (default 1) back and next_days (default 1) ahead, at most 14 each, widened to whole hours;
// times carry an explicit UTC offset. Failure: an empty 401 (flood-blocked: 403); a line or
// address already running its downloads: an empty 429.
//
// Every line of the same bouquets gets the same document, so it is exported once per EPG
// version, catalog version and hour and kept gzip-compressed (epg.Documents, within
// --guide-cache-mb); the later downloads copy its bytes, with a Content-Length. A guide too
// large to keep is exported for each download, streamed from the database in bounded pages
// with no database connection held while the client reads (epg.Guide.Export). Either way a
// client that accepts nothing for downloadStallTimeout is cut.
//
// XC 2.9 lists every EPG channel of the panel. Here a line gets only the channels its
// bouquets hold (those with an EPG id, named and iconed as in its lists): the operator's
// other channels are not the line's business, a player matches guide entries to its own
// channels anyway, and a small line downloads a small guide.
//
// gzip=1 (and the alias /epg/{u}/{p}/gz) asks for the document as a gzip file, as XUI serves
// it: application/octet-stream, named epg.xml.gz, without Content-Encoding (the player
// decompresses it as the file it asked for). Otherwise the document goes gzip-encoded
// (Content-Encoding) to a client whose Accept-Encoding allows it, as an HTTP library decodes
// it on its own: a guide is tens of MB of repeated markup that a box fetches every day.
func (h *Handler) xmltv(c *fiber.Ctx) error { return h.guideDownload(c, false) }

// xmltvGzip serves /epg/{u}/{p}/gz: xmltv.php with gzip=1.
func (h *Handler) xmltvGzip(c *fiber.Ctx) error { return h.guideDownload(c, true) }

func (h *Handler) guideDownload(c *fiber.Ctx, gz bool) error {
	req, ok := h.admit(c)
	if !ok {
		return nil
	}
	gz = gz || req.gzip
	if !req.hasCredentials() {
		return sendBody(c, answer{kind: answerBody, status: fiber.StatusUnauthorized})
	}
	d, err := h.check(c, &req, "xmltv", "")
	if err != nil {
		return h.unavailable(c, "xmltv", err)
	}
	if a := guideAnswer(d.Code); a.kind != answerServe {
		return sendBody(c, a)
	}
	snap := h.catalog.Current()
	// The window is widened to whole hours: prev_days before the start of this hour to
	// next_days after its end. Every line of the same bouquets then asks for the same document
	// all hour long, and h.guideDocs exports it once.
	hour := h.now().Truncate(time.Hour)
	bouquets, prevDays, nextDays := d.Line.BouquetIDs, req.prevDays, req.nextDays
	// Only an export needs the channel list (a pass over the line's channels): a download of
	// a kept document never builds it.
	exportOptions := func() epg.ExportOptions {
		chans := make([]epg.Channel, 0, 64) // never nil: nil would export every channel
		seen := make(map[string]bool)
		for _, st := range snap.Entitlement(bouquets).Live(0) {
			if st.EPGChannelID == "" || seen[st.EPGChannelID] {
				continue
			}
			seen[st.EPGChannelID] = true
			chans = append(chans, epg.Channel{ID: st.EPGChannelID, DisplayName: st.Name, Icon: st.Icon})
		}
		return epg.ExportOptions{
			From:          hour.Add(-time.Duration(prevDays) * 24 * time.Hour),
			To:            hour.Add(time.Hour + time.Duration(nextDays)*24*time.Hour),
			GeneratorName: "xtreamd",
			GeneratorURL:  h.site.base + "/",
			Channels:      chans,
		}
	}
	release, conn, ok := h.startDownload(c, d.Line.ID, req.clientIP)
	if !ok {
		return nil // 429: this line or address already runs its downloads
	}
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	switch {
	case gz:
		c.Set(fiber.HeaderContentType, "application/octet-stream")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="epg.xml.gz"`)
	case edge.AcceptsGzip(c.Get(fiber.HeaderAcceptEncoding)):
		gz = true
		c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
		c.Set(fiber.HeaderContentEncoding, "gzip")
	default:
		c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	}
	key := epg.DocumentKey{Name: guideName(snap.Version, d.Line.BouquetIDs, req.prevDays, req.nextDays), Epoch: hour.Unix()}
	wait, cancel := context.WithTimeout(h.streamCtx, guideDocumentWait)
	doc, err := h.guideDocs.Get(wait, key, h.guide.ExportBuild(exportOptions))
	cancel()
	if err != nil {
		h.log.Debug("xmltv: no shared document, exporting this download's own", "err", err)
	}
	if doc != nil {
		h.guideFrom[guideFromKept].Inc()
		return sendDocument(c, doc, gz, conn, release)
	}
	h.guideFrom[guideFromExport].Inc()
	guide, log, parent, opts := h.guide, h.log, h.streamCtx, exportOptions()
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer release()
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic writing xmltv", "panic", fmt.Sprint(r))
			}
		}()
		ctx, cancel := context.WithTimeout(parent, guideExportTimeout)
		defer cancel()
		var out io.Writer = newStallWriter(w, conn)
		if gz {
			zw := edge.NewGzipWriter(out)
			defer zw.Done()
			out = zw
		}
		if err := guide.Export(ctx, out, opts); err != nil && ctx.Err() == nil {
			// Mostly a client that went away or stalled; the document is cut short either way.
			log.Debug("xmltv export ended early", "err", err)
		}
	})
	return nil
}

// guideName names a guide document for epg.Documents: everything that shapes it besides the
// EPG version and the hour (the catalog snapshot's names and icons, the line's bouquets in
// their order, the window's days).
func guideName(catalogVersion int64, bouquetIDs []int64, prevDays, nextDays int) string {
	return fmt.Sprintf("xmltv/%d/%s/%d/%d", catalogVersion, edge.IDsKey(bouquetIDs), prevDays, nextDays)
}

// sendDocument answers with a kept guide: its bytes as they are when gz, else decompressed on
// the way out. Either way the length is known (Content-Length), the stall deadline guards the
// client's reading as for an export, and the download slot is released when the body is done
// or abandoned (fasthttp closes the body stream).
func sendDocument(c *fiber.Ctx, doc *epg.Document, gz bool, conn net.Conn, release func()) error {
	body := &documentBody{stall: stallDeadline{conn: conn, timeout: downloadStallTimeout}, release: release}
	size := doc.Size
	if gz {
		body.r, size = bytes.NewReader(doc.Gzip), int64(len(doc.Gzip))
	} else {
		zr, err := gzip.NewReader(bytes.NewReader(doc.Gzip))
		if err != nil { // our own bytes: cannot happen
			release()
			return fmt.Errorf("xmltv: kept document: %w", err)
		}
		body.r = zr
	}
	c.Response().SetBodyStream(body, int(size))
	return nil
}

// documentBody is a kept guide on its way out (sendDocument).
type documentBody struct {
	r       io.Reader
	stall   stallDeadline
	release func()
}

func (b *documentBody) Read(p []byte) (int, error) {
	b.stall.push()
	return b.r.Read(p)
}

func (b *documentBody) Close() error {
	b.release()
	return nil
}
