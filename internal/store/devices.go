package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MAGDevice is a MAG box bound to a line, with its portal session (003_lines.sql,
// 006_portal_sessions.sql).
type MAGDevice struct {
	ID     int64  `db:"id"`
	LineID int64  `db:"line_id"`
	MAC    string `db:"mac"` // canonical upper case
	// TokenSHA256 is the SHA-256 of the session token, nil when the device has none or it
	// expired: an expired token is never returned, so nothing can accept it.
	TokenSHA256    []byte     `db:"token_sha256"`
	TokenExpiresAt *time.Time `db:"token_expires_at"` // nil with TokenSHA256
	// TokenVerified: the session passed the device lock (always true for an unlocked device).
	TokenVerified  bool            `db:"token_verified"`
	LockDevice     bool            `db:"lock_device"`
	SerialNumber   string          `db:"serial_number"`
	DeviceID       string          `db:"device_id"`
	DeviceID2      string          `db:"device_id2"`
	HWVersion      string          `db:"hw_version"`
	STBType        string          `db:"stb_type"`
	ImageVersion   string          `db:"image_version"`
	Firmware       string          `db:"firmware"`
	Locale         string          `db:"locale"`
	Timezone       string          `db:"timezone"`
	ParentPassword string          `db:"parent_password"`
	FavChannels    json.RawMessage `db:"fav_channels"` // {"live":[…],"movie":[…],"radio_streams":[…],"series":[…]}
	LastITVID      *int64          `db:"last_itv_id"`
}

// DefaultMAGTokenTTL is how long SetMAGToken's token stays valid.
const DefaultMAGTokenTTL = 24 * time.Hour

// MAGDeviceByMAC returns the device with this MAC (canonical form "00:1A:79:12:34:56").
func (s *Store) MAGDeviceByMAC(ctx context.Context, mac string) (MAGDevice, error) {
	const q = `SELECT id, line_id, upper(mac::text) AS mac,
		CASE WHEN token_expires_at > now() THEN token_sha256 END AS token_sha256,
		CASE WHEN token_expires_at > now() THEN token_expires_at END AS token_expires_at,
		token_verified AND token_expires_at > now() AS token_verified,
		lock_device, serial_number, device_id, device_id2, hw_version, stb_type, image_version, firmware,
		locale, timezone, parent_password, fav_channels, last_itv_id
		FROM mag_devices WHERE mac = $1::macaddr`
	rows, _ := s.q.Query(ctx, q, mac)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[MAGDevice])
	if err != nil {
		return MAGDevice{}, fmt.Errorf("mag device: %w", interpret(err))
	}
	return d, nil
}

// CreateMAGDevice binds a MAC to a line.
func (s *Store) CreateMAGDevice(ctx context.Context, lineID int64, mac string) (int64, error) {
	var id int64
	err := s.q.QueryRow(ctx, `INSERT INTO mag_devices (line_id, mac) VALUES ($1, $2::macaddr) RETURNING id`, lineID, mac).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create mag device: %w", interpret(err))
	}
	return id, nil
}

// SetMAGToken stores the SHA-256 of a device's portal session token, verified and valid for
// DefaultMAGTokenTTL (fixtures and tools; the portal starts its sessions with StartMAGSession).
func (s *Store) SetMAGToken(ctx context.Context, deviceID int64, tokenSHA256 []byte) error {
	return s.StartMAGSession(ctx, deviceID, tokenSHA256, DefaultMAGTokenTTL, true)
}

// StartMAGSession replaces a device's session token with tokenSHA256, valid for ttl from now
// (database time). verified says whether the session may be used before it proves the device's
// ids (StartMAGSession's caller knows whether the device is locked). A token another device's
// session holds is ErrConflict.
func (s *Store) StartMAGSession(ctx context.Context, deviceID int64, tokenSHA256 []byte, ttl time.Duration, verified bool) error {
	const q = `UPDATE mag_devices SET token_sha256 = $2, token_issued_at = now(),
		token_expires_at = now() + $3 * interval '1 second', token_verified = $4 WHERE id = $1`
	return s.execOne(ctx, "start mag session", q, deviceID, tokenSHA256, ttl.Seconds(), verified)
}

// RenewMAGSession moves the expiry of a device's unexpired session to ttl from now. An
// expired session is not revived (renewing it reports false).
func (s *Store) RenewMAGSession(ctx context.Context, deviceID int64, ttl time.Duration) (bool, error) {
	const q = `UPDATE mag_devices SET token_expires_at = now() + $2 * interval '1 second'
		WHERE id = $1 AND token_sha256 IS NOT NULL AND token_expires_at > now()`
	tag, err := s.q.Exec(ctx, q, deviceID, ttl.Seconds())
	if err != nil {
		return false, fmt.Errorf("renew mag session: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// VerifyMAGSession marks a device's current session as having proved the device's ids.
func (s *Store) VerifyMAGSession(ctx context.Context, deviceID int64) error {
	const q = `UPDATE mag_devices SET token_verified = true WHERE id = $1 AND token_sha256 IS NOT NULL AND NOT token_verified`
	if _, err := s.q.Exec(ctx, q, deviceID); err != nil {
		return fmt.Errorf("verify mag session: %w", interpret(err))
	}
	return nil
}

// EndMAGSession drops a device's session token (logout, a failed device lock).
func (s *Store) EndMAGSession(ctx context.Context, deviceID int64) error {
	const q = `UPDATE mag_devices SET token_sha256 = NULL, token_expires_at = NULL, token_verified = false
		WHERE id = $1 AND token_sha256 IS NOT NULL`
	if _, err := s.q.Exec(ctx, q, deviceID); err != nil {
		return fmt.Errorf("end mag session: %w", interpret(err))
	}
	return nil
}

// MAGIdentity is what a box says it is in get_profile: the ids a device lock compares.
type MAGIdentity struct {
	SerialNumber string
	DeviceID     string
	DeviceID2    string
}

// RecordMAGIdentity records a device's ids at its first use: only while neither its serial
// number nor its device id is recorded, so of two concurrent first uses one wins. It reports
// whether this call recorded them.
func (s *Store) RecordMAGIdentity(ctx context.Context, deviceID int64, id MAGIdentity) (bool, error) {
	const q = `UPDATE mag_devices SET serial_number = $2, device_id = $3, device_id2 = $4
		WHERE id = $1 AND serial_number = '' AND device_id = ''`
	tag, err := s.q.Exec(ctx, q, deviceID, id.SerialNumber, id.DeviceID, id.DeviceID2)
	if err != nil {
		return false, fmt.Errorf("record mag identity: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// SetMAGLock turns a device's lock to its recorded ids on or off; clear forgets the recorded
// ids, so the next use records new ones (a replaced box).
func (s *Store) SetMAGLock(ctx context.Context, deviceID int64, lock, clear bool) error {
	const q = `UPDATE mag_devices SET lock_device = $2,
		serial_number = CASE WHEN $3 THEN '' ELSE serial_number END,
		device_id = CASE WHEN $3 THEN '' ELSE device_id END,
		device_id2 = CASE WHEN $3 THEN '' ELSE device_id2 END WHERE id = $1`
	return s.execOne(ctx, "set mag lock", q, deviceID, lock, clear)
}

// MAGBox is the model and firmware a box reports (get_profile), shown to operators.
type MAGBox struct {
	STBType      string
	ImageVersion string
	Firmware     string
	HWVersion    string
}

// SetMAGBox records the model and firmware a box reported.
func (s *Store) SetMAGBox(ctx context.Context, deviceID int64, b MAGBox) error {
	const q = `UPDATE mag_devices SET stb_type = $2, image_version = $3, firmware = $4, hw_version = $5
		WHERE id = $1 AND (stb_type, image_version, firmware, hw_version) IS DISTINCT FROM ($2, $3, $4, $5)`
	if _, err := s.q.Exec(ctx, q, deviceID, b.STBType, b.ImageVersion, b.Firmware, b.HWVersion); err != nil {
		return fmt.Errorf("set mag box: %w", interpret(err))
	}
	return nil
}

// The favourite lists of a device (mag_devices.fav_channels members).
const (
	FavLive   = "live"
	FavMovie  = "movie"
	FavRadio  = "radio_streams"
	FavSeries = "series"
)

// SetMAGFavourites replaces one favourite list of a device (FavLive, FavMovie, FavRadio or
// FavSeries), in the order given.
func (s *Store) SetMAGFavourites(ctx context.Context, deviceID int64, list string, ids []int64) error {
	switch list {
	case FavLive, FavMovie, FavRadio, FavSeries:
	default:
		return fmt.Errorf("set mag favourites: %w: list %q", ErrInvalid, list)
	}
	if ids == nil {
		ids = []int64{}
	}
	const q = `UPDATE mag_devices SET fav_channels = jsonb_set(fav_channels, ARRAY[$2::text], to_jsonb($3::bigint[]))
		WHERE id = $1`
	if _, err := s.q.Exec(ctx, q, deviceID, list, ids); err != nil {
		return fmt.Errorf("set mag favourites: %w", interpret(err))
	}
	return nil
}

// SetMAGLastChannel records the live channel a device watched last (itv/set_last_id).
func (s *Store) SetMAGLastChannel(ctx context.Context, deviceID, streamID int64) error {
	const q = `UPDATE mag_devices SET last_itv_id = $2 WHERE id = $1 AND last_itv_id IS DISTINCT FROM $2`
	if _, err := s.q.Exec(ctx, q, deviceID, streamID); err != nil {
		return fmt.Errorf("set mag last channel: %w", interpret(err))
	}
	return nil
}

// SetMAGLocale records the locale a box chose (stb/set_locale).
func (s *Store) SetMAGLocale(ctx context.Context, deviceID int64, locale string) error {
	const q = `UPDATE mag_devices SET locale = $2 WHERE id = $1 AND locale IS DISTINCT FROM $2`
	if _, err := s.q.Exec(ctx, q, deviceID, locale); err != nil {
		return fmt.Errorf("set mag locale: %w", interpret(err))
	}
	return nil
}

// SetMAGParentPassword records a device's parental-control PIN (0 to 8 digits; the schema
// refuses anything else as ErrInvalid).
func (s *Store) SetMAGParentPassword(ctx context.Context, deviceID int64, pin string) error {
	const q = `UPDATE mag_devices SET parent_password = $2 WHERE id = $1`
	if _, err := s.q.Exec(ctx, q, deviceID, pin); err != nil {
		return fmt.Errorf("set mag parent password: %w", interpret(err))
	}
	return nil
}
