package player

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// enigmaPlaylistName is the menu title XC took from its bouquet_name setting.
const enigmaPlaylistName = "xtreamd"

var missingParameters = []byte("Missing parameters.")

// enigma2 serves enigma2.php (spec §3.4), the XML menu tree of Enigma2 receivers: a root menu,
// category menus, stream lists (live titles carry now/next), and series → seasons → episodes.
// Titles and descriptions are base64; URLs sit in CDATA. Missing credentials answer the text
// "Missing parameters."; every refusal an empty 401 (flood-blocked: 403).
func (h *Handler) enigma2(c *fiber.Ctx) error {
	req, ok := h.admit(c)
	if !ok {
		return nil
	}
	if !req.hasCredentials() {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Send(missingParameters)
	}
	d, err := h.check(c, &req, "enigma2", "")
	if err != nil {
		return h.unavailable(c, "enigma2", err)
	}
	if a := guideAnswer(d.Code); a.kind != answerServe {
		return sendBody(c, a)
	}
	ent := h.catalog.Current().Entitlement(d.Line.BouquetIDs)
	e := enigmaMenu{
		urls:  newStreamURLs(h.site.base, req.username, req.password),
		menu:  h.site.base + "/enigma2.php?username=" + url.QueryEscape(req.username) + "&password=" + url.QueryEscape(req.password) + "&type=",
		tz:    h.site.tz,
		now:   h.now(),
		catID: max(req.category, 0),
	}
	bp := getBuf()
	defer putBuf(bp)
	b := (*bp)[:0]
	switch req.enigmaType {
	case actLiveCategories:
		b = e.categories(b, "Live", "Live Streams Category", actLiveStreams, ent.LiveCategories())
	case actVODCategories:
		b = e.categories(b, "Movie", "Movie Streams Category", actVODStreams, ent.VODCategories())
	case actSeriesCategories:
		b = e.categories(b, "TV Series", "TV Series Category", actSeries, ent.SeriesCategories())
	case actLiveStreams:
		list := ent.Live(req.category)
		epgNow, err := h.nowNext(c.UserContext(), list)
		if err != nil {
			return h.unavailable(c, "enigma2", err)
		}
		b = e.liveStreams(b, list, epgNow)
	case actVODStreams:
		b = e.vodStreams(b, ent.VOD(req.category))
	case actSeries:
		b = e.seriesList(b, ent.Series(req.category))
	case actEnigmaSeasons:
		b = e.seasons(b, ent, req.seriesID)
	case actEnigmaSeriesStream:
		b = e.episodes(b, ent, req.seriesID, req.season)
	default:
		b = e.root(b, len(ent.Live(0)) > 0, len(ent.VOD(0)) > 0)
	}
	*bp = b
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	return sendCopy(c, b)
}

// nowNext fetches the programme on air and the next one for every channel of list, in one
// round trip.
func (h *Handler) nowNext(ctx context.Context, list []*catalog.Stream) (map[string][]nowNextRow, error) {
	ids := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, st := range list {
		if st.EPGChannelID != "" && !seen[st.EPGChannelID] {
			seen[st.EPGChannelID] = true
			ids = append(ids, st.EPGChannelID)
		}
	}
	out := make(map[string][]nowNextRow, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	progs, err := h.guide.NowNextMany(ctx, ids, 2)
	if err != nil {
		return nil, err
	}
	for id, ps := range progs {
		for _, p := range ps {
			out[id] = append(out[id], nowNextRow{start: p.StartAt, stop: p.StopAt, title: p.Title, desc: p.Description})
		}
	}
	return out, nil
}

type nowNextRow struct {
	start, stop time.Time
	title, desc string
}

// enigmaMenu renders one enigma2.php answer.
type enigmaMenu struct {
	urls  streamURLs
	menu  string // …/enigma2.php?username=…&password=…&type=
	tz    *time.Location
	now   time.Time
	catID int64
}

func (e *enigmaMenu) header(b []byte, name string) []byte {
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<items><playlist_name>"...)
	b = appendXMLText(b, name)
	b = append(b, "</playlist_name><category><category_id>1</category_id><category_title>"...)
	b = appendXMLText(b, name)
	return append(b, "</category_title></category>"...)
}

func footer(b []byte) []byte { return append(b, "</items>\n"...) }

// menuEntry appends a <channel> that opens a sub-menu.
func (e *enigmaMenu) menuEntry(b []byte, title, desc string, catID int64, query string) []byte {
	b = append(b, "<channel><title>"...)
	b = base64.StdEncoding.AppendEncode(b, []byte(title))
	b = append(b, "</title><description>"...)
	b = base64.StdEncoding.AppendEncode(b, []byte(desc))
	b = append(b, "</description><category_id>"...)
	b = strconv.AppendInt(b, catID, 10)
	b = append(b, "</category_id><playlist_url>"...)
	b = appendCDATA(b, e.menu+query)
	return append(b, "</playlist_url></channel>"...)
}

// streamEntry appends a playable <channel>.
func (e *enigmaMenu) streamEntry(b []byte, title, desc, image string, streamURL string) []byte {
	b = append(b, "<channel><title>"...)
	b = base64.StdEncoding.AppendEncode(b, []byte(title))
	b = append(b, "</title><description>"...)
	b = base64.StdEncoding.AppendEncode(b, []byte(desc))
	b = append(b, "</description><desc_image>"...)
	b = appendCDATA(b, image)
	b = append(b, "</desc_image><category_id>"...)
	b = strconv.AppendInt(b, e.catID, 10)
	b = append(b, "</category_id><stream_url>"...)
	b = appendCDATA(b, streamURL)
	return append(b, "</stream_url></channel>"...)
}

func (e *enigmaMenu) root(b []byte, haveLive, haveVOD bool) []byte {
	b = e.header(b, enigmaPlaylistName)
	if haveLive {
		b = e.menuEntry(b, "Live Streams", "Live Streams Category", 0, actLiveCategories)
	}
	if haveVOD {
		b = e.menuEntry(b, "Vod", "Video On Demand Category", 1, actVODCategories)
	}
	b = e.menuEntry(b, "TV Series", "TV Series Category", 2, actSeriesCategories)
	return footer(b)
}

func (e *enigmaMenu) categories(b []byte, kind, desc, listType string, cats []*catalog.Category) []byte {
	b = e.header(b, kind+" [ "+enigmaPlaylistName+" ]")
	b = e.menuEntry(b, "All", desc+" [ ALL ]", 0, listType+"&cat_id=0")
	for _, c := range cats {
		b = e.menuEntry(b, c.Name, desc, c.ID, listType+"&cat_id="+c.IDString())
	}
	return footer(b)
}

// liveStreams lists live channels, each title followed by what is on now ("Name [20:00 -
// 21:00] + 12.5 min   News", XC's format) and the description holding now and next.
func (e *enigmaMenu) liveStreams(b []byte, list []*catalog.Stream, guide map[string][]nowNextRow) []byte {
	b = e.header(b, "Live [ "+enigmaPlaylistName+" ]")
	var title, desc strings.Builder
	for _, st := range list {
		title.Reset()
		desc.Reset()
		title.WriteString(st.Name)
		for i, p := range guide[st.EPGChannelID] {
			if i == 0 {
				left := math.Round(p.stop.Sub(e.now).Minutes()*10) / 10
				title.WriteString(" [" + p.start.In(e.tz).Format("15:04") + " - " + p.stop.In(e.tz).Format("15:04") + "] + " +
					strconv.FormatFloat(left, 'f', -1, 64) + " min   " + p.title)
			} else {
				desc.WriteByte('\n')
			}
			desc.WriteString("[" + p.start.In(e.tz).Format("15:04") + "] " + p.title + "( " + p.desc + ")")
		}
		link := st.DirectSourceURL()
		if link == "" {
			link = e.urls.live + strconv.FormatInt(st.ID, 10) + ".ts"
		}
		b = e.streamEntry(b, title.String(), desc.String(), st.Icon, link)
	}
	return footer(b)
}

func (e *enigmaMenu) vodStreams(b []byte, list []*catalog.Stream) []byte {
	b = e.header(b, "Movie [ "+enigmaPlaylistName+" ]")
	for _, st := range list {
		link := st.DirectSourceURL()
		if link == "" {
			link = e.urls.movie + strconv.FormatInt(st.ID, 10) + dotExt(st.ContainerExtension)
		}
		b = e.streamEntry(b, st.Name, movieDescription(st), st.Icon, link)
	}
	return footer(b)
}

func (e *enigmaMenu) seriesList(b []byte, list []*catalog.Series) []byte {
	b = e.header(b, "TV Series [ "+enigmaPlaylistName+" ]")
	for _, se := range list {
		// XC puts the series id into category_id here; clients only follow playlist_url.
		b = e.menuEntry(b, se.Name, se.Plot, se.ID, actEnigmaSeasons+"&series_id="+strconv.FormatInt(se.ID, 10))
	}
	return footer(b)
}

func (e *enigmaMenu) seasons(b []byte, ent *catalog.Entitlement, seriesID int64) []byte {
	se, ok := entitledSeries(ent, seriesID)
	if !ok {
		return footer(e.header(b, "TV Series [ "+enigmaPlaylistName+" ]"))
	}
	b = e.header(b, "TV Series [ "+se.Name+" ]")
	id := strconv.FormatInt(se.ID, 10)
	for _, sn := range se.Seasons {
		if len(sn.Episodes) == 0 {
			continue
		}
		n := strconv.Itoa(int(sn.Number))
		b = e.menuEntry(b, "Season "+n, sn.Overview, int64(sn.Number), actEnigmaSeriesStream+"&series_id="+id+"&season="+n)
	}
	return footer(b)
}

func (e *enigmaMenu) episodes(b []byte, ent *catalog.Entitlement, seriesID, season int64) []byte {
	se, ok := entitledSeries(ent, seriesID)
	if !ok || season < 0 {
		return footer(e.header(b, "TV Series [ "+enigmaPlaylistName+" ]"))
	}
	b = e.header(b, "TV Series [ "+se.Name+" Season "+strconv.FormatInt(season, 10)+" ]")
	for _, sn := range se.Seasons {
		if int64(sn.Number) != season {
			continue
		}
		for _, ep := range sn.Episodes {
			n := int32(0)
			if ep.Episode != nil {
				n = ep.Episode.EpisodeNumber
			}
			link := ep.DirectSourceURL()
			if link == "" {
				link = e.urls.series + strconv.FormatInt(ep.ID, 10) + dotExt(ep.ContainerExtension)
			}
			image := ep.Icon
			if image == "" {
				image = se.Cover
			}
			b = e.streamEntry(b, "Episode "+twoDigits(n), ep.Name, image, link)
		}
	}
	return footer(b)
}

func entitledSeries(ent *catalog.Entitlement, id int64) (*catalog.Series, bool) {
	if !ent.HasSeries(id) {
		return nil, false
	}
	return ent.Snapshot().Series(id)
}

func twoDigits(n int32) string {
	if n >= 0 && n < 10 {
		return "0" + strconv.Itoa(int(n))
	}
	return strconv.Itoa(int(n))
}

func dotExt(ext string) string {
	if ext == "" {
		return ""
	}
	return "." + ext
}

// movieDescription is a movie's description in the Enigma2 list: its plot, genre and rating.
func movieDescription(st *catalog.Stream) string {
	var m struct {
		Plot     string `json:"plot"`
		Genre    string `json:"genre"`
		Director string `json:"director"`
		Release  string `json:"releasedate"`
	}
	_ = json.Unmarshal(st.Info, &m) // missing or malformed metadata leaves it empty
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+": "+v)
		}
	}
	add("PLOT", m.Plot)
	add("GENRE", m.Genre)
	add("DIRECTOR", m.Director)
	add("RELEASEDATE", m.Release)
	add("RATING", st.Rating)
	return strings.Join(parts, "\n")
}

// appendXMLText appends s escaped for XML text and attributes; characters XML 1.0 cannot hold
// (control characters, invalid UTF-8) become U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	for _, r := range s {
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\'':
			b = append(b, "&apos;"...)
		default:
			b = utf8.AppendRune(b, xmlRune(r))
		}
	}
	return b
}

// appendCDATA appends s as a CDATA section; a "]]>" inside is split across two sections.
func appendCDATA(b []byte, s string) []byte {
	b = append(b, "<![CDATA["...)
	for i, r := range s {
		if r == '>' && i >= 2 && s[i-2:i] == "]]" {
			b = append(b, "]]><![CDATA[>"...)
			continue
		}
		b = utf8.AppendRune(b, xmlRune(r))
	}
	return append(b, "]]>"...)
}

func xmlRune(r rune) rune {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return r
	case r < 0x20, r == utf8.RuneError, r >= 0xFFFE && r <= 0xFFFF:
		return '\uFFFD'
	}
	return r
}
