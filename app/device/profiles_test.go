package device_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

// partnerClient is a partner client (internal/partner) registered on the test's database as
// the admin API registers one, and an access token of it from an instance's /o/client/token.
type partnerClient struct {
	id  string // its client id: the path's {partner}, and the client_id of its devices' codes
	tok string
}

// newPartner registers partner name with grant g (networks: loopback when g names none) and
// returns it once in knows it (it follows by NOTIFY) and issued it an access token.
func (e *env) newPartner(t testing.TB, in *instance, name string, g partner.Grant) partnerClient {
	t.Helper()
	keys, err := token.NewKeyring([]byte(tokenSecret), 1)
	must(t, err)
	svc, err := partner.New(partner.Options{Store: e.st, Secret: []byte(tokenSecret), Media: keys})
	must(t, err)
	if len(g.AllowedIPs) == 0 {
		g.AllowedIPs = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	}
	creds, err := svc.Create(context.Background(), audit.CLI, name, g)
	must(t, err)
	pc := partnerClient{id: creds.Partner.ClientID}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(pc.id+":"+creds.Secret.Reveal()))
	testdb.Eventually(t, waitLimit, "the partner client known at "+in.base, func() bool {
		a := in.post(t, "/o/client/token", url.Values{"grant_type": {"client_credentials"}}, map[string]string{"Authorization": basic})
		var out struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(a.body, &out)
		pc.tok = out.AccessToken
		return a.status == http.StatusOK && pc.tok != ""
	})
	return pc
}

// bearer is the partner's Authorization header, with more headers.
func (p partnerClient) bearer(more ...string) map[string]string {
	h := map[string]string{"Authorization": "Bearer " + p.tok}
	for i := 0; i+1 < len(more); i += 2 {
		h[more[i]] = more[i+1]
	}
	return h
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
	e := newEnv(t, envOpts{})
	other, _, err := e.st.EnsureBouquet(context.Background(), "Other")
	must(t, err)
	profiles := []string{partner.ScopeProfiles}
	tv := e.newPartner(t, e.srv, "TV shop", partner.Grant{Scopes: profiles, BouquetIDs: []int64{e.bouquet}})
	rival := e.newPartner(t, e.srv, "Rival", partner.Grant{Scopes: partner.Scopes, BouquetIDs: []int64{e.bouquet}})
	noScope := e.newPartner(t, e.srv, "Decisions only", partner.Grant{Scopes: []string{partner.ScopeDecisions}, BouquetIDs: []int64{e.bouquet}})
	elsewhere := e.newPartner(t, e.srv, "Elsewhere", partner.Grant{Scopes: profiles, BouquetIDs: []int64{other}})

	e.srv.client = tv.id
	g := e.srv.requestCode(t, "tv-1", nil)
	poll := func(p partnerClient, path, code string, more ...string) answer {
		return e.srv.get(t, "/api/v2/"+path+"/profiles/code/"+url.PathEscape(code), p.bearer(more...))
	}
	var st codeState
	a := poll(tv, tv.id, g.UserCode)
	a.json(t, &st)
	if a.status != http.StatusOK || st.Status != "pending" || st.Profile != nil ||
		st.NotAfter < time.Now().Unix() || st.NotAfter > time.Now().Add(30*time.Minute).Unix() {
		t.Fatalf("pending = %d %s", a.status, a.body)
	}
	for _, tt := range []struct {
		name   string
		p      partnerClient
		path   string
		code   string
		more   []string
		status int
	}{
		{"no token", partnerClient{}, tv.id, g.UserCode, nil, http.StatusUnauthorized},
		{"unknown token", partnerClient{tok: "nope"}, tv.id, g.UserCode, nil, http.StatusUnauthorized},
		{"another partner's token", rival, tv.id, g.UserCode, nil, http.StatusForbidden},
		{"without the scope", noScope, noScope.id, g.UserCode, nil, http.StatusForbidden},
		{"outside the partner's networks", tv, tv.id, g.UserCode, []string{"X-Forwarded-For", "192.0.2.50"}, http.StatusForbidden},
		{"another partner's code", rival, rival.id, g.UserCode, nil, http.StatusNotFound},
		{"not a code", tv, tv.id, "12345678", nil, http.StatusBadRequest},
	} {
		if a := poll(tt.p, tt.path, tt.code, tt.more...); a.status != tt.status || a.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s (%s), want %d problem", tt.name, a.status, a.body, a.header.Get("Content-Type"), tt.status)
		}
	}
	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
	a = poll(tv, tv.id, g.UserCode)
	a.json(t, &st)
	if st.Status != "authenticated" || st.Profile == nil || st.Profile.Line.ID != e.line.ID || st.Profile.NotAfter != nil ||
		st.Profile.Device.ID != "tv-1" || st.Profile.Device.CredentialID != 0 || st.Profile.NotBefore == 0 {
		t.Fatalf("approved, before the device's poll = %s", a.body)
	}
	if a := e.srv.poll(t, g.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("device poll = %d", a.status)
	}
	poll(tv, tv.id, g.UserCode).json(t, &st)
	if st.Profile == nil || st.Profile.Device.CredentialID == 0 || st.Profile.Device.Username == "" {
		t.Fatalf("after the device's poll the profile names its credential: %+v", st.Profile)
	}

	first := e.srv.requestCode(t, "tv-1", nil)
	second := e.srv.requestCode(t, "tv-1", nil) // supersedes first
	poll(tv, tv.id, first.UserCode).json(t, &st)
	if st.Status != "superseded" {
		t.Fatalf("a superseded code = %q", st.Status)
	}
	testdb.MustExec(t, e.st, `UPDATE device_codes SET expires_at = now() - interval '1 second' WHERE status = 'pending'`)
	poll(tv, tv.id, second.UserCode).json(t, &st)
	if st.Status != "expired" {
		t.Fatalf("an expired code = %q", st.Status)
	}

	// A partner scoped to another bouquet: the line signed in on its device's code is not its.
	e.srv.client = elsewhere.id
	ge := e.srv.requestCode(t, "tv-2", nil)
	e.approve(t, e.srv, ge.UserCode, e.line.Username, e.pass)
	if a := poll(elsewhere, elsewhere.id, ge.UserCode); a.status != http.StatusForbidden {
		t.Fatalf("a profile of a line outside the partner's scope = %d %s", a.status, a.body)
	}
	if a := e.srv.poll(t, ge.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("device poll = %d", a.status)
	}
	var list struct {
		Profiles []json.RawMessage `json:"profiles"`
	}
	path := "/api/v2/" + elsewhere.id + "/profiles"
	a = e.srv.get(t, path, elsewhere.bearer("AP-Device-Identifier", "tv-2"))
	if a.json(t, &list); a.status != http.StatusOK || len(list.Profiles) != 0 {
		t.Fatalf("profiles of a line outside the partner's scope = %d %s", a.status, a.body)
	}
	if a := e.srv.delete(t, path, elsewhere.bearer("AP-Device-Identifier", "tv-2")); a.status != http.StatusForbidden {
		t.Fatalf("logout of a line outside the partner's scope = %d %s", a.status, a.body)
	}
}

// TestProfiles_ListAndLogout: a partner lists a device's profiles by AP-Device-Identifier and
// logs the device out (seed 001 steps 2 and 7): its credential stops working, nothing
// interactive remains.
func TestProfiles_ListAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	tv := e.newPartner(t, e.srv, "TV shop", partner.Grant{Scopes: []string{partner.ScopeProfiles}, LineIDs: []int64{e.line.ID}})
	e.srv.client = tv.id
	cred := e.activate(t, e.srv, "tv-1")
	e.activate(t, e.srv, "phone-1")
	hdr := tv.bearer("AP-Device-Identifier", "tv-1")
	var list struct {
		Profiles []struct {
			Type   string `json:"type"`
			Device struct {
				Username string `json:"username"`
			} `json:"device"`
		} `json:"profiles"`
	}
	a := e.srv.get(t, "/api/v2/"+tv.id+"/profiles", hdr)
	a.json(t, &list)
	if a.status != http.StatusOK || len(list.Profiles) != 1 || list.Profiles[0].Device.Username != cred.Username {
		t.Fatalf("profiles = %d %s", a.status, a.body)
	}
	if a := e.srv.get(t, "/api/v2/"+tv.id+"/profiles", tv.bearer()); a.status != http.StatusBadRequest {
		t.Fatalf("profiles without a device = %d", a.status)
	}
	if n := e.srv.delete(t, "/api/v2/"+tv.id+"/profiles", hdr).loggedOut(t); n != 1 {
		t.Fatalf("logout revoked %d credentials, want 1", n)
	}
	testdb.Eventually(t, time.Second, "the logged-out device refused", func() bool {
		return e.srv.login(t, cred.Username, cred.Password).UserInfo.Auth == 0
	})
	e.srv.get(t, "/api/v2/"+tv.id+"/profiles", hdr).json(t, &list)
	if len(list.Profiles) != 0 {
		t.Fatalf("profiles after logout = %+v", list.Profiles)
	}
	hdr["AP-Device-Identifier"] = "phone-1"
	if e.srv.get(t, "/api/v2/"+tv.id+"/profiles", hdr).json(t, &list); len(list.Profiles) != 1 {
		t.Fatal("logging the tv out logged the phone out too")
	}
}
