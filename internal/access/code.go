// Package access is THE security check: one entry point, Check, that every surface (player
// API, streams, MAG portal) calls, running the ordered ten steps of DESIGN §2 — first failure
// wins — against PostgreSQL lines, GeoIP and connection leases. A Request names its line by an
// Identity (Password, PortalSession or PlayToken); each step is one small function, called in
// table order by check (steps.go), and step 1 has one function per identity kind (auth.go).
package access

// Code is the outcome of a check: OK or the first failing rule.
type Code uint8

// The codes, in check order. FloodBlocked is decided before step 1 (an IP blocked for
// failed-login floods is not even authenticated, so it cannot burn CPU on hashing);
// FormatDisallowed between steps 8 and 9 (a format the line may not use never takes a slot);
// SessionEnded when a killed or replaced HLS session polls again.
const (
	OK Code = iota
	AuthFailed
	UserExpired
	UserBan
	UserDisabled
	IPBan
	CountryDisallow
	UserAgentBan
	ISPLockFailed
	UserAlreadyConnected
	NotInBouquet
	FormatDisallowed
	FloodBlocked
	SessionEnded
	numCodes
)

var codeNames = [numCodes]string{
	OK:                   "OK",
	AuthFailed:           "AUTH_FAILED",
	UserExpired:          "USER_EXPIRED",
	UserBan:              "USER_BAN",
	UserDisabled:         "USER_DISABLED",
	IPBan:                "IP_BAN",
	CountryDisallow:      "COUNTRY_DISALLOW",
	UserAgentBan:         "USER_AGENT_BAN",
	ISPLockFailed:        "ISP_LOCK_FAILED",
	UserAlreadyConnected: "USER_ALREADY_CONNECTED",
	NotInBouquet:         "NOT_IN_BOUQUET",
	FormatDisallowed:     "USER_DISALLOW_EXT",
	FloodBlocked:         "FLOOD_BLOCKED",
	SessionEnded:         "HLS_SESSION_ENDED",
}

// String is the code's name as the original panel logs it, e.g. "USER_EXPIRED".
func (c Code) String() string {
	if c < numCodes {
		return codeNames[c]
	}
	return "UNKNOWN"
}

// AllCodes lists every code, for surfaces' mapping tests.
func AllCodes() []Code {
	out := make([]Code, 0, numCodes)
	for c := OK; c < numCodes; c++ {
		out = append(out, c)
	}
	return out
}
