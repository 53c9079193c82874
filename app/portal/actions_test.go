package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestActions_Misc: the start-up calls, the stubs, the guide actions, unknown actions, bad
// input, POST, do_auth and logout.
func TestActions_Misc(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	b := e.box(t)
	b.handshake("")

	for _, call := range [][2]string{{"stb", "set_volume"}, {"stb", "log"}, {"itv", "set_played"}, {"vod", "set_claim"},
		{"tv_archive", "set_played_timeshift"}, {"account_info", "get_terms_info"}} {
		var yes bool
		b.js(&yes, call[0], call[1])
		if !yes {
			t.Errorf("%s/%s = false", call[0], call[1])
		}
	}
	for _, call := range [][2]string{{"stb", "get_preload_images"}, {"stb", "get_timezones"}, {"stb", "get_storages"},
		{"remote_pvr", "get_active_recordings"}, {"itv", "set_fav_status"}} {
		var list []any
		b.js(&list, call[0], call[1])
		if list == nil {
			t.Errorf("%s/%s is not []", call[0], call[1])
		}
	}
	var unknown any = "not decoded"
	b.js(&unknown, "karaoke", "get_abc")
	if unknown != false {
		t.Errorf("an unknown module = %v, want false", unknown)
	}
	b.js(&unknown, "itv", "no_such_action")
	if unknown != false {
		t.Errorf("an unknown action = %v, want false", unknown)
	}
	var settings map[string]any
	b.js(&settings, "stb", "get_settings_profile")
	if settings["parent_password"] != "0000" || settings["modules"] == nil {
		t.Errorf("settings profile = %v", settings)
	}
	var yes bool
	b.js(&yes, "stb", "set_parent_password", "parent_password", "0000", "pass", "4321", "repeat_pass", "4321")
	b.js(&settings, "stb", "get_settings_profile")
	if settings["parent_password"] != "4321" {
		t.Errorf("parent password after set = %v", settings["parent_password"])
	}

	// The guide.
	var week []map[string]any
	b.js(&week, "epg", "get_week")
	if len(week) != 26 || week[16]["today"] != 1.0 || week[16]["f_mysql"] != time.Now().In(mustZone(t, "Europe/Paris")).Format("2006-01-02") {
		t.Fatalf("week = %v", week)
	}
	var short []map[string]any
	b.js(&short, "itv", "get_short_epg", "ch_id", itoa(e.live), "size", "3")
	if len(short) != 3 || !strings.HasPrefix(short[0]["name"].(string), "live.test at ") || short[0]["ch_id"] != itoa(e.live) {
		t.Fatalf("short epg = %v", short)
	}
	kinds(t, "short epg", short[0], map[string]string{"id": "string", "start_timestamp": "number", "duration": "number", "descr": "string"})
	var info struct {
		Data map[string][]map[string]any `json:"data"`
	}
	b.js(&info, "itv", "get_epg_info", "period", "2")
	if len(info.Data[itoa(e.live)]) < 2 || len(info.Data[itoa(e.archive)]) < 2 || len(info.Data) != 2 {
		t.Fatalf("epg info = %v", info.Data)
	}
	now := time.Now().In(mustZone(t, "Europe/Paris"))
	var table map[string]any
	b.js(&table, "epg", "get_data_table", "ch_id", itoa(e.archive), "from", now.Format("2006-01-02 15:00:00"),
		"to", now.Add(2*time.Hour).Format("2006-01-02 15:00:00"), "p", "0")
	if table["cur_page"] != 1.0 || table["selected_item"] != 2.0 || len(table["data"].([]any)) != 10 || len(table["time_marks"].([]any)) != 4 {
		t.Fatalf("data table = %v", table)
	}
	var all []map[string]any
	b.js(&all, "epg", "get_all_program_for_ch", "ch_id", itoa(e.live))
	if len(all) < 20 {
		t.Fatalf("all programmes = %d", len(all))
	}

	// Bad bytes are a 400 in the envelope, never a database error.
	for _, q := range [][2]string{{"search", "\x00"}, {"search", strings.Repeat("x", 200)}, {"cmd", "\xff\xfe"},
		{"sn", strings.Repeat("s", 2000)}, {"genre", "1\x00"}} {
		code, ctype, body := b.call("itv", "get_ordered_list", q[0], q[1])
		if code != 400 || !strings.HasPrefix(ctype, "application/json") || !strings.Contains(string(body), `"js"`) {
			t.Errorf("%q = %d %q %.80s", q, code, ctype, body)
		}
	}
	// POST, form-encoded.
	form := url.Values{"type": {"itv"}, "action": {"get_genres"}, "JsHttpRequest": {"1-xml"}}
	req, _ := http.NewRequest(http.MethodPost, e.base+"/server/load.php", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", "mac="+url.QueryEscape(e.mac))
	req.Header.Set("Authorization", "Bearer "+b.token)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"id":"*"`) {
		t.Fatalf("POST get_genres = %d %s", resp.StatusCode, body)
	}

	// do_auth with the wrong password is false; logout ends the session.
	b.js(&yes, "stb", "do_auth", "login", e.line.Username, "password", "wrong")
	if yes {
		t.Fatal("do_auth with a wrong password = true")
	}
	b.js(&yes, "stb", "logout")
	b.text("Authorization failed.", "itv", "get_genres")
}
