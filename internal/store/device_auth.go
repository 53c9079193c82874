package store

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
)

// Second-screen activation (device_codes, device_credentials; migration device_authorization): the
// codes of RFC 8628's device authorization grant, kept only as keyed hashes, and the device
// credentials an approved code hands out. Times are the database's (now()), so every instance
// agrees on expiry and polling intervals.

// The states of a device code (device_codes.status).
const (
	DeviceCodePending    = "pending"
	DeviceCodeApproved   = "approved"
	DeviceCodeDenied     = "denied"
	DeviceCodeIssued     = "issued"
	DeviceCodeSuperseded = "superseded"
)

// The kinds of device credential (device_credentials.kind, device_codes.kind).
const (
	DeviceKindXtream = "xtream" // a username and password of its own
	DeviceKindMAG    = "mag"    // a MAG box's MAC bound to the line
)

// NewDeviceCode is a device authorization request to store.
type NewDeviceCode struct {
	DeviceCodeHash []byte
	UserCodeHash   []byte
	ClientID       string
	Kind           string
	DeviceID       string
	DeviceName     string
	Interval       time.Duration // whole seconds
	TTL            time.Duration // expires_at is now() + TTL
	ClientIP       netip.Addr    // zero: unknown
}

// SupersedeDeviceCodes ends the live (pending or approved) codes of a device: a new code for
// it is about to be stored. It returns how many it ended.
func (s *Store) SupersedeDeviceCodes(ctx context.Context, clientID, deviceID string) (int64, error) {
	const q = `UPDATE device_codes SET status = 'superseded', decided_at = now()
		WHERE client_id = $1 AND device_id = $2 AND status IN ('pending', 'approved')`
	tag, err := s.q.Exec(ctx, q, clientID, deviceID)
	if err != nil {
		return 0, fmt.Errorf("supersede device codes: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// CreateDeviceCode stores a code and returns its id. A pending code with the same user code
// hash is ErrConflict on device_codes_user_code_key, another live code of the device on
// device_codes_live_device_key.
func (s *Store) CreateDeviceCode(ctx context.Context, in NewDeviceCode) (int64, error) {
	const q = `INSERT INTO device_codes (device_code_hash, user_code_hash, client_id, kind, device_id, device_name,
		interval_s, client_ip, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + $9 * interval '1 second')
		RETURNING id`
	var ip *netip.Addr
	if in.ClientIP.IsValid() {
		a := in.ClientIP.Unmap()
		ip = &a
	}
	var id int64
	err := s.q.QueryRow(ctx, q, in.DeviceCodeHash, in.UserCodeHash, in.ClientID, in.Kind, in.DeviceID, in.DeviceName,
		int(in.Interval/time.Second), ip, in.TTL.Seconds()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create device code: %w", interpret(err))
	}
	return id, nil
}

// DeviceCode is a stored device authorization request.
type DeviceCode struct {
	ID           int64     `db:"id"`
	ClientID     string    `db:"client_id"`
	Kind         string    `db:"kind"`
	DeviceID     string    `db:"device_id"`
	DeviceName   string    `db:"device_name"`
	Status       string    `db:"status"`
	LineID       *int64    `db:"line_id"`
	CredentialID *int64    `db:"credential_id"`
	IntervalS    int       `db:"interval_s"`
	CreatedAt    time.Time `db:"created_at"`
	ExpiresAt    time.Time `db:"expires_at"`
	// DecidedAt is when it was approved, denied or superseded.
	DecidedAt *time.Time `db:"decided_at"`
	// Expired: expires_at has passed (database time).
	Expired bool `db:"expired"`
}

const deviceCodeColumns = `c.id, c.client_id, c.kind, c.device_id, c.device_name, c.status, c.line_id,
	c.credential_id, c.interval_s, c.created_at, c.expires_at, c.decided_at, c.expires_at <= now() AS expired`

// DeviceCodePoll is a device code as a poll left it.
type DeviceCodePoll struct {
	DeviceCode
	// SlowedDown: this poll came sooner than the interval allowed, which grew by 5 s.
	SlowedDown bool `db:"slowed_down"`
}

// PollDeviceCode records a poll of the code with this device code hash and returns the code as
// the poll left it: when it is pending and the last poll (or, for the first, the issue) was less
// than its interval ago (with a second's slack for network jitter), the interval grows by 5 s
// (RFC 8628 §3.5 slow_down), up to 30 minutes. An unknown hash, or a code of another client
// than clientID, is ErrNotFound, and no poll of it is recorded: whoever holds a device code
// cannot slow its device down by polling as another client.
func (s *Store) PollDeviceCode(ctx context.Context, deviceCodeHash []byte, clientID string) (DeviceCodePoll, error) {
	const q = `WITH cur AS (
			SELECT id, coalesce(polled_at, created_at) AS last, interval_s FROM device_codes
			WHERE device_code_hash = $1 AND client_id = $2 FOR UPDATE)
		UPDATE device_codes c SET polled_at = now(),
			interval_s = CASE WHEN c.status = 'pending' AND now() < c.expires_at
				AND now() < cur.last + (cur.interval_s - 1) * interval '1 second'
				THEN least(cur.interval_s + 5, 1800) ELSE cur.interval_s END
		FROM cur WHERE c.id = cur.id
		RETURNING ` + deviceCodeColumns + `, c.interval_s > cur.interval_s AS slowed_down`
	rows, _ := s.q.Query(ctx, q, deviceCodeHash, clientID)
	p, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceCodePoll])
	if err != nil {
		return DeviceCodePoll{}, fmt.Errorf("poll device code: %w", interpret(err))
	}
	return p, nil
}

// PendingDeviceCode returns the pending, unexpired code with this user code hash; lock takes
// its row lock (inside a transaction: the approval that follows). None is ErrNotFound.
func (s *Store) PendingDeviceCode(ctx context.Context, userCodeHash []byte, lock bool) (DeviceCode, error) {
	q := `SELECT ` + deviceCodeColumns + ` FROM device_codes c
		WHERE c.user_code_hash = $1 AND c.status = 'pending' AND c.expires_at > now()`
	if lock {
		q += ` FOR UPDATE`
	}
	return s.oneDeviceCode(ctx, "pending device code", q, userCodeHash)
}

// LatestDeviceCode returns the newest code of client clientID with this user code hash, in any
// state (a partner polling for the outcome of its code). None is ErrNotFound.
func (s *Store) LatestDeviceCode(ctx context.Context, clientID string, userCodeHash []byte) (DeviceCode, error) {
	const q = `SELECT ` + deviceCodeColumns + ` FROM device_codes c
		WHERE c.user_code_hash = $1 AND c.client_id = $2 ORDER BY c.id DESC LIMIT 1`
	return s.oneDeviceCode(ctx, "latest device code", q, userCodeHash, clientID)
}

func (s *Store) oneDeviceCode(ctx context.Context, op, q string, args ...any) (DeviceCode, error) {
	rows, _ := s.q.Query(ctx, q, args...)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceCode])
	if err != nil {
		return DeviceCode{}, fmt.Errorf("%s: %w", op, interpret(err))
	}
	return c, nil
}

// DecideDeviceCode moves pending code id to status (approved, with its line, and for a MAG box
// the credential it made; or denied). A code no longer pending is ErrNotFound.
func (s *Store) DecideDeviceCode(ctx context.Context, id int64, status string, lineID, credentialID *int64) error {
	const q = `UPDATE device_codes SET status = $2, line_id = $3, credential_id = $4, decided_at = now()
		WHERE id = $1 AND status = 'pending'`
	return s.execOne(ctx, "decide device code", q, id, status, lineID, credentialID)
}

// ClaimDeviceCode moves approved code id to issued, once: of two concurrent polls one claims
// it, the other gets ErrNotFound. It returns the code's line and credential (a MAG box's; nil
// for an Xtream one, which the claimer makes).
func (s *Store) ClaimDeviceCode(ctx context.Context, id int64) (lineID int64, credentialID *int64, err error) {
	const q = `UPDATE device_codes SET status = 'issued' WHERE id = $1 AND status = 'approved'
		RETURNING line_id, credential_id`
	if err := s.q.QueryRow(ctx, q, id).Scan(&lineID, &credentialID); err != nil {
		return 0, nil, fmt.Errorf("claim device code: %w", interpret(err))
	}
	return lineID, credentialID, nil
}

// SetDeviceCodeCredential records the credential an issued code handed out.
func (s *Store) SetDeviceCodeCredential(ctx context.Context, id, credentialID int64) error {
	const q = `UPDATE device_codes SET credential_id = $2 WHERE id = $1`
	return s.execOne(ctx, "set device code credential", q, id, credentialID)
}

// SweepDeviceCodes deletes the codes that expired more than keep ago and returns how many.
func (s *Store) SweepDeviceCodes(ctx context.Context, keep time.Duration) (int64, error) {
	const q = `DELETE FROM device_codes WHERE expires_at < now() - $1 * interval '1 second'`
	tag, err := s.q.Exec(ctx, q, keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("sweep device codes: %w", interpret(err))
	}
	return tag.RowsAffected(), nil
}

// NewDeviceCredential is a device credential to store: Username and PasswordHash for an Xtream
// one, MAGDeviceID for a MAG box.
type NewDeviceCredential struct {
	LineID       int64
	Kind         string
	Username     string
	PasswordHash string
	MAGDeviceID  int64
	ClientID     string
	DeviceID     string
	DeviceName   string
}

// CreateDeviceCredential stores a credential and returns its id. A taken username is
// ErrConflict on device_credentials_username_key (a line's name too: the login-name trigger);
// a MAG device with a credential already on device_credentials_mag_device_id_key.
func (s *Store) CreateDeviceCredential(ctx context.Context, in NewDeviceCredential) (int64, error) {
	const q = `INSERT INTO device_credentials (line_id, kind, username, password_hash, mag_device_id, client_id,
		device_id, device_name) VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, 0), $6, $7, $8) RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, in.LineID, in.Kind, in.Username, in.PasswordHash, in.MAGDeviceID, in.ClientID,
		in.DeviceID, in.DeviceName).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create device credential: %w", interpret(err))
	}
	return id, nil
}

// UpsertMAGCredential stores the credential of a MAG box's binding (in.MAGDeviceID), or, when
// the binding has one already (the box activated again), makes it this request's, and returns
// its id.
func (s *Store) UpsertMAGCredential(ctx context.Context, in NewDeviceCredential) (int64, error) {
	const q = `INSERT INTO device_credentials (line_id, kind, mag_device_id, client_id, device_id, device_name)
		VALUES ($1, 'mag', $2, $3, $4, $5)
		ON CONFLICT ON CONSTRAINT device_credentials_mag_device_id_key DO UPDATE
		SET line_id = EXCLUDED.line_id, client_id = EXCLUDED.client_id, device_id = EXCLUDED.device_id,
			device_name = EXCLUDED.device_name
		RETURNING id`
	var id int64
	err := s.q.QueryRow(ctx, q, in.LineID, in.MAGDeviceID, in.ClientID, in.DeviceID, in.DeviceName).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("upsert mag credential: %w", interpret(err))
	}
	return id, nil
}

// DeviceCredential is a stored device credential as lists show it (never its hash).
type DeviceCredential struct {
	ID          int64     `db:"id"`
	LineID      int64     `db:"line_id"`
	Kind        string    `db:"kind"`
	Username    *string   `db:"username"`      // an Xtream credential's
	MAGDeviceID *int64    `db:"mag_device_id"` // a MAG box's
	MAC         *string   `db:"mac"`           // a MAG box's, canonical upper case
	ClientID    string    `db:"client_id"`
	DeviceID    string    `db:"device_id"`
	DeviceName  string    `db:"device_name"`
	CreatedAt   time.Time `db:"created_at"`
}

const deviceCredentialColumns = `k.id, k.line_id, k.kind, k.username, k.mag_device_id, upper(m.mac::text) AS mac,
	k.client_id, k.device_id, k.device_name, k.created_at`

const deviceCredentialFrom = ` FROM device_credentials k LEFT JOIN mag_devices m ON m.id = k.mag_device_id`

// DeviceCredentialByID returns credential id.
func (s *Store) DeviceCredentialByID(ctx context.Context, id int64) (DeviceCredential, error) {
	const q = `SELECT ` + deviceCredentialColumns + deviceCredentialFrom + ` WHERE k.id = $1`
	rows, _ := s.q.Query(ctx, q, id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceCredential])
	if err != nil {
		return DeviceCredential{}, fmt.Errorf("device credential %d: %w", id, interpret(err))
	}
	return c, nil
}

// LineDeviceCredentials returns the credentials of line lineID, oldest first.
func (s *Store) LineDeviceCredentials(ctx context.Context, lineID int64) ([]DeviceCredential, error) {
	const q = `SELECT ` + deviceCredentialColumns + deviceCredentialFrom + ` WHERE k.line_id = $1 ORDER BY k.id`
	return s.deviceCredentials(ctx, "line device credentials", q, lineID)
}

// DeviceCredentialsOf returns the credentials client clientID's device deviceID holds, oldest
// first.
func (s *Store) DeviceCredentialsOf(ctx context.Context, clientID, deviceID string) ([]DeviceCredential, error) {
	const q = `SELECT ` + deviceCredentialColumns + deviceCredentialFrom + `
		WHERE k.client_id = $1 AND k.device_id = $2 ORDER BY k.id`
	return s.deviceCredentials(ctx, "device credentials of a device", q, clientID, deviceID)
}

func (s *Store) deviceCredentials(ctx context.Context, op, q string, args ...any) ([]DeviceCredential, error) {
	return many[DeviceCredential](ctx, s, op, q, args...)
}

// CountDeviceCredentials counts line lineID's credentials but those of client clientID's device
// deviceID (which a new credential for that device replaces).
func (s *Store) CountDeviceCredentials(ctx context.Context, lineID int64, clientID, deviceID string) (int, error) {
	const q = `SELECT count(*) FROM device_credentials
		WHERE line_id = $1 AND NOT (client_id = $2 AND device_id = $3)`
	var n int
	if err := s.q.QueryRow(ctx, q, lineID, clientID, deviceID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count device credentials: %w", interpret(err))
	}
	return n, nil
}

// DeleteDeviceCredential deletes credential id (a revocation: the trigger NOTIFYs its line) and
// returns it as it was. None is ErrNotFound.
func (s *Store) DeleteDeviceCredential(ctx context.Context, id int64) (DeviceCredential, error) {
	const q = `WITH gone AS (DELETE FROM device_credentials WHERE id = $1 RETURNING *)
		SELECT ` + deviceCredentialColumns + ` FROM gone k LEFT JOIN mag_devices m ON m.id = k.mag_device_id`
	rows, _ := s.q.Query(ctx, q, id)
	c, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceCredential])
	if err != nil {
		return DeviceCredential{}, fmt.Errorf("delete device credential %d: %w", id, interpret(err))
	}
	return c, nil
}

// DeviceLogin is what a player's login with a device credential is checked against.
type DeviceLogin struct {
	ID           int64  `db:"id"`
	LineID       int64  `db:"line_id"`
	PasswordHash string `db:"password_hash"`
}

// DeviceLoginByUsername returns the Xtream device credential with exactly this username.
func (s *Store) DeviceLoginByUsername(ctx context.Context, username string) (DeviceLogin, error) {
	const q = `SELECT id, line_id, password_hash FROM device_credentials WHERE username = $1 AND kind = 'xtream'`
	rows, _ := s.q.Query(ctx, q, username)
	d, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[DeviceLogin])
	if err != nil {
		return DeviceLogin{}, fmt.Errorf("device login: %w", interpret(err))
	}
	return d, nil
}

// DevicePasswordHashes returns the stored hashes of line lineID's Xtream device credentials
// (a re-check asks whether the one a stream was opened with still exists).
func (s *Store) DevicePasswordHashes(ctx context.Context, lineID int64) ([]string, error) {
	const q = `SELECT password_hash FROM device_credentials WHERE line_id = $1 AND kind = 'xtream'`
	return collect(ctx, s, "device password hashes", pgx.RowTo[string], q, lineID)
}
