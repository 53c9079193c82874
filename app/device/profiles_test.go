package device_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/app/device"
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// partners is a fixed table of partner tokens standing in for the partner clients' own
// authenticator (issue 15's client_credentials JWTs, another package): the routes under test
// only see what device.PartnerAuthenticator says.
type partners map[string]device.Partner

func (p partners) AuthenticatePartner(_ context.Context, r device.PartnerRequest) (device.Partner, error) {
	got, ok := p[r.Bearer]
	switch {
	case !ok:
		return device.Partner{}, device.ErrPartnerUnauthenticated
	case got.ClientID != r.Partner:
		return device.Partner{}, device.ErrPartnerForbidden
	}
	return got, nil
}

type codeState struct {
	Code     string `json:"code"`
	Status   string `json:"status"`
	NotAfter int64  `json:"notAfter"`
	Profile  *struct {
		Type      string `json:"type"`
		NotBefore int64  `json:"notBefore"`
		NotAfter  *int64 `json:"notAfter"`
		Line      struct {
			ID       int64  `json:"id"`
			Username string `json:"username"`
		} `json:"line"`
		Device struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			CredentialID int64  `json:"credentialId"`
			Username     string `json:"username"`
		} `json:"device"`
	} `json:"profile"`
}

// TestProfiles_PollByCode: a partner polls its code's outcome (seed 001 step 4): pending with
// the code's notAfter, then the authenticated profile; a superseded code says so; another
// partner sees nothing of it; a line outside the partner's scope is not shown.
func TestProfiles_PollByCode(t *testing.T) {
	t.Parallel()
	var outOfScope int64
	ps := partners{
		"tok-tv":    {ClientID: clientID, Scopes: []string{"profiles"}, MayActFor: func(l *access.Line) bool { return l.ID != outOfScope }},
		"tok-other": {ClientID: "other-app", Scopes: []string{"*"}},
		"tok-noscp": {ClientID: clientID, Scopes: []string{"decisions"}},
	}
	e := newEnv(t, envOpts{partners: ps})
	g := e.srv.requestCode(t, "tv-1", nil)
	poll := func(tok, partner, code string) answer {
		return e.srv.get(t, "/api/v2/"+partner+"/profiles/code/"+url.PathEscape(code), map[string]string{"Authorization": "Bearer " + tok})
	}
	var st codeState
	a := poll("tok-tv", clientID, g.UserCode)
	a.json(t, &st)
	if a.status != http.StatusOK || st.Status != "pending" || st.Profile != nil ||
		st.NotAfter < time.Now().Unix() || st.NotAfter > time.Now().Add(30*time.Minute).Unix() {
		t.Fatalf("pending = %d %s", a.status, a.body)
	}
	for _, tt := range []struct {
		name, tok, partner, code string
		status                   int
	}{
		{"no token", "", clientID, g.UserCode, http.StatusUnauthorized},
		{"unknown token", "nope", clientID, g.UserCode, http.StatusUnauthorized},
		{"another partner's path", "tok-tv", "other-app", g.UserCode, http.StatusForbidden},
		{"without the scope", "tok-noscp", clientID, g.UserCode, http.StatusForbidden},
		{"another partner's code", "tok-other", "other-app", g.UserCode, http.StatusNotFound},
		{"not a code", "tok-tv", clientID, "12345678", http.StatusBadRequest},
	} {
		if a := poll(tt.tok, tt.partner, tt.code); a.status != tt.status || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s (%s), want %d problem", tt.name, a.status, a.body, a.header.Get("Content-Type"), tt.status)
		}
	}
	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
	a = poll("tok-tv", clientID, g.UserCode)
	a.json(t, &st)
	if st.Status != "authenticated" || st.Profile == nil || st.Profile.Line.ID != e.line.ID || st.Profile.NotAfter != nil ||
		st.Profile.Device.ID != "tv-1" || st.Profile.Device.CredentialID != 0 || st.Profile.NotBefore == 0 {
		t.Fatalf("approved, before the device's poll = %s", a.body)
	}
	if a := e.srv.poll(t, g.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("device poll = %d", a.status)
	}
	poll("tok-tv", clientID, g.UserCode).json(t, &st)
	if st.Profile == nil || st.Profile.Device.CredentialID == 0 || st.Profile.Device.Username == "" {
		t.Fatalf("after the device's poll the profile names its credential: %+v", st.Profile)
	}

	first := e.srv.requestCode(t, "tv-1", nil)
	second := e.srv.requestCode(t, "tv-1", nil) // supersedes first
	poll("tok-tv", clientID, first.UserCode).json(t, &st)
	if st.Status != "superseded" {
		t.Fatalf("a superseded code = %q", st.Status)
	}
	testdb.MustExec(t, e.st, `UPDATE device_codes SET expires_at = now() - interval '1 second' WHERE status = 'pending'`)
	poll("tok-tv", clientID, second.UserCode).json(t, &st)
	if st.Status != "expired" {
		t.Fatalf("an expired code = %q", st.Status)
	}
	outOfScope = e.line.ID
	if a := poll("tok-tv", clientID, g.UserCode); a.status != http.StatusForbidden {
		t.Fatalf("a profile of a line outside the partner's scope = %d %s", a.status, a.body)
	}
}

// TestProfiles_ListAndLogout: a partner lists a device's profiles by AP-Device-Identifier and
// logs the device out (seed 001 steps 2 and 7): its credential stops working, nothing
// interactive remains.
func TestProfiles_ListAndLogout(t *testing.T) {
	t.Parallel()
	ps := partners{"tok-tv": {ClientID: clientID, Scopes: []string{"profiles"}}}
	e := newEnv(t, envOpts{partners: ps})
	cred := e.activate(t, e.srv, "tv-1")
	e.activate(t, e.srv, "phone-1")
	hdr := map[string]string{"Authorization": "Bearer tok-tv", "AP-Device-Identifier": "tv-1"}
	var list struct {
		Profiles []struct {
			Type   string `json:"type"`
			Device struct {
				Username string `json:"username"`
			} `json:"device"`
		} `json:"profiles"`
	}
	a := e.srv.get(t, "/api/v2/"+clientID+"/profiles", hdr)
	a.json(t, &list)
	if a.status != http.StatusOK || len(list.Profiles) != 1 || list.Profiles[0].Device.Username != cred.Username {
		t.Fatalf("profiles = %d %s", a.status, a.body)
	}
	if a := e.srv.get(t, "/api/v2/"+clientID+"/profiles", map[string]string{"Authorization": "Bearer tok-tv"}); a.status != http.StatusBadRequest {
		t.Fatalf("profiles without a device = %d", a.status)
	}
	req, _ := http.NewRequest(http.MethodDelete, e.srv.base+"/api/v2/"+clientID+"/profiles", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	out := do(t, nil, req)
	var lo struct {
		ActionName string `json:"actionName"`
		ActionType string `json:"actionType"`
		Revoked    int    `json:"revoked"`
	}
	out.json(t, &lo)
	if out.status != http.StatusOK || lo.ActionType != "none" || lo.Revoked != 1 {
		t.Fatalf("logout = %d %s", out.status, out.body)
	}
	testdb.Eventually(t, time.Second, "the logged-out device refused", func() bool {
		return e.srv.login(t, cred.Username, cred.Password).UserInfo.Auth == 0
	})
	e.srv.get(t, "/api/v2/"+clientID+"/profiles", hdr).json(t, &list)
	if len(list.Profiles) != 0 {
		t.Fatalf("profiles after logout = %+v", list.Profiles)
	}
	hdr["AP-Device-Identifier"] = "phone-1"
	if e.srv.get(t, "/api/v2/"+clientID+"/profiles", hdr).json(t, &list); len(list.Profiles) != 1 {
		t.Fatal("logging the tv out logged the phone out too")
	}
}
