package portal

import "github.com/xtreamd/xtreamd/internal/access"

// class is how an action takes a refusal.
type class uint8

const (
	// classProfile: stb/get_profile, whose refusal is a profile with status 1 (spec §5.3).
	classProfile class = iota
	// classTolerant: what Ministra answers even for a blocked account — localization,
	// modules, the watchdog, account info, log, logout, the set_* calls — so the box can show
	// its cut-off screen, the expiry and the operator's messages.
	classTolerant
	// classLink: the create_link actions, whose refusal is an "error" the JavaScript client
	// turns into a message (spec §5.4).
	classLink
	// classContent: every other action (lists, EPG, favourites ...).
	classContent
)

// answerKind is what the portal does with a check's outcome.
type answerKind uint8

const (
	answerServe        answerKind = iota // run the action
	answerBlocked                        // get_profile with status 1 and block_msg
	answerAuthFailed                     // the plain-text body "Authorization failed."
	answerAccessDenied                   // the plain-text body "Access denied."
	answerLinkError                      // create_link's {"cmd":"","error":…}
)

// answer is the portal's reply to a check outcome.
type answer struct {
	kind answerKind
	err  string // answerLinkError: the error word the JavaScript client knows
}

// Bodies the stock JavaScript client recognises (spec §5.2, §7 #23): with status 200, it
// turns them into its authentication dialog and its cut-off screen.
var (
	authFailedBody   = []byte("Authorization failed.")
	accessDeniedBody = []byte("Access denied.")
)

// answerFor maps a check code to the portal's answer for an action of class cl. It is the only
// place that does (STYLE C8).
//
//   - OK: serve.
//   - AUTH_FAILED (unknown MAC, wrong or expired token): "Authorization failed." for every
//     action, as Ministra answers; the box re-handshakes or shows its authentication problem.
//   - FLOOD_BLOCKED: "Access denied." (the cut-off screen): the address is blocked before
//     anything is authenticated, so there is no line to report.
//   - A refused line (USER_EXPIRED, USER_BAN, USER_DISABLED, IP_BAN, COUNTRY_DISALLOW,
//     USER_AGENT_BAN, ISP_LOCK_FAILED): get_profile answers status 1 with a block_msg; the
//     tolerant actions are served, so the box shows why; create_link answers access_denied;
//     everything else "Access denied.".
//   - USER_ALREADY_CONNECTED (HasFreeSlot's "no") is create_link's "limit"; NOT_IN_BOUQUET its
//     "nothing_to_play"; USER_DISALLOW_EXT its access_denied.
//   - HLS_SESSION_ENDED, the stream-only codes outside create_link, and any code added later
//     fail closed: access_denied for a link, status 1 for a profile, "Access denied." else.
func answerFor(code access.Code, cl class) answer {
	switch code {
	case access.OK:
		return answer{kind: answerServe}
	case access.AuthFailed:
		return answer{kind: answerAuthFailed}
	case access.FloodBlocked:
		return answer{kind: answerAccessDenied}
	}
	lineRefused := code == access.UserExpired || code == access.UserBan || code == access.UserDisabled ||
		code == access.IPBan || code == access.CountryDisallow || code == access.UserAgentBan ||
		code == access.ISPLockFailed
	switch cl {
	case classProfile:
		return answer{kind: answerBlocked}
	case classTolerant:
		if lineRefused {
			return answer{kind: answerServe}
		}
	case classLink:
		switch code {
		case access.UserAlreadyConnected:
			return answer{kind: answerLinkError, err: "limit"}
		case access.NotInBouquet:
			return answer{kind: answerLinkError, err: "nothing_to_play"}
		}
		return answer{kind: answerLinkError, err: "access_denied"}
	}
	return answer{kind: answerAccessDenied}
}

// blockMessage is get_profile's block_msg for a refused line: what the box shows on its
// cut-off screen. The policy refusals share one wording, so a probing client learns nothing of
// the rule it broke.
func blockMessage(code access.Code) string {
	switch code {
	case access.UserExpired:
		return "Your subscription has expired."
	case access.UserBan:
		return "Your account has been suspended."
	case access.UserDisabled:
		return "Your account is disabled."
	case access.IPBan, access.CountryDisallow, access.UserAgentBan, access.ISPLockFailed:
		return "Access from this location or device is not allowed."
	}
	return "Access denied."
}
