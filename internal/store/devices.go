package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MAGDevice is a MAG box bound to a line.
type MAGDevice struct {
	ID          int64  `db:"id"`
	LineID      int64  `db:"line_id"`
	MAC         string `db:"mac"` // canonical upper case
	TokenSHA256 []byte `db:"token_sha256"`
	STBType     string `db:"stb_type"`
	Locale      string `db:"locale"`
	Timezone    string `db:"timezone"`
}

// MAGDeviceByMAC returns the device with this MAC (canonical form "00:1A:79:12:34:56").
func (s *Store) MAGDeviceByMAC(ctx context.Context, mac string) (MAGDevice, error) {
	const q = `SELECT id, line_id, upper(mac::text) AS mac, token_sha256, stb_type, locale, timezone
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

// SetMAGToken stores the SHA-256 of a device's portal session token.
func (s *Store) SetMAGToken(ctx context.Context, deviceID int64, tokenSHA256 []byte) error {
	const q = `UPDATE mag_devices SET token_sha256 = $2, token_issued_at = now() WHERE id = $1`
	if _, err := s.q.Exec(ctx, q, deviceID, tokenSHA256); err != nil {
		return fmt.Errorf("set mag token: %w", interpret(err))
	}
	return nil
}
