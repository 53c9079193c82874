package player

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// panelAPI serves panel_api.php (spec §3.3), the older one-call API: with no action the line,
// a server_info subset, its categories by type and its channels as an object keyed by stream
// id; action=get_epg&stream_id=N[&from_now=1] a guide array. Outcomes map as player_api's.
func (h *Handler) panelAPI(c *fiber.Ctx) error {
	setAPIHeaders(c)
	req, ok := h.admit(c)
	if !ok {
		return nil
	}
	if !req.hasCredentials() {
		return nil
	}
	d, err := h.check(c, &req, "panel_api", "")
	if err != nil {
		return h.unavailable(c, "panel_api", err)
	}
	switch a := apiAnswer(d.Code); a.kind {
	case answerBody:
		return sendBody(c, a)
	case answerLogin:
		if req.action == actEPG {
			return c.Send(emptyArray) // XC: get_epg of an expired line is []
		}
		return h.sendLogin(c, &req, d.Line, statusFor(d.Code), true)
	}
	if req.action != actEPG {
		return h.sendLogin(c, &req, d.Line, statusFor(d.Code), true)
	}
	ent := h.catalog.Current().Entitlement(d.Line.BouquetIDs)
	_, channel := epgChannel(ent, req.streamID)
	if channel == "" {
		return c.Send(emptyArray)
	}
	bp := getBuf()
	defer putBuf(bp)
	b, err := h.appendEPGArray(c.UserContext(), (*bp)[:0], channel, req.fromNow)
	*bp = b
	if err != nil {
		return h.unavailable(c, "panel_api", err)
	}
	return sendCopy(c, b)
}

// appendPanelCatalog appends panel_api's "categories" (an object keyed by category type, each
// a list like get_*_categories) and "available_channels" (an object keyed by stream id: live
// channels, then movies, num counted per kind), both with a leading comma. A nil entitlement
// (a line that is not Active) gets the same shape, empty.
func appendPanelCatalog(b []byte, ent *catalog.Entitlement) []byte {
	var live, vod []*catalog.Stream
	var liveCats, vodCats, seriesCats []*catalog.Category
	var ls *lists // nil: no categories to render
	if ent != nil {
		live, vod = ent.Live(0), ent.VOD(0)
		liveCats, vodCats, seriesCats = ent.LiveCategories(), ent.VODCategories(), ent.SeriesCategories()
		ls = listsView.Of(ent.Snapshot())
	}
	b = append(b, `,"categories":{"live":`...)
	b = ls.appendCategories(b, filterCats(liveCats, false))
	if radio := filterCats(liveCats, true); len(radio) > 0 {
		b = append(b, `,"radio_streams":`...)
		b = ls.appendCategories(b, radio)
	}
	b = append(b, `,"movie":`...)
	b = ls.appendCategories(b, vodCats)
	b = append(b, `,"series":`...)
	b = ls.appendCategories(b, seriesCats)
	b = append(b, `},"available_channels":{`...)
	first := true
	for _, list := range [2][]*catalog.Stream{live, vod} {
		for i, st := range list {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendPanelChannel(b, st, i+1)
		}
	}
	return append(b, '}')
}

// filterCats returns the radio categories (radio) or the others.
func filterCats(cats []*catalog.Category, radio bool) []*catalog.Category {
	n := 0
	for _, c := range cats {
		if (c.Kind == "radio") == radio {
			n++
		}
	}
	if n == len(cats) {
		return cats
	}
	out := make([]*catalog.Category, 0, n)
	for _, c := range cats {
		if (c.Kind == "radio") == radio {
			out = append(out, c)
		}
	}
	return out
}

// typeNames are XC's streams_types names, by wire stream_type.
var typeNames = map[string]string{
	"live": "Live Streams", "created_live": "Created Live Channels", "radio_streams": "Radio Streams", "movie": "Movies",
}

// appendPanelChannel appends `"<id>":{…}`: the fields of XC 2.9's available_channels with its
// wire types — values XC passed through from MySQL (stream_id, added, live) as strings, the
// ones it computed (num, tv_archive, tv_archive_duration) as numbers, series_no null.
func appendPanelChannel(b []byte, st *catalog.Stream, num int) []byte {
	b = appendIntString(b, st.ID)
	b = append(b, `:{"num":`...)
	b = strconv.AppendInt(b, int64(num), 10)
	b = append(b, `,"name":`...)
	b = appendString(b, st.Name)
	typ := st.StreamType()
	b = append(b, `,"stream_type":`...)
	b = appendString(b, typ)
	b = append(b, `,"type_name":`...)
	b = appendString(b, typeNames[typ])
	b = append(b, `,"stream_id":`...)
	b = appendIntString(b, st.ID)
	b = append(b, `,"stream_icon":`...)
	b = appendString(b, st.Icon)
	b = append(b, `,"epg_channel_id":`...)
	b = appendNullableString(b, st.EPGChannelID)
	b = append(b, `,"added":`...)
	b = appendIntString(b, st.AddedUnix)
	b = append(b, `,"category_name":`...)
	b = appendString(b, categoryName(st.Category))
	b = append(b, `,"category_id":`...)
	b = appendNullableString(b, st.CategoryIDString())
	b = append(b, `,"series_no":null,"live":`...)
	if st.IsLive() {
		b = append(b, `"1"`...)
	} else {
		b = append(b, `"0"`...)
	}
	b = append(b, `,"container_extension":`...)
	b = appendString(b, st.ContainerExtension)
	b = append(b, `,"custom_sid":`...)
	b = appendString(b, st.CustomSID)
	archive := st.IsLive() && st.TVArchiveDays > 0
	b = append(b, `,"tv_archive":`...)
	b = appendFlag(b, archive)
	b = append(b, `,"direct_source":`...)
	b = appendString(b, st.DirectSourceURL())
	b = append(b, `,"tv_archive_duration":`...)
	if archive {
		b = strconv.AppendInt(b, int64(st.TVArchiveDays), 10)
	} else {
		b = append(b, '0')
	}
	return append(b, '}')
}
