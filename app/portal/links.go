package portal

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/catalog"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/token"
)

// create_link hands out a play-token URL (spec §6.1): signed for the line and the stream, bound
// to the address that asked, valid for seconds for live TV (the box opens it at once; an open
// stream keeps running) and hours for films, episodes and catch-up (players reopen those with
// Range requests and after a pause). The stream routes verify it (/play/{token},
// ?play_token=) and run the whole check again at open, taking the connection slot there.
const (
	liveLinkTTL = 30 * time.Second
	vodLinkTTL  = 5 * time.Hour
)

// solution is the player a cmd names before its URL (spec §5.4, §7 #24): clients cut
// everything up to the space.
const solution = "ffmpeg "

// itvLink is itv/create_link's answer (Ministra's shape: everything inside js), and the
// answer of every create_link that hands out nothing: cmd empty, error the word the client turns
// into its message (limit, nothing_to_play, link_fault, access_denied).
type itvLink struct {
	ID         string `json:"id"`
	Cmd        string `json:"cmd"`
	StreamerID int    `json:"streamer_id"`
	LinkID     int    `json:"link_id"`
	Load       int    `json:"load"`
	Error      string `json:"error"`
}

// sign makes the play token of a link for stream id of kind, valid for ttl, bound to the
// client's address. Expiry is wall-clock time, as the stream routes verify it (h.now is the
// guide's clock, which tests may fix).
func (h *Handler) sign(k *call, kind token.Kind, streamID int64, ttl time.Duration) (string, error) {
	return h.tokens.Sign(token.Claims{Kind: kind, LineID: k.line.ID, StreamID: streamID,
		ExpiresUnix: time.Now().Add(ttl).Unix(), ClientIP: token.BindIP(k.req.clientIP), Credential: k.cred})
}

// linkAdmitted refuses a link the stream route would refuse for a full line: step 9 without
// taking a slot (the call's check ran steps 1 to 8; the entitlement lookup that found the
// stream is step 10). It answers the refusal itself and reports whether to go on.
func (h *Handler) linkAdmitted(k *call, streamID int64) (bool, error) {
	free, err := h.access.HasFreeSlot(k.ctx, k.line, k.req.clientIP)
	if err != nil || free {
		return free, err
	}
	return false, writeJS(k.c, itvLink{ID: itoa(streamID), Error: answerFor(access.UserAlreadyConnected, classLink).err})
}

// liveFormat is the container of a live link: MPEG-TS, or HLS for a line allowed only that.
func liveFormat(line *access.Line) string {
	if len(line.AllowedOutputFormats) > 0 && !slices.Contains(line.AllowedOutputFormats, "ts") &&
		slices.Contains(line.AllowedOutputFormats, "m3u8") {
		return "m3u8"
	}
	return "ts"
}

// itvCreateLink is itv/create_link (also for radio stations): the cmd of our lists names the
// channel.
func itvCreateLink(h *Handler, k *call) error {
	id := channelOfCmd(k.req.p.cmd)
	st, ok := k.entitlement(h).Stream(id)
	if id == 0 || !ok || !st.IsLive() {
		return writeJS(k.c, itvLink{ID: itoa(id), Error: "nothing_to_play"})
	}
	format := liveFormat(k.line)
	if ok, err := h.linkAdmitted(k, id); !ok {
		return err
	}
	tok, err := h.sign(k, token.KindLive, id, liveLinkTTL)
	if err != nil {
		return err
	}
	return writeJS(k.c, itvLink{ID: itoa(id), Cmd: solution + h.base + "/play/" + tok + "." + format})
}

// vodCmd is what a vod/series list item's cmd carries (base64 of this JSON, as XC 2.9): a
// movie, or a season whose create_link names the episode by its number (series=N).
type vodCmd struct {
	Type            string `json:"type"` // movie or series
	StreamID        int64  `json:"stream_id,omitempty"`
	SeriesID        int64  `json:"series_id,omitempty"`
	SeasonNum       *int32 `json:"season_num,omitempty"`
	TargetContainer string `json:"target_container,omitempty"`
}

func (c vodCmd) encode() string {
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

// parseVODCmd reads a vod/series create_link cmd: the base64 JSON of our lists (any base64
// alphabet, padded or not), Ministra's "/media/{id}.mpg" (a movie) and "/media/{series}:{season}.mpg",
// or a bare movie id.
func parseVODCmd(s string) (vodCmd, bool) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "/media/"); i >= 0 {
		name := strings.TrimSuffix(s[i+len("/media/"):], ".mpg")
		if se, sn, ok := strings.Cut(name, ":"); ok {
			series, n := idOf(se), nonNegative(sn)
			if series == 0 || (sn != "0" && n == 0) || n > 1<<20 {
				return vodCmd{}, false
			}
			season := int32(n)
			return vodCmd{Type: "series", SeriesID: series, SeasonNum: &season}, true
		}
		if id := idOf(name); id > 0 {
			return vodCmd{Type: "movie", StreamID: id}, true
		}
		return vodCmd{}, false
	}
	if id := idOf(s); id > 0 {
		return vodCmd{Type: "movie", StreamID: id}, true
	}
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			raw = b
			break
		}
	}
	var c vodCmd
	if raw == nil || json.Unmarshal(raw, &c) != nil {
		return vodCmd{}, false
	}
	switch {
	case c.Type == "movie" && c.StreamID > 0:
	case c.Type == "series" && c.SeriesID > 0 && c.SeasonNum != nil && *c.SeasonNum >= 0:
	default:
		return vodCmd{}, false
	}
	return c, true
}

// vodLink is vod/create_link's answer (spec §5.6): id a number there.
type vodLink struct {
	ID        int64      `json:"id"`
	Cmd       string     `json:"cmd"`
	Load      string     `json:"load"`
	Subtitles []struct{} `json:"subtitles"`
	Error     string     `json:"error"`
}

// vodCreateLink is vod/create_link and series/create_link: a movie, or the episode numbered
// series= of a season.
func vodCreateLink(h *Handler, k *call) error {
	c, ok := parseVODCmd(k.req.p.cmd)
	if !ok {
		return writeJS(k.c, vodLink{Subtitles: []struct{}{}, Error: "nothing_to_play"})
	}
	ent := k.entitlement(h)
	var st *catalog.Stream
	kind := token.KindVOD
	if c.Type == "movie" {
		if s, ok := ent.Stream(c.StreamID); ok && s.Episode == nil && !s.IsLive() {
			st = s
		}
	} else {
		kind = token.KindSeries
		st = episodeOf(ent, c.SeriesID, *c.SeasonNum, int32(k.req.p.series))
		if st == nil {
			return writeJS(k.c, vodLink{Subtitles: []struct{}{}, Error: "player_file_missing"})
		}
	}
	if st == nil {
		return writeJS(k.c, vodLink{Subtitles: []struct{}{}, Error: "nothing_to_play"})
	}
	if ok, err := h.linkAdmitted(k, st.ID); !ok {
		return err
	}
	tok, err := h.sign(k, kind, st.ID, vodLinkTTL)
	if err != nil {
		return err
	}
	ext := st.ContainerExtension
	if ext == "" {
		ext = "mp4"
	}
	return writeJS(k.c, vodLink{ID: st.ID, Cmd: solution + h.base + "/play/" + tok + "." + ext, Subtitles: []struct{}{}})
}

// episodeOf is episode number of a season of an entitled series (nil when there is none).
func episodeOf(ent *catalog.Entitlement, seriesID int64, season, number int32) *catalog.Stream {
	se, ok := ent.Snapshot().Series(seriesID)
	if !ok || !ent.HasSeries(seriesID) {
		return nil
	}
	for _, s := range se.Seasons {
		if s.Number != season {
			continue
		}
		for _, ep := range s.Episodes {
			if ep.Episode != nil && ep.Episode.EpisodeNumber == number {
				return ep
			}
		}
	}
	return nil
}

// archiveLink is tv_archive/create_link's answer (spec §5.5).
type archiveLink struct {
	ID          int    `json:"id"`
	Cmd         string `json:"cmd"`
	StorageID   string `json:"storage_id"`
	Load        int    `json:"load"`
	Error       string `json:"error"`
	DownloadCmd string `json:"download_cmd"`
	ToFile      string `json:"to_file"`
}

// archiveCmd reads a tv_archive create_link cmd: its file name is "{start}_{stream}" (the id
// our EPG rows carry: the programme's start in Unix seconds and the channel).
func archiveCmd(cmd string) (start time.Time, streamID int64, ok bool) {
	name := cmd
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		name = name[:i]
	}
	a, b, found := strings.Cut(name, "_")
	at, okA := unixOf(a)
	id := idOf(b)
	if !found || !okA || id == 0 {
		return time.Time{}, 0, false
	}
	return at, id, true
}

// unixOf reads Unix seconds (what our EPG rows' ids and real_ids carry).
func unixOf(s string) (time.Time, bool) {
	n, ok := input.Uint(s, 11)
	if !ok || n == 0 {
		return time.Time{}, false
	}
	return time.Unix(int64(n), 0), true
}

// archiveCreateLink is tv_archive/create_link: the recording of one programme of a catch-up
// channel, as a /timeshift URL with a play token.
func archiveCreateLink(h *Handler, k *call) error {
	start, id, ok := archiveCmd(k.req.p.cmd)
	if !ok {
		return writeJS(k.c, archiveLink{Error: "nothing_to_play"})
	}
	st, ok := k.entitlement(h).Stream(id)
	if !ok || !st.IsLive() || st.TVArchiveDays <= 0 || st.EPGChannelID == "" {
		return writeJS(k.c, archiveLink{Error: "nothing_to_play"})
	}
	progs, err := h.guide.Between(k.ctx, st.EPGChannelID, start, start.Add(time.Second))
	if err != nil {
		return err
	}
	now := h.now()
	oldest := now.Add(-time.Duration(st.TVArchiveDays) * 24 * time.Hour)
	if len(progs) == 0 || !progs[0].StartAt.Equal(start) || !start.Before(now) || start.Before(oldest) {
		return writeJS(k.c, archiveLink{Error: "nothing_to_play"})
	}
	if ok, err := h.linkAdmitted(k, id); !ok {
		return err
	}
	url, err := h.archiveURL(k, id, progs[0].StartAt, progs[0].StopAt)
	if err != nil {
		return err
	}
	return writeJS(k.c, archiveLink{Cmd: url, DownloadCmd: url})
}

// archiveURL is the catch-up link of [start, stop) of a channel: the stream routes' timeshift
// form, the start in the panel's zone, the line named by the play token alone.
func (h *Handler) archiveURL(k *call, streamID int64, start, stop time.Time) (string, error) {
	tok, err := h.sign(k, token.KindTimeshift, streamID, vodLinkTTL)
	if err != nil {
		return "", err
	}
	minutes := max(1, int((stop.Sub(start)+time.Minute-1)/time.Minute))
	return solution + h.base + "/timeshift/mag/token/" + strconv.Itoa(minutes) + "/" +
		start.In(h.tz).Format("2006-01-02:15-04") + "/" + itoa(streamID) + ".ts?play_token=" + tok, nil
}

// archiveNextPart is tv_archive/get_next_part_url (id "{stream}_{start}", start in Unix
// seconds as our real_ids carry it, or "Y-m-d H:i:s" in the box's zone as XC's do): the link
// of the programme after that one, or false.
func archiveNextPart(h *Handler, k *call) error {
	sid, at, ok := strings.Cut(k.req.p.idText, "_")
	id := idOf(sid)
	when, isUnix := unixOf(at)
	if !isUnix {
		var err error
		if when, err = time.ParseInLocation("2006-01-02 15:04:05", at, h.zones.of(k.req.cookies.Timezone)); err != nil {
			ok = false
		}
	}
	if !ok || id == 0 {
		return writeJS(k.c, false)
	}
	st, ok := k.entitlement(h).Stream(id)
	if !ok || !st.IsLive() || st.TVArchiveDays <= 0 || st.EPGChannelID == "" {
		return writeJS(k.c, false)
	}
	progs, err := h.guide.Between(k.ctx, st.EPGChannelID, when.Add(time.Second), h.now())
	if err != nil {
		return err
	}
	for _, p := range progs {
		if p.StartAt.After(when) && p.StartAt.Before(h.now()) {
			url, err := h.archiveURL(k, id, p.StartAt, p.StopAt)
			if err != nil {
				return err
			}
			return writeJS(k.c, url)
		}
	}
	return writeJS(k.c, false)
}
