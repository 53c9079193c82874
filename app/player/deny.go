package player

import (
	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/access"
)

// answerKind is what a surface does with the outcome of a check.
type answerKind uint8

const (
	// answerServe runs the request: the check passed.
	answerServe answerKind = iota
	// answerLogin ignores the action and answers the login object with the line's status
	// (player_api / panel_api for expired, banned and disabled lines: spec §1.2, §7 #14).
	answerLogin
	// answerBody answers status and body as given (body nil: empty).
	answerBody
)

// answer is a surface's reply to a check outcome.
type answer struct {
	kind   answerKind
	status int
	body   []byte
}

// authFailedBody is XC 2.9's answer to wrong credentials (spec §1.2, §7 #1): auth is an int.
var authFailedBody = []byte(`{"user_info":{"auth":0}}`)

// apiAnswer maps a check code to player_api.php's and panel_api.php's answer (spec §1.2, §3.3).
// It is the only place that does.
//
//   - OK: serve.
//   - USER_EXPIRED, USER_BAN, USER_DISABLED: the line still "logs in" (auth 1) with status
//     Expired / Banned / Disabled, every action ignored, as XC 2.9 does: players show the
//     status instead of "wrong password".
//   - FLOOD_BLOCKED: 403 with an empty body. The IP is blocked for failed-login floods before
//     its credentials are even looked at, so there is no login to report; XC dropped such
//     clients at the firewall, and a bare 403 tells an operator debugging a client why.
//   - AUTH_FAILED and every policy refusal (IP_BAN, COUNTRY_DISALLOW, USER_AGENT_BAN,
//     ISP_LOCK_FAILED): {"user_info":{"auth":0}} with 200, the one failure every client
//     understands. XC's player_api never ran those checks, so it has no answer of its own;
//     saying "auth 0" rather than why keeps the policy opaque to a probing client.
//   - The stream-open codes (USER_ALREADY_CONNECTED, NOT_IN_BOUQUET, USER_DISALLOW_EXT,
//     HLS_SESSION_ENDED) never come from a list or login check; should one appear, or any code
//     added later, the request fails closed as auth 0.
func apiAnswer(code access.Code) answer {
	switch code {
	case access.OK:
		return answer{kind: answerServe}
	case access.UserExpired, access.UserBan, access.UserDisabled:
		return answer{kind: answerLogin, status: fiber.StatusOK}
	case access.FloodBlocked:
		return answer{kind: answerBody, status: fiber.StatusForbidden}
	default:
		return answer{kind: answerBody, status: fiber.StatusOK, body: authFailedBody}
	}
}

// playlistAnswer maps a check code to get.php's answer (spec §3.1, §7 #20): any failure is
// 404 with an empty body — expired, banned and disabled lines included, since a playlist of
// URLs that would all be refused helps nobody — except FLOOD_BLOCKED, 403 as on every surface.
func playlistAnswer(code access.Code) answer { return emptyAnswer(code, fiber.StatusNotFound) }

// guideAnswer maps a check code to xmltv.php's and enigma2.php's answer (spec §3.2, §3.4):
// 401 with an empty body for every failure, FLOOD_BLOCKED 403.
func guideAnswer(code access.Code) answer { return emptyAnswer(code, fiber.StatusUnauthorized) }

// emptyAnswer serves OK and answers every failure with status and an empty body, except
// FLOOD_BLOCKED, which is 403 on every surface.
func emptyAnswer(code access.Code, status int) answer {
	switch code {
	case access.OK:
		return answer{kind: answerServe}
	case access.FloodBlocked:
		return answer{kind: answerBody, status: fiber.StatusForbidden}
	default:
		return answer{kind: answerBody, status: status}
	}
}

// statusFor is user_info.status for a line the check let log in (spec §1.2): exactly Active,
// Expired, Banned or Disabled.
func statusFor(code access.Code) string {
	switch code {
	case access.UserExpired:
		return "Expired"
	case access.UserBan:
		return "Banned"
	case access.UserDisabled:
		return "Disabled"
	}
	return "Active"
}
