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

// Device credentials after they were issued: the admin's list and revocation, the device's own
// logout, a partner's logout of a device (seed 001 phase E), and the profiles a partner polls
// for (seed 001's authenticated profiles).

// Credentials lists line lineID's device credentials, oldest first, when p may see the line
// (a reseller: its own lines).
func (s *Service) Credentials(ctx context.Context, p accounts.Principal, lineID int64) ([]store.DeviceCredential, error) {
	if _, err := s.accounts.Line(ctx, p, lineID); err != nil {
		return nil, fmt.Errorf("list device credentials: %w", err)
	}
	out, err := s.store.LineDeviceCredentials(ctx, lineID)
	if err != nil {
		return nil, fmt.Errorf("list device credentials: %w", err)
	}
	return out, nil
}

// Revoke revokes credential id of line lineID for p: it stops working on every instance, and
// the streams it opened end. Another line's credential, or none, is a not-found refusal on "id".
func (s *Service) Revoke(ctx context.Context, p accounts.Principal, lineID, id int64) error {
	if p.Role == accounts.RoleViewer {
		return fmt.Errorf("revoke device credential: %w", accounts.ErrForbidden)
	}
	if _, err := s.accounts.Line(ctx, p, lineID); err != nil {
		return fmt.Errorf("revoke device credential: %w", err)
	}
	c, err := s.store.DeviceCredentialByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.LineID != lineID {
		return fmt.Errorf("revoke device credential: %w",
			&accounts.FieldError{Field: "id", Reason: "no such device credential of this line", Kind: accounts.ErrNotFound})
	}
	if err != nil {
		return fmt.Errorf("revoke device credential: %w", err)
	}
	return s.revoke(ctx, p, c, "admin")
}

// Logout revokes the Xtream device credential with this username: the device signing itself
// out (access has authenticated it). It reports whether there was one.
func (s *Service) Logout(ctx context.Context, username string, ip netip.Addr) (bool, error) {
	d, err := s.store.DeviceLoginByUsername(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("device logout: %w", err)
	}
	c, err := s.store.DeviceCredentialByID(ctx, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // revoked meanwhile
	}
	if err != nil {
		return false, fmt.Errorf("device logout: %w", err)
	}
	actor := audit.Actor{Name: "device:" + c.ClientID, IP: ip}
	if err := s.revoke(ctx, accounts.System(actor), c, "logout"); err != nil {
		return false, err
	}
	return true, nil
}

// LogoutDevice revokes every credential client clientID's device deviceID holds (a partner
// logging the device out) and returns how many it revoked.
func (s *Service) LogoutDevice(ctx context.Context, clientID, deviceID string, ip netip.Addr) (int, error) {
	creds, err := s.store.DeviceCredentialsOf(ctx, clientID, deviceID)
	if err != nil {
		return 0, fmt.Errorf("device logout: %w", err)
	}
	p := accounts.System(audit.Actor{Name: "partner:" + clientID, IP: ip})
	n := 0
	for _, c := range creds {
		if err := s.revoke(ctx, p, c, "partner_logout"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// revoke deletes credential c. A MAG box's goes with its binding: accounts deletes the
// mag_devices row (auditing device.delete) and the credential with it.
func (s *Service) revoke(ctx context.Context, p accounts.Principal, c store.DeviceCredential, reason string) error {
	if c.Kind == store.DeviceKindMAG && c.MAGDeviceID != nil {
		err := s.accounts.DeleteDevice(ctx, p, *c.MAGDeviceID)
		if errors.Is(err, accounts.ErrNotFound) {
			return nil // unbound meanwhile
		}
		if err != nil {
			return fmt.Errorf("revoke device credential: %w", err)
		}
		return nil
	}
	err := s.store.InTx(ctx, func(tx *store.Store) error { return revokeIn(ctx, tx, p.Actor, c, reason) })
	if errors.Is(err, store.ErrNotFound) {
		return nil // revoked meanwhile
	}
	if err != nil {
		return fmt.Errorf("revoke device credential: %w", err)
	}
	return nil
}

// revokeIn deletes credential c on tx, audited with the reason.
func revokeIn(ctx context.Context, tx *store.Store, actor audit.Actor, c store.DeviceCredential, reason string) error {
	if _, err := tx.DeleteDeviceCredential(ctx, c.ID); err != nil {
		return err
	}
	e := credentialEntry("device_credential.revoke", c.ID)
	e.Before = describe(c)
	e.Extra = map[string]any{"reason": reason}
	return audit.Record(ctx, tx, actor, e)
}

func credentialEntry(action string, id int64) audit.Entry {
	return audit.Entry{Action: action, TargetType: "device_credential", TargetID: strconv.FormatInt(id, 10)}
}

// describe is a credential as the audit log keeps it: never a hash, a MAC's vendor part only.
func describe(c store.DeviceCredential) map[string]any {
	d := map[string]any{"line_id": c.LineID, "kind": c.Kind, "client_id": c.ClientID, "device_name": c.DeviceName}
	if c.Username != nil {
		d["username"] = *c.Username
	}
	if c.MAC != nil {
		if m, err := mag.ParseMAC(*c.MAC); err == nil {
			d["mac"] = m.Masked()
		}
	}
	return d
}

// Profile is an authenticated profile (seed 001): a line a device signed in to, from the time
// the viewer approved (NotBefore) until the line expires (NotAfter; nil: never).
type Profile struct {
	Kind       string // KindXtream or KindMAG
	DeviceID   string
	DeviceName string
	// Credential is what the device holds; nil while an approved code waits for its poll.
	Credential *store.DeviceCredential
	Line       store.Line
	NotBefore  time.Time
	NotAfter   *time.Time
}

// Profiles are the live profiles client clientID's device deviceID holds, oldest first.
func (s *Service) Profiles(ctx context.Context, clientID, deviceID string) ([]Profile, error) {
	creds, err := s.store.DeviceCredentialsOf(ctx, clientID, deviceID)
	if err != nil || len(creds) == 0 {
		return nil, wrapProfiles(err)
	}
	ids := make([]int64, len(creds))
	for i, c := range creds {
		ids[i] = c.LineID
	}
	lines, err := s.store.LinesByID(ctx, ids)
	if err != nil {
		return nil, wrapProfiles(err)
	}
	byID := make(map[int64]store.Line, len(lines))
	for _, l := range lines {
		byID[l.ID] = l
	}
	out := make([]Profile, 0, len(creds))
	for i := range creds {
		if l, ok := byID[creds[i].LineID]; ok {
			c := &creds[i]
			out = append(out, Profile{Kind: c.Kind, DeviceID: c.DeviceID, DeviceName: c.DeviceName, Credential: c, Line: l,
				NotBefore: c.CreatedAt, NotAfter: l.ExpDate})
		}
	}
	return out, nil
}

func wrapProfiles(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("device profiles: %w", err)
}

// The states of a code as a partner polling it sees them (CodeState.Status).
const (
	StatePending       = "pending"       // waiting for the viewer: poll again
	StateAuthenticated = "authenticated" // approved: Profile is set; stop polling
	StateDenied        = "denied"        // the viewer refused
	StateExpired       = "expired"       // NotAfter passed before it was used
	StateSuperseded    = "superseded"    // the device asked for a new code: poll that one
	StateRevoked       = "revoked"       // its credential was issued and revoked since
)

// CodeState is the outcome of a code so far. NotAfter is when the code expires: seed 001 says
// to stop polling then, or as soon as the state is anything but pending.
type CodeState struct {
	Status   string
	NotAfter time.Time
	Profile  *Profile
}

// CodeState returns the state of client clientID's newest code with this user code, or
// ErrNoSuchCode (never issued to that client, or swept a day after it expired).
func (s *Service) CodeState(ctx context.Context, clientID string, code UserCode) (CodeState, error) {
	c, err := s.store.LatestDeviceCode(ctx, clientID, s.hash(labelUserCode, code[:]))
	if errors.Is(err, store.ErrNotFound) {
		return CodeState{}, ErrNoSuchCode
	}
	if err != nil {
		return CodeState{}, fmt.Errorf("device code state: %w", err)
	}
	st := CodeState{Status: codeStatus(c), NotAfter: c.ExpiresAt}
	if st.Status != StateAuthenticated {
		return st, nil
	}
	line, err := s.store.LineByID(ctx, *c.LineID)
	if errors.Is(err, store.ErrNotFound) {
		st.Status = StateRevoked // the line is gone, and its credentials with it
		return st, nil
	}
	if err != nil {
		return CodeState{}, fmt.Errorf("device code state: %w", err)
	}
	p := &Profile{Kind: c.Kind, DeviceID: c.DeviceID, DeviceName: c.DeviceName, Line: line, NotAfter: line.ExpDate}
	if c.DecidedAt != nil {
		p.NotBefore = *c.DecidedAt
	}
	if c.CredentialID != nil {
		cred, err := s.store.DeviceCredentialByID(ctx, *c.CredentialID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return CodeState{}, fmt.Errorf("device code state: %w", err)
		}
		if err == nil {
			p.Credential = &cred
		}
	}
	st.Profile = p
	return st, nil
}

// codeStatus is the state a code's row says, before its line is read.
func codeStatus(c store.DeviceCode) string {
	switch c.Status {
	case store.DeviceCodeSuperseded:
		return StateSuperseded
	case store.DeviceCodeDenied:
		return StateDenied
	case store.DeviceCodeIssued:
		if c.CredentialID == nil {
			return StateRevoked
		}
		return StateAuthenticated
	case store.DeviceCodeApproved:
		if c.Expired {
			return StateExpired // approved, but the device never came for it
		}
		return StateAuthenticated
	}
	if c.Expired {
		return StateExpired
	}
	return StatePending
}
