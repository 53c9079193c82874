package player

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/epg"
)

// guideExportTimeout bounds one xmltv.php download.
const guideExportTimeout = 10 * time.Minute

// xmltv serves xmltv.php (spec §3.2): the guide of the line's channels as XMLTV, streamed
// from the database, prev_days (default 1) back and next_days (default 1) ahead, at most 14
// each; times carry an explicit UTC offset. Failure: an empty 401 (flood-blocked: 403); a line
// or address already running its downloads: an empty 429.
//
// The guide is read in bounded pages with no database connection held while the client reads
// (epg.Guide.Export), and a client that accepts nothing for downloadStallTimeout is cut.
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
	ent := h.catalog.Current().Entitlement(d.Line.BouquetIDs)
	chans := make([]epg.Channel, 0, 64) // never nil: nil would export every channel
	seen := make(map[string]bool)
	for _, st := range ent.Live(0) {
		if st.EPGChannelID == "" || seen[st.EPGChannelID] {
			continue
		}
		seen[st.EPGChannelID] = true
		chans = append(chans, epg.Channel{ID: st.EPGChannelID, DisplayName: st.Name, Icon: st.Icon})
	}
	now := h.now()
	opts := epg.ExportOptions{
		From:          now.Add(-time.Duration(req.prevDays) * 24 * time.Hour),
		To:            now.Add(time.Duration(req.nextDays) * 24 * time.Hour),
		GeneratorName: "xtreamd",
		GeneratorURL:  h.site.base + "/",
		Channels:      chans,
	}
	release, conn, ok := h.startDownload(c, d.Line.ID, req.clientIP)
	if !ok {
		return nil // 429: this line or address already runs its downloads
	}
	guide, log, parent := h.guide, h.log, h.streamCtx
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
