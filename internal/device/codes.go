package device

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// CodeRequest is a device's request for a code (RFC 8628 §3.1).
type CodeRequest struct {
	// ClientID is the app's OAuth client id (a partner's, or any app's own name): the codes and
	// credentials of one client are its own.
	ClientID string
	// DeviceID is the device's stable identifier (seed 001's AP-Device-Identifier): a new code
	// for it supersedes its live one. Ignored for a MAG box, whose MAC identifies it.
	DeviceID string
	// DeviceName is what the activation page calls the device ("Living room TV").
	DeviceName string
	// MAC makes the request a MAG box's: the approval binds this MAC to the line.
	MAC *mag.MAC
	// ClientIP is the device's address (kept with the code for the operator).
	ClientIP netip.Addr
}

// clientIDPattern and deviceIDPattern are the schema's rules (migration device_authorization).
var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	deviceIDPattern = regexp.MustCompile(`^[ -~]{1,128}$`)
)

// check returns the request's kind and device identifier, or the field it gets wrong.
func (r CodeRequest) check() (kind, deviceID string, err error) {
	if !clientIDPattern.MatchString(r.ClientID) {
		return "", "", input.Invalid("client_id", "1 to 64 of A-Z a-z 0-9 . _ : -")
	}
	if r.MAC != nil {
		return store.DeviceKindMAG, r.MAC.String(), nil
	}
	if !deviceIDPattern.MatchString(r.DeviceID) {
		return "", "", input.Invalid("device_id", "1 to 128 printable ASCII characters (or a MAG box's mac)")
	}
	return store.DeviceKindXtream, r.DeviceID, nil
}

// Grant is a new code (RFC 8628 §3.2). DeviceCode is the device's secret; UserCode is what it
// shows.
type Grant struct {
	DeviceCode string
	UserCode   UserCode
	ExpiresIn  time.Duration
	Interval   time.Duration
}

// maxDraws bounds the draws of a code whose user code collides with a pending one (or whose
// device got a code concurrently): a collision is rare, three in a row is a broken source.
const maxDraws = 3

// RequestCode issues a code for a device and supersedes the device's live one: polling with
// the old code, or approving it, stops working. A malformed request is an *input.FieldError
// on client_id or device_id.
func (s *Service) RequestCode(ctx context.Context, r CodeRequest) (Grant, error) {
	kind, deviceID, err := r.check()
	if err != nil {
		return Grant{}, fmt.Errorf("request device code: %w", err)
	}
	for draw := 1; ; draw++ {
		g, err := s.newGrant()
		if err != nil {
			return Grant{}, fmt.Errorf("request device code: %w", err)
		}
		in := store.NewDeviceCode{
			DeviceCodeHash: s.hash(labelDeviceCode, []byte(g.DeviceCode)), UserCodeHash: s.hash(labelUserCode, g.UserCode[:]),
			ClientID: r.ClientID, Kind: kind, DeviceID: deviceID, DeviceName: cleanName(r.DeviceName),
			Interval: g.Interval, TTL: g.ExpiresIn, ClientIP: r.ClientIP,
		}
		err = s.store.InTx(ctx, func(tx *store.Store) error {
			if _, err := tx.SupersedeDeviceCodes(ctx, r.ClientID, deviceID); err != nil {
				return err
			}
			_, err := tx.CreateDeviceCode(ctx, in)
			return err
		})
		switch {
		case err == nil:
			return g, nil
		case !errors.Is(err, store.ErrConflict) || draw == maxDraws:
			return Grant{}, fmt.Errorf("request device code: %w", err)
		}
	}
}

func (s *Service) newGrant() (Grant, error) {
	dc, err := s.newDeviceCode()
	if err != nil {
		return Grant{}, err
	}
	uc, err := newUserCode(s.rand)
	if err != nil {
		return Grant{}, err
	}
	return Grant{DeviceCode: dc, UserCode: uc, ExpiresIn: s.ttl, Interval: DefaultInterval}, nil
}

// Outcome is the answer to a poll (RFC 8628 §3.5).
type Outcome uint8

// The outcomes.
const (
	// Pending: not decided yet; poll again after the interval (authorization_pending).
	Pending Outcome = iota + 1
	// SlowDown: polled sooner than the interval, which grew by 5 s (slow_down).
	SlowDown
	// Expired: the code expired before it was approved and picked up (expired_token).
	Expired
	// Denied: the viewer refused (access_denied).
	Denied
	// Invalid: no such code, another client's, superseded by a newer one, or already used
	// (invalid_grant): stop polling.
	Invalid
	// Issued: approved; the credential is in PollResult.Issued, this once.
	Issued
)

// PollResult is a poll's answer.
type PollResult struct {
	Outcome  Outcome
	Interval time.Duration // the code's interval now (after a SlowDown, the grown one)
	Issued   *Credential   // with Issued
}

// Credential is what an approved code hands its device, once.
type Credential struct {
	ID     int64
	LineID int64
	Kind   string // store.DeviceKindXtream or store.DeviceKindMAG
	// Username and Password are an Xtream credential's: the password is shown this once.
	Username string
	Password config.Secret
	// MAC is a MAG box's, now bound to the line.
	MAC mag.MAC
}

// Poll answers a device's poll with its device code (RFC 8628 §3.4). clientID must be the
// client the code was issued to. An error means the poll could not be decided.
func (s *Service) Poll(ctx context.Context, deviceCode, clientID string, ip netip.Addr) (PollResult, error) {
	if !wellFormedDeviceCode(deviceCode) {
		return PollResult{Outcome: Invalid}, nil
	}
	// Another client's code is not found: its poll is none of the code's (no poll time, no
	// slow_down of the device whose code it is).
	p, err := s.store.PollDeviceCode(ctx, s.hash(labelDeviceCode, []byte(deviceCode)), clientID)
	if errors.Is(err, store.ErrNotFound) {
		return PollResult{Outcome: Invalid}, nil
	}
	if err != nil {
		return PollResult{}, fmt.Errorf("poll device code: %w", err)
	}
	res := PollResult{Interval: time.Duration(p.IntervalS) * time.Second}
	switch {
	case p.ClientID != clientID || p.Status == store.DeviceCodeIssued || p.Status == store.DeviceCodeSuperseded:
		res.Outcome = Invalid
	case p.Status == store.DeviceCodeDenied:
		res.Outcome = Denied
	case p.Expired:
		res.Outcome = Expired
	case p.Status == store.DeviceCodeApproved:
		cred, err := s.issue(ctx, p.DeviceCode, ip)
		if err != nil {
			return PollResult{}, fmt.Errorf("poll device code: %w", err)
		}
		res.Outcome, res.Issued = Issued, cred
		if cred == nil {
			res.Outcome = Invalid // a concurrent poll picked it up
		}
	case p.SlowedDown:
		res.Outcome = SlowDown
	default:
		res.Outcome = Pending
	}
	return res, nil
}

// issue hands out the credential of approved code c, once; nil when another poll claimed it
// first. An Xtream credential is made now (its password hashed before the transaction); a MAG
// box's was made at the approval, which bound the MAC.
func (s *Service) issue(ctx context.Context, c store.DeviceCode, ip netip.Addr) (*Credential, error) {
	actor := audit.Actor{Name: "device:" + c.ClientID, IP: ip}
	if c.Kind == store.DeviceKindMAG {
		return s.issueMAG(ctx, c)
	}
	password, err := s.generate(passwordLen)
	if err != nil {
		return nil, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return nil, err
	}
	var out *Credential
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		lineID, _, err := tx.ClaimDeviceCode(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.replaceOld(ctx, tx, actor, lineID, c); err != nil {
			return err
		}
		id, username, err := s.createXtream(ctx, tx, lineID, hash, c)
		if err != nil {
			return err
		}
		if err := tx.SetDeviceCodeCredential(ctx, c.ID, id); err != nil {
			return err
		}
		e := credentialEntry("device_credential.create", id)
		e.After = map[string]any{"line_id": lineID, "kind": c.Kind, "username": username, "client_id": c.ClientID,
			"device_name": c.DeviceName}
		if err := audit.Record(ctx, tx, actor, e); err != nil {
			return err
		}
		out = &Credential{ID: id, LineID: lineID, Kind: c.Kind, Username: username, Password: config.Secret(password)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("issue device credential: %w", err)
	}
	return out, nil
}

// createXtream stores an Xtream credential with a generated username, drawing again (inside a
// savepoint) in the unlikely case it is taken.
func (s *Service) createXtream(ctx context.Context, tx *store.Store, lineID int64, hash string, c store.DeviceCode) (int64, string, error) {
	for draw := 1; ; draw++ {
		name, err := s.generate(usernameLen)
		if err != nil {
			return 0, "", err
		}
		username := usernamePrefix + name
		var id int64
		err = tx.InTx(ctx, func(sp *store.Store) error {
			id, err = sp.CreateDeviceCredential(ctx, store.NewDeviceCredential{LineID: lineID, Kind: store.DeviceKindXtream,
				Username: username, PasswordHash: hash, ClientID: c.ClientID, DeviceID: c.DeviceID, DeviceName: c.DeviceName})
			return err
		})
		if err == nil {
			return id, username, nil
		}
		if !errors.Is(err, store.ErrConflict) || draw == maxDraws {
			return 0, "", err
		}
	}
}

// replaceOld revokes the credentials the device holds for the line already: a device signed in
// again (after a reset, say) keeps one credential. Credentials for other lines stay: a device
// id is the device's own claim, and must not let one line's activation end another's.
func (s *Service) replaceOld(ctx context.Context, tx *store.Store, actor audit.Actor, lineID int64, c store.DeviceCode) error {
	old, err := tx.DeviceCredentialsOf(ctx, c.ClientID, c.DeviceID)
	if err != nil {
		return err
	}
	for _, o := range old {
		if o.LineID != lineID || o.Kind != store.DeviceKindXtream {
			continue
		}
		if err := revokeIn(ctx, tx, actor, o, "replaced"); err != nil {
			return err
		}
	}
	return nil
}

// issueMAG hands a MAG box its binding: the code is claimed, and the box learns its MAC is the
// line's.
func (s *Service) issueMAG(ctx context.Context, c store.DeviceCode) (*Credential, error) {
	lineID, credID, err := s.store.ClaimDeviceCode(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("issue mag binding: %w", err)
	}
	mac, err := mag.ParseMAC(c.DeviceID)
	if err != nil {
		return nil, fmt.Errorf("issue mag binding: stored mac: %w", err)
	}
	out := &Credential{LineID: lineID, Kind: store.DeviceKindMAG, MAC: mac}
	if credID != nil {
		out.ID = *credID
	}
	return out, nil
}
