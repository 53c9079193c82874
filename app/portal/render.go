package portal

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/xtreamd/xtreamd/internal/catalog"
)

// The itv channel entries (spec §5.4) are rendered once per catalog snapshot, by the refresh
// that builds it (channelsView is attached in New). An entry's only per-request parts are its
// channel number (its place in the line's lineup) and its fav flag (the device's), so each is
// kept as three pieces around them. A line's lineup — its TV and radio channels in bouquet
// order, each channel's number, its genres — is built once per snapshot and bouquet set, the
// first time a line with that set asks.

// channels is the portal's rendering of one snapshot.
type channels struct {
	entry    [][3][]byte // by Stream.Index: `{…"number":"` + N + `",…"fav":` + 0|1 + `,…}`; nil for non-live
	nameRank []int32     // by Stream.Index: place in name order, for sortby=name

	mu      sync.Mutex
	lineups map[*catalog.Entitlement]*lineup
}

// maxLineups bounds the lineups kept per snapshot; lines with other bouquet sets get theirs
// built per request (the catalog itself keeps 1024 entitlements).
const maxLineups = 512

// channelsView is the portal's per-snapshot rendering. A View keeps nothing itself (the values
// live in the snapshots), so one for the package is no shared state.
var channelsView = catalog.NewView(renderChannels)

// lineup is what one bouquet set gives a line in the portal.
type lineup struct {
	tv     []*catalog.Stream   // live and created_live channels, bouquet order
	radio  []*catalog.Stream   // radio stations, bouquet order
	number []int32             // by Stream.Index: the channel's number, its place in tv or radio (1-based)
	genres []*catalog.Category // live categories holding a TV channel, by position
}

// Markers splitting an entry: structural, so they cannot occur inside a string value (a quote
// there is always escaped).
var (
	numberMarker = []byte(`"number":""`)
	favMarker    = []byte(`"fav":0`)
)

func renderChannels(snap *catalog.Snapshot) *channels {
	n, _, _ := snap.Counts()
	ch := &channels{entry: make([][3][]byte, 0, n), nameRank: make([]int32, n), lineups: map[*catalog.Entitlement]*lineup{}}
	var live []*catalog.Stream
	for st := range snap.AllStreams() { // Index order: appending fills the table by Index
		var e [3][]byte
		if st.IsLive() {
			e = splitEntry(channelEntryOf(st))
			live = append(live, st)
		}
		ch.entry = append(ch.entry, e)
	}
	slices.SortStableFunc(live, func(a, b *catalog.Stream) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	for i, st := range live {
		ch.nameRank[st.Index] = int32(i)
	}
	return ch
}

// splitEntry encodes e and cuts it around its number and fav values.
func splitEntry(e channelEntry) [3][]byte {
	b, err := json.Marshal(e)
	if err != nil { // our own entry type always encodes
		return [3][]byte{[]byte(`{"number":"`), []byte(`","fav":`), []byte(`}`)}
	}
	i := bytes.Index(b, numberMarker) + len(numberMarker) - 1 // the closing quote starts part 1
	j := i + bytes.Index(b[i:], favMarker) + len(favMarker) - 1
	return [3][]byte{b[:i:i], b[i:j:j], b[j+1:]}
}

// appendChannel appends the entry of st with its number and fav flag.
func (ch *channels) appendChannel(b []byte, st *catalog.Stream, number int32, fav bool) []byte {
	e := ch.entry[st.Index]
	b = append(b, e[0]...)
	b = strconv.AppendInt(b, int64(number), 10)
	b = append(b, e[1]...)
	if fav {
		b = append(b, '1')
	} else {
		b = append(b, '0')
	}
	return append(b, e[2]...)
}

// lineupOf returns the lineup of ent, built once per snapshot and bouquet set.
func (ch *channels) lineupOf(ent *catalog.Entitlement) *lineup {
	ch.mu.Lock()
	l, ok := ch.lineups[ent]
	ch.mu.Unlock()
	if ok {
		return l
	}
	l = buildLineup(ent, len(ch.entry))
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if prev, ok := ch.lineups[ent]; ok {
		return prev
	}
	if len(ch.lineups) < maxLineups {
		ch.lineups[ent] = l
	}
	return l
}

func buildLineup(ent *catalog.Entitlement, nStreams int) *lineup {
	all := ent.Live(0)
	l := &lineup{number: make([]int32, nStreams)}
	withTV := map[int64]bool{}
	for _, st := range all {
		if st.StreamType() == "radio_streams" {
			l.radio = append(l.radio, st)
			l.number[st.Index] = int32(len(l.radio))
			continue
		}
		l.tv = append(l.tv, st)
		l.number[st.Index] = int32(len(l.tv))
		if st.Category != nil {
			withTV[st.Category.ID] = true
		}
	}
	for _, c := range ent.LiveCategories() {
		if withTV[c.ID] {
			l.genres = append(l.genres, c)
		}
	}
	return l
}

// channelEntry is an itv channel as get_all_channels and get_ordered_list list it (spec §5.4,
// §7 #22): ids, the genre id and the channel number are strings, cmds never empty, cmd the
// localhost form that makes every client call create_link for a play-token URL.
type channelEntry struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Number              string     `json:"number"`
	Censored            string     `json:"censored"`
	Cmd                 string     `json:"cmd"`
	TVGenreID           string     `json:"tv_genre_id"`
	Logo                string     `json:"logo"`
	XMLTVID             string     `json:"xmltv_id"`
	EnableTVArchive     int        `json:"enable_tv_archive"`
	Archive             int        `json:"archive"`
	TVArchiveDuration   int32      `json:"tv_archive_duration"` // hours
	UseHTTPTmpLink      string     `json:"use_http_tmp_link"`
	NginxSecureLink     string     `json:"nginx_secure_link"`
	Fav                 int        `json:"fav"`
	Lock                int        `json:"lock"`
	AllowPVR            int        `json:"allow_pvr"`
	AllowLocalPVR       int        `json:"allow_local_pvr"`
	AllowLocalTimeshift string     `json:"allow_local_timeshift"`
	CurPlaying          string     `json:"cur_playing"`
	EPG                 []struct{} `json:"epg"`
	Open                int        `json:"open"`
	Status              int        `json:"status"`
	HD                  string     `json:"hd"`
	BaseCh              string     `json:"base_ch"`
	Cost                string     `json:"cost"`
	Count               string     `json:"count"`
	UseLoadBalancing    int        `json:"use_load_balancing"`
	Cmds                []cmdEntry `json:"cmds"`
}

type cmdEntry struct {
	ID                       string `json:"id"`
	ChID                     string `json:"ch_id"`
	Priority                 string `json:"priority"`
	URL                      string `json:"url"`
	Status                   string `json:"status"`
	UseHTTPTmpLink           string `json:"use_http_tmp_link"`
	WowzaTmpLink             string `json:"wowza_tmp_link"`
	UserAgentFilter          string `json:"user_agent_filter"`
	UseLoadBalancing         string `json:"use_load_balancing"`
	Changed                  string `json:"changed"`
	EnableMonitoring         string `json:"enable_monitoring"`
	EnableBalancerMonitoring string `json:"enable_balancer_monitoring"`
	NginxSecureLink          string `json:"nginx_secure_link"`
	FlussonicTmpLink         string `json:"flussonic_tmp_link"`
}

// localCmd is a channel's cmd in the lists: "ffmpeg http://localhost/ch/{id}_" (XC's
// mag_security form, spec §5.4). With use_http_tmp_link 1 the JavaScript client, and clients
// that see "localhost" or "/ch/" (EStalker, stalkerhek), call create_link for the real URL.
func localCmd(id int64) string { return "ffmpeg http://localhost/ch/" + itoa(id) + "_" }

func channelEntryOf(st *catalog.Stream) channelEntry {
	id, cmd := itoa(st.ID), localCmd(st.ID)
	e := channelEntry{
		ID: id, Name: st.Name, Cmd: cmd, TVGenreID: st.CategoryIDString(), Logo: st.Icon, XMLTVID: st.EPGChannelID,
		UseHTTPTmpLink: "1", NginxSecureLink: "1", AllowLocalTimeshift: "1", CurPlaying: "[No channel info]",
		EPG: []struct{}{}, Open: 1, Status: 1, HD: "0", BaseCh: "1", Cost: "0", Count: "0",
		Cmds: []cmdEntry{{ID: id, ChID: id, Priority: "0", URL: cmd, Status: "1", UseHTTPTmpLink: "1",
			WowzaTmpLink: "0", UseLoadBalancing: "0", EnableMonitoring: "0", EnableBalancerMonitoring: "0",
			NginxSecureLink: "1", FlussonicTmpLink: "0"}},
	}
	if st.Category != nil && st.Category.IsAdult {
		e.Censored, e.Lock = "1", 1
	}
	if st.TVArchiveDays > 0 {
		e.EnableTVArchive, e.Archive, e.TVArchiveDuration = 1, 1, st.TVArchiveDays*24
	}
	return e
}
