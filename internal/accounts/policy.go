package accounts

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/input"
)

// Policy is what a password must be and how long generated credentials are. Lengths are in
// bytes, as the argon2id input is; no password may exceed credential.MaxPasswordLen.
type Policy struct {
	AdminMinLen int // an admin password's minimum length
	LineMinLen  int // a line password's minimum length
	// AdminGeneratedLen is the length of a generated admin password.
	AdminGeneratedLen int
	// LineGeneratedLen is the length of a generated line username or password.
	LineGeneratedLen int
}

// DefaultPolicy is production's: admin passwords of at least 8 characters, generated ones of
// 16; line passwords of any length, as players type them on remote controls and the original
// panel accepts any, generated usernames and passwords of 10 characters, as the original
// panel's user create generates them (spec §4.1).
func DefaultPolicy() Policy {
	return Policy{AdminMinLen: 8, LineMinLen: 1, AdminGeneratedLen: 16, LineGeneratedLen: 10}
}

// DemoPolicy is DefaultPolicy without a minimum length: the demo's documented passwords
// ("demo", "admin") are for trying xtreamd out, and --demo says so.
func DemoPolicy() Policy {
	p := DefaultPolicy()
	p.AdminMinLen, p.LineMinLen = 1, 1
	return p
}

// CheckAdminPassword reports whether password may be an admin's: nil, or a *FieldError on
// "password". Callers may check early (before opening a database); every setter checks again.
func (p Policy) CheckAdminPassword(password string) error { return checkLen(password, p.AdminMinLen) }

// CheckLinePassword reports whether password may be a line's.
func (p Policy) CheckLinePassword(password string) error { return checkLen(password, p.LineMinLen) }

func checkLen(password string, minLen int) error {
	switch {
	case password == "" && minLen <= 1:
		return invalid("password", "required")
	case len(password) < minLen:
		return invalid("password", fmt.Sprintf("at least %d characters", minLen))
	case len(password) > credential.MaxPasswordLen:
		return invalid("password", fmt.Sprintf("longer than %d bytes", credential.MaxPasswordLen))
	}
	return nil
}

// adminUsername is the schema's rule for admins (migrations/001_core.sql): login names of
// the admin API and the web page.
var adminUsername = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

func checkAdminUsername(s string) error {
	if !adminUsername.MatchString(s) {
		return invalid("username", "1 to 64 of A-Z a-z 0-9 . _ @ -")
	}
	return nil
}

// checkLineUsername applies the schema's rule for lines (migrations/003_lines.sql): 1 to 128
// characters without / ? # % \ or white space, because usernames travel in URL paths
// (/live/{user}/{pass}/…), and storable text.
func checkLineUsername(s string) error {
	if !input.Text(s, 4*128) || s == "" || utf8.RuneCountInString(s) > 128 ||
		strings.ContainsAny(s, `/?#%\`) || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return invalid("username", `1 to 128 characters, none of / ? # % \ or white space`)
	}
	if reservedLineUsernames[strings.ToLower(s)] {
		return invalid("username", "reserved: it is the first segment of a panel route, so the line's short-form stream URLs /{user}/{pass}/{id} would reach that route instead")
	}
	return nil
}

// reservedLineUsernames are the first path segments of fixed routes (compared without case, as
// the router does): a line named so could not use the short form, and a route such as
// /player_api/{user}/{pass} would read its password as a username.
var reservedLineUsernames = map[string]bool{
	"live": true, "movie": true, "series": true, "timeshift": true, "timeshifts": true, "streaming": true,
	"hls": true, "play": true, "player_api": true, "api": true, "admin": true, "c": true, "server": true,
	"stalker_portal": true, "portal": true, "epg": true, "metrics": true, "healthz": true, "readyz": true,
	"static": true, "o": true,
}

// Role is what an admin account may do.
type Role string

// The roles of today's schema; the admin API gives them their meaning.
const (
	RoleAdmin    Role = "admin"    // everything
	RoleReseller Role = "reseller" // their own lines, within their credits
	RoleViewer   Role = "viewer"   // read only
)

// Roles lists every role.
func Roles() []Role { return []Role{RoleAdmin, RoleReseller, RoleViewer} }

// ParseRole returns the role named s, or a *FieldError on "role".
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", invalid("role", "want admin, reseller or viewer")
}

// credentialAlphabet is what generated usernames and passwords are made of, as the original
// panel makes them: nothing that needs escaping in a URL path or is awkward on a remote.
const credentialAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// generate returns n characters of credentialAlphabet from r, each uniformly chosen.
func generate(r io.Reader, n int) (string, error) {
	const limit = 256 - 256%len(credentialAlphabet) // reject bytes above it to stay uniform
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("generate credential: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, credentialAlphabet[int(c)%len(credentialAlphabet)])
			}
		}
	}
	return string(out), nil
}
