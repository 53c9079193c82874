package stream

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/conns"
)

// Catch-up (spec §2.4). A live stream with an archive has tv_archive_days > 0 and a
// catchup_source: a URL template of its recording upstream, expanded per request and proxied
// like a movie (http(s), or a local file inside a media directory: Deps.Files). The template
// is the provider's data and the expansion is checked again (source.Check) before it is
// opened. The placeholders, all times in UTC:
//
//	{stream_id}     the stream id
//	{start_unix}    start, Unix seconds          {end_unix}      start + duration, Unix seconds
//	{duration_min}  duration in minutes          {duration_sec}  duration in seconds
//	{Y} {m} {d}     start date: 2024, 01, 31     {H} {M} {S}     start time: 09, 05, 00
//	{utc_iso}       start as 2024-01-31T09:05:00Z
//
// e.g. http://archive.example/ch42/archive-{start_unix}-{duration_sec}.ts (Flussonic) or
// http://nas.example/rec/{stream_id}/{Y}{m}{d}/{H}{M}.ts.
var catchupFields = []string{"stream_id", "start_unix", "end_unix", "duration_min", "duration_sec",
	"Y", "m", "d", "H", "M", "S", "utc_iso"}

// expandCatchup fills a catch-up template. Unknown {names} are left as they are.
func expandCatchup(tpl string, streamID int64, start time.Time, minutes int) string {
	u := start.UTC()
	end := u.Add(time.Duration(minutes) * time.Minute)
	vals := []string{
		strconv.FormatInt(streamID, 10), strconv.FormatInt(u.Unix(), 10), strconv.FormatInt(end.Unix(), 10),
		strconv.Itoa(minutes), strconv.Itoa(minutes * 60),
		u.Format("2006"), u.Format("01"), u.Format("02"), u.Format("15"), u.Format("04"), u.Format("05"),
		u.Format("2006-01-02T15:04:05Z"),
	}
	pairs := make([]string, 0, 2*len(vals))
	for i, f := range catchupFields {
		pairs = append(pairs, "{"+f+"}", vals[i])
	}
	return strings.NewReplacer(pairs...).Replace(tpl)
}

// timeshift serves /timeshift/{user}/{pass}/{minutes}/{start}/{id}.{ts|m3u8}.
func (h *Handler) timeshift(c *fiber.Ctx) error { return h.shiftRoute(c, shiftPath) }

// timeshifts serves the MAG order /timeshifts/{user}/{pass}/{minutes}/{id}/{start}.{ext}.
func (h *Handler) timeshifts(c *fiber.Ctx) error { return h.shiftRoute(c, shiftMAG) }

// timeshiftPHP serves /streaming/timeshift.php?username=&password=&stream=&start=&duration=
// (MPEG-TS).
func (h *Handler) timeshiftPHP(c *fiber.Ctx) error { return h.shiftRoute(c, shiftPHP) }

func (h *Handler) shiftRoute(c *fiber.Ctx, form shiftForm) error {
	r, refuse := h.parseShift(c, form)
	if refuse != 0 {
		return edge.Empty(c, refuse)
	}
	return h.openShift(c, r)
}

// openShift checks a catch-up request and proxies the recording.
func (h *Handler) openShift(c *fiber.Ctx, r shiftRequest) error {
	st, ok := h.d.Catalog.Current().Stream(r.id)
	if !ok || !st.IsLive() {
		return notFound(c)
	}
	// No archive for this stream or this time: 403 (spec §2.4).
	now := h.now()
	oldest := now.Add(-time.Duration(st.TVArchiveDays)*24*time.Hour - time.Hour)
	if st.CatchupSource == "" || st.TVArchiveDays <= 0 || !r.start.Before(now) || r.start.Before(oldest) {
		return edge.Empty(c, fiber.StatusForbidden)
	}
	req := r.client.request(r.who)
	req.StreamID, req.Format = r.id, r.format
	if r.format == formatHLS {
		// A one-entry VOD playlist naming the .ts form; the .ts request takes the slot.
		if _, ok := h.check(c, req); !ok {
			return nil
		}
		sec := strconv.Itoa(r.minutes * 60)
		body := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" + sec + "\n#EXT-X-MEDIA-SEQUENCE:0\n" +
			"#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:" + sec + ".0,\n" + r.tsURL + "\n#EXT-X-ENDLIST\n"
		return writePlaylist(c, []byte(body))
	}
	req.StreamOpen, req.Container = true, conns.ContainerTimeshift
	return h.open(c, req, func(o *edge.Open, d access.Decision) error {
		if h.d.Redirect.Enabled() {
			path := "/timeshift/" + strconv.FormatInt(r.id, 10) + "/" + strconv.FormatInt(r.start.Unix(), 10) + "/" +
				strconv.Itoa(r.minutes) + ".ts"
			return h.redirect(c, o, d.Lease, path)
		}
		u := expandCatchup(st.CatchupSource, r.id, r.start, r.minutes)
		return h.serveSource(c, o, d, []string{u}, "video/mp2t", r.rng, conns.ContainerTimeshift)
	})
}
