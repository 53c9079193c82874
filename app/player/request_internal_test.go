package player

import (
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestNewCredential: the Password holds exactly the bytes it was given, whether they fit the
// shared buffer (one allocation) or not, and keeps them when the caller's buffer (fasthttp's)
// is reused.
func TestNewCredential(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ user, pass string }{
		{"", ""}, {"u", ""}, {"", "p"}, {"demo", "demo"},
		{strings.Repeat("u", 40), ""}, {"", strings.Repeat("p", 40)}, {strings.Repeat("u", 20), strings.Repeat("p", 20)},
		{strings.Repeat("u", 21), strings.Repeat("p", 20)}, {strings.Repeat("ü", 100), strings.Repeat("p", 300)},
	} {
		user, pass := []byte(tt.user), []byte(tt.pass)
		p := newCredential(user, pass, true)
		for i := range user {
			user[i] = 'X'
		}
		for i := range pass {
			pass[i] = 'Y'
		}
		if p.Username != tt.user || p.Password != tt.pass || !p.PathAlias {
			t.Errorf("newCredential(%d, %d bytes) = %q, %q, %v", len(tt.user), len(tt.pass), p.Username, p.Password, p.PathAlias)
		}
	}
}

// TestNewCredential_OneAllocation: the Password, boxed or not, and both strings cost one.
func TestNewCredential_OneAllocation(t *testing.T) {
	if testkit.RaceDetector {
		t.Skip("the race detector allocates where a plain build does not")
	}
	user, pass := []byte("demo"), []byte("demo-password")
	var who any
	if n := testing.AllocsPerRun(100, func() { who = newCredential(user, pass, false) }); n != 1 {
		t.Errorf("newCredential and its boxing allocate %v times, want 1", n)
	}
	_ = who
}
