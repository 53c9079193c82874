package mag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// ErrUnknownDevice means no device has the MAC.
var ErrUnknownDevice = errors.New("mag: unknown device")

// Options tune Devices.
type Options struct {
	// TokenTTL is how long a session token stays valid when unused (default 24 h). Boxes poll
	// the watchdog every minute or two, so a box that is on keeps its session; one switched off
	// for longer handshakes again when it starts, as it does anyway.
	TokenTTL time.Duration
	// RenewEvery bounds the renewal writes: a session in use is renewed at most once per
	// RenewEvery (default 10 min).
	RenewEvery time.Duration
	// Now is the clock (time.Now in production).
	Now func() time.Time
}

// Devices are the MAG boxes bound to lines and their portal sessions. A session is one
// token per device, stored as its SHA-256 so every instance accepts it and a database reader
// cannot replay it; it expires TokenTTL after its last use.
type Devices struct {
	store      *store.Store
	ttl, renew time.Duration
	now        func() time.Time
}

// NewDevices returns the devices of st.
func NewDevices(st *store.Store, opts Options) *Devices {
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 24 * time.Hour
	}
	if opts.RenewEvery <= 0 || opts.RenewEvery >= opts.TokenTTL {
		opts.RenewEvery = min(10*time.Minute, opts.TokenTTL/2)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Devices{store: st, ttl: opts.TokenTTL, renew: opts.RenewEvery, now: opts.Now}
}

// TokenTTL is how long an unused session lasts.
func (d *Devices) TokenTTL() time.Duration { return d.ttl }

// Device is a MAG box bound to a line, as one portal request sees it.
type Device struct {
	ID     int64
	LineID int64
	MAC    MAC
	// Locked: the device is locked to the ids it first reported (lock_device).
	Locked bool
	// Identity is what was recorded of the box's ids (empty until its first locked use).
	Identity Identity
	// Verified: the current session may be used. Unlocked devices' sessions are; a locked
	// device's session is once it proved the recorded ids (Prove).
	Verified       bool
	Box            Box // the model and firmware last reported
	STBType        string
	Locale         string
	Timezone       string
	ParentPassword string
	Favourites     Favourites
	LastChannel    int64 // 0: none yet

	sessionExpires time.Time // zero: no session
}

// Identity is the ids a box reports in get_profile (and do_auth).
type Identity struct {
	Serial    string // sn
	DeviceID  string // device_id
	DeviceID2 string // device_id2, recorded but not compared: boxes derive it from the session token
}

// empty reports whether nothing a lock compares is recorded.
func (id Identity) empty() bool { return id.Serial == "" && id.DeviceID == "" }

// matches reports whether the ids a box presents are the recorded ones: each recorded serial
// number and device id must be presented unchanged.
func (id Identity) matches(got Identity) bool {
	return (id.Serial == "" || id.Serial == got.Serial) && (id.DeviceID == "" || id.DeviceID == got.DeviceID)
}

// Favourites are a device's favourite lists, in the box's order.
type Favourites struct {
	Live   []int64 `json:"live"`
	Movie  []int64 `json:"movie"`
	Radio  []int64 `json:"radio_streams"`
	Series []int64 `json:"series"`
}

// MaxFavourites bounds each favourite list; ids past it are dropped.
const MaxFavourites = 2000

// The favourite lists of a device.
const (
	FavLive   = store.FavLive   // TV channels
	FavMovie  = store.FavMovie  // films
	FavRadio  = store.FavRadio  // radio stations
	FavSeries = store.FavSeries // series
)

// ErrBadPIN means a parental-control PIN that is not 0 to 8 digits.
var ErrBadPIN = errors.New("mag: a PIN is 0 to 8 digits")

// Lookup returns the device with this MAC, or ErrUnknownDevice.
func (d *Devices) Lookup(ctx context.Context, mac MAC) (Device, error) {
	row, err := d.store.MAGDeviceByMAC(ctx, mac.String())
	if errors.Is(err, store.ErrNotFound) {
		return Device{}, ErrUnknownDevice
	}
	if err != nil {
		return Device{}, fmt.Errorf("mag lookup: %w", err)
	}
	return deviceOf(row, mac), nil
}

func deviceOf(row store.MAGDevice, mac MAC) Device {
	dev := Device{
		ID: row.ID, LineID: row.LineID, MAC: mac, Locked: row.LockDevice,
		Identity: Identity{Serial: row.SerialNumber, DeviceID: row.DeviceID, DeviceID2: row.DeviceID2},
		Verified: row.TokenVerified, STBType: row.STBType, Locale: row.Locale, Timezone: row.Timezone,
		Box:            Box{STBType: row.STBType, ImageVersion: row.ImageVersion, Firmware: row.Firmware, HWVersion: row.HWVersion},
		ParentPassword: row.ParentPassword, Favourites: parseFavourites(row.FavChannels),
	}
	if row.LastITVID != nil {
		dev.LastChannel = *row.LastITVID
	}
	if row.TokenExpiresAt != nil {
		dev.sessionExpires = *row.TokenExpiresAt
	}
	return dev
}

// parseFavourites reads fav_channels leniently: the column is a JSON object others may write,
// so a member that is not a list of ids is an empty list, never an error.
func parseFavourites(raw json.RawMessage) Favourites {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return Favourites{}
	}
	list := func(key string) []int64 {
		var ids []int64
		if json.Unmarshal(members[key], &ids) != nil {
			return nil
		}
		return clip(ids)
	}
	return Favourites{Live: list(store.FavLive), Movie: list(store.FavMovie), Radio: list(store.FavRadio), Series: list(store.FavSeries)}
}

// clip keeps positive ids, each once, at most MaxFavourites.
func clip(ids []int64) []int64 {
	out := make([]int64, 0, min(len(ids), MaxFavourites))
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id > 0 && !seen[id] && len(out) < MaxFavourites {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Handshake starts a session for the box with this MAC and returns its token. A valid token
// the client offers is adopted (Stalker clients such as stalkerhek keep their configured token
// and never read the answer; a box re-offers the one it saved), unless another device's session
// holds it; otherwise a new random token is issued. The previous session of the device ends.
//
// An unknown MAC gets a token as well, stored nowhere, so the answer does not tell a MAC
// scanner which addresses exist; known reports whether the MAC is a device (the caller counts
// the others as failed logins).
func (d *Devices) Handshake(ctx context.Context, mac MAC, offered string) (token string, known bool, err error) {
	token = offered
	if !ValidToken(token) {
		token = NewToken()
	}
	row, err := d.store.MAGDeviceByMAC(ctx, mac.String())
	if errors.Is(err, store.ErrNotFound) {
		return token, false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("mag handshake: %w", err)
	}
	// A locked device's session must prove the box's ids before it is any use.
	verified := !row.LockDevice
	err = d.store.StartMAGSession(ctx, row.ID, TokenSum(token), d.ttl, verified)
	if errors.Is(err, store.ErrConflict) && token == offered {
		token = NewToken()
		err = d.store.StartMAGSession(ctx, row.ID, TokenSum(token), d.ttl, verified)
	}
	if err != nil {
		return "", true, fmt.Errorf("mag handshake: %w", err)
	}
	return token, true, nil
}

// Touch renews the session of a device in use when it is due (at most once per RenewEvery), so
// a box that is on never loses it.
func (d *Devices) Touch(ctx context.Context, dev *Device) error {
	if dev.sessionExpires.IsZero() || dev.sessionExpires.Sub(d.now()) > d.ttl-d.renew {
		return nil
	}
	if _, err := d.store.RenewMAGSession(ctx, dev.ID, d.ttl); err != nil {
		return fmt.Errorf("mag touch: %w", err)
	}
	dev.sessionExpires = d.now().Add(d.ttl)
	return nil
}

// Prove applies the device lock to the ids a box presents (get_profile, do_auth). An unlocked
// device always passes. A locked device records the ids at its first use and from then on
// passes only with the same serial number and device id; a box presenting no ids at all cannot
// pass. Passing verifies the session; failing ends it, so the impostor's token opens nothing.
func (d *Devices) Prove(ctx context.Context, dev *Device, got Identity) (bool, error) {
	if !dev.Locked {
		return true, nil
	}
	if got.Serial == "" && got.DeviceID == "" {
		return false, d.EndSession(ctx, dev)
	}
	if dev.Identity.empty() {
		recorded, err := d.store.RecordMAGIdentity(ctx, dev.ID, store.MAGIdentity{
			SerialNumber: got.Serial, DeviceID: got.DeviceID, DeviceID2: got.DeviceID2})
		if err != nil {
			return false, fmt.Errorf("mag prove: %w", err)
		}
		if !recorded { // another request recorded first: compare with what it recorded
			now, err := d.Lookup(ctx, dev.MAC)
			if err != nil {
				return false, err
			}
			dev.Identity = now.Identity
		} else {
			dev.Identity = got
		}
	}
	if !dev.Identity.matches(got) {
		return false, d.EndSession(ctx, dev)
	}
	if !dev.Verified {
		if err := d.store.VerifyMAGSession(ctx, dev.ID); err != nil {
			return false, fmt.Errorf("mag prove: %w", err)
		}
		dev.Verified = true
	}
	return true, nil
}

// EndSession ends a device's session (logout, a failed lock).
func (d *Devices) EndSession(ctx context.Context, dev *Device) error {
	if err := d.store.EndMAGSession(ctx, dev.ID); err != nil {
		return fmt.Errorf("mag end session: %w", err)
	}
	dev.Verified, dev.sessionExpires = false, time.Time{}
	return nil
}

// Box is the model and firmware a box reports in get_profile.
type Box struct {
	STBType      string
	ImageVersion string
	Firmware     string
	HWVersion    string
}

// RecordBox keeps the model and firmware a box reported (a write only when they changed).
func (d *Devices) RecordBox(ctx context.Context, dev *Device, b Box) error {
	if b == dev.Box {
		return nil
	}
	if err := d.store.SetMAGBox(ctx, dev.ID, store.MAGBox(b)); err != nil {
		return fmt.Errorf("mag record box: %w", err)
	}
	dev.Box, dev.STBType = b, b.STBType
	return nil
}

// SetFavourites replaces one favourite list (FavLive, FavMovie, FavRadio or FavSeries).
func (d *Devices) SetFavourites(ctx context.Context, dev *Device, list string, ids []int64) error {
	ids = clip(ids)
	if err := d.store.SetMAGFavourites(ctx, dev.ID, list, ids); err != nil {
		return fmt.Errorf("mag favourites: %w", err)
	}
	switch list {
	case store.FavLive:
		dev.Favourites.Live = ids
	case store.FavMovie:
		dev.Favourites.Movie = ids
	case store.FavRadio:
		dev.Favourites.Radio = ids
	case store.FavSeries:
		dev.Favourites.Series = ids
	}
	return nil
}

// SetLastChannel records the live channel the box watched last: the channel list opens on its
// page next time.
func (d *Devices) SetLastChannel(ctx context.Context, dev *Device, streamID int64) error {
	if streamID <= 0 || streamID == dev.LastChannel {
		return nil
	}
	if err := d.store.SetMAGLastChannel(ctx, dev.ID, streamID); err != nil {
		return fmt.Errorf("mag last channel: %w", err)
	}
	dev.LastChannel = streamID
	return nil
}

// SetLocale records the locale a box chose.
func (d *Devices) SetLocale(ctx context.Context, dev *Device, locale string) error {
	if err := d.store.SetMAGLocale(ctx, dev.ID, locale); err != nil {
		return fmt.Errorf("mag locale: %w", err)
	}
	dev.Locale = locale
	return nil
}

// SetParentPassword records a device's parental-control PIN; anything but 0 to 8 digits is
// ErrBadPIN.
func (d *Devices) SetParentPassword(ctx context.Context, dev *Device, pin string) error {
	if len(pin) > 8 || (pin != "" && !input.Digits(pin, 8)) {
		return fmt.Errorf("mag parent password: %w", ErrBadPIN)
	}
	if err := d.store.SetMAGParentPassword(ctx, dev.ID, pin); err != nil {
		return fmt.Errorf("mag parent password: %w", err)
	}
	dev.ParentPassword = pin
	return nil
}
