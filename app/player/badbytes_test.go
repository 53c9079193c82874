package player_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadBytes_ReportedNUL is the report of issue 11: a NUL byte as the username answered 503
// and logged an ERROR (PostgreSQL: invalid byte sequence for encoding "UTF8": 0x00) instead of
// failing the login.
func TestBadBytes_ReportedNUL(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, hdr, body := f.get(t, playerAPI+"?username=%00&password=x")
	if code != http.StatusOK || string(body) != authFailed || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("username=%%00 = %d %q (%s), want 200 %s", code, clip(body), hdr.Get("Content-Type"), authFailed)
	}
	if logs := f.logs.String(); strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "invalid byte sequence") {
		t.Errorf("logs:\n%s", logs)
	}
}
