package portal

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/app/edge"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/epg"
	"github.com/xtreamd/xtreamd/internal/logx"
)

// The guide in the portal (spec §5.4, §5.5, §7 #11): titles and descriptions in plain text,
// local times in the box's timezone cookie (the panel's zone without one), timestamps in Unix
// seconds. A row's id is "{start}_{channel}" and its real_id "{channel}_{start}", start in Unix
// seconds: tv_archive's create_link and get_next_part_url read the programme back from them.

// epgPageItems is the page size of the EPG tables.
const epgPageItems = 10

const (
	dateTimeLayout = "2006-01-02 15:04:05"
	clockLayout    = "15:04"
	dateLayout     = "2006-01-02"
)

// epgRow is one programme.
type epgRow struct {
	ID             string `json:"id"`
	ChID           string `json:"ch_id"`
	Correct        string `json:"correct,omitempty"`
	Time           string `json:"time"`
	TimeTo         string `json:"time_to"`
	Duration       int64  `json:"duration"`
	Name           string `json:"name"`
	Descr          string `json:"descr"`
	RealID         string `json:"real_id"`
	Category       string `json:"category"`
	Director       string `json:"director"`
	Actor          string `json:"actor"`
	StartTimestamp int64  `json:"start_timestamp"`
	StopTimestamp  int64  `json:"stop_timestamp"`
	TTime          string `json:"t_time"`
	TTimeTo        string `json:"t_time_to"`
	Open           *int   `json:"open,omitempty"`
	MarkMemo       int    `json:"mark_memo"`
	MarkRec        *int   `json:"mark_rec,omitempty"`
	MarkArchive    int    `json:"mark_archive"`
}

// rowOf renders p of channel st in tz, marking it as in the archive when it is recorded.
func (h *Handler) rowOf(st *catalog.Stream, p epg.Programme, tz *time.Location) epgRow {
	start, stop := p.Start.In(tz), p.Stop.In(tz)
	ch := itoa(st.ID)
	r := epgRow{
		ID: itoa(p.Start.Unix()) + "_" + ch, ChID: ch, Time: start.Format(dateTimeLayout), TimeTo: stop.Format(dateTimeLayout),
		Duration: int64(p.Stop.Sub(p.Start) / time.Second), Name: p.Title, Descr: p.Desc,
		RealID: ch + "_" + itoa(p.Start.Unix()), Category: p.Category, StartTimestamp: p.Start.Unix(),
		StopTimestamp: p.Stop.Unix(), TTime: start.Format(clockLayout), TTimeTo: stop.Format(clockLayout),
	}
	if inArchive(st, p, h.now()) {
		r.MarkArchive = 1
	}
	return r
}

// liveChannel is the entitled live channel ch_id names, with a guide; nil when there is none.
func liveChannel(k *call, h *Handler, id int64) *catalog.Stream {
	st, ok := k.entitlement(h).Stream(id)
	if !ok || !st.IsLive() || st.EPGChannelID == "" {
		return nil
	}
	return st
}

// itvShortEPG is itv/get_short_epg (ch_id, size or limit): on now and next, 4 by default.
func itvShortEPG(h *Handler, k *call) error {
	st := liveChannel(k, h, k.req.p.chID)
	if st == nil {
		return writeJS(k.c, emptyList)
	}
	progs, err := h.guide.NowNext(k.ctx, st.EPGChannelID, min(k.req.p.size, 50))
	if err != nil {
		return err
	}
	tz := h.zones.of(k.req.cookies.Timezone)
	rows := make([]epgRow, len(progs))
	for i, p := range progs {
		rows[i] = h.rowOf(st, epg.FromStore(p), tz)
		rows[i].ID, rows[i].Correct = itoa(p.ID), rows[i].Time
	}
	return writeJS(k.c, rows)
}

// itvEPGInfo is itv/get_epg_info (period, hours, 3 by default): the programmes of the coming
// period for every channel of the line with a guide, keyed by channel id in the lineup's
// order, in one round trip. Boxes and apps fetch it as their bulk guide (15 MB for 10,000
// channels), all at once after a restart, so it is one of the guide answers kept for a
// minute per bouquet set, zone, period and EPG version (epg.Documents, shared with xmltv.php):
// a box that accepts gzip gets the kept bytes, any other them decompressed. A box waits at
// most epgInfoWait for the shared build, then builds its own.
func itvEPGInfo(h *Handler, k *call) error {
	// A missing or zero period is the 3 hours Ministra's client asks for; a longer one than
	// 24 hours (apps ask for 72) is 24, the most the answer's 10 programmes per channel show
	// anyway.
	period := min(k.req.p.period, 24)
	if period <= 0 {
		period = 3
	}
	l, tz := h.lineupOf(k), h.zones.of(k.req.cookies.Timezone)
	build := func(ctx context.Context, w io.Writer) error { return h.writeEPGInfo(ctx, w, l, period, tz) }
	key := epg.DocumentKey{Name: fmt.Sprintf("portal-epg-info/%d/%s/%s/%d", k.entitlement(h).Snapshot().Version,
		edge.IDsKey(k.line.BouquetIDs), tz, period), Epoch: h.now().Unix() / 60}
	wait, cancel := context.WithTimeout(k.ctx, epgInfoWait)
	doc, err := h.guideDocs.Get(wait, key, build)
	cancel()
	if err != nil {
		h.log.Debug("portal: no shared get_epg_info, building this one's own", "err", err)
	}
	c := k.c
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Status(fiber.StatusOK)
	if doc != nil && doc.Size >= edge.MinGzipAnswer {
		c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
		if edge.AcceptsGzip(c.Get(fiber.HeaderAcceptEncoding)) {
			edge.SendGzip(c, doc.Gzip)
			return nil
		}
	}
	if doc != nil {
		zr, err := gzip.NewReader(bytes.NewReader(doc.Gzip))
		if err == nil {
			_, err = io.Copy(c.Response().BodyWriter(), zr)
		}
		if err != nil { // our own bytes: cannot happen
			return fmt.Errorf("get_epg_info: kept answer: %w", err)
		}
		return nil
	}
	return build(k.ctx, c.Response().BodyWriter())
}

// epgInfoWait bounds how long a box waits for the shared get_epg_info build (a few hundred ms
// for 10,000 channels) before it builds its own.
const epgInfoWait = 5 * time.Second

// writeEPGInfo writes get_epg_info's whole answer, envelope included, for the lineup l: one
// NowNextMany for its channels with a guide, then the rows appended as they go out
// (appendEPGRow) in parts of about 64 KB, rather than built as rows and maps for
// encoding/json.
func (h *Handler) writeEPGInfo(ctx context.Context, w io.Writer, l *lineup, period int, tz *time.Location) error {
	ids := make([]string, 0, len(l.tv))
	seen := make(map[string]bool, len(l.tv))
	for _, st := range l.tv {
		if st.EPGChannelID != "" && !seen[st.EPGChannelID] {
			seen[st.EPGChannelID] = true
			ids = append(ids, st.EPGChannelID)
		}
	}
	progs, err := h.guide.NowNextMany(ctx, ids, 10)
	if err != nil {
		return err
	}
	now := h.now()
	until := now.Add(time.Duration(period) * time.Hour)
	b := make([]byte, 0, 80<<10)
	b = append(b, `{"js":{"data":{`...)
	first := true
	for _, st := range l.tv {
		ps, ok := progs[st.EPGChannelID]
		if st.EPGChannelID == "" || !ok {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = strconv.AppendInt(b, st.ID, 10)
		b = append(b, `":[`...)
		n := 0
		for _, p := range ps {
			if !p.StartAt.Before(until) {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = appendEPGRow(b, st, epg.FromStore(p), tz, now)
		}
		b = append(b, ']')
		if len(b) >= 64<<10 {
			if _, err := w.Write(b); err != nil {
				return err
			}
			b = b[:0]
		}
	}
	b = append(b, "}}}"...)
	_, err = w.Write(b)
	return err
}

// appendEPGRow appends what rowOf renders, as encoding/json writes an epgRow without its
// optional members (correct, open, mark_rec), strings escaped as the player API's are.
func appendEPGRow(b []byte, st *catalog.Stream, p epg.Programme, tz *time.Location, now time.Time) []byte {
	var times [2][len(dateTimeLayout)]byte
	start := p.Start.In(tz).AppendFormat(times[0][:0], dateTimeLayout)
	stop := p.Stop.In(tz).AppendFormat(times[1][:0], dateTimeLayout)
	clock := func(dt []byte) []byte { return dt[len("2006-01-02 "):len("2006-01-02 15:04")] }
	b = append(b, `{"id":"`...)
	b = strconv.AppendInt(b, p.Start.Unix(), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, st.ID, 10)
	b = append(b, `","ch_id":"`...)
	b = strconv.AppendInt(b, st.ID, 10)
	b = append(b, `","time":"`...)
	b = append(b, start...)
	b = append(b, `","time_to":"`...)
	b = append(b, stop...)
	b = append(b, `","duration":`...)
	b = strconv.AppendInt(b, int64(p.Stop.Sub(p.Start)/time.Second), 10)
	b = append(b, `,"name":`...)
	b = logx.AppendJSONString(b, p.Title)
	b = append(b, `,"descr":`...)
	b = logx.AppendJSONString(b, p.Desc)
	b = append(b, `,"real_id":"`...)
	b = strconv.AppendInt(b, st.ID, 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, p.Start.Unix(), 10)
	b = append(b, `","category":`...)
	b = logx.AppendJSONString(b, p.Category)
	b = append(b, `,"director":"","actor":"","start_timestamp":`...)
	b = strconv.AppendInt(b, p.Start.Unix(), 10)
	b = append(b, `,"stop_timestamp":`...)
	b = strconv.AppendInt(b, p.Stop.Unix(), 10)
	b = append(b, `,"t_time":"`...)
	b = append(b, clock(start)...)
	b = append(b, `","t_time_to":"`...)
	b = append(b, clock(stop)...)
	b = append(b, `","mark_memo":0,"mark_archive":`...)
	if inArchive(st, p, now) {
		return append(b, "1}"...)
	}
	return append(b, "0}"...)
}

// inArchive reports whether p of st is recorded: started, and within the channel's archive.
func inArchive(st *catalog.Stream, p epg.Programme, now time.Time) bool {
	return st.TVArchiveDays > 0 && p.Start.Before(now) && !p.Start.Before(now.Add(-time.Duration(st.TVArchiveDays)*24*time.Hour))
}

// weekDay is an epg/get_week entry.
type weekDay struct {
	Human string `json:"f_human"`
	MySQL string `json:"f_mysql"`
	Today int    `json:"today"`
}

// epgWeek is epg/get_week: the days from 16 back to 9 ahead, in the box's zone.
func epgWeek(h *Handler, k *call) error {
	tz := h.zones.of(k.req.cookies.Timezone)
	now := h.now().In(tz)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, tz)
	days := make([]weekDay, 0, 26)
	for d := -16; d < 10; d++ {
		day := today.AddDate(0, 0, d)
		w := weekDay{Human: day.Format("Mon 02 January"), MySQL: day.Format(dateLayout)}
		if d == 0 {
			w.Today = 1
		}
		days = append(days, w)
	}
	return writeJS(k.c, days)
}

// epgTable is the envelope of the EPG tables (10 per page).
type epgTable struct {
	TotalItems   int      `json:"total_items"`
	MaxPageItems int      `json:"max_page_items"`
	CurPage      int      `json:"cur_page"`
	SelectedItem int      `json:"selected_item"`
	TimeMarks    []string `json:"time_marks,omitempty"`
	FromTS       int64    `json:"from_ts,omitempty"`
	ToTS         int64    `json:"to_ts,omitempty"`
	Data         any      `json:"data"`
}

// epgSimpleDataTable is epg/get_simple_data_table (ch_id, date, p): a day's programmes of a
// channel; p = 0 is the page of the programme on now (today only).
func epgSimpleDataTable(h *Handler, k *call) error {
	st := liveChannel(k, h, k.req.p.chID)
	tz := h.zones.of(k.req.cookies.Timezone)
	day, err := time.ParseInLocation(dateLayout, k.req.p.date, tz)
	if st == nil || err != nil {
		return writeJS(k.c, epgTable{MaxPageItems: epgPageItems, Data: emptyList})
	}
	progs, err := h.guide.Between(k.ctx, st.EPGChannelID, day, day.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	now := h.now()
	sel := 0
	if p := k.req.p.page; p == 0 {
		for i, p := range progs {
			if !p.StartAt.After(now) && now.Before(p.StopAt) {
				sel = i + 1
				break
			}
		}
	}
	pg := pageOf(len(progs), k.req.p.page, sel, epgPageItems)
	rows := make([]epgRow, 0, pg.to-pg.from)
	for _, p := range progs[pg.from:pg.to] {
		r := h.rowOf(st, epg.FromStore(p), tz)
		open, rec := 0, 0
		if !p.StopAt.Before(now) {
			open = 1
		}
		r.Open, r.MarkRec = &open, &rec
		rows = append(rows, r)
	}
	return writeJS(k.c, epgTable{TotalItems: len(progs), MaxPageItems: epgPageItems, CurPage: pg.curPage,
		SelectedItem: pg.selectedItem, Data: rows})
}

// tableChannel is an epg/get_data_table channel.
type tableChannel struct {
	ChID         string   `json:"ch_id"`
	Name         string   `json:"name"`
	Number       string   `json:"number"`
	ChType       string   `json:"ch_type"`
	DVBID        *string  `json:"dvb_id"`
	EPGContainer int      `json:"epg_container"`
	EPG          []epgRow `json:"epg"`
}

// epgDataTable is epg/get_data_table (ch_id, from, to, p, fav): a page of 10 channels (p = 0:
// the page of ch_id), each with its programmes in [from, to).
func epgDataTable(h *Handler, k *call) error {
	tz := h.zones.of(k.req.cookies.Timezone)
	from, err1 := time.ParseInLocation(dateTimeLayout, k.req.p.from, tz)
	to, err2 := time.ParseInLocation(dateTimeLayout, k.req.p.to, tz)
	if err1 != nil || err2 != nil || !to.After(from) || to.Sub(from) > 48*time.Hour {
		return writeJS(k.c, epgTable{MaxPageItems: epgPageItems, Data: emptyList})
	}
	l := h.lineupOf(k)
	list := l.tv
	if k.req.p.fav {
		list = favChannels(list, k.dev.Favourites.Live)
	}
	sel := slices.IndexFunc(list, func(st *catalog.Stream) bool { return st.ID == k.req.p.chID }) + 1
	pg := pageOf(len(list), k.req.p.page, sel, epgPageItems)
	data := make([]tableChannel, 0, pg.to-pg.from)
	for _, st := range list[pg.from:pg.to] {
		tc := tableChannel{ChID: itoa(st.ID), Name: st.Name, Number: itoa(int64(l.number[st.Index])), ChType: "iptv",
			EPGContainer: 1, EPG: []epgRow{}}
		if st.EPGChannelID != "" {
			progs, err := h.guide.Between(k.ctx, st.EPGChannelID, from, to)
			if err != nil {
				return err
			}
			for _, p := range progs {
				tc.EPG = append(tc.EPG, h.rowOf(st, epg.FromStore(p), tz))
			}
		}
		data = append(data, tc)
	}
	marks := make([]string, 4)
	for i := range marks {
		marks[i] = from.Add(time.Duration(i) * 30 * time.Minute).Format(clockLayout)
	}
	return writeJS(k.c, epgTable{TotalItems: len(list), MaxPageItems: epgPageItems, CurPage: pg.curPage,
		SelectedItem: pg.selectedItem, TimeMarks: marks, FromTS: from.Unix(), ToTS: to.Unix(), Data: data})
}

// programme is an epg/get_all_program_for_ch entry.
type programme struct {
	StartTimestamp int64  `json:"start_timestamp"`
	StopTimestamp  int64  `json:"stop_timestamp"`
	Name           string `json:"name"`
}

// epgAllProgrammes is epg/get_all_program_for_ch (ch_id): the programmes from today on.
func epgAllProgrammes(h *Handler, k *call) error {
	st := liveChannel(k, h, k.req.p.chID)
	if st == nil {
		return writeJS(k.c, emptyList)
	}
	tz := h.zones.of(k.req.cookies.Timezone)
	now := h.now().In(tz)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, tz)
	progs, err := h.guide.Between(k.ctx, st.EPGChannelID, today, today.AddDate(0, 0, 15))
	if err != nil {
		return err
	}
	out := make([]programme, len(progs))
	for i, p := range progs {
		out[i] = programme{StartTimestamp: p.StartAt.Unix(), StopTimestamp: p.StopAt.Unix(), Name: p.Title}
	}
	return writeJS(k.c, out)
}
