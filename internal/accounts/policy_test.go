package accounts

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/xtreamd/xtreamd/internal/credential"
)

// fieldOf returns the field of a *FieldError in err's chain, "" when there is none.
func fieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}

func TestPolicy_Passwords(t *testing.T) {
	t.Parallel()
	p := DefaultPolicy()
	long := strings.Repeat("x", credential.MaxPasswordLen+1)
	tests := []struct {
		name       string
		check      func(string) error
		password   string
		wantReason string // "" means allowed
	}{
		{"admin 8 characters", p.CheckAdminPassword, "12345678", ""},
		{"admin 7 characters", p.CheckAdminPassword, "1234567", "at least 8 characters"},
		{"admin empty", p.CheckAdminPassword, "", "at least 8 characters"},
		{"admin too long", p.CheckAdminPassword, long, "longer than 1024 bytes"},
		{"admin at the bound", p.CheckAdminPassword, long[1:], ""},
		{"line one character", p.CheckLinePassword, "x", ""},
		{"line empty", p.CheckLinePassword, "", "required"},
		{"line too long", p.CheckLinePassword, long, "longer than 1024 bytes"},
		{"demo admin", DemoPolicy().CheckAdminPassword, "admin", ""},
		{"demo admin empty", DemoPolicy().CheckAdminPassword, "", "required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.check(tt.password)
			var fe *FieldError
			switch {
			case tt.wantReason == "" && err != nil:
				t.Fatalf("check = %v, want allowed", err)
			case tt.wantReason != "" && (!errors.As(err, &fe) || fe.Field != "password" || fe.Reason != tt.wantReason || !errors.Is(err, ErrInvalid)):
				t.Fatalf("check = %v, want invalid password: %s", err, tt.wantReason)
			}
		})
	}
}

func TestUsernames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		check func(string) error
		in    string
		ok    bool
	}{
		{"admin plain", checkAdminUsername, "root", true},
		{"admin email", checkAdminUsername, "ops@example.com", true},
		{"admin space", checkAdminUsername, "a b", false},
		{"admin empty", checkAdminUsername, "", false},
		{"admin 65", checkAdminUsername, strings.Repeat("a", 65), false},
		{"line unicode", checkLineUsername, "jürgen", true},
		{"line 128 runes", checkLineUsername, strings.Repeat("ü", 128), true},
		{"line 129 runes", checkLineUsername, strings.Repeat("ü", 129), false},
		{"line slash", checkLineUsername, "a/b", false},
		{"line percent", checkLineUsername, "a%20", false},
		{"line tab", checkLineUsername, "a\tb", false},
		{"line NUL", checkLineUsername, "a\x00b", false},
		{"line invalid UTF-8", checkLineUsername, "a\xffb", false},
		{"line empty", checkLineUsername, "", false},
		{"line named like a route", checkLineUsername, "player_api", false},
		{"line named like a route, any case", checkLineUsername, "HLS", false},
		{"line merely starting like a route", checkLineUsername, "livewire", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.check(tt.in)
			if (err == nil) != tt.ok || (err != nil && fieldOf(err) != "username") {
				t.Fatalf("check(%q) = %v, want ok %v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want Role
		ok   bool
	}{{"admin", RoleAdmin, true}, {"reseller", RoleReseller, true}, {"viewer", RoleViewer, true}, {"Admin", "", false}, {"", "", false}} {
		got, err := ParseRole(tt.in)
		if got != tt.want || (err == nil) != tt.ok || (err != nil && fieldOf(err) != "role") {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  []byte
		n    int
		want string
	}{
		// 0 → A, 61 → 9, 62 → A again (mod 62); 248 … 255 are rejected to stay uniform.
		{"maps bytes to the alphabet", []byte{0, 61, 62, 25, 26, 51}, 3, "A9A"},
		{"rejects the biased tail", []byte{248, 255, 1, 2, 250, 3}, 3, "BCD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := generate(bytes.NewReader(tt.src), tt.n)
			if err != nil || got != tt.want {
				t.Fatalf("generate = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := generate(iotest.ErrReader(errors.New("no entropy")), 10); err == nil {
		t.Fatal("generate from a failing reader = nil error")
	}
	s := New(nil, Options{})
	pw, err := generate(s.rand, 16)
	if err != nil || len(pw) != 16 || strings.Trim(pw, credentialAlphabet) != "" {
		t.Fatalf("generate(crypto/rand, 16) = %q, %v", pw, err)
	}
}

func TestFieldError(t *testing.T) {
	t.Parallel()
	err := conflict("username", "taken")
	if err.Error() != "username: taken" || !errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalid) {
		t.Fatalf("conflict = %v (Is conflict %v)", err, errors.Is(err, ErrConflict))
	}
	if !errors.Is(notFound("line", "no such line"), ErrNotFound) {
		t.Fatal("notFound is not ErrNotFound")
	}
}
