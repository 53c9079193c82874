package player

import (
	"net/http"
	"testing"

	"github.com/xtreamd/xtreamd/internal/access"
)

// TestAnswers_EveryCode pins each surface's answer to every check code (STYLE C8): OK serves,
// nothing else ever does.
func TestAnswers_EveryCode(t *testing.T) {
	t.Parallel()
	for _, code := range access.AllCodes() {
		api, playlist, guide := apiAnswer(code), playlistAnswer(code), guideAnswer(code)
		var wantAPI, wantPlaylist, wantGuide answer
		switch code {
		case access.OK:
			wantAPI, wantPlaylist, wantGuide = answer{kind: answerServe}, answer{kind: answerServe}, answer{kind: answerServe}
		case access.UserExpired, access.UserBan, access.UserDisabled:
			wantAPI = answer{kind: answerLogin, status: http.StatusOK}
			wantPlaylist = answer{kind: answerBody, status: http.StatusNotFound}
			wantGuide = answer{kind: answerBody, status: http.StatusUnauthorized}
		case access.FloodBlocked:
			wantAPI = answer{kind: answerBody, status: http.StatusForbidden}
			wantPlaylist, wantGuide = wantAPI, wantAPI
		default: // AUTH_FAILED, the policy refusals and the stream-only codes
			wantAPI = answer{kind: answerBody, status: http.StatusOK, body: authFailedBody}
			wantPlaylist = answer{kind: answerBody, status: http.StatusNotFound}
			wantGuide = answer{kind: answerBody, status: http.StatusUnauthorized}
		}
		for _, c := range []struct {
			surface   string
			got, want answer
		}{{"player_api/panel_api", api, wantAPI}, {"get.php", playlist, wantPlaylist}, {"xmltv/enigma2", guide, wantGuide}} {
			if c.got.kind != c.want.kind || c.got.status != c.want.status || string(c.got.body) != string(c.want.body) {
				t.Errorf("%s answer for %s = %+v, want %+v", c.surface, code, c.got, c.want)
			}
		}
		if code != access.OK && (api.kind == answerServe || playlist.kind == answerServe || guide.kind == answerServe) {
			t.Errorf("%s is served", code)
		}
	}
	// A code added later fails closed.
	if a := apiAnswer(access.Code(200)); a.kind != answerBody || string(a.body) != string(authFailedBody) {
		t.Errorf("apiAnswer(unknown code) = %+v, want the auth:0 body", a)
	}
}

func TestStatusFor(t *testing.T) {
	t.Parallel()
	for code, want := range map[access.Code]string{
		access.OK: "Active", access.UserExpired: "Expired", access.UserBan: "Banned", access.UserDisabled: "Disabled",
	} {
		if got := statusFor(code); got != want {
			t.Errorf("statusFor(%s) = %q, want %q", code, got, want)
		}
	}
}
