package access

import (
	"log/slog"

	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Identity is who a request says it is: exactly one of Password (or *Password), PortalSession,
// PlayToken or PartnerLine (partner.go). The set is closed (the marker method is unexported)
// so that step 1 handles every kind; a new kind joins it as a new type with its own authenticate function.
// A nil Identity fails step 1.
//
// Each kind prints and logs itself without its secret.
type Identity interface {
	identity()
}

// Password is a line's username and password, as players send them in the query or the path.
type Password struct {
	Username string
	Password string
	// PathAlias: read from a path alias whose first segment a line may be named too
	// (/player_api/{user}/{pass}, /epg/{user}/{pass}), so that a line named so reaches it with
	// its short-form stream URL /{user}/{pass}/{id}, its password read as the username. A
	// refused one is logged (and kept in the client log) without the username.
	PathAlias bool
}

// PortalSession is a MAG box: its MAC address and the Bearer token of its portal handshake.
type PortalSession struct {
	MAC   mag.MAC
	Token string
}

// PlayToken is a signed play or segment token. Kind is the kind the route accepts (0: any);
// the token names the line, and for a stream open also the stream.
type PlayToken struct {
	Token string
	Kind  token.Kind
}

func (Password) identity()      {}
func (PortalSession) identity() {}
func (PlayToken) identity()     {}

// passwordOf is the Password who holds, as a value or through a pointer: a surface that keeps
// the credential in an allocation of its own (app/player: the Password and its strings in
// one) passes the pointer, which the interface holds without boxing a copy of the struct.
func passwordOf(who Identity) (Password, bool) {
	switch p := who.(type) {
	case Password:
		return p, true
	case *Password:
		if p != nil {
			return *p, true
		}
	}
	return Password{}, false
}

// String names the line without the password.
func (p Password) String() string { return "password(" + p.Username + ")" }

// LogValue keeps the password out of log lines.
func (p Password) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String shows the masked MAC, never the portal token.
func (s PortalSession) String() string { return "portal(" + s.MAC.Masked() + ")" }

// LogValue keeps the portal token and the full MAC out of log lines.
func (s PortalSession) LogValue() slog.Value { return slog.StringValue(s.String()) }

// String names the token's kind, never the token.
func (t PlayToken) String() string { return "play_token(" + t.Kind.String() + ")" }

// LogValue keeps the token out of log lines.
func (t PlayToken) LogValue() slog.Value { return slog.StringValue(t.String()) }
