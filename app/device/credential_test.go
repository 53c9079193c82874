package device_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
)

// TestDeviceCredential_PlaysAsItsLine: the device credential logs in on player_api.php exactly
// like the line (the username it sent is echoed, so the player builds its URLs with it), opens
// streams, and shares the line's max_connections with the line's own password: whichever holds
// the one slot, the other is refused from another address.
func TestDeviceCredential_PlaysAsItsLine(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	cred := e.activate(t, e.srv, "tv-1")
	u := e.srv.login(t, cred.Username, cred.Password)
	if u.UserInfo.Auth != 1 || u.UserInfo.Username != cred.Username || u.UserInfo.Status != "Active" ||
		u.UserInfo.MaxConnections != "1" || u.UserInfo.ActiveCons != "0" {
		t.Fatalf("player_api as the device = %+v", u.UserInfo)
	}
	if u := e.srv.login(t, cred.Username, "wrong"+cred.Password); u.UserInfo.Auth != 0 {
		t.Fatalf("a wrong device password logged in")
	}

	// The device holds the slot: the line's own password is refused from another address.
	dev := e.srv.openMovie(t, e.movie, cred.Username, cred.Password, "203.0.113.10")
	if dev.StatusCode != http.StatusOK {
		t.Fatalf("movie as the device = %d", dev.StatusCode)
	}
	if _, err := io.ReadFull(dev.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	// active_cons is reused for a couple of seconds (app/player): it follows the lease soon.
	testdb.Eventually(t, waitLimit, "active_cons of the line counts the device's stream", func() bool {
		return e.srv.login(t, e.line.Username, e.pass).UserInfo.ActiveCons == "1"
	})
	if r := e.srv.openMovie(t, e.movie, e.line.Username, e.pass, "203.0.113.20"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("movie as the line from another address while the device plays = %d, want 401", r.StatusCode)
	}
	dev.Body.Close()
	testdb.Eventually(t, waitLimit, "the device's slot freed", func() bool {
		return e.srv.login(t, e.line.Username, e.pass).UserInfo.ActiveCons == "0"
	})

	// The line holds the slot: the device is refused from another address.
	own := e.srv.openMovie(t, e.movie, e.line.Username, e.pass, "203.0.113.20")
	if own.StatusCode != http.StatusOK {
		t.Fatalf("movie as the line = %d", own.StatusCode)
	}
	if r := e.srv.openMovie(t, e.movie, cred.Username, cred.Password, "203.0.113.10"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("movie as the device while the line plays elsewhere = %d, want 401", r.StatusCode)
	}
}

// TestDeviceCredential_RevokedOnEveryInstance: a credential revoked through one instance is
// refused by another within a second — its logins and the stream it has open there.
func TestDeviceCredential_RevokedOnEveryInstance(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	a, b := e.srv, e.start(t, envOpts{})
	cred := e.activate(t, a, "tv-1")
	if u := b.login(t, cred.Username, cred.Password); u.UserInfo.Auth != 1 { // b caches it now
		t.Fatalf("login on b = %+v", u.UserInfo)
	}
	movie := b.openMovie(t, e.movie, cred.Username, cred.Password, "203.0.113.10")
	if movie.StatusCode != http.StatusOK {
		t.Fatalf("movie on b = %d", movie.StatusCode)
	}
	if _, err := io.ReadFull(movie.Body, make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	streamEnd := ended(movie)

	out := a.post(t, "/oauth/device/logout", url.Values{"username": {cred.Username}, "password": {cred.Password}}, nil)
	revoked := time.Now()
	if n := out.loggedOut(t); n != 1 {
		t.Fatalf("logout on a revoked %d credentials, want 1", n)
	}
	testdb.Eventually(t, time.Second, "b refuses the revoked credential", func() bool {
		return b.login(t, cred.Username, cred.Password).UserInfo.Auth == 0
	})
	select {
	case at := <-streamEnd:
		if d := at.Sub(revoked); d > time.Second {
			t.Errorf("b's stream ended %v after the revocation, want within 1s", d)
		}
	case <-time.After(time.Second):
		t.Fatal("b's stream of the revoked credential still plays after 1s")
	}
	var reason string
	must(t, e.st.Pool().QueryRow(t.Context(), `SELECT end_reason FROM activity_log WHERE line_id = $1 ORDER BY id DESC LIMIT 1`,
		e.line.ID).Scan(&reason))
	if reason != "device_revoked" {
		t.Errorf("activity log end_reason = %q, want device_revoked", reason)
	}
	// The line itself is untouched.
	if u := b.login(t, e.line.Username, e.pass); u.UserInfo.Auth != 1 {
		t.Fatalf("the line's own login after its device's logout: auth %d", u.UserInfo.Auth)
	}
}

// TestDeviceCredential_AdminListAndRevoke: the admin API lists a line's device credentials and
// revokes one device at a time; a reseller reaches only its own lines; everything is audited.
func TestDeviceCredential_AdminListAndRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	tv, phone := e.activate(t, e.srv, "tv-1"), e.activate(t, e.srv, "phone-1")
	admin := e.adminToken(t, accounts.RoleAdmin)
	path := fmt.Sprintf("/api/v1/lines/%d/device-credentials", e.line.ID)
	a := e.srv.get(t, path, map[string]string{"Authorization": "Bearer " + admin})
	var list struct {
		Items []struct {
			ID       int64   `json:"id"`
			Kind     string  `json:"kind"`
			Username *string `json:"username"`
			DeviceID string  `json:"device_id"`
		} `json:"items"`
	}
	a.json(t, &list)
	if a.status != http.StatusOK || len(list.Items) != 2 || *list.Items[0].Username != tv.Username ||
		list.Items[1].DeviceID != "phone-1" || bytes.Contains(a.body, []byte("argon2")) {
		t.Fatalf("list = %d %s", a.status, a.body)
	}
	reseller := e.adminToken(t, accounts.RoleReseller)
	if r := e.srv.get(t, path, map[string]string{"Authorization": "Bearer " + reseller}); r.status != http.StatusForbidden {
		t.Fatalf("a reseller's list of another's line = %d %s, want 403", r.status, r.body)
	}
	del := func(id int64, tok string) answer {
		req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s%s/%d", e.srv.base, path, id), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return do(t, nil, req)
	}
	if r := del(list.Items[0].ID, reseller); r.status != http.StatusForbidden {
		t.Fatalf("a reseller's revocation on another's line = %d", r.status)
	}
	if r := del(list.Items[0].ID, admin); r.status != http.StatusNoContent {
		t.Fatalf("revoke = %d %s", r.status, r.body)
	}
	if r := del(list.Items[0].ID, admin); r.status != http.StatusNotFound {
		t.Fatalf("revoke again = %d %s, want 404", r.status, r.body)
	}
	testdb.Eventually(t, time.Second, "the revoked tv refused", func() bool {
		return e.srv.login(t, tv.Username, tv.Password).UserInfo.Auth == 0
	})
	if u := e.srv.login(t, phone.Username, phone.Password); u.UserInfo.Auth != 1 {
		t.Fatal("revoking the tv signed the phone out too")
	}
	var got []store.AuditEntry
	for _, prefix := range []string{"device_code.", "device_credential."} {
		entries, err := e.st.SearchAudit(t.Context(), store.AuditFilter{Action: prefix})
		must(t, err)
		got = append(got, entries...)
	}
	actions := map[string]int{}
	for _, en := range got {
		actions[en.Action]++
		if b, _ := json.Marshal(en.Detail); bytes.Contains(b, []byte(tv.Password)) || bytes.Contains(b, []byte("argon2")) {
			t.Errorf("audit entry %s holds a secret: %s", en.Action, b)
		}
	}
	if actions["device_code.approve"] != 2 || actions["device_credential.create"] != 2 || actions["device_credential.revoke"] != 1 {
		t.Errorf("audit actions = %v", actions)
	}
}

// adminToken makes an admin account of role and logs it in through the API.
func (e *env) adminToken(t testing.TB, role accounts.Role) string {
	t.Helper()
	acc := accounts.New(e.st, accounts.Options{Params: testdb.FastHashParams})
	name := fmt.Sprintf("%s%d", role, e.n.Add(1))
	creds, err := acc.CreateAdmin(context.Background(), accounts.NewAdmin{Username: name, Role: role})
	must(t, err)
	body, _ := json.Marshal(map[string]string{"username": name, "password": creds.Password.Reveal()})
	req, _ := http.NewRequest(http.MethodPost, e.srv.base+"/api/v1/auth/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	a := do(t, nil, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	a.json(t, &tok)
	if a.status != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("login = %d %s", a.status, a.body)
	}
	return tok.AccessToken
}

// TestDeviceFlow_MAGBox: a MAG box sends its MAC; the approval binds it to the line, the poll
// says so once, and revoking the credential unbinds the box.
func TestDeviceFlow_MAGBox(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	const mac = "00:1a:79:ab:cd:ef"
	g := e.srv.requestCode(t, "ignored", url.Values{"mac": {mac}, "device_name": {"MAG322"}})
	b := e.srv.browser(t, "198.51.100.7")
	page, _ := b.open(t, g.UserCode)
	if !strings.Contains(string(page.body), "MAG box 00:1A:79:**:**:**") || strings.Contains(string(page.body), "AB:CD:EF") {
		t.Fatalf("page does not show the masked box: %s", page.body)
	}
	e.approve(t, e.srv, g.UserCode, e.line.Username, e.pass)
	d, err := e.st.DeviceRecordByMAC(t.Context(), "00:1A:79:AB:CD:EF")
	if err != nil || d.LineID != e.line.ID {
		t.Fatalf("MAG device after approval = %+v, %v", d, err)
	}
	a := e.srv.poll(t, g.DeviceCode)
	var cred issued
	a.json(t, &cred)
	if a.status != http.StatusOK || cred.TokenType != "mag" || cred.MAC != "00:1A:79:AB:CD:EF" ||
		cred.PortalURL != "http://tv.example.com:8080/c/" || cred.Password != "" {
		t.Fatalf("poll = %d %s", a.status, a.body)
	}
	e.age(t, "00:1A:79:AB:CD:EF", time.Minute)
	if e := e.srv.poll(t, g.DeviceCode).oauth(t); e.Error != "invalid_grant" {
		t.Fatalf("second poll = %+v, want invalid_grant", e)
	}
	// Another line cannot take the box.
	other, otherPass := testdb.NewLine(t, e.st, nil)
	g2 := e.srv.requestCode(t, "ignored", url.Values{"mac": {mac}})
	b2 := e.srv.browser(t, "198.51.100.8")
	_, csrf := b2.open(t, g2.UserCode)
	if r := b2.submit(t, csrf, g2.UserCode, "approve", other.Username, otherPass); r.status != http.StatusConflict ||
		!strings.Contains(string(r.body), "another subscription") {
		t.Fatalf("approving a box of another line = %d %s", r.status, r.body)
	}
	admin := e.adminToken(t, accounts.RoleAdmin)
	creds, err := e.st.LineDeviceCredentials(t.Context(), e.line.ID)
	if err != nil || len(creds) != 1 || creds[0].Kind != "mag" || *creds[0].MAC != "00:1A:79:AB:CD:EF" {
		t.Fatalf("credentials = %+v, %v", creds, err)
	}
	req, _ := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/api/v1/lines/%d/device-credentials/%d", e.srv.base, e.line.ID, creds[0].ID), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	if r := do(t, nil, req); r.status != http.StatusNoContent {
		t.Fatalf("revoke the box = %d %s", r.status, r.body)
	}
	if _, err := e.st.DeviceRecordByMAC(t.Context(), "00:1A:79:AB:CD:EF"); err == nil {
		t.Fatal("the box is still bound after its credential was revoked")
	}
}
