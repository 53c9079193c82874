package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestHeadlessSession is a stalkerhek-style client: it handshakes offering its configured
// token (and never reads the answer's), never calls get_profile, sends the MAC raw in one call
// and query-escaped in the next, and decodes every answer into structs that refuse unknown
// members and take every id as a string.
func TestHeadlessSession(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	b.path = "/stalker_portal/server/load.php"
	b.ua = "Mozilla/5.0 (QtEmbedded; U; Linux; C) AppleWebKit/533.3 (KHTML, like Gecko) MAG200 stbapp ver: 4 rev: 2116 Mobile Safari/533.3"
	b.xua = "Model: MAG254; Link: Ethernet"
	b.extra = "PHPSESSID=null; sn=0123456789ABC"
	const own = "8A2F5C1D9E3B4A7F6C0D1E2F3A4B5C6D"

	var hs struct {
		Token string `json:"token"`
	}
	b.strict(&hs, "stb", "handshake", "prehash", "0", "token", own)
	if hs.Token != own {
		t.Fatalf("handshake answered %q, want the offered token adopted", hs.Token)
	}
	b.token = own // stalkerhek keeps its own token whatever the answer says
	var ok bool
	b.strict(&ok, "stb", "do_auth", "login", e.line.Username, "password", e.pass, "device_id", "", "device_id2", "")
	if !ok {
		t.Fatal("do_auth = false")
	}
	var wd struct {
		Data struct {
			Msgs                 int `json:"msgs"`
			AdditionalServicesOn int `json:"additional_services_on"`
		} `json:"data"`
	}
	b.strict(&wd, "watchdog", "get_events", "event_active_id", "0", "init", "0", "cur_play_type", "1")

	b.encoded = true
	var all channelPage
	b.strict(&all, "itv", "get_all_channels", "force_ch_link_check", "")
	// 2 news + 20 sports + 1 adult channel; radio is not TV, Other not in the bouquet.
	if all.TotalItems != 23 || len(all.Data) != 23 || all.MaxPageItems != 14 {
		t.Fatalf("get_all_channels = %d items (total %d)", len(all.Data), all.TotalItems)
	}
	for i, c := range all.Data {
		if len(c.Cmds) == 0 || c.Cmds[0].ID != c.ID || c.Cmds[0].ChID != c.ID || c.Number != itoa(int64(i+1)) || c.Cmd != c.Cmds[0].URL {
			t.Fatalf("channel %d = %+v", i, c)
		}
	}
	if c := all.Data[1]; c.Name != "Archive" || c.TVArchiveDuration != 72 || c.Archive != 1 || c.XMLTVID != "archive.test" ||
		c.TVGenreID != itoa(e.news) {
		t.Fatalf("archive channel = %+v", c)
	}
	if c := all.Data[22]; c.Name != "Night" || c.Censored != "1" || c.Lock != 1 {
		t.Fatalf("adult channel = %+v", c)
	}
	var genres []struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Alias     string `json:"alias"`
		ActiveSub bool   `json:"active_sub"`
		Modified  string `json:"modified"`
		Number    int    `json:"number"`
		Censored  int    `json:"censored"`
	}
	b.strict(&genres, "itv", "get_genres")
	if len(genres) != 4 || genres[1].ID != itoa(e.news) {
		t.Fatalf("genres = %+v", genres)
	}

	// stalkerhek path-escapes the cmd into the query.
	raw := e.base + b.path + "?action=create_link&type=itv&cmd=" + url.PathEscape(all.Data[0].Cmd) + "&JsHttpRequest=1-xml"
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	req.Header.Set("Cookie", "PHPSESSID=null; mac="+url.QueryEscape(e.mac)+"; stb_lang=en; timezone=Europe%2FVilnius; sn=0123456789ABC")
	req.Header.Set("Authorization", "Bearer "+own)
	req.Header.Set("User-Agent", b.ua)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var link struct {
		JS struct {
			ID         string `json:"id"`
			Cmd        string `json:"cmd"`
			StreamerID int    `json:"streamer_id"`
			LinkID     int    `json:"link_id"`
			Load       int    `json:"load"`
			Error      string `json:"error"`
		} `json:"js"`
	}
	strictJSON(t, body, &link)
	parts := strings.Split(link.JS.Cmd, " ") // stalkerhek keeps what follows the last space
	if link.JS.Error != "" || link.JS.ID != all.Data[0].ID {
		t.Fatalf("create_link = %s", body)
	}
	if codecs := ffprobe(t, parts[len(parts)-1]); !strings.Contains(codecs, "h264") {
		t.Fatalf("ffprobe found %q", codecs)
	}

	var favs []string
	b.strict(&favs, "itv", "get_fav_ids")
	if favs == nil || len(favs) != 0 {
		t.Fatalf("get_fav_ids = %#v, want []", favs)
	}
	var acct struct {
		MAC   string `json:"mac"`
		Phone string `json:"phone"`
	}
	b.strict(&acct, "account_info", "get_main_info")
	var cats []struct {
		ID       string `json:"id"`
		Title    string `json:"title"`
		Alias    string `json:"alias"`
		Censored int    `json:"censored"`
	}
	b.strict(&cats, "vod", "get_categories")
	if len(cats) != 3 || cats[0].ID != "*" || cats[1].ID != itoa(e.films) {
		t.Fatalf("vod categories = %+v", cats)
	}
	// The same token with another MAC opens nothing.
	other := *b
	other.mac = "00:1A:79:00:00:77"
	other.text("Authorization failed.", "itv", "get_genres")
}
