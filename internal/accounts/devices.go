package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// MAG devices: a box (its MAC) bound to exactly one line, which is the box's subscription.
// A reseller manages the devices of its lines.

// deviceRefusals read the store's refusals of a device write: a MAC has one device, a line
// one device, and the line must exist.
var deviceRefusals = refusals{
	conflict: FieldError{Field: "mac", Reason: "already registered", Kind: ErrConflict},
	notFound: FieldError{Field: "line_id", Reason: "no such line", Kind: ErrInvalid},
	invalid:  FieldError{Field: "mac", Reason: "refused by the schema", Kind: ErrInvalid},
}

// bindRefusal tells a MAC taken from a line taken (one device per line).
func bindRefusal(err error) error {
	if store.Constraint(err) == "mag_devices_line_id_key" {
		return conflict("line_id", "the line has another MAG device")
	}
	return deviceRefusals.of(err)
}

// NewDevice is a MAG device to register: bound to an existing line (LineID), or to a new
// line made from Line (its username and password generated unless given; a reseller's from
// a package, paid in credits), marked as a MAG line.
type NewDevice struct {
	MAC    mag.MAC
	LineID int64
	Line   NewLine
}

// AddDevice registers a device and returns it, with the new line's credentials (shown once)
// when it made one. A registered MAC is a conflict on "mac", a line with a device on
// "line_id".
func (s *Service) AddDevice(ctx context.Context, p Principal, in NewDevice) (store.DeviceRecord, *Credentials, error) {
	if err := writable(p); err != nil {
		return store.DeviceRecord{}, nil, fmt.Errorf("create device: %w", err)
	}
	var made *Credentials
	var pr prepared
	if in.LineID == 0 {
		in.Line.IsMAG = true
		var err error
		if pr, err = s.prepareLine(p, in.Line); err != nil {
			return store.DeviceRecord{}, nil, fmt.Errorf("create device: %w", err)
		}
	}
	var id int64
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		r, err := reachOf(ctx, tx, p)
		if err != nil {
			return err
		}
		lineID := in.LineID
		if lineID == 0 {
			buy, err := s.packageFor(ctx, tx, p, in.Line.PackageID, "line.create", 1)
			if err != nil {
				return err
			}
			if err := s.insertLine(ctx, tx, p, r, &pr, buy); err != nil {
				return err
			}
			lineID, made = pr.cred.ID, &pr.cred
		} else if err := markMAG(ctx, tx, p, r, lineID); err != nil {
			return err
		}
		if id, err = tx.CreateMAGDevice(ctx, lineID, in.MAC.String()); err != nil {
			return bindRefusal(err)
		}
		e := entry("device.create", "mag_device", id)
		e.After = map[string]any{"mac": in.MAC.Masked(), "line_id": lineID}
		return audit.Record(ctx, tx, p.Actor, e)
	})
	if err != nil {
		return store.DeviceRecord{}, nil, fmt.Errorf("create device: %w", err)
	}
	d, err := s.store.DeviceRecordByID(ctx, id)
	return d, made, err
}

// markMAG makes an existing line p may change a MAG line, for the device being bound to it.
func markMAG(ctx context.Context, tx *store.Store, p Principal, r reach, lineID int64) error {
	before, err := lockOwned(ctx, tx, p, r, lineID)
	if err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			c := *fe
			c.Field = "line_id"
			return &c
		}
		return err
	}
	if before.IsMAG {
		return nil
	}
	after := before
	after.IsMAG = true
	return tx.UpdateLine(ctx, before, after)
}

// EnsureDevice makes the MAG device mac bound to line lineID, as the command line: nothing to
// do when it is, a new binding when the MAC is free. A MAC bound to another line is a
// conflict on "mac"; a line with another device (one per line) a conflict on "line_id".
func (s *Service) EnsureDevice(ctx context.Context, lineID int64, mac mag.MAC) error {
	dev, err := s.store.DeviceRecordByMAC(ctx, mac.String())
	switch {
	case err == nil && dev.LineID == lineID:
		return nil
	case err == nil:
		return fmt.Errorf("ensure device: %w", conflict("mac", "bound to another line"))
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("ensure device: %w", err)
	}
	_, _, err = s.AddDevice(ctx, System(audit.CLI), NewDevice{MAC: mac, LineID: lineID})
	return err
}

// Device returns device id when p may see it (its line is in p's reach).
func (s *Service) Device(ctx context.Context, p Principal, id int64) (store.DeviceRecord, error) {
	d, err := s.store.DeviceRecordByID(ctx, id)
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("device: %w", missing(err, "id", "device"))
	}
	return s.visibleDevice(ctx, p, d)
}

// DeviceByMAC returns the device of mac when p may see it.
func (s *Service) DeviceByMAC(ctx context.Context, p Principal, mac mag.MAC) (store.DeviceRecord, error) {
	d, err := s.store.DeviceRecordByMAC(ctx, mac.String())
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("device: %w", missing(err, "mac", "device"))
	}
	return s.visibleDevice(ctx, p, d)
}

func (s *Service) visibleDevice(ctx context.Context, p Principal, d store.DeviceRecord) (store.DeviceRecord, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("device: %w", err)
	}
	if !r.owns(d.OwnerAdminID) {
		return store.DeviceRecord{}, fmt.Errorf("device: %w", notYours("id"))
	}
	return d, nil
}

// ListDevices returns the devices matching f that p may see.
func (s *Service) ListDevices(ctx context.Context, p Principal, f store.DeviceFilter) ([]store.DeviceRecord, error) {
	r, err := reachOf(ctx, s.store, p)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	f.Owners = r.owners()
	out, err := s.store.ListDeviceRecords(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

// DevicePatch changes a device: its MAC, the line it is bound to (one p may change), its lock
// to the box's serial and ids.
type DevicePatch struct {
	MAC        Field[mag.MAC]
	LineID     Field[int64]
	LockDevice Field[bool]
}

// UpdateDevice applies patch to device id and returns it as it is now.
func (s *Service) UpdateDevice(ctx context.Context, p Principal, id int64, patch DevicePatch) (store.DeviceRecord, error) {
	if err := writable(p); err != nil {
		return store.DeviceRecord{}, fmt.Errorf("update device: %w", err)
	}
	err := s.change(ctx, p, entry("device.update", "mag_device", id), func(tx *store.Store) (any, any, error) {
		before, err := tx.DeviceRecordByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "device")
		}
		r, err := reachOf(ctx, tx, p)
		if err != nil {
			return nil, nil, err
		}
		if !r.owns(before.OwnerAdminID) {
			return nil, nil, notYours("id")
		}
		after := before
		if patch.MAC.Given {
			after.MAC = patch.MAC.V.String()
		}
		patch.LineID.apply(&after.LineID)
		patch.LockDevice.apply(&after.LockDevice)
		if after.LineID != before.LineID {
			if err := markMAG(ctx, tx, p, r, after.LineID); err != nil {
				return nil, nil, err
			}
		}
		if err := tx.UpdateDeviceRecord(ctx, after); err != nil {
			return nil, nil, bindRefusal(err)
		}
		before.MAC, after.MAC = maskedMAC(before.MAC), maskedMAC(after.MAC)
		return before, after, nil
	})
	if err != nil {
		return store.DeviceRecord{}, fmt.Errorf("update device: %w", err)
	}
	return s.store.DeviceRecordByID(ctx, id)
}

// maskedMAC is a stored MAC as the audit log keeps it: the vendor part only.
func maskedMAC(s string) string {
	m, err := mag.ParseMAC(s)
	if err != nil {
		return "[invalid]"
	}
	return m.Masked()
}

// DeleteDevice unregisters device id; its line stays.
func (s *Service) DeleteDevice(ctx context.Context, p Principal, id int64) error {
	if err := writable(p); err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	err := s.change(ctx, p, entry("device.delete", "mag_device", id), func(tx *store.Store) (any, any, error) {
		d, err := tx.DeviceRecordByID(ctx, id)
		if err != nil {
			return nil, nil, missing(err, "id", "device")
		}
		r, err := reachOf(ctx, tx, p)
		if err != nil {
			return nil, nil, err
		}
		if !r.owns(d.OwnerAdminID) {
			return nil, nil, notYours("id")
		}
		return map[string]any{"mac": maskedMAC(d.MAC), "line_id": d.LineID}, map[string]any{}, tx.DeleteMAGDevice(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("delete device: %w", err)
	}
	return nil
}
