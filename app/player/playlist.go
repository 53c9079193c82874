package player

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// playlist serves get.php (spec §3.1): the line's live channels, movies and episodes as an
// M3U download, streamed as it is written from the catalog snapshot (memory the instance holds
// anyway; no database). Any failure is an empty 404 (flood-blocked: 403); a line or address
// already running its downloads: an empty 429.
func (h *Handler) playlist(c *fiber.Ctx) error {
	req, ok := h.admit(c)
	if !ok {
		return nil
	}
	// Unknown type or output are refused before the credentials are even checked.
	if !req.hasCredentials() || req.playlistType == "" || req.output == "" {
		return sendBody(c, answer{kind: answerBody, status: fiber.StatusNotFound})
	}
	// The output format is part of the check: a line without HLS gets no HLS playlist.
	d, err := h.check(c, &req, "get", req.output)
	if err != nil {
		return h.unavailable(c, "get", err)
	}
	if a := playlistAnswer(d.Code); a.kind != answerServe {
		return sendBody(c, a)
	}
	release, conn, ok := h.startDownload(c, d.Line.ID, req.clientIP)
	if !ok {
		return nil // 429: this line or address already runs its downloads
	}
	pw := &playlistWriter{
		release: release,
		conn:    conn,
		ent:     h.catalog.Current().Entitlement(d.Line.BouquetIDs),
		plus:    req.playlistType == typeM3UPlus,
		ext:     req.output,
		urls:    newStreamURLs(h.site.base, req.username, req.password),
		log:     h.log,
		ctx:     h.streamCtx,
	}
	suffix := ""
	if pw.plus {
		suffix = "_plus"
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="tv_channels_`+fileSafe(d.Line.Username)+suffix+`.m3u"`)
	c.Context().SetBodyStreamWriter(pw.write)
	return nil
}

// streamURLs are the URL prefixes of one line's streams, credentials path-escaped.
type streamURLs struct {
	live, movie, series string // …/live/{u}/{p}/
	xmltv               string
}

func newStreamURLs(base, username, password string) streamURLs {
	creds := pathSegment(username) + "/" + pathSegment(password) + "/"
	return streamURLs{
		live:   base + "/live/" + creds,
		movie:  base + "/movie/" + creds,
		series: base + "/series/" + creds,
		xmltv:  base + "/xmltv.php?username=" + url.QueryEscape(username) + "&password=" + url.QueryEscape(password),
	}
}

// pathSegment escapes everything but RFC 3986's unreserved characters, so a password holding
// '/', '?', '#', '+', '%' or spaces survives as one path segment in any client (spec §7 #16).
func pathSegment(s string) string {
	const upperHex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// fileSafe is s with anything but letters, digits, '.', '-' and '_' replaced, for a
// Content-Disposition file name.
func fileSafe(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !unreserved(c) || c == '~' {
			b[i] = '_'
		}
	}
	return string(b)
}

// playlistWriter writes one playlist. It runs after the handler returned (fasthttp's body
// stream writer): it holds only owned values, the immutable snapshot and the connection (for
// its write deadline only), never the request.
type playlistWriter struct {
	release func()   // the download slot
	conn    net.Conn // for the stall deadline
	ent     *catalog.Entitlement
	plus    bool
	ext     string
	urls    streamURLs
	log     *slog.Logger
	ctx     context.Context
}

// write streams the playlist: #EXTM3U, then live channels, movies and episodes in bouquet
// order. It stops at the first write error (the client went away) or at shutdown.
func (pw *playlistWriter) write(bw *bufio.Writer) {
	defer pw.release()
	defer func() {
		if r := recover(); r != nil {
			pw.log.Error("panic writing a playlist", "panic", fmt.Sprint(r))
		}
	}()
	w := newStallWriter(bw, pw.conn)
	b := make([]byte, 0, 1024)
	b = append(b, `#EXTM3U x-tvg-url="`...)
	b = appendAttr(b, pw.urls.xmltv)
	b = append(b, "\"\n"...)
	if _, err := w.Write(b); err != nil {
		return
	}
	flush := func() bool {
		_, err := w.Write(b)
		return err == nil && pw.ctx.Err() == nil
	}
	for _, st := range pw.ent.Live(0) {
		b = pw.appendEntry(b[:0], st.EPGChannelID, st.Name, st.Icon, categoryName(st.Category), st.TVArchiveDays)
		b = pw.appendURL(b, st, pw.urls.live, pw.ext)
		if !flush() {
			return
		}
	}
	for _, st := range pw.ent.VOD(0) {
		b = pw.appendEntry(b[:0], "", st.Name, st.Icon, categoryName(st.Category), 0)
		b = pw.appendURL(b, st, pw.urls.movie, st.ContainerExtension)
		if !flush() {
			return
		}
	}
	for _, se := range pw.ent.Series(0) {
		group := categoryName(se.Category)
		for _, sn := range se.Seasons {
			for _, ep := range sn.Episodes {
				name := episodeName(se.Name, sn.Number, ep)
				icon := ep.Icon
				if icon == "" {
					icon = se.Cover
				}
				b = pw.appendEntry(b[:0], "", name, icon, group, 0)
				b = pw.appendURL(b, ep, pw.urls.series, ep.ContainerExtension)
				if !flush() {
					return
				}
			}
		}
	}
}

// episodeName is XC's playlist name of an episode: "{Series} S01 E03".
func episodeName(series string, season int32, ep *catalog.Stream) string {
	n := int32(0)
	if ep.Episode != nil {
		n = ep.Episode.EpisodeNumber
	}
	return fmt.Sprintf("%s S%02d E%02d", series, season, n)
}

func categoryName(c *catalog.Category) string {
	if c == nil {
		return ""
	}
	return c.Name
}

// appendEntry appends an #EXTINF line (spec §3.1, §7 #20). m3u_plus carries tvg-id,
// tvg-name, tvg-logo and group-title, plus catchup="xc" catchup-days and timeshift for
// channels with an archive (KODI's and XUI's attributes; harmless to other parsers).
func (pw *playlistWriter) appendEntry(b []byte, epgID, name, icon, group string, archiveDays int32) []byte {
	b = append(b, "#EXTINF:-1"...)
	if pw.plus {
		b = append(b, ` tvg-id="`...)
		b = appendAttr(b, epgID)
		b = append(b, `" tvg-name="`...)
		b = appendAttr(b, name)
		b = append(b, `" tvg-logo="`...)
		b = appendAttr(b, icon)
		b = append(b, `" group-title="`...)
		b = appendAttr(b, group)
		b = append(b, '"')
		if archiveDays > 0 {
			days := strconv.Itoa(int(archiveDays))
			b = append(b, ` catchup="xc" catchup-days="`...)
			b = append(b, days...)
			b = append(b, `" timeshift="`...)
			b = append(b, days...)
			b = append(b, '"')
		}
	}
	b = append(b, ',')
	b = appendLineText(b, name)
	return append(b, "\r\n"...)
}

// appendURL appends the entry's URL line: a direct-source stream's upstream URL, else ours.
func (pw *playlistWriter) appendURL(b []byte, st *catalog.Stream, prefix, ext string) []byte {
	if src := st.DirectSourceURL(); src != "" {
		b = appendLineText(b, src)
		return append(b, "\r\n"...)
	}
	b = append(b, prefix...)
	b = strconv.AppendInt(b, st.ID, 10)
	if ext != "" {
		b = append(b, '.')
		b = append(b, ext...)
	}
	return append(b, "\r\n"...)
}

// appendAttr appends an attribute value: '"' would end it (KODI replaces it too), so it
// becomes an apostrophe, and line breaks and other control characters become spaces.
func appendAttr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			b = append(b, '\'')
		case c < 0x20 || c == 0x7f:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendLineText appends text that must stay on its line: control characters become spaces.
func appendLineText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}
