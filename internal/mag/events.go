package mag

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// The kinds of event a box acts on (watchdog/get_events, spec §5.7).
const (
	EventMessage      = "send_msg"      // show Message; stays pending until the box confirms it
	EventReboot       = "reboot"        // reboot the box
	EventReloadPortal = "reload_portal" // reload the portal
	EventPlayChannel  = "play_channel"  // switch to ChannelID
	EventCutOff       = "cut_off"       // show the cut-off screen
)

// ErrBadEvent means an event of a kind the box does not know, or a play_channel without a
// channel.
var ErrBadEvent = errors.New("mag: bad event")

// Event is an event queued for a box.
type Event struct {
	ID            int64
	Kind          string // EventMessage ... EventCutOff
	Message       string
	NeedConfirm   bool
	RebootAfterOK bool
	ChannelID     int64 // play_channel
	QueuedAt      time.Time
}

// Queue queues an event for a device (the admin's "send a message to this box") and returns its
// id.
func (d *Devices) Queue(ctx context.Context, deviceID int64, e Event) (int64, error) {
	switch e.Kind {
	case EventMessage, EventReboot, EventReloadPortal, EventCutOff:
	case EventPlayChannel:
		if e.ChannelID <= 0 {
			return 0, fmt.Errorf("mag queue event: %w: play_channel needs a channel", ErrBadEvent)
		}
	default:
		return 0, fmt.Errorf("mag queue event: %w: kind %q", ErrBadEvent, e.Kind)
	}
	row := store.MAGEvent{DeviceID: deviceID, Event: e.Kind, Message: e.Message, NeedConfirm: e.NeedConfirm,
		RebootAfterOK: e.RebootAfterOK}
	if e.ChannelID > 0 {
		row.ChannelID = &e.ChannelID
	}
	id, err := d.store.QueueMAGEvent(ctx, row)
	if err != nil {
		return 0, fmt.Errorf("mag queue event: %w", err)
	}
	return id, nil
}

// NextEvent returns the device's oldest pending event and the number pending (0 and no event
// when none), and records the watchdog poll. Every kind but a message is delivered by being
// returned once, as XC 2.9 does; a message stays pending until the box confirms it.
func (d *Devices) NextEvent(ctx context.Context, dev *Device) (Event, int, error) {
	row, pending, err := d.store.NextMAGEvent(ctx, dev.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Event{}, 0, nil
	}
	if err != nil {
		return Event{}, 0, fmt.Errorf("mag next event: %w", err)
	}
	e := Event{ID: row.ID, Kind: row.Event, Message: row.Message, NeedConfirm: row.NeedConfirm,
		RebootAfterOK: row.RebootAfterOK, QueuedAt: row.CreatedAt}
	if row.ChannelID != nil {
		e.ChannelID = *row.ChannelID
	}
	if e.Kind != EventMessage {
		if err := d.store.DeliveredMAGEvent(ctx, e.ID); err != nil {
			return Event{}, 0, fmt.Errorf("mag next event: %w", err)
		}
	}
	return e, pending, nil
}

// ConfirmEvent records the box's confirmation of one of its events; false for an event that
// is not the device's or was confirmed before.
func (d *Devices) ConfirmEvent(ctx context.Context, dev *Device, id int64) (bool, error) {
	ok, err := d.store.ConfirmMAGEvent(ctx, dev.ID, id)
	if err != nil {
		return false, fmt.Errorf("mag confirm event: %w", err)
	}
	return ok, nil
}
