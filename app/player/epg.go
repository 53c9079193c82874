package player

import (
	"context"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

var (
	emptyListings = []byte(`{"epg_listings":[]}`)
	emptyArray    = []byte(`[]`)
)

// epgChannel returns the EPG channel id of an entitled live stream, "" when the line may not
// see the stream or it has no guide.
func epgChannel(ent *catalog.Entitlement, streamID int64) (*catalog.Stream, string) {
	st, ok := ent.Stream(streamID)
	if !ok || !st.IsLive() {
		return nil, ""
	}
	return st, st.EPGChannelID
}

// appendEPG answers the guide actions of player_api.php:
//
//   - get_short_epg (spec §1.10): what is on now and next, at most limit, as epg_listings;
//   - get_simple_data_table (§1.11): every stored programme, with now_playing and
//     has_archive;
//   - get_epg (§1.12, XUI): a bare array with Unix start/end; from_now=1 drops the past.
//
// Unknown, not-entitled or guide-less streams answer the empty shape of each.
func (h *Handler) appendEPG(ctx context.Context, b []byte, ent *catalog.Entitlement, req *request) ([]byte, error) {
	st, channel := epgChannel(ent, req.streamID)
	if channel == "" {
		if req.action == actEPG {
			return append(b, emptyArray...), nil
		}
		return append(b, emptyListings...), nil
	}
	switch req.action {
	case actShortEPG:
		progs, err := h.guide.NowNext(ctx, channel, req.limit)
		if err != nil {
			return b, err
		}
		b = append(b, `{"epg_listings":[`...)
		for i, p := range progs {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendListing(b, p.ID, p.ChannelID, p.StartAt, p.StopAt, p.Title, p.Description, p.Lang)
			b = append(b, '}')
		}
		return append(b, "]}"...), nil

	case actSimpleDataTable:
		progs, err := h.guide.All(ctx, channel)
		if err != nil {
			return b, err
		}
		now := h.now()
		archive := time.Duration(st.TVArchiveDays) * 24 * time.Hour
		b = append(b, `{"epg_listings":[`...)
		for i, p := range progs {
			if i > 0 {
				b = append(b, ',')
			}
			b = h.appendListing(b, p.ID, p.ChannelID, p.StartAt, p.StopAt, p.Title, p.Description, p.Lang)
			b = append(b, `,"now_playing":`...)
			b = appendFlag(b, !p.StartAt.After(now) && now.Before(p.StopAt))
			b = append(b, `,"has_archive":`...)
			b = appendFlag(b, archive > 0 && !now.Before(p.StopAt) && !p.StopAt.Before(now.Add(-archive)))
			b = append(b, '}')
		}
		return append(b, "]}"...), nil
	}
	return h.appendEPGArray(ctx, b, channel, req.fromNow)
}

// appendEPGArray appends get_epg's bare array (player_api's XUI action and panel_api.php's
// action=get_epg, spec §1.12, §3.3): epg_data rows with Unix start and end, every stored
// programme of the channel, or with fromNow only those on air now or later.
func (h *Handler) appendEPGArray(ctx context.Context, b []byte, channel string, fromNow bool) ([]byte, error) {
	from := time.Time{}
	if fromNow {
		from = h.now()
	}
	progs, err := h.guide.Between(ctx, channel, from, endOfTime)
	if err != nil {
		return b, err
	}
	b = append(b, '[')
	for i, p := range progs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendIntString(b, p.ID)
		b = append(b, `,"epg_id":"0","title":`...)
		b = appendBase64(b, p.Title)
		b = append(b, `,"lang":`...)
		b = appendString(b, p.Lang)
		b = append(b, `,"start":`...)
		b = strconv.AppendInt(b, p.StartAt.Unix(), 10)
		b = append(b, `,"end":`...)
		b = strconv.AppendInt(b, p.StopAt.Unix(), 10)
		b = append(b, `,"description":`...)
		b = appendBase64(b, p.Description)
		b = append(b, `,"channel_id":`...)
		b = appendString(b, p.ChannelID)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// endOfTime bounds "every programme from now on".
var endOfTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// appendListing appends an epg_listings row without its closing brace (spec §1.10): ids and
// timestamps as strings, title and description standard base64 of UTF-8 with padding, start
// and end in the panel's zone (§6.4, §7 #11/#12).
func (h *Handler) appendListing(b []byte, id int64, channel string, start, stop time.Time, title, desc, lang string) []byte {
	b = append(b, `{"id":`...)
	b = appendIntString(b, id)
	// epg_id is XC's EPG source id; xtreamd merges its sources, so there is one: "0".
	b = append(b, `,"epg_id":"0","title":`...)
	b = appendBase64(b, title)
	b = append(b, `,"lang":`...)
	b = appendString(b, lang)
	b = append(b, `,"start":"`...)
	b = start.In(h.site.tz).AppendFormat(b, localTimeLayout)
	b = append(b, `","end":"`...)
	b = stop.In(h.site.tz).AppendFormat(b, localTimeLayout)
	b = append(b, `","description":`...)
	b = appendBase64(b, desc)
	b = append(b, `,"channel_id":`...)
	b = appendString(b, channel)
	b = append(b, `,"start_timestamp":`...)
	b = appendIntString(b, start.Unix())
	b = append(b, `,"stop_timestamp":`...)
	return appendIntString(b, stop.Unix())
}

// appendBase64 appends s as a JSON string holding its standard, padded base64.
func appendBase64(b []byte, s string) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, []byte(s))
	return append(b, '"')
}

func appendFlag(b []byte, on bool) []byte {
	if on {
		return append(b, '1')
	}
	return append(b, '0')
}
