package device

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// PendingCode is a pending code as the activation page shows it, so the viewer sees what asks
// before approving (RFC 8628 §5.4: a code read out by someone else is the remote-phishing risk).
type PendingCode struct {
	ClientID   string
	DeviceName string
	Kind       string // store.DeviceKindXtream or store.DeviceKindMAG
	// MACMasked is a MAG box's MAC with the device part hidden.
	MACMasked string
	ExpiresAt time.Time
}

// Pending returns the pending code with this user code, or ErrNoSuchCode.
func (s *Service) Pending(ctx context.Context, code UserCode) (PendingCode, error) {
	c, err := s.store.PendingDeviceCode(ctx, s.hash(labelUserCode, code[:]), false)
	if errors.Is(err, store.ErrNotFound) {
		return PendingCode{}, ErrNoSuchCode
	}
	if err != nil {
		return PendingCode{}, fmt.Errorf("pending device code: %w", err)
	}
	p := PendingCode{ClientID: c.ClientID, DeviceName: c.DeviceName, Kind: c.Kind, ExpiresAt: c.ExpiresAt}
	if c.Kind == store.DeviceKindMAG {
		if m, err := mag.ParseMAC(c.DeviceID); err == nil {
			p.MACMasked = m.Masked()
		}
	}
	return p, nil
}

// Viewer is who approves or denies on the activation page: the line access admitted (nil for a
// denial, which needs no sign-in) and the phone's address.
type Viewer struct {
	Line *store.Line
	IP   netip.Addr
}

func (v Viewer) actor() audit.Actor {
	if v.Line == nil {
		return audit.Actor{Name: "activate", IP: v.IP}
	}
	return audit.Actor{Name: "line:" + v.Line.Username, IP: v.IP}
}

// Approve binds the pending code to the viewer's line: the device's next poll gets its
// credential. A MAG box's MAC is bound to the line now (through accounts, audited there), so
// the page can say at once when the MAC is another line's (ErrMACTaken) or the line has another
// box (ErrLineHasBox). A line at MaxPerLine is ErrDeviceLimit; a code no longer pending
// ErrNoSuchCode.
func (s *Service) Approve(ctx context.Context, code UserCode, v Viewer) error {
	if v.Line == nil {
		return errors.New("approve device code: no line to approve for")
	}
	h := s.hash(labelUserCode, code[:])
	pc, err := s.store.PendingDeviceCode(ctx, h, false)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSuchCode
	}
	if err != nil {
		return fmt.Errorf("approve device code: %w", err)
	}
	var magDevice int64
	if pc.Kind == store.DeviceKindMAG {
		if magDevice, err = s.bindMAG(ctx, v, pc.DeviceID); err != nil {
			return err
		}
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		c, err := tx.PendingDeviceCode(ctx, h, true)
		if errors.Is(err, store.ErrNotFound) || err == nil && c.ID != pc.ID {
			return ErrNoSuchCode // decided, expired or superseded meanwhile
		}
		if err != nil {
			return err
		}
		return s.approveIn(ctx, tx, c, v, magDevice)
	})
	if err != nil && !errors.Is(err, ErrNoSuchCode) && !errors.Is(err, ErrDeviceLimit) {
		return fmt.Errorf("approve device code: %w", err)
	}
	return err
}

// approveIn approves locked code c for the viewer's line (and records a MAG box's credential).
func (s *Service) approveIn(ctx context.Context, tx *store.Store, c store.DeviceCode, v Viewer, magDevice int64) error {
	lineID := v.Line.ID
	n, err := tx.CountDeviceCredentials(ctx, lineID, c.ClientID, c.DeviceID)
	if err != nil {
		return err
	}
	if n >= MaxPerLine {
		return ErrDeviceLimit
	}
	var credID *int64
	if c.Kind == store.DeviceKindMAG {
		id, err := tx.UpsertMAGCredential(ctx, store.NewDeviceCredential{LineID: lineID, Kind: store.DeviceKindMAG,
			MAGDeviceID: magDevice, ClientID: c.ClientID, DeviceID: c.DeviceID, DeviceName: c.DeviceName})
		if err != nil {
			return err
		}
		credID = &id
		e := credentialEntry("device_credential.create", id)
		e.After = map[string]any{"line_id": lineID, "kind": c.Kind, "mag_device_id": magDevice, "client_id": c.ClientID,
			"device_name": c.DeviceName}
		if err := audit.Record(ctx, tx, v.actor(), e); err != nil {
			return err
		}
	}
	if err := tx.DecideDeviceCode(ctx, c.ID, store.DeviceCodeApproved, &lineID, credID); err != nil {
		return err
	}
	return audit.Record(ctx, tx, v.actor(), codeEntry("device_code.approve", c, map[string]any{"line_id": lineID}))
}

// bindMAG makes the MAG box's MAC the line's (nothing to do when it is) and returns the
// mag_devices row.
func (s *Service) bindMAG(ctx context.Context, v Viewer, macText string) (int64, error) {
	m, err := mag.ParseMAC(macText)
	if err != nil {
		return 0, fmt.Errorf("bind mag box: stored mac: %w", err)
	}
	p := accounts.System(v.actor())
	d, err := s.accounts.DeviceByMAC(ctx, p, m)
	switch {
	case err == nil && d.LineID == v.Line.ID:
		return d.ID, nil
	case err == nil:
		return 0, ErrMACTaken
	case !errors.Is(err, accounts.ErrNotFound):
		return 0, fmt.Errorf("bind mag box: %w", err)
	}
	d, _, err = s.accounts.AddDevice(ctx, p, accounts.NewDevice{MAC: m, LineID: v.Line.ID})
	var fe *accounts.FieldError
	switch {
	case err == nil:
		return d.ID, nil
	case errors.As(err, &fe) && errors.Is(err, accounts.ErrConflict) && fe.Field == "line_id":
		return 0, ErrLineHasBox
	case errors.As(err, &fe) && errors.Is(err, accounts.ErrConflict):
		return 0, ErrMACTaken // bound to another line meanwhile
	}
	return 0, fmt.Errorf("bind mag box: %w", err)
}

// Deny refuses the pending code: the device's next poll gets access_denied. Anyone who sees
// the code may deny it (no sign-in): the worst a guesser can do is what a wrong guess costs,
// behind the same flood limit.
func (s *Service) Deny(ctx context.Context, code UserCode, v Viewer) error {
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		c, err := tx.PendingDeviceCode(ctx, s.hash(labelUserCode, code[:]), true)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSuchCode
		}
		if err != nil {
			return err
		}
		if err := tx.DecideDeviceCode(ctx, c.ID, store.DeviceCodeDenied, nil, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, v.actor(), codeEntry("device_code.deny", c, nil))
	})
	if err != nil && !errors.Is(err, ErrNoSuchCode) {
		return fmt.Errorf("deny device code: %w", err)
	}
	return err
}

// codeEntry is the audit entry of a decision on code c.
func codeEntry(action string, c store.DeviceCode, extra map[string]any) audit.Entry {
	e := audit.Entry{Action: action, TargetType: "device_code", TargetID: strconv.FormatInt(c.ID, 10),
		Extra: map[string]any{"client_id": c.ClientID, "kind": c.Kind, "device_name": c.DeviceName}}
	for k, v := range extra {
		e.Extra[k] = v
	}
	return e
}
