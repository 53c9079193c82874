package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The admin side of MAG devices (mag_devices, 003_lines): what lists and edits show of a box
// (never its session token or parental PIN), with the line it is bound to.

// DeviceRecord is a MAG device as the admin surfaces show it.
type DeviceRecord struct {
	ID           int64     `db:"id" audit:"-"`
	LineID       int64     `db:"line_id"`
	MAC          string    `db:"mac"` // canonical upper case
	SerialNumber string    `db:"serial_number"`
	STBType      string    `db:"stb_type"`
	ImageVersion string    `db:"image_version"`
	LockDevice   bool      `db:"lock_device"`
	Locale       string    `db:"locale"`
	Timezone     string    `db:"timezone"`
	CreatedAt    time.Time `db:"created_at" audit:"-"`
	UpdatedAt    time.Time `db:"updated_at" audit:"-"`
	Username     string    `db:"username" audit:"-"`       // the line's
	OwnerAdminID *int64    `db:"owner_admin_id" audit:"-"` // the line's owner
}

const deviceColumns = `d.id, d.line_id, upper(d.mac::text) AS mac, d.serial_number, d.stb_type, d.image_version,
	d.lock_device, d.locale, d.timezone, d.created_at, d.updated_at, l.username, l.owner_admin_id`

// DeviceRecordByID returns device id with its line.
func (s *Store) DeviceRecordByID(ctx context.Context, id int64) (DeviceRecord, error) {
	const q = `SELECT ` + deviceColumns + ` FROM mag_devices d JOIN lines l ON l.id = d.line_id WHERE d.id = $1`
	return s.oneDevice(ctx, q, id)
}

// DeviceRecordByMAC returns the device with this MAC (canonical form) with its line.
func (s *Store) DeviceRecordByMAC(ctx context.Context, mac string) (DeviceRecord, error) {
	const q = `SELECT ` + deviceColumns + ` FROM mag_devices d JOIN lines l ON l.id = d.line_id WHERE d.mac = $1::macaddr`
	return s.oneDevice(ctx, q, mac)
}

func (s *Store) oneDevice(ctx context.Context, q string, arg any) (DeviceRecord, error) {
	rows, _ := s.q.Query(ctx, q, arg)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceRecord])
	if err != nil {
		return DeviceRecord{}, fmt.Errorf("mag device: %w", interpret(err))
	}
	return d, nil
}

// DeviceFilter selects devices; zero fields match everything.
type DeviceFilter struct {
	Owners  []int64 // nil: any line owner
	MAC     string  // exact, canonical
	LineID  int64
	AfterID int64
	Limit   int
}

// ListDeviceRecords returns devices matching f in id order.
func (s *Store) ListDeviceRecords(ctx context.Context, f DeviceFilter) ([]DeviceRecord, error) {
	const q = `SELECT ` + deviceColumns + ` FROM mag_devices d JOIN lines l ON l.id = d.line_id
		WHERE ($1::bigint[] IS NULL OR l.owner_admin_id = ANY($1))
		  AND ($2 = '' OR d.mac = nullif($2, '')::macaddr)
		  AND ($3 = 0 OR d.line_id = $3)
		  AND d.id > $4
		ORDER BY d.id LIMIT $5`
	return many[DeviceRecord](ctx, s, "list mag devices", q, f.Owners, f.MAC, f.LineID, f.AfterID, clampLimit(f.Limit))
}

// UpdateDeviceRecord writes a device's MAC, line and lock. A MAC or line taken by another
// device is ErrConflict (mag_devices_mac_key, mag_devices_line_id_key), an unknown line
// ErrNotFound.
func (s *Store) UpdateDeviceRecord(ctx context.Context, d DeviceRecord) error {
	const q = `UPDATE mag_devices SET mac = $2::macaddr, line_id = $3, lock_device = $4 WHERE id = $1`
	return s.execOne(ctx, "update mag device", q, d.ID, d.MAC, d.LineID, d.LockDevice)
}

// DeleteMAGDevice deletes device id.
func (s *Store) DeleteMAGDevice(ctx context.Context, id int64) error {
	return s.execOne(ctx, "delete mag device", `DELETE FROM mag_devices WHERE id = $1`, id)
}
