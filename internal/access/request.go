package access

import (
	"net/netip"

	"github.com/xtreamd/xtreamd/internal/conns"
	"github.com/xtreamd/xtreamd/internal/token"
)

// Request is what a surface knows about a request.
type Request struct {
	// Who identifies the line (step 1).
	Who Identity

	ClientIP  netip.Addr
	UserAgent string
	// Surface names the caller in the client log: player_api, get, xmltv, stream, portal ...
	// (the app/edge surface names).
	Surface string

	// StreamOpen asks for steps 9 and 10 and a connection lease for StreamID.
	StreamOpen bool
	// Probe asks for step 10 alone, in memory and without a lease: may the line open StreamID?
	// (HEAD on a movie reports its size only then.) Ignored when StreamOpen is set.
	Probe bool
	// ProbeSlots, with Probe, runs step 9 first, read-only: would the line's connection limit
	// admit an open from ClientIP now, under the connection policy? No slot is taken (a partner's
	// decision answers before its viewer opens anything); the open decides again under the
	// line's lock.
	ProbeSlots bool
	StreamID   int64
	// Format is the live output format asked for ("ts", "m3u8"), checked against the line's
	// allowed formats; empty for VOD, series and anything else.
	Format string
	// Container is the lease's container: conns.ContainerTS, HLS, VOD or Timeshift.
	Container string

	// each marks CheckEach's probe, whose step 10 runs per stream after the shared steps.
	each bool
}

// Decision is the check's answer. A denial is a Decision, not an error.
type Decision struct {
	Code Code
	// Line is set unless Code is AuthFailed or FloodBlocked.
	Line *Line
	// Lease is set only for a stream open that passed every step. Release it when the viewer
	// goes (HLS sessions end by themselves when their polls stop).
	Lease *conns.Lease
	// Country and ISP of the client, when GeoIP knows them (for logs and the activity log).
	Country string
	ISP     string
	// PlayClaims are the verified claims of a play token request.
	PlayClaims token.Claims

	// cred is the issuing credential of a portal session or play token (zero for a password:
	// IssuingCredential derives it from the line).
	cred token.Credential
}
