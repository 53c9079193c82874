package accounts

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/store"
)

// The optional second factor of admin logins: TOTP (RFC 6238: HMAC-SHA1, 30-second steps,
// 6 digits, as every authenticator app speaks it), with recovery codes for a lost phone. The
// secret is sealed (AES-256-GCM under a key derived from the web key, bound to the admin id)
// and never shown after enrolment; a code is accepted once (the step is recorded), one step
// early or late; recovery codes are 80 random bits, shown once and kept as SHA-256s.

const (
	totpStep       = 30 * time.Second
	totpDigits     = 6
	recoveryCodes  = 10
	totpSecretSize = 20 // 160 bits, RFC 4226's recommendation
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// TOTPEnrolment is a started enrolment: the secret to scan (as an otpauth:// URI, for a QR
// code) or to type. Both print as [redacted].
type TOTPEnrolment struct {
	Secret config.Secret // base32
	URI    config.Secret // otpauth://totp/xtreamd:<name>?secret=…&issuer=xtreamd
}

// TOTPStatus says whether an admin has a second factor and how many recovery codes are left.
type TOTPStatus struct {
	Enabled       bool
	RecoveryCodes int
}

// totpCode is the code of secret at step (RFC 4226 §5.3 dynamic truncation).
func totpCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

// TOTPCode is the code an authenticator shows for a base32 secret at t (tests and tools).
func TOTPCode(secretB32 string, t time.Time) (string, error) {
	secret, err := b32.DecodeString(strings.ToUpper(secretB32))
	if err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return totpCode(secret, t.Unix()/int64(totpStep/time.Second)), nil
}

// matchStep returns the step (now, one before or one after) whose code is code.
func matchStep(secret []byte, code string, now time.Time) (int64, bool) {
	cur := now.Unix() / int64(totpStep/time.Second)
	for _, st := range []int64{cur, cur - 1, cur + 1} {
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, st)), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}

func (s *Sessions) seal(adminID int64, secret []byte) ([]byte, error) {
	gcm, err := s.totpAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return gcm.Seal(nonce, nonce, secret, []byte(strconv.FormatInt(adminID, 10))), nil
}

func (s *Sessions) unseal(adminID int64, sealed []byte) ([]byte, error) {
	gcm, err := s.totpAEAD()
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("sealed totp secret too short")
	}
	n := gcm.NonceSize()
	return gcm.Open(nil, sealed[:n], sealed[n:], []byte(strconv.FormatInt(adminID, 10)))
}

func (s *Sessions) totpAEAD() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.subKey("totp secret seal v1"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// hasSecondFactor reports whether an admin confirmed a TOTP enrolment.
func (s *Sessions) hasSecondFactor(ctx context.Context, adminID int64) (bool, error) {
	t, err := s.store.AdminTOTP(ctx, adminID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && t.EnabledAt != nil, err
}

// secondFactor checks code for admin when it has a second factor: a TOTP code (once) or an
// unused recovery code. Without an enrolled factor there is nothing to check.
func (s *Sessions) secondFactor(ctx context.Context, admin store.Admin, code string) error {
	t, err := s.store.AdminTOTP(ctx, admin.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && t.EnabledAt == nil {
		return nil
	} else if err != nil {
		return err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return ErrSecondFactor
	}
	if len(code) == totpDigits {
		secret, err := s.unseal(admin.ID, t.SecretSealed)
		if err != nil {
			// The token secret changed since enrolment: only a recovery code helps now.
			s.log.WarnContext(ctx, "totp secret cannot be unsealed", "admin_id", admin.ID, "err", err)
			return fmt.Errorf("%w: bad code", ErrUnauthenticated)
		}
		step, ok := matchStep(secret, code, s.now())
		if !ok {
			return fmt.Errorf("%w: bad code", ErrUnauthenticated)
		}
		if fresh, err := s.store.UseTOTPStep(ctx, admin.ID, step, false); err != nil {
			return err
		} else if !fresh {
			return fmt.Errorf("%w: code replayed", ErrUnauthenticated)
		}
		return nil
	}
	ok, err := s.store.UseRecoveryCode(ctx, admin.ID, recoverySum(code))
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: bad recovery code", ErrUnauthenticated)
	}
	s.log.InfoContext(ctx, "recovery code used", "admin_id", admin.ID)
	return nil
}

// recoverySum is the SHA-256 of a recovery code as typed: case, spaces and dashes aside.
func recoverySum(code string) []byte {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(code))
	sum := sha256.Sum256([]byte(norm))
	return sum[:]
}

// selfOnly refuses a principal that is not a login of its own account (an API key).
func selfOnly(p Principal) error {
	if p.SessionID == 0 || p.AdminID() == 0 {
		return &FieldError{Field: "session", Reason: "only a login manages its own second factor", Kind: ErrForbidden}
	}
	return nil
}

// StartTOTP begins p's enrolment: a new secret, stored sealed and unconfirmed until
// ConfirmTOTP sees a code of it. An admin with a confirmed second factor disables it first
// (conflict on "totp").
func (s *Sessions) StartTOTP(ctx context.Context, p Principal) (TOTPEnrolment, error) {
	if err := selfOnly(p); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	secret := make([]byte, totpSecretSize)
	if _, err := rand.Read(secret); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	sealed, err := s.seal(p.AdminID(), secret)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	if err := s.store.StartTOTP(ctx, p.AdminID(), sealed); errors.Is(err, store.ErrConflict) {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", conflict("totp", "a second factor is enabled already"))
	} else if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("start totp: %w", err)
	}
	return enrolment(p.Actor.Name, secret), nil
}

func enrolment(name string, secret []byte) TOTPEnrolment {
	enc := b32.EncodeToString(secret)
	label := url.PathEscape("xtreamd:" + name)
	uri := "otpauth://totp/" + label + "?" + url.Values{"secret": {enc}, "issuer": {"xtreamd"},
		"algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}.Encode()
	return TOTPEnrolment{Secret: config.Secret(enc), URI: config.Secret(uri)}
}

// PendingTOTP shows p's started, unconfirmed enrolment again (a mistyped code): once
// confirmed, the secret is never shown. None pending is not found on "totp".
func (s *Sessions) PendingTOTP(ctx context.Context, p Principal) (TOTPEnrolment, error) {
	if err := selfOnly(p); err != nil {
		return TOTPEnrolment{}, fmt.Errorf("pending totp: %w", err)
	}
	t, err := s.store.AdminTOTP(ctx, p.AdminID())
	if errors.Is(err, store.ErrNotFound) || err == nil && t.EnabledAt != nil {
		return TOTPEnrolment{}, fmt.Errorf("pending totp: %w", notFound("totp", "no enrolment started"))
	} else if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("pending totp: %w", err)
	}
	secret, err := s.unseal(p.AdminID(), t.SecretSealed)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("pending totp: %w", notFound("totp", "start the enrolment again"))
	}
	return enrolment(p.Actor.Name, secret), nil
}

// ConfirmTOTP enables p's started enrolment when code is its current code, and returns the
// recovery codes, in clear for the only time. A wrong code is invalid on "code".
func (s *Sessions) ConfirmTOTP(ctx context.Context, p Principal, code string) ([]config.Secret, error) {
	if err := selfOnly(p); err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	t, err := s.store.AdminTOTP(ctx, p.AdminID())
	if errors.Is(err, store.ErrNotFound) || err == nil && t.EnabledAt != nil {
		return nil, fmt.Errorf("confirm totp: %w", invalid("code", "start the enrolment first"))
	} else if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	secret, err := s.unseal(p.AdminID(), t.SecretSealed)
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", invalid("code", "start the enrolment again"))
	}
	step, ok := matchStep(secret, strings.TrimSpace(code), s.now())
	if !ok {
		return nil, fmt.Errorf("confirm totp: %w", invalid("code", "not the code the app shows now"))
	}
	codes, sums, err := newRecoveryCodes()
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		fresh, err := tx.UseTOTPStep(ctx, p.AdminID(), step, true)
		if err != nil {
			return err
		}
		if !fresh {
			return invalid("code", "that code was used already; wait for the next one")
		}
		if err := tx.SetRecoveryCodes(ctx, p.AdminID(), sums); err != nil {
			return err
		}
		return auditSelf(ctx, tx, p, "auth.totp_enable")
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	return codes, nil
}

// newRecoveryCodes returns fresh recovery codes (XXXX-XXXX-XXXX-XXXX) and their SHA-256s.
func newRecoveryCodes() ([]config.Secret, [][]byte, error) {
	codes := make([]config.Secret, recoveryCodes)
	sums := make([][]byte, recoveryCodes)
	for i := range codes {
		raw := make([]byte, 10)
		if _, err := rand.Read(raw); err != nil {
			return nil, nil, err
		}
		c := b32.EncodeToString(raw) // 16 characters
		codes[i] = config.Secret(c[0:4] + "-" + c[4:8] + "-" + c[8:12] + "-" + c[12:16])
		sums[i] = recoverySum(c)
	}
	return codes, sums, nil
}

// DisableTOTP removes p's second factor (its recovery codes with it) after checking p's
// password again: a stolen browser session alone cannot turn it off. A wrong password is
// invalid on "password".
func (s *Sessions) DisableTOTP(ctx context.Context, p Principal, password string) error {
	if err := selfOnly(p); err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	admin, err := s.store.AdminByID(ctx, p.AdminID())
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	if _, err := s.checkPassword(ctx, admin.Username, password); errors.Is(err, ErrUnauthenticated) {
		return fmt.Errorf("disable totp: %w", invalid("password", "wrong password"))
	} else if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	err = s.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := tx.DeleteTOTP(ctx, p.AdminID()); err != nil {
			return err
		}
		return auditSelf(ctx, tx, p, "auth.totp_disable")
	})
	if err != nil {
		return fmt.Errorf("disable totp: %w", err)
	}
	return nil
}

// SecondFactorStatus says whether admin adminID has a second factor and how many recovery
// codes it has left.
func (s *Sessions) SecondFactorStatus(ctx context.Context, adminID int64) (TOTPStatus, error) {
	on, err := s.hasSecondFactor(ctx, adminID)
	if err != nil || !on {
		return TOTPStatus{}, err
	}
	n, err := s.store.RecoveryCodesLeft(ctx, adminID)
	return TOTPStatus{Enabled: true, RecoveryCodes: n}, err
}
