package portal_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// kinds asserts the JSON kind of members of an object ("string", "number", "bool", "array",
// "object", "absent").
func kinds(t *testing.T, what string, obj map[string]any, want map[string]string) {
	t.Helper()
	for key, kind := range want {
		v, ok := obj[key]
		got := "absent"
		if ok {
			switch v.(type) {
			case string:
				got = "string"
			case float64:
				got = "number"
			case bool:
				got = "bool"
			case []any:
				got = "array"
			case map[string]any:
				got = "object"
			case nil:
				got = "null"
			}
		}
		if got != kind {
			t.Errorf("%s.%s is %s (%v), want %s", what, key, got, v, kind)
		}
	}
}

var tokenShape = regexp.MustCompile(`^[0-9A-F]{32}$`)

// mag250Profile is get_profile as the stock JavaScript client sends it from a MAG250.
func mag250Profile(sn string) []string {
	return []string{"hd", "1", "ver", "ImageDescription: 0.2.18-r23-250; ImageDate: Thu Sep 13 11:31:16 EEST 2018; " +
		"PORTAL version: 5.6.1; API Version: JS API version: 343; STB API version: 146; Player Engine version: 0x58c",
		"num_banks", "2", "sn", sn, "stb_type", "MAG250", "client_type", "STB", "image_version", "218",
		"video_out", "hdmi", "device_id", "E2F1A7C1B2D3", "device_id2", "", "signature", "5A1B",
		"auth_second_step", "0", "hw_version", "1.7-BD-00", "not_valid_token", "0",
		"metrics", `{"mac":"00:1A:79:12:34:56","sn":"` + sn + `","model":"MAG250","type":"STB","uid":"","random":""}`,
		"hw_version_2", "62", "timestamp", "1700000000", "api_signature", "262", "prehash", ""}
}

// TestMAG250Session is a MAG250's whole start-up as its firmware sends it — handshake with the
// raw mac cookie, then every call with the percent-encoded one, stb_lang and timezone cookies
// and the Bearer token — through the profile, the account, the genres, paging through a genre,
// and create_link, whose URL ffprobe plays.
func TestMAG250Session(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	tok := b.handshake("")
	if !tokenShape.MatchString(tok) {
		t.Fatalf("handshake token = %q, want 32 upper-case hex digits", tok)
	}
	b.encoded = true // the stock JavaScript encodeURIComponent()s its cookies

	var prof map[string]any
	b.js(&prof, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	kinds(t, "profile", prof, map[string]string{"status": "number", "id": "string", "mac": "string", "watchdog_timeout": "number",
		"storages": "array", "allowed_stb_types": "absent", "block_msg": "absent", "last_itv_id": "number", "locale": "string"})
	if prof["status"] != 0.0 || prof["mac"] != e.mac || prof["id"] == "" || prof["stb_type"] != "MAG250" {
		t.Fatalf("profile = %v", prof)
	}
	var loc map[string]any
	b.js(&loc, "stb", "get_localization")
	if loc["stb_type_not_supported"] == nil {
		t.Errorf("localization = %v", loc)
	}
	var mods struct {
		All []string `json:"all_modules"`
	}
	b.js(&mods, "stb", "get_modules")
	if !strings.Contains(strings.Join(mods.All, ","), "tv") {
		t.Errorf("modules = %v", mods.All)
	}
	var info map[string]any
	b.js(&info, "account_info", "get_main_info")
	if info["mac"] != e.mac || info["phone"] != "Unlimited" {
		t.Errorf("main info = %v", info)
	}

	var genres []map[string]any
	b.js(&genres, "itv", "get_genres")
	titles := []string{}
	for _, g := range genres {
		kinds(t, "genre", g, map[string]string{"id": "string", "title": "string", "censored": "number"})
		titles = append(titles, g["title"].(string))
	}
	if strings.Join(titles, ",") != "All,News,Sports,Adults" || genres[0]["id"] != "*" || genres[3]["censored"] != 1.0 {
		t.Fatalf("genres = %v", genres)
	}

	var list channelPage
	b.strict(&list, "itv", "get_ordered_list", "genre", itoa(e.sportCat), "p", "1", "sortby", "number")
	if list.TotalItems != 20 || list.MaxPageItems != 14 || len(list.Data) != 14 || list.Data[0].Name != "Sport 01" || list.Data[0].Number != "3" {
		t.Fatalf("sports page 1 = %+v", list)
	}
	b.strict(&list, "itv", "get_ordered_list", "genre", itoa(e.sportCat), "p", "2")
	if len(list.Data) != 6 || list.Data[5].Name != "Sport 20" || list.CurPage != 0 {
		t.Fatalf("sports page 2 = %+v", list)
	}
	b.strict(&list, "itv", "get_ordered_list", "genre", itoa(e.news), "p", "1")
	if len(list.Data) != 2 || list.Data[0].ID != itoa(e.live) {
		t.Fatalf("news = %+v", list)
	}

	var link struct {
		ID    string `json:"id"`
		Cmd   string `json:"cmd"`
		Error string `json:"error"`
	}
	b.js(&link, "itv", "create_link", "cmd", list.Data[0].Cmd, "series", "", "forced_storage", "undefined",
		"disable_ad", "0", "download", "0")
	if link.Error != "" || link.ID != itoa(e.live) {
		t.Fatalf("create_link = %+v", link)
	}
	u := cmdURL(t, link.Cmd)
	if strings.Contains(u, e.line.Username) || strings.Contains(u, e.pass) || !strings.HasPrefix(u, e.base+"/play/") {
		t.Fatalf("link %q", u)
	}
	if codecs := ffprobe(t, u); !strings.Contains(codecs, "h264") {
		t.Fatalf("ffprobe found %q in the live link", codecs)
	}
	var wd map[string]map[string]any
	b.js(&wd, "watchdog", "get_events", "init", "0", "cur_play_type", "1", "event_active_id", "0")
	if wd["data"]["msgs"] != 0.0 {
		t.Errorf("watchdog = %v", wd)
	}
	// No log line carries the token, the play token or the full MAC.
	logs := e.logs.String()
	for _, secret := range []string{tok, u[strings.LastIndex(u, "/")+1 : len(u)-3], e.mac, strings.ReplaceAll(e.mac, ":", "%3A")} {
		if strings.Contains(logs, secret) {
			t.Errorf("a log line holds %q", secret)
		}
	}
}

// channelPage is a channel list as stalkerhek reads it, every member named so a strict decoder
// refuses anything new, the ids strings.
type channelPage struct {
	TotalItems   int       `json:"total_items"`
	MaxPageItems int       `json:"max_page_items"`
	SelectedItem int       `json:"selected_item"`
	CurPage      int       `json:"cur_page"`
	Data         []channel `json:"data"`
}

type channel struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	Number              string            `json:"number"`
	Censored            string            `json:"censored"`
	Cmd                 string            `json:"cmd"`
	TVGenreID           string            `json:"tv_genre_id"`
	Logo                string            `json:"logo"`
	XMLTVID             string            `json:"xmltv_id"`
	EnableTVArchive     int               `json:"enable_tv_archive"`
	Archive             int               `json:"archive"`
	TVArchiveDuration   int               `json:"tv_archive_duration"`
	UseHTTPTmpLink      string            `json:"use_http_tmp_link"`
	NginxSecureLink     string            `json:"nginx_secure_link"`
	Fav                 int               `json:"fav"`
	Lock                int               `json:"lock"`
	AllowPVR            int               `json:"allow_pvr"`
	AllowLocalPVR       int               `json:"allow_local_pvr"`
	AllowLocalTimeshift string            `json:"allow_local_timeshift"`
	CurPlaying          string            `json:"cur_playing"`
	EPG                 []json.RawMessage `json:"epg"`
	Open                int               `json:"open"`
	Status              int               `json:"status"`
	HD                  string            `json:"hd"`
	BaseCh              string            `json:"base_ch"`
	Cost                string            `json:"cost"`
	Count               string            `json:"count"`
	UseLoadBalancing    int               `json:"use_load_balancing"`
	Cmds                []channelCmd      `json:"cmds"`
}

type channelCmd struct {
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
