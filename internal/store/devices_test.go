package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// newDevice creates a line and a device bound to it.
func newDevice(t *testing.T, st *store.Store, mac string) (lineID, deviceID int64) {
	t.Helper()
	line, _ := testdb.NewLine(t, st, nil)
	id, err := st.CreateMAGDevice(t.Context(), line.ID, mac)
	if err != nil {
		t.Fatal(err)
	}
	return line.ID, id
}

func sum(b byte) []byte {
	s := make([]byte, 32)
	s[0] = b
	return s
}

func TestMAGSession_StartRenewExpireEnd(t *testing.T) {
	t.Parallel()
	_, st := newDB(t)
	ctx := t.Context()
	_, dev := newDevice(t, st, "00:1a:79:00:00:01")
	const mac = "00:1A:79:00:00:01"

	if d, err := st.MAGDeviceByMAC(ctx, mac); err != nil || d.TokenSHA256 != nil || d.TokenVerified || d.MAC != mac {
		t.Fatalf("new device = %+v, %v; want no session", d, err)
	}
	if err := st.StartMAGSession(ctx, dev, sum(1), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	d, err := st.MAGDeviceByMAC(ctx, mac)
	if err != nil || string(d.TokenSHA256) != string(sum(1)) || d.TokenVerified || d.TokenExpiresAt == nil ||
		time.Until(*d.TokenExpiresAt) < 59*time.Minute {
		t.Fatalf("after StartMAGSession = %+v, %v", d, err)
	}
	if err := st.VerifyMAGSession(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if d, _ = st.MAGDeviceByMAC(ctx, mac); !d.TokenVerified {
		t.Fatal("VerifyMAGSession did not verify")
	}
	if ok, err := st.RenewMAGSession(ctx, dev, 3*time.Hour); err != nil || !ok {
		t.Fatalf("RenewMAGSession = %v, %v", ok, err)
	}
	if d, _ = st.MAGDeviceByMAC(ctx, mac); time.Until(*d.TokenExpiresAt) < 2*time.Hour {
		t.Fatalf("renewed expiry = %v", d.TokenExpiresAt)
	}

	// An expired token is never returned, and renewing it does not revive it.
	testdb.MustExec(t, st, `UPDATE mag_devices SET token_expires_at = now() - interval '1 second' WHERE id = $1`, dev)
	if d, _ = st.MAGDeviceByMAC(ctx, mac); d.TokenSHA256 != nil || d.TokenExpiresAt != nil || d.TokenVerified {
		t.Fatalf("expired session = %+v", d)
	}
	if ok, err := st.RenewMAGSession(ctx, dev, time.Hour); err != nil || ok {
		t.Fatalf("RenewMAGSession(expired) = %v, %v; want false", ok, err)
	}

	if err := st.SetMAGToken(ctx, dev, sum(2)); err != nil {
		t.Fatal(err)
	}
	if d, _ = st.MAGDeviceByMAC(ctx, mac); string(d.TokenSHA256) != string(sum(2)) || !d.TokenVerified {
		t.Fatalf("SetMAGToken = %+v", d)
	}
	if err := st.EndMAGSession(ctx, dev); err != nil {
		t.Fatal(err)
	}
	if d, _ = st.MAGDeviceByMAC(ctx, mac); d.TokenSHA256 != nil {
		t.Fatalf("after EndMAGSession = %+v", d)
	}
	if err := st.StartMAGSession(ctx, 999999, sum(3), time.Hour, true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("StartMAGSession(missing device) = %v, want ErrNotFound", err)
	}
}

func TestMAGSession_TokenBelongsToOneDevice(t *testing.T) {
	t.Parallel()
	_, st := newDB(t)
	ctx := t.Context()
	_, a := newDevice(t, st, "00:1a:79:00:00:0a")
	_, b := newDevice(t, st, "00:1a:79:00:00:0b")
	if err := st.StartMAGSession(ctx, a, sum(7), time.Hour, true); err != nil {
		t.Fatal(err)
	}
	if err := st.StartMAGSession(ctx, b, sum(7), time.Hour, true); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the same token for a second device = %v, want ErrConflict", err)
	}
	if err := st.StartMAGSession(ctx, a, sum(7), time.Hour, true); err != nil {
		t.Fatalf("the same token again for its own device = %v", err)
	}
}

func TestMAGDevice_IdentityBoxFavourites(t *testing.T) {
	t.Parallel()
	_, st := newDB(t)
	ctx := t.Context()
	_, dev := newDevice(t, st, "00:1a:79:00:00:02")
	const mac = "00:1A:79:00:00:02"
	id := store.MAGIdentity{SerialNumber: "SN1", DeviceID: "D1", DeviceID2: "D2"}
	if ok, err := st.RecordMAGIdentity(ctx, dev, id); err != nil || !ok {
		t.Fatalf("first RecordMAGIdentity = %v, %v", ok, err)
	}
	if ok, err := st.RecordMAGIdentity(ctx, dev, store.MAGIdentity{SerialNumber: "SN2"}); err != nil || ok {
		t.Fatalf("second RecordMAGIdentity = %v, %v; want false", ok, err)
	}
	if err := st.SetMAGLock(ctx, dev, true, false); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMAGBox(ctx, dev, store.MAGBox{STBType: "MAG250", ImageVersion: "218", Firmware: "0.2.18", HWVersion: "1.7"}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMAGFavourites(ctx, dev, store.FavLive, []int64{3, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMAGFavourites(ctx, dev, "other", nil); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("SetMAGFavourites(other) = %v, want ErrInvalid", err)
	}
	if err := st.SetMAGLastChannel(ctx, dev, 42); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMAGLocale(ctx, dev, "de_DE.utf8"); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMAGParentPassword(ctx, dev, "12a"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("SetMAGParentPassword(12a) = %v, want ErrInvalid", err)
	}
	if err := st.SetMAGParentPassword(ctx, dev, "1234"); err != nil {
		t.Fatal(err)
	}
	d, err := st.MAGDeviceByMAC(ctx, mac)
	if err != nil {
		t.Fatal(err)
	}
	if !d.LockDevice || d.SerialNumber != "SN1" || d.DeviceID != "D1" || d.DeviceID2 != "D2" || d.STBType != "MAG250" ||
		d.ImageVersion != "218" || d.Firmware != "0.2.18" || d.HWVersion != "1.7" || d.LastITVID == nil || *d.LastITVID != 42 ||
		d.Locale != "de_DE.utf8" || d.ParentPassword != "1234" {
		t.Fatalf("device = %+v", d)
	}
	if got := string(d.FavChannels); got != `{"live": [3, 1, 2], "movie": [], "series": [], "radio_streams": []}` {
		t.Fatalf("fav_channels = %s", got)
	}
	if err := st.SetMAGLock(ctx, dev, false, true); err != nil {
		t.Fatal(err)
	}
	if d, _ = st.MAGDeviceByMAC(ctx, mac); d.LockDevice || d.SerialNumber != "" || d.DeviceID != "" {
		t.Fatalf("after SetMAGLock(off, clear) = %+v", d)
	}
}

// TestMAGDevice_UsageWritesDoNotNotify: renewing a session, favourites, the last channel, the
// watchdog and the box's model change nothing a cache reads and send no NOTIFY; a new session
// token, a lock change and the binding still name the line.
func TestMAGDevice_UsageWritesDoNotNotify(t *testing.T) {
	t.Parallel()
	pool, st := newDB(t)
	ctx := t.Context()
	lineID, dev := newDevice(t, st, "00:1a:79:00:00:03")
	got := make(chan store.Change, 64)
	listen(t, pool, store.Subscriber{Kinds: []store.ChangeKind{store.ChangeLine}, OnChange: func(c store.Change) { got <- c }})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.StartMAGSession(ctx, dev, sum(1), time.Hour, true)) // notifies
	// Drain the session start, then check that each usage write is followed only by its marker.
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("StartMAGSession sent no notification")
	}
	for _, w := range []struct {
		what string
		fn   func() error
	}{
		{"renew", func() error { _, err := st.RenewMAGSession(ctx, dev, 2*time.Hour); return err }},
		{"verify", func() error { return st.VerifyMAGSession(ctx, dev) }},
		{"favourites", func() error { return st.SetMAGFavourites(ctx, dev, store.FavMovie, []int64{5}) }},
		{"last channel", func() error { return st.SetMAGLastChannel(ctx, dev, 9) }},
		{"box", func() error { return st.SetMAGBox(ctx, dev, store.MAGBox{STBType: "MAG254"}) }},
		{"locale", func() error { return st.SetMAGLocale(ctx, dev, "fr_FR.utf8") }},
		{"watchdog", func() error { _, _, err := st.NextMAGEvent(ctx, dev); return ignoreNotFound(err) }},
	} {
		must(w.fn())
		must(st.SetMAGLock(ctx, dev, true, false)) // a notifying write as the marker
		must(st.SetMAGLock(ctx, dev, false, false))
		for range 2 {
			select {
			case c := <-got:
				if c.ID != lineID {
					t.Fatalf("%s: change %+v", w.what, c)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s: marker not seen within 5s", w.what)
			}
		}
		select {
		case c := <-got:
			t.Fatalf("%s sent a notification: %+v", w.what, c)
		default:
		}
	}
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

func TestMAGEvents(t *testing.T) {
	t.Parallel()
	_, st := newDB(t)
	ctx := t.Context()
	_, dev := newDevice(t, st, "00:1a:79:00:00:04")
	_, other := newDevice(t, st, "00:1a:79:00:00:05")
	if _, _, err := st.NextMAGEvent(ctx, dev); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("NextMAGEvent(none) = %v, want ErrNotFound", err)
	}
	var watchdog *time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT last_watchdog_at FROM mag_devices WHERE id = $1`, dev).Scan(&watchdog); err != nil || watchdog == nil {
		t.Fatalf("last_watchdog_at after a poll = %v, %v", watchdog, err)
	}
	msg, err := st.QueueMAGEvent(ctx, store.MAGEvent{DeviceID: dev, Event: "send_msg", Message: "hello", NeedConfirm: true})
	if err != nil {
		t.Fatal(err)
	}
	ch := int64(7)
	if _, err := st.QueueMAGEvent(ctx, store.MAGEvent{DeviceID: dev, Event: "play_channel", ChannelID: &ch}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.QueueMAGEvent(ctx, store.MAGEvent{DeviceID: dev, Event: "format_disk"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("QueueMAGEvent(unknown kind) = %v, want ErrInvalid", err)
	}
	e, pending, err := st.NextMAGEvent(ctx, dev)
	if err != nil || e.ID != msg || e.Message != "hello" || !e.NeedConfirm || pending != 2 {
		t.Fatalf("NextMAGEvent = %+v, %d, %v", e, pending, err)
	}
	if ok, err := st.ConfirmMAGEvent(ctx, other, msg); err != nil || ok {
		t.Fatalf("ConfirmMAGEvent(other device) = %v, %v; want false", ok, err)
	}
	if ok, err := st.ConfirmMAGEvent(ctx, dev, msg); err != nil || !ok {
		t.Fatalf("ConfirmMAGEvent = %v, %v", ok, err)
	}
	if ok, _ := st.ConfirmMAGEvent(ctx, dev, msg); ok {
		t.Fatal("a second ConfirmMAGEvent = true")
	}
	e, pending, err = st.NextMAGEvent(ctx, dev)
	if err != nil || e.Event != "play_channel" || e.ChannelID == nil || *e.ChannelID != 7 || pending != 1 {
		t.Fatalf("NextMAGEvent after the confirmation = %+v, %d, %v", e, pending, err)
	}
	if err := st.DeliveredMAGEvent(ctx, e.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.NextMAGEvent(ctx, dev); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("NextMAGEvent after delivery = %v, want ErrNotFound", err)
	}
	all, err := st.MAGEvents(ctx, dev)
	if err != nil || len(all) != 2 || all[0].DeliveredAt == nil || all[1].ConfirmedAt == nil {
		t.Fatalf("MAGEvents = %+v, %v", all, err)
	}
}
