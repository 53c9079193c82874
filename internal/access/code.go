// Package access is THE security check: one entry point, Check, that every surface (player
// API, streams, MAG portal) calls, running the ordered ten steps of DESIGN §2 — first failure
// wins — against PostgreSQL lines, GeoIP and connection leases. A Request names its line by an
// Identity (Password, PortalSession or PlayToken); each step is one small function, called in
// table order by check (steps.go), and step 1 has one function per identity kind (auth.go).
// A stream that opened stays answerable to the line's current state: it is registered, and
// decided again in memory whenever something it depends on changes (reauth.go, recheck.go).
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

// codeTable names each code as the original panel logs it and, for the codes a re-check of an
// open stream can give, the reason the activity log records when it ends the stream.
var codeTable = [numCodes]struct{ name, endReason string }{
	OK:                   {"OK", ""},
	AuthFailed:           {"AUTH_FAILED", ""},
	UserExpired:          {"USER_EXPIRED", "expired"},
	UserBan:              {"USER_BAN", "banned"},
	UserDisabled:         {"USER_DISABLED", "disabled"},
	IPBan:                {"IP_BAN", "ip_ban"},
	CountryDisallow:      {"COUNTRY_DISALLOW", "country_disallow"},
	UserAgentBan:         {"USER_AGENT_BAN", "user_agent_ban"},
	ISPLockFailed:        {"ISP_LOCK_FAILED", "isp_lock_failed"},
	UserAlreadyConnected: {"USER_ALREADY_CONNECTED", ""},
	NotInBouquet:         {"NOT_IN_BOUQUET", "not_in_bouquet"},
	FormatDisallowed:     {"USER_DISALLOW_EXT", "format_disallowed"},
	FloodBlocked:         {"FLOOD_BLOCKED", ""},
	SessionEnded:         {"HLS_SESSION_ENDED", ""},
}

// String is the code's name as the original panel logs it, e.g. "USER_EXPIRED".
func (c Code) String() string {
	if c < numCodes {
		return codeTable[c].name
	}
	return "UNKNOWN"
}

// EndReason is the activity log's reason for an open stream that a re-check refused with c
// ("banned", "expired" ...); "" for codes a re-check never gives.
func (c Code) EndReason() string {
	if c < numCodes {
		return codeTable[c].endReason
	}
	return ""
}

// AllCodes lists every code, for surfaces' mapping tests.
func AllCodes() []Code {
	out := make([]Code, 0, numCodes)
	for c := OK; c < numCodes; c++ {
		out = append(out, c)
	}
	return out
}
