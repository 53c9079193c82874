package player

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"sync"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/catalog"
)

// playlist serves get.php (spec §3.1): the line's live channels, movies and episodes as an
// M3U download, written as it is sent from the catalog snapshot (memory the instance holds
// anyway; no database), its length computed first; gzip-encoded, and then chunked, for a
// client whose Accept-Encoding allows it. Any failure is an empty 404 (flood-blocked: 403); a
// line or address already running its downloads: an empty 429.
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
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	body := &playlistBody{pw: pw}
	if !edge.AcceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
		c.Response().SetBodyStream(body, int(pw.size()))
		return nil
	}
	// Compressed, the length is not known before the end: the body goes chunked.
	c.Set(fiber.HeaderContentEncoding, "gzip")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer body.Close()
		zw := edge.NewGzipWriter(w)
		defer zw.Done()
		_, _ = body.WriteTo(zw) // an error is a client gone or shutdown: the stream just ends
	})
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

// playlistWriter writes one playlist. It runs after the handler returned (fasthttp sends the
// body stream then): it holds only owned values, the immutable snapshot and the connection (for
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

// playlistEntry is one #EXTINF entry and its URL line.
type playlistEntry struct {
	epgID, name, icon, group string
	archiveDays              int32
	st                       *catalog.Stream
	prefix, ext              string // our URL: prefix + id [+ "." + ext], unless st is a direct source
}

// entries yields the playlist's entries: live channels, movies and episodes in bouquet order.
func (pw *playlistWriter) entries() iter.Seq[playlistEntry] {
	return func(yield func(playlistEntry) bool) {
		for _, st := range pw.ent.Live(0) {
			if !yield(playlistEntry{st.EPGChannelID, st.Name, st.Icon, categoryName(st.Category), st.TVArchiveDays, st, pw.urls.live, pw.ext}) {
				return
			}
		}
		for _, st := range pw.ent.VOD(0) {
			if !yield(playlistEntry{"", st.Name, st.Icon, categoryName(st.Category), 0, st, pw.urls.movie, st.ContainerExtension}) {
				return
			}
		}
		for _, se := range pw.ent.Series(0) {
			group := categoryName(se.Category)
			for _, sn := range se.Seasons {
				for _, ep := range sn.Episodes {
					icon := ep.Icon
					if icon == "" {
						icon = se.Cover
					}
					if !yield(playlistEntry{"", episodeName(se.Name, sn.Number, ep), icon, group, 0, ep, pw.urls.series, ep.ContainerExtension}) {
						return
					}
				}
			}
		}
	}
}

// appendHeader appends the #EXTM3U line.
func (pw *playlistWriter) appendHeader(b []byte) []byte {
	b = append(b, `#EXTM3U x-tvg-url="`...)
	b = appendAttr(b, pw.urls.xmltv)
	return append(b, "\"\n"...)
}

// size is the playlist's length in bytes, computed from the same entries without writing
// them: appendAttr and appendLineText replace byte for byte, so every part's length is known.
// The body then goes out with a Content-Length, which fasthttp copies through WriteTo in large
// writes; a chunked body would go out in 4 KB chunks, each flushed with a syscall of its own.
func (pw *playlistWriter) size() int64 {
	n := int64(len(`#EXTM3U x-tvg-url="`) + len(pw.urls.xmltv) + len("\"\n"))
	for e := range pw.entries() {
		n += int64(len("#EXTINF:-1") + len(",") + len(e.name) + len("\r\n"))
		if pw.plus {
			n += int64(len(` tvg-id="`) + len(e.epgID) + len(`" tvg-name="`) + len(e.name) + len(`" tvg-logo="`) +
				len(e.icon) + len(`" group-title="`) + len(e.group) + len(`"`))
			if e.archiveDays > 0 {
				days := decimalLen(int64(e.archiveDays))
				n += int64(len(` catchup="xc" catchup-days="`) + days + len(`" timeshift="`) + days + len(`"`))
			}
		}
		if src := e.st.DirectSourceURL(); src != "" {
			n += int64(len(src))
		} else {
			n += int64(len(e.prefix) + decimalLen(e.st.ID))
			if e.ext != "" {
				n += int64(len(".") + len(e.ext))
			}
		}
		n += int64(len("\r\n"))
	}
	return n
}

// decimalLen is the length of n in decimal, as appendURL and appendExtinf write it.
func decimalLen(n int64) int {
	var digits [20]byte
	return len(strconv.AppendInt(digits[:0], n, 10))
}

// playlistBody is the response body of one playlist (fasthttp's Response.SetBodyStream with
// its size): fasthttp hands WriteTo the connection's writer, and Close when the response is
// done, written or not (HEAD, a client gone first), which frees the download slot.
type playlistBody struct {
	pw      *playlistWriter
	once    sync.Once
	pull    func() (playlistEntry, bool) // Read's position, started on the first Read
	stop    func()
	pending []byte // Read: written but not yet returned
	started bool
}

// WriteTo writes the whole playlist to w in batches of playlistBatch bytes, pushing the
// connection's write deadline as it goes (stallWriter). It stops at the first write error (the
// client went away) or at shutdown.
func (pb *playlistBody) WriteTo(w io.Writer) (n int64, err error) {
	pw := pb.pw
	defer func() {
		if r := recover(); r != nil {
			pw.log.Error("panic writing a playlist", "panic", fmt.Sprint(r))
			err = errPlaylistPanic
		}
	}()
	sw := newStallWriter(w, pw.conn)
	b := pw.appendHeader(make([]byte, 0, playlistBatch+2048))
	flush := func() error {
		m, err := sw.Write(b)
		n += int64(m)
		b = b[:0]
		if err != nil {
			return err
		}
		return pw.ctx.Err()
	}
	for e := range pw.entries() {
		b = pw.appendEntry(b, e)
		if len(b) >= playlistBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// Read is the same playlist for a reader that does not use WriteTo.
func (pb *playlistBody) Read(p []byte) (int, error) {
	pw := pb.pw
	if !pb.started {
		pb.started = true
		pb.pull, pb.stop = iter.Pull(pw.entries())
		pb.pending = pw.appendHeader(nil)
	}
	for len(pb.pending) == 0 {
		if err := pw.ctx.Err(); err != nil {
			return 0, err
		}
		e, ok := pb.pull()
		if !ok {
			return 0, io.EOF
		}
		pb.pending = pw.appendEntry(pb.pending[:0], e)
	}
	n := copy(p, pb.pending)
	pb.pending = pb.pending[n:]
	return n, nil
}

// Close frees the download slot (and Read's position); fasthttp calls it once the response is
// done, and again on reset.
func (pb *playlistBody) Close() error {
	pb.once.Do(func() {
		if pb.stop != nil {
			pb.stop()
		}
		pb.pw.release()
	})
	return nil
}

// errPlaylistPanic ends a playlist whose writer panicked (logged with the panic).
var errPlaylistPanic = errors.New("player: playlist writer panicked")

// playlistBatch is how many bytes of entries the playlist writer gathers before it writes: a
// write per entry (about 200 bytes) would cost a deadline check and a shutdown check each.
const playlistBatch = 64 << 10

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

// appendEntry appends an entry: its #EXTINF line and its URL line.
func (pw *playlistWriter) appendEntry(b []byte, e playlistEntry) []byte {
	b = pw.appendExtinf(b, e.epgID, e.name, e.icon, e.group, e.archiveDays)
	return pw.appendURL(b, e.st, e.prefix, e.ext)
}

// appendExtinf appends an #EXTINF line (spec §3.1, §7 #20). m3u_plus carries tvg-id,
// tvg-name, tvg-logo and group-title, plus catchup="xc" catchup-days and timeshift for
// channels with an archive (KODI's and XUI's attributes; harmless to other parsers). Keep
// size in step with it.
func (pw *playlistWriter) appendExtinf(b []byte, epgID, name, icon, group string, archiveDays int32) []byte {
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
// Keep size in step with it.
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
	i := 0
	for i < len(s) && s[i] != '"' && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	b = append(b, s[:i]...) // most values need no change: copied at once
	for ; i < len(s); i++ {
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
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}
