package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ChangesChannel is the NOTIFY channel the schema's triggers (migrations/001_core.sql) and
// Notify send on. A payload is "<kind>:<argument>" and carries ids, never rows; Change is its
// parsed form.
const ChangesChannel = "xtreamd_changes"

// ChangeKind says what a change notification is about.
type ChangeKind uint8

// The kinds of change. New kinds (admin or session revocation ...) are added here, to the
// changeKinds table, and to whatever sends them.
const (
	// ChangeLine: a line, its bouquets or its MAG device changed (triggers on lines,
	// line_bouquets, mag_devices). Change.ID is the line id.
	ChangeLine ChangeKind = iota + 1
	// ChangeDevice: a MAG device changed; Change.ID is the device id. No trigger sends it yet:
	// the mag_devices trigger names the device's line (ChangeLine), whose caches then drop.
	ChangeDevice
	// ChangeCatalog: categories, streams, series or bouquets changed. Change.Version is the
	// catalog version after the change.
	ChangeCatalog
	// ChangeEPG: EPG channels or programmes changed. Change.Version is the EPG version. No
	// cache follows it yet: the guide is read from the database per request (epg/guide.go).
	ChangeEPG
	// ChangeSecurity: the blocked IP, user-agent or ISP lists or the allowed countries
	// changed. Change.Version is the security version.
	ChangeSecurity
	// ChangeSettings: a panel setting or a registered server changed. Change.Version is the
	// settings version.
	ChangeSettings
	// ChangeKill: stop the stream of lease Change.LeaseID wherever it is served (sent by
	// conns, not by a trigger).
	ChangeKill
	// ChangeAdminSession: admin session (refresh-token family) Change.ID was revoked or
	// deleted; its access tokens stop working (trigger on admin_sessions, 007_admin_api).
	ChangeAdminSession
	// ChangePartner: partner client Change.ID was created, changed (scope, secret, allowed
	// networks), revoked or deleted (trigger on partner_clients, 009_partners).
	ChangePartner
	// ChangePartnerKey: the partner access-token signing keys were rotated; Change.ID is the
	// key row inserted or retired (trigger on partner_signing_keys).
	ChangePartnerKey
	// ChangePartnerToken: the partner access token whose jti is Change.Token was revoked
	// (trigger on partner_revocations).
	ChangePartnerToken
	// ChangeMediaSession: the media-token session Change.Token was revoked (a partner's
	// logout): its tokens stop working and its open streams end (trigger on
	// partner_revocations).
	ChangeMediaSession
)

// changeArg is the shape of a kind's argument.
type changeArg uint8

const (
	argID      changeArg = iota // a positive row id
	argVersion                  // a positive change_versions version
	argLease                    // a lease id: 32 hex digits
	argToken                    // a token id (a jti, a session id): 32 hex digits
)

// changeKinds spells each kind as its payloads do.
var changeKinds = [...]struct {
	name string
	arg  changeArg
}{
	ChangeLine:         {"line", argID},
	ChangeDevice:       {"device", argID},
	ChangeCatalog:      {"catalog", argVersion},
	ChangeEPG:          {"epg", argVersion},
	ChangeSecurity:     {"security", argVersion},
	ChangeSettings:     {"settings", argVersion},
	ChangeKill:         {"kill", argLease},
	ChangeAdminSession: {"admin_session", argID},
	ChangePartner:      {"partner", argID},
	ChangePartnerKey:   {"partner_key", argID},
	ChangePartnerToken: {"partner_token", argToken},
	ChangeMediaSession: {"media_session", argToken},
}

func (k ChangeKind) known() bool { return k > 0 && int(k) < len(changeKinds) }

// String returns the kind as payloads spell it ("line", "catalog" ...).
func (k ChangeKind) String() string {
	if !k.known() {
		return fmt.Sprintf("ChangeKind(%d)", uint8(k))
	}
	return changeKinds[k].name
}

// Change is one change notification, parsed once by Listener and handed to the subscribers of
// its kind. Only the field of its kind's argument is set.
type Change struct {
	Kind    ChangeKind
	ID      int64    // ChangeLine, ChangeDevice, ChangeAdminSession, ChangePartner, ChangePartnerKey
	Version int64    // ChangeCatalog, ChangeEPG, ChangeSecurity, ChangeSettings
	LeaseID [16]byte // ChangeKill
	Token   [16]byte // ChangePartnerToken, ChangeMediaSession
}

// LineChanged is the change of line id.
func LineChanged(id int64) Change { return Change{Kind: ChangeLine, ID: id} }

// DeviceChanged is the change of MAG device id.
func DeviceChanged(id int64) Change { return Change{Kind: ChangeDevice, ID: id} }

// CatalogChanged is a change of the catalog to version v.
func CatalogChanged(v int64) Change { return Change{Kind: ChangeCatalog, Version: v} }

// EPGChanged is a change of the EPG to version v.
func EPGChanged(v int64) Change { return Change{Kind: ChangeEPG, Version: v} }

// SecurityChanged is a change of the security lists to version v.
func SecurityChanged(v int64) Change { return Change{Kind: ChangeSecurity, Version: v} }

// SettingsChanged is a change of the settings to version v.
func SettingsChanged(v int64) Change { return Change{Kind: ChangeSettings, Version: v} }

// AdminSessionRevoked is the revocation of admin session id.
func AdminSessionRevoked(id int64) Change { return Change{Kind: ChangeAdminSession, ID: id} }

// PartnerChanged is the change of partner client id.
func PartnerChanged(id int64) Change { return Change{Kind: ChangePartner, ID: id} }

// PartnerTokenRevoked is the revocation of the partner access token with this jti.
func PartnerTokenRevoked(jti [16]byte) Change { return Change{Kind: ChangePartnerToken, Token: jti} }

// MediaSessionRevoked is the revocation of a media-token session.
func MediaSessionRevoked(session [16]byte) Change {
	return Change{Kind: ChangeMediaSession, Token: session}
}

// KillLease asks every instance to stop the stream of lease id.
func KillLease(id [16]byte) Change { return Change{Kind: ChangeKill, LeaseID: id} }

// Payload returns c as it travels on ChangesChannel ("line:42", "kill:<32 hex digits>").
func (c Change) Payload() string {
	if !c.Kind.known() {
		return c.Kind.String()
	}
	name := changeKinds[c.Kind].name
	switch changeKinds[c.Kind].arg {
	case argID:
		return name + ":" + strconv.FormatInt(c.ID, 10)
	case argVersion:
		return name + ":" + strconv.FormatInt(c.Version, 10)
	case argToken:
		return name + ":" + hex.EncodeToString(c.Token[:])
	default:
		return name + ":" + hex.EncodeToString(c.LeaseID[:])
	}
}

var (
	errChangeKind = errors.New("store: unknown change kind")
	errChangeArg  = errors.New("store: malformed change argument")
)

// ParseChange parses a payload of ChangesChannel. An unknown kind or a malformed argument is
// an error: the listener ignores such a payload (another version of xtreamd may send kinds
// this one does not know).
func ParseChange(payload string) (Change, error) {
	name, arg, _ := strings.Cut(payload, ":")
	for k := ChangeLine; k.known(); k++ {
		if changeKinds[k].name == name {
			return parseArg(k, arg)
		}
	}
	return Change{}, errChangeKind
}

func parseArg(k ChangeKind, arg string) (Change, error) {
	c := Change{Kind: k}
	ok := false
	switch changeKinds[k].arg {
	case argID:
		c.ID, ok = positive(arg)
	case argVersion:
		c.Version, ok = positive(arg)
	case argLease:
		ok = decodeID(c.LeaseID[:], arg)
	case argToken:
		ok = decodeID(c.Token[:], arg)
	}
	if !ok {
		return Change{}, fmt.Errorf("%s: %w", k, errChangeArg)
	}
	return c, nil
}

// decodeID decodes exactly len(dst) bytes of lower- or upper-case hex.
func decodeID(dst []byte, arg string) bool {
	if len(arg) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(arg))
	return err == nil
}

// positive parses a positive decimal int64 (ids and versions start at 1), without sign.
func positive(s string) (int64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// Notify sends c on ChangesChannel, inside the current transaction if s is one (then it is
// delivered on commit only).
func (s *Store) Notify(ctx context.Context, c Change) error {
	if !c.Kind.known() {
		return fmt.Errorf("notify %s: %w", c.Kind, ErrInvalid)
	}
	if _, err := s.q.Exec(ctx, "SELECT pg_notify($1, $2)", ChangesChannel, c.Payload()); err != nil {
		return fmt.Errorf("notify %s: %w", c.Kind, err)
	}
	return nil
}

func (s *Store) changeVersion(ctx context.Context, scope string) (int64, error) {
	const q = `SELECT version FROM change_versions WHERE scope = $1`
	var v int64
	if err := s.q.QueryRow(ctx, q, scope).Scan(&v); err != nil {
		return 0, fmt.Errorf("%s version: %w", scope, interpret(err))
	}
	return v, nil
}
