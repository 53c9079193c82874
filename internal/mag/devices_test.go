package mag_test

import (
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }

// clock is a settable clock for Touch's renewal decision.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	st    *store.Store
	devs  *mag.Devices
	clock *clock
}

func setup(t *testing.T) fixture {
	t.Helper()
	st := store.New(testdb.New(t))
	c := &clock{t: time.Now()}
	return fixture{st: st, clock: c, devs: mag.NewDevices(st, mag.Options{TokenTTL: time.Hour, RenewEvery: 10 * time.Minute, Now: c.now})}
}

func mustMAC(t *testing.T, s string) mag.MAC {
	t.Helper()
	m, err := mag.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// device binds mac to a new line.
func (f fixture) device(t *testing.T, mac mag.MAC) int64 {
	t.Helper()
	line, _ := testdb.NewLine(t, f.st, nil)
	id, err := f.st.CreateMAGDevice(t.Context(), line.ID, mac.String())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f fixture) stored(t *testing.T, mac mag.MAC) store.MAGDevice {
	t.Helper()
	d, err := f.st.MAGDeviceByMAC(t.Context(), mac.String())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	a, b := mustMAC(t, "00:1A:79:00:00:01"), mustMAC(t, "00:1A:79:00:00:02")
	f.device(t, a)
	f.device(t, b)

	tok, known, err := f.devs.Handshake(ctx, a, "")
	if err != nil || !known || len(tok) != 32 || !mag.ValidToken(tok) {
		t.Fatalf("Handshake(a, no token) = %q, %v, %v", tok, known, err)
	}
	if got := f.stored(t, a); string(got.TokenSHA256) != string(mag.TokenSum(tok)) || !got.TokenVerified {
		t.Fatalf("stored session = %+v", got)
	}
	// A client's own token is adopted, and replaces the previous session.
	own := "stalkerhek-configured-token"
	if tok2, _, err := f.devs.Handshake(ctx, a, own); err != nil || tok2 != own {
		t.Fatalf("Handshake(a, own) = %q, %v; want the offered token", tok2, err)
	}
	if got := f.stored(t, a); string(got.TokenSHA256) != string(mag.TokenSum(own)) {
		t.Fatal("the offered token was not stored")
	}
	// The same token for another MAC is not adopted: b gets a fresh one.
	tokB, _, err := f.devs.Handshake(ctx, b, own)
	if err != nil || tokB == own || len(tokB) != 32 {
		t.Fatalf("Handshake(b, a's token) = %q, %v; want a new token", tokB, err)
	}
	if got := f.stored(t, a); string(got.TokenSHA256) != string(mag.TokenSum(own)) {
		t.Fatal("b's handshake changed a's session")
	}
	// An offered token that cannot be one is replaced.
	if tok3, _, _ := f.devs.Handshake(ctx, a, "has space"); tok3 == "has space" || len(tok3) != 32 {
		t.Fatalf("Handshake(a, bad token) = %q", tok3)
	}
	// An unknown MAC gets a token too, stored nowhere.
	u := mustMAC(t, "00:1A:79:99:99:99")
	tokU, known, err := f.devs.Handshake(ctx, u, "")
	if err != nil || known || len(tokU) != 32 {
		t.Fatalf("Handshake(unknown) = %q, %v, %v", tokU, known, err)
	}
	if _, err := f.devs.Lookup(ctx, u); !errors.Is(err, mag.ErrUnknownDevice) {
		t.Fatalf("Lookup(unknown) = %v, want ErrUnknownDevice", err)
	}
}

func TestTouch_RenewsWhenDue(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	m := mustMAC(t, "00:1A:79:00:00:03")
	f.device(t, m)
	if _, _, err := f.devs.Handshake(ctx, m, ""); err != nil {
		t.Fatal(err)
	}
	dev, err := f.devs.Lookup(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	before := *f.stored(t, m).TokenExpiresAt
	// Fresh: nothing to do.
	if err := f.devs.Touch(ctx, &dev); err != nil || !f.stored(t, m).TokenExpiresAt.Equal(before) {
		t.Fatalf("Touch of a fresh session wrote (%v)", err)
	}
	// renewed sets the session to expire in left, touches it and wants about an hour again.
	renewed := func(left, what string) {
		t.Helper()
		testdb.MustExec(t, f.st, `UPDATE mag_devices SET token_expires_at = now() + $2::interval WHERE id = $1`, dev.ID, left)
		dev, _ = f.devs.Lookup(ctx, m)
		if err := f.devs.Touch(ctx, &dev); err != nil {
			t.Fatal(err)
		}
		if left := time.Until(*f.stored(t, m).TokenExpiresAt); left < 55*time.Minute {
			t.Fatalf("%s: %v left, want about an hour", what, left)
		}
	}
	// Older than RenewEvery: renewed (the database's clock sets the new expiry).
	renewed("45 minutes", "after Touch the session")
	// The app clock moving on makes a loaded session due as well.
	dev, _ = f.devs.Lookup(ctx, m)
	f.clock.add(15 * time.Minute)
	renewed("50 minutes", "due session not renewed")
}

func TestProve_DeviceLock(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	m := mustMAC(t, "00:1A:79:00:00:04")
	id := f.device(t, m)
	box := mag.Identity{Serial: "0123456789ABC", DeviceID: "AAAA", DeviceID2: "BBBB"}

	// Unlocked: everything passes, the session is verified from the handshake on.
	f.devs.Handshake(ctx, m, "")
	dev, _ := f.devs.Lookup(ctx, m)
	if ok, err := f.devs.Prove(ctx, &dev, mag.Identity{}); !ok || err != nil || !dev.Verified {
		t.Fatalf("Prove(unlocked) = %v, %v, verified=%v", ok, err, dev.Verified)
	}

	if err := f.st.SetMAGLock(ctx, id, true, false); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := f.devs.Handshake(ctx, m, "")
	dev, _ = f.devs.Lookup(ctx, m)
	if dev.Verified || !dev.Locked {
		t.Fatalf("a locked device's new session = %+v, want unverified", dev)
	}
	// First use records the ids and verifies the session.
	if ok, err := f.devs.Prove(ctx, &dev, box); !ok || err != nil || !dev.Verified {
		t.Fatalf("Prove(first use) = %v, %v", ok, err)
	}
	if got := f.stored(t, m); got.SerialNumber != box.Serial || got.DeviceID != box.DeviceID || got.DeviceID2 != box.DeviceID2 || !got.TokenVerified {
		t.Fatalf("recorded = %+v", got)
	}
	// device_id2 may differ per session; serial number and device id may not.
	f.devs.Handshake(ctx, m, tok)
	dev, _ = f.devs.Lookup(ctx, m)
	if ok, _ := f.devs.Prove(ctx, &dev, mag.Identity{Serial: box.Serial, DeviceID: box.DeviceID, DeviceID2: "other"}); !ok {
		t.Fatal("a changed device_id2 failed the lock")
	}
	for name, other := range map[string]mag.Identity{
		"other serial": {Serial: "X", DeviceID: box.DeviceID},
		"other id":     {Serial: box.Serial, DeviceID: "X"},
		"no ids":       {},
	} {
		f.devs.Handshake(ctx, m, tok)
		dev, _ = f.devs.Lookup(ctx, m)
		if ok, err := f.devs.Prove(ctx, &dev, other); ok || err != nil {
			t.Fatalf("%s: Prove = %v, %v; want refused", name, ok, err)
		}
		if got := f.stored(t, m); got.TokenSHA256 != nil {
			t.Fatalf("%s: the refused session is still there", name)
		}
	}
	// Clearing the compared ids (a replaced box) lets the next box record itself.
	testdb.MustExec(t, f.st, `UPDATE mag_devices SET serial_number = '', device_id = '' WHERE id = $1`, id)
	f.devs.Handshake(ctx, m, tok)
	dev, _ = f.devs.Lookup(ctx, m)
	if ok, _ := f.devs.Prove(ctx, &dev, mag.Identity{Serial: "NEW", DeviceID: "NEWID"}); !ok || f.stored(t, m).SerialNumber != "NEW" {
		t.Fatal("a replaced box did not record itself")
	}
}

func TestFavouritesLastChannelLocale(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	m := mustMAC(t, "00:1A:79:00:00:05")
	id := f.device(t, m)
	dev, err := f.devs.Lookup(ctx, m)
	if err != nil || dev.Favourites.Live == nil || len(dev.Favourites.Live) != 0 {
		t.Fatalf("new device favourites = %+v, %v", dev.Favourites, err)
	}
	if err := f.devs.SetFavourites(ctx, &dev, store.FavLive, []int64{5, 3, 5, -1, 0, 9}); err != nil {
		t.Fatal(err)
	}
	if err := f.devs.SetFavourites(ctx, &dev, store.FavSeries, []int64{2}); err != nil {
		t.Fatal(err)
	}
	if err := f.devs.SetLastChannel(ctx, &dev, 3); err != nil {
		t.Fatal(err)
	}
	if err := f.devs.SetLocale(ctx, &dev, "de_DE.utf8"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"0000x", "123456789", "-1"} {
		if err := f.devs.SetParentPassword(ctx, &dev, bad); !errors.Is(err, mag.ErrBadPIN) {
			t.Fatalf("SetParentPassword(%s) = %v, want ErrBadPIN", bad, err)
		}
	}
	dev, _ = f.devs.Lookup(ctx, m)
	if got := dev.Favourites; len(got.Live) != 3 || got.Live[0] != 5 || got.Live[1] != 3 || got.Live[2] != 9 ||
		len(got.Series) != 1 || dev.LastChannel != 3 || dev.Locale != "de_DE.utf8" {
		t.Fatalf("device after the writes = %+v", dev)
	}
	// A column someone else filled with nonsense reads as empty lists, never an error.
	testdb.MustExec(t, f.st, `UPDATE mag_devices SET fav_channels = '{"live": "x", "movie": [1, "2"], "series": [4]}' WHERE id = $1`, id)
	dev, err = f.devs.Lookup(ctx, m)
	if err != nil || len(dev.Favourites.Live) != 0 || len(dev.Favourites.Movie) != 0 || len(dev.Favourites.Series) != 1 {
		t.Fatalf("lenient favourites = %+v, %v", dev.Favourites, err)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := t.Context()
	m := mustMAC(t, "00:1A:79:00:00:06")
	id := f.device(t, m)
	dev, _ := f.devs.Lookup(ctx, m)
	if e, n, err := f.devs.NextEvent(ctx, &dev); err != nil || n != 0 || e.ID != 0 {
		t.Fatalf("NextEvent(none) = %+v, %d, %v", e, n, err)
	}
	for _, bad := range []mag.Event{{Kind: "format"}, {Kind: mag.EventPlayChannel}} {
		if _, err := f.devs.Queue(ctx, id, bad); !errors.Is(err, mag.ErrBadEvent) {
			t.Errorf("Queue(%+v) = %v, want ErrBadEvent", bad, err)
		}
	}
	msg, err := f.devs.Queue(ctx, id, mag.Event{Kind: mag.EventMessage, Message: "Hello", NeedConfirm: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.devs.Queue(ctx, id, mag.Event{Kind: mag.EventReboot}); err != nil {
		t.Fatal(err)
	}
	// A message stays until confirmed.
	for range 2 {
		if e, n, err := f.devs.NextEvent(ctx, &dev); err != nil || e.ID != msg || n != 2 || e.Message != "Hello" {
			t.Fatalf("NextEvent = %+v, %d, %v", e, n, err)
		}
	}
	if ok, err := f.devs.ConfirmEvent(ctx, &dev, msg); !ok || err != nil {
		t.Fatalf("ConfirmEvent = %v, %v", ok, err)
	}
	// A reboot is delivered once.
	if e, n, _ := f.devs.NextEvent(ctx, &dev); e.Kind != mag.EventReboot || n != 1 {
		t.Fatalf("NextEvent after the confirmation = %+v, %d", e, n)
	}
	if e, n, _ := f.devs.NextEvent(ctx, &dev); e.ID != 0 || n != 0 {
		t.Fatalf("NextEvent after the reboot = %+v, %d", e, n)
	}
}
