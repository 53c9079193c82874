package portal_test

import (
	"context"
	"testing"

	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// TestPaging: an empty genre, the last page, a page past the end, p=0 opening on the last
// channel watched, search, name order, and favourites in the box's order.
func TestPaging(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	ctx := context.Background()
	empty, _, err := e.st.EnsureCategories(ctx, store.KindLive, []string{"Empty"})
	must(t, err)
	b := e.box(t)
	b.handshake("")
	var pg channelPage
	list := func(params ...string) channelPage {
		t.Helper()
		b.strict(&pg, "itv", "get_ordered_list", params...)
		return pg
	}
	if p := list("genre", itoa(empty["Empty"]), "p", "1"); p.TotalItems != 0 || p.Data == nil || len(p.Data) != 0 {
		t.Fatalf("empty genre = %+v", p)
	}
	// 23 TV channels: pages of 14 and 9.
	if p := list("genre", "*", "p", "2"); p.TotalItems != 23 || len(p.Data) != 9 || p.Data[8].Name != "Night" || p.CurPage != 0 {
		t.Fatalf("last page = %d items, cur_page %d", len(p.Data), p.CurPage)
	}
	if p := list("p", "3"); p.TotalItems != 23 || len(p.Data) != 0 {
		t.Fatalf("page past the end = %+v", p)
	}
	// p=0 without a last channel: page 1.
	if p := list("p", "0"); p.CurPage != 1 || p.SelectedItem != 0 || len(p.Data) != 14 {
		t.Fatalf("p=0 = cur_page %d selected %d", p.CurPage, p.SelectedItem)
	}
	// set_last_id Sport 15 (the 17th channel): p=0 opens page 2 on item 3.
	var yes bool
	b.js(&yes, "itv", "set_last_id", "id", itoa(e.sports[14]))
	if p := list("p", "0"); p.CurPage != 2 || p.SelectedItem != 3 || p.Data[2].Name != "Sport 15" {
		t.Fatalf("p=0 after set_last_id = cur_page %d selected %d", p.CurPage, p.SelectedItem)
	}
	var prof map[string]any
	b.js(&prof, "stb", "get_profile", mag250Profile("SN")...)
	if prof["last_itv_id"] != float64(e.sports[14]) {
		t.Errorf("profile last_itv_id = %v", prof["last_itv_id"])
	}
	// A channel outside the bouquet is not recorded.
	b.js(&yes, "itv", "set_last_id", "id", itoa(e.other))
	if p := list("p", "0"); p.CurPage != 2 {
		t.Fatalf("set_last_id of a foreign channel moved the default page to %d", p.CurPage)
	}
	if p := list("search", "SPORT 1", "p", "1"); p.TotalItems != 10 { // Sport 10 to 19
		t.Fatalf("search = %d", p.TotalItems)
	}
	if p := list("sortby", "name", "p", "1"); p.Data[0].Name != "Archive" || p.Data[1].Name != "Live" || p.Data[2].Name != "Night" {
		t.Fatalf("by name = %s, %s, %s", p.Data[0].Name, p.Data[1].Name, p.Data[2].Name)
	}

	// Favourites, in the box's order, stored on the device.
	b.js(&yes, "itv", "set_fav", "fav_ch", itoa(e.sports[2])+","+itoa(e.live)+",garbage,"+itoa(e.other))
	var ids []string
	b.js(&ids, "itv", "get_fav_ids")
	if len(ids) != 3 || ids[0] != itoa(e.sports[2]) || ids[1] != itoa(e.live) {
		t.Fatalf("get_fav_ids = %v", ids)
	}
	if p := list("fav", "1", "p", "1"); p.TotalItems != 2 || p.Data[0].ID != itoa(e.sports[2]) || p.Data[0].Fav != 1 {
		t.Fatalf("favourites = %+v", p)
	}
	var favs channelPage
	b.strict(&favs, "itv", "get_all_fav_channels")
	if favs.TotalItems != 2 || favs.Data[1].ID != itoa(e.live) {
		t.Fatalf("get_all_fav_channels = %+v", favs)
	}
	dev, err := mag.NewDevices(e.st, mag.Options{}).Lookup(ctx, mustMAC(t, e.mac))
	must(t, err)
	if len(dev.Favourites.Live) != 3 || dev.LastChannel != e.sports[14] {
		t.Fatalf("stored device = %+v", dev)
	}
	// Radio is its own list.
	var radio struct {
		TotalItems int              `json:"total_items"`
		Data       []map[string]any `json:"data"`
	}
	b.js(&radio, "radio", "get_ordered_list", "p", "1")
	if radio.TotalItems != 1 || radio.Data[0]["name"] != "Jazz FM" || radio.Data[0]["id"] != itoa(e.radio) {
		t.Fatalf("radio = %+v", radio)
	}
}

func mustMAC(t *testing.T, s string) mag.MAC {
	t.Helper()
	m, err := mag.ParseMAC(s)
	must(t, err)
	return m
}

// TestWatchdogEvents: an operator's message reaches the box, stays until confirmed; a reboot
// is delivered once.
func TestWatchdogEvents(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	devs := mag.NewDevices(e.st, mag.Options{})
	ctx := context.Background()
	msg, err := devs.Queue(ctx, e.deviceID, mag.Event{Kind: mag.EventMessage, Message: "Maintenance tonight", NeedConfirm: true})
	must(t, err)
	_, err = devs.Queue(ctx, e.deviceID, mag.Event{Kind: mag.EventReboot})
	must(t, err)
	b := e.box(t)
	b.handshake("")
	var wd struct {
		Data map[string]any `json:"data"`
	}
	b.js(&wd, "watchdog", "get_events", "event_active_id", "0")
	if wd.Data["msgs"] != 2.0 || wd.Data["id"] != itoa(msg) || wd.Data["event"] != "send_msg" ||
		wd.Data["msg"] != "Maintenance tonight" || wd.Data["need_confirm"] != 1.0 {
		t.Fatalf("get_events = %v", wd.Data)
	}
	var ok map[string]string
	b.js(&ok, "watchdog", "confirm_event", "event_active_id", itoa(msg))
	if ok["data"] != "ok" {
		t.Fatalf("confirm_event = %v", ok)
	}
	wd.Data = nil
	b.js(&wd, "watchdog", "get_events")
	if wd.Data["event"] != "reboot" || wd.Data["msgs"] != 1.0 {
		t.Fatalf("second get_events = %v", wd.Data)
	}
	wd.Data = nil
	b.js(&wd, "watchdog", "get_events")
	if wd.Data["msgs"] != 0.0 || wd.Data["event"] != nil {
		t.Fatalf("third get_events = %v", wd.Data)
	}
}

// TestDeviceLock: a locked device records its ids at first use; a headless session that never
// proves them opens nothing, a box with other ids is refused and its session ended.
func TestDeviceLock(t *testing.T) {
	t.Parallel()
	e := setup(t, envOpts{})
	must(t, e.st.SetMAGLock(context.Background(), e.deviceID, true, false))
	b := e.box(t)
	b.handshake("")
	b.text("Authorization failed.", "itv", "get_all_channels") // not proved yet
	var prof map[string]any
	b.js(&prof, "stb", "get_profile", mag250Profile("0123456789ABC")...)
	if prof["status"] != 0.0 {
		t.Fatalf("first locked use = %v", prof)
	}
	var genres []any
	b.js(&genres, "itv", "get_genres")

	clone := e.box(t)
	clone.handshake("")
	clone.text("Authorization failed.", "itv", "get_genres")
	clone.js(&prof, "stb", "get_profile", mag250Profile("FFFFFFFFFFFFF")...)
	if prof["status"] != 1.0 || prof["block_msg"] == nil {
		t.Fatalf("a box with another serial = %v", prof)
	}
	clone.text("Authorization failed.", "itv", "get_genres")
	// do_auth proves the ids as well (stalkerhek sends them there).
	clone.handshake("")
	var ok bool
	clone.js(&ok, "stb", "do_auth", "login", "", "password", "", "sn", "0123456789ABC", "device_id", "E2F1A7C1B2D3")
	if !ok {
		t.Fatal("do_auth with the recorded ids = false")
	}
	clone.js(&genres, "itv", "get_genres")
}
