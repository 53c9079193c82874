package device

import (
	"errors"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
	activation "github.com/xtreamd/xtreamd/internal/device"
)

// TestSignInRefusal_EveryCode: the page has an answer for every code of the check: only OK
// with a line's own password passes; every refusal is a 4xx with words for the viewer.
func TestSignInRefusal_EveryCode(t *testing.T) {
	t.Parallel()
	line := &access.Line{ID: 1, PasswordHash: "$argon2id$x"}
	for _, code := range access.AllCodes() {
		d := access.Decision{Code: code}
		if code != access.AuthFailed && code != access.FloodBlocked {
			d.Line = line
		}
		status, msg := signInRefusal(d)
		if code == access.OK {
			if msg != "" {
				t.Errorf("OK with the line's password refused: %d %q", status, msg)
			}
			continue
		}
		if msg == "" || status < 400 || status >= 500 {
			t.Errorf("%s = %d %q, want a 4xx refusal with a message", code, status, msg)
		}
	}
	if _, msg := signInRefusal(access.Decision{Code: access.FloodBlocked}); msg != msgTooManyAttempts {
		t.Errorf("FLOOD_BLOCKED says %q", msg)
	}
}

// TestPollError_EveryOutcome: every outcome but Issued has its RFC 8628 / RFC 6749 error.
func TestPollError_EveryOutcome(t *testing.T) {
	t.Parallel()
	want := map[activation.Outcome]string{
		activation.Pending: errAuthorizationPending, activation.SlowDown: errSlowDown, activation.Expired: errExpiredToken,
		activation.Denied: errAccessDenied, activation.Invalid: errInvalidGrant,
	}
	for o, code := range want {
		if got := pollError(o); got.Error != code || got.Description == "" {
			t.Errorf("pollError(%d) = %+v, want %s", o, got, code)
		}
	}
}

func TestDecisionRefusal(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err    error
		status int
	}{
		{activation.ErrNoSuchCode, fiber.StatusGone},
		{activation.ErrDeviceLimit, fiber.StatusConflict},
		{activation.ErrMACTaken, fiber.StatusConflict},
		{activation.ErrLineHasBox, fiber.StatusConflict},
		{errors.New("database down"), fiber.StatusServiceUnavailable},
	} {
		if status, msg := decisionRefusal(tt.err); status != tt.status || msg == "" {
			t.Errorf("decisionRefusal(%v) = %d %q, want %d", tt.err, status, msg, tt.status)
		}
	}
}
