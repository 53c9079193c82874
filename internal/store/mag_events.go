package store

import (
	"context"
	"fmt"
	"time"
)

// MAGEvent is an event queued for a MAG box (mag_events, 003_lines.sql), delivered by the
// portal's watchdog/get_events.
type MAGEvent struct {
	ID            int64      `db:"id"`
	DeviceID      int64      `db:"device_id"`
	Event         string     `db:"event"` // send_msg, reboot, reload_portal, play_channel or cut_off
	Message       string     `db:"message"`
	NeedConfirm   bool       `db:"need_confirm"`
	RebootAfterOK bool       `db:"reboot_after_ok"`
	ChannelID     *int64     `db:"channel_id"`
	CreatedAt     time.Time  `db:"created_at"`
	DeliveredAt   *time.Time `db:"delivered_at"`
	ConfirmedAt   *time.Time `db:"confirmed_at"`
}

// QueueMAGEvent queues an event for a device and returns its id (the admin API's "send a
// message to the box"). A kind the schema does not know is ErrInvalid.
func (s *Store) QueueMAGEvent(ctx context.Context, e MAGEvent) (int64, error) {
	const q = `INSERT INTO mag_events (device_id, event, message, need_confirm, reboot_after_ok, channel_id)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, e.DeviceID, e.Event, e.Message, e.NeedConfirm, e.RebootAfterOK, e.ChannelID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue mag event: %w", interpret(err))
	}
	return id, nil
}

// NextMAGEvent returns a device's oldest undelivered event and how many are undelivered, and
// records the watchdog poll (at most once a minute, so a box polling every few seconds does not
// write every time). ErrNotFound when nothing is pending.
func (s *Store) NextMAGEvent(ctx context.Context, deviceID int64) (MAGEvent, int, error) {
	const q = `WITH poll AS (
			UPDATE mag_devices SET last_watchdog_at = now()
			WHERE id = $1 AND (last_watchdog_at IS NULL OR last_watchdog_at < now() - interval '1 minute'))
		SELECT id, device_id, event, message, need_confirm, reboot_after_ok, channel_id, created_at,
			delivered_at, confirmed_at, count(*) OVER () AS pending
		FROM mag_events WHERE device_id = $1 AND delivered_at IS NULL ORDER BY id LIMIT 1`
	var e MAGEvent
	var pending int
	err := s.q.QueryRow(ctx, q, deviceID).Scan(&e.ID, &e.DeviceID, &e.Event, &e.Message, &e.NeedConfirm,
		&e.RebootAfterOK, &e.ChannelID, &e.CreatedAt, &e.DeliveredAt, &e.ConfirmedAt, &pending)
	if err != nil {
		return MAGEvent{}, 0, fmt.Errorf("next mag event: %w", interpret(err))
	}
	return e, pending, nil
}

// DeliveredMAGEvent marks an event delivered (events that need no confirmation end there).
func (s *Store) DeliveredMAGEvent(ctx context.Context, id int64) error {
	const q = `UPDATE mag_events SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL`
	if _, err := s.q.Exec(ctx, q, id); err != nil {
		return fmt.Errorf("mag event delivered: %w", interpret(err))
	}
	return nil
}

// ConfirmMAGEvent records that a device confirmed one of its own events (a message it showed);
// it reports false for an event of another device or one already confirmed.
func (s *Store) ConfirmMAGEvent(ctx context.Context, deviceID, id int64) (bool, error) {
	const q = `UPDATE mag_events SET confirmed_at = now(), delivered_at = coalesce(delivered_at, now())
		WHERE id = $1 AND device_id = $2 AND confirmed_at IS NULL`
	tag, err := s.q.Exec(ctx, q, id, deviceID)
	if err != nil {
		return false, fmt.Errorf("confirm mag event: %w", interpret(err))
	}
	return tag.RowsAffected() == 1, nil
}

// MAGEvents lists a device's events, newest first (tests, the admin API).
func (s *Store) MAGEvents(ctx context.Context, deviceID int64) ([]MAGEvent, error) {
	const q = `SELECT id, device_id, event, message, need_confirm, reboot_after_ok, channel_id, created_at,
		delivered_at, confirmed_at FROM mag_events WHERE device_id = $1 ORDER BY id DESC`
	return many[MAGEvent](ctx, s, "mag events", q, deviceID)
}
