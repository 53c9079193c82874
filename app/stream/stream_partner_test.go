package stream_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/partner"
	"github.com/xtreamd/xtreamd/internal/store"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/token"
)

// The partner surface end to end (issue 15): two instances over one database, a partner
// backend registered for the test bouquet calling from partnerHop. The loopback proxy is
// trusted, so X-Forwarded-For "<viewer>, <partnerHop>" names the partner as the caller and the
// viewer before it (seed 001); the test GeoIP databases locate the viewers.

// partnerHop is the partner backend's own address; outsideHop is outside its allowlist.
const (
	partnerHop = "127.0.0.2"
	outsideHop = "192.0.2.50"
	viewerDE   = "198.51.100.7"
)

// partnerEnv is the server pair with a registered partner client.
type partnerEnv struct {
	*env
	peerBase string
	// svc is the test's own partner service over the database: it registers and changes
	// clients as the admin API does, and the servers follow by NOTIFY.
	svc     *partner.Service
	creds   partner.Credentials
	outside store.Line // a line of another bouquet: outside the partner's scope
}

// partnerSec are the security rules the decisions test meets: written before the servers
// start, so their first load has them.
func partnerSec(t *testing.T, e *env) {
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	must(t, e.st.BlockIP(ctx, netip.MustParsePrefix("203.0.113.16/28"), "admin", "test", nil))
	must(t, e.st.BlockIP(ctx, netip.MustParsePrefix("100.64.0.9/32"), "flood", "test", &until))
	must(t, e.st.AddBlockedUserAgent(ctx, "BadBot", "substring"))
	must(t, e.st.AddBlockedISP(ctx, nil, ptr[int64](64501)))
}

// setupPartner starts the pair; settings (JSON values) add to or replace the defaults.
func setupPartner(t *testing.T, settings ...map[string]string) *partnerEnv {
	t.Helper()
	// Denials are what most tests here are about: no bound on them unless a test sets one.
	st := map[string]string{"partner_denials_per_second": "0"}
	for _, m := range settings {
		maps.Copy(st, m)
	}
	country, isp := testdb.GeoDBs(t)
	e := setup(t, envOpts{
		cfg: func(c *config.Config) {
			c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
			c.GeoIPCountryDB, c.GeoIPISPDB = country, isp
		},
		settings: st,
		extra:    partnerSec,
	})
	pe := &partnerEnv{env: e}
	_, pe.peerBase = e.peer()
	svc, err := partner.New(partner.Options{Store: e.st, Secret: []byte(tokenSecret), Media: e.keys})
	must(t, err)
	pe.svc = svc
	pe.creds, err = svc.Create(context.Background(), audit.CLI, "Shop", partner.Grant{Scopes: partner.Scopes,
		BouquetIDs: []int64{e.bouquet}, AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	must(t, err)
	other, _, err := e.st.EnsureBouquet(context.Background(), "Other")
	must(t, err)
	pe.outside, _ = testdb.NewLine(t, e.st, func(in *store.LineInput) { in.BouquetIDs = []int64{other} })
	return pe
}

// tokenRequest asks base's token endpoint for an access token of the partner, from hop.
func (pe *partnerEnv) tokenRequest(t *testing.T, base, hop string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/o/client/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	must(t, err)
	req.SetBasicAuth(pe.creds.Partner.ClientID, pe.creds.Secret.Reveal())
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", hop)
	return sendJSON(t, req)
}

// accessToken is an access token of the partner from base, once base knows the client.
func (pe *partnerEnv) accessToken(t *testing.T, base string) string {
	t.Helper()
	var tok string
	eventually(t, "the partner client known at "+base, func() bool {
		code, out := pe.tokenRequest(t, base, partnerHop)
		tok, _ = out["access_token"].(string)
		return code == http.StatusOK && tok != ""
	})
	return tok
}

// call POSTs body as JSON to the partner's path under base's /api/v2/{partner}/, as the
// partner at hop forwarding viewer, with the extra headers hdr.
func (pe *partnerEnv) call(t *testing.T, base, tok, path, hop, viewer string, body any, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	must(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/api/v2/"+pe.creds.Partner.ClientID+"/"+path, bytes.NewReader(b))
	must(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Forwarded-For", strings.TrimPrefix(viewer+", "+hop, ", "))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return sendJSON(t, req)
}

// sendJSON sends req and decodes its JSON answer (nil when there is none).
func sendJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// errorCode is a decision's code ("" for a permit).
func errorCode(d map[string]any) string {
	if e, ok := d["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// deviceInfo is seed 001's X-Device-Info header of a player.
func deviceInfo(ua string) map[string]string {
	b, _ := json.Marshal(map[string]string{"userAgent": ua, "model": "Test TV"})
	return map[string]string{"X-Device-Info": base64.StdEncoding.EncodeToString(b), "AP-Device-Identifier": "tv-1"}
}

// TestPartner_DecisionEveryCode: decisions/authorize gives every code of the ten steps a
// decision can meet, through access.Check, with its message; a permit comes with a media
// token bound to the viewer and a playback URL that plays for that viewer. A line outside the
// partner's bouquets is AUTH_FAILED: the partner may not act for it. preauthorize answers a
// decision per resource in the order asked.
func TestPartner_DecisionEveryCode(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	plain, _ := pe.newLine(nil)
	expired, _ := pe.newLine(func(in *store.LineInput) { in.ExpDate = ptr(time.Now().Add(-time.Hour)) })
	banned, _ := pe.newLine(func(in *store.LineInput) { in.Banned = true })
	disabled, _ := pe.newLine(func(in *store.LineInput) { in.Disabled = true })
	forcedGB, _ := pe.newLine(func(in *store.LineInput) { in.ForcedCountry = ptr("GB") })
	tsOnly, _ := pe.newLine(func(in *store.LineInput) { in.AllowedOutputFormats = []string{"ts"} })
	busy, busyPass := pe.newLine(func(in *store.LineInput) { in.MaxConnections = 1 })
	holder := viewer{line: busy, pass: busyPass, ip: "198.51.100.50", ua: "Holder/1"}
	resp := holder.get(t, pe.url("/live/%s/%s/%d.ts", busy.Username, busyPass, pe.live))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the busy line's stream = %d", resp.StatusCode)
	}
	readN(t, resp.Body, 188*10)
	tok := pe.accessToken(t, pe.base)

	tests := []struct {
		name   string
		line   any
		stream int64
		format string
		ip     string
		ua     string
		want   string
	}{
		{"permit", plain.ID, pe.live, "", viewerDE, "", ""},
		{"permit by username, HLS", plain.Username, pe.live, "m3u8", viewerDE, "", ""},
		{"line outside the partner's bouquets", pe.outside.ID, pe.live, "", viewerDE, "", "AUTH_FAILED"},
		{"no such line", "nobody", pe.live, "", viewerDE, "", "AUTH_FAILED"},
		{"expired", expired.ID, pe.live, "", viewerDE, "", "USER_EXPIRED"},
		{"banned", banned.ID, pe.live, "", viewerDE, "", "USER_BAN"},
		{"disabled", disabled.ID, pe.live, "", viewerDE, "", "USER_DISABLED"},
		{"blocked network", plain.ID, pe.live, "", "203.0.113.20", "", "IP_BAN"},
		{"forced country", forcedGB.ID, pe.live, "", viewerDE, "", "COUNTRY_DISALLOW"},
		{"blocked user agent", plain.ID, pe.live, "", viewerDE, "BadBot/2", "USER_AGENT_BAN"},
		{"blocked ASN", plain.ID, pe.live, "", "203.0.113.200", "", "ISP_LOCK_FAILED"},
		{"every screen in use", busy.ID, pe.live, "", viewerDE, "", "USER_ALREADY_CONNECTED"},
		{"not in the package", plain.ID, pe.other, "", viewerDE, "", "NOT_IN_BOUQUET"},
		{"format not allowed", tsOnly.ID, pe.live, "m3u8", viewerDE, "", "USER_DISALLOW_EXT"},
		{"viewer blocked for a login flood", plain.ID, pe.live, "", "100.64.0.9", "", "FLOOD_BLOCKED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"line": tt.line, "resource": tt.stream}
			if tt.format != "" {
				body["format"] = tt.format
			}
			code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, tt.ip, body, deviceInfo(tt.ua))
			if code != http.StatusOK || errorCode(out) != tt.want || out["authorized"] != (tt.want == "") {
				t.Fatalf("authorize = %d %v, want 200 with code %q", code, out, tt.want)
			}
			if tt.want != "" {
				if msg, _ := out["error"].(map[string]any)["message"].(string); msg == "" || out["token"] != nil {
					t.Fatalf("a denial = %v, want a message and no token", out)
				}
				return
			}
			play, _ := out["url"].(string)
			pu, err := url.Parse(play)
			if err != nil || pu.Hostname() != "tv.example.com" || !strings.HasPrefix(pu.Path, "/play/") {
				t.Fatalf("url = %q, want a /play link of the public host", play)
			}
			link := pe.base + pu.Path
			v := viewer{ip: tt.ip, ua: "Player/1"}
			if r := v.get(t, link); r.StatusCode != http.StatusOK {
				t.Fatalf("the permit's link from the viewer = %d, want 200", r.StatusCode)
			}
			if r := (viewer{ip: "198.51.100.8", ua: "Player/1"}).get(t, link); r.StatusCode != http.StatusUnauthorized {
				t.Fatalf("the permit's link from another address = %d, want 401", r.StatusCode)
			}
		})
	}
	code, out := pe.call(t, pe.base, tok, "decisions/preauthorize", partnerHop, viewerDE,
		map[string]any{"line": plain.ID, "resources": []int64{pe.live, pe.other, pe.movie}}, nil)
	ds, _ := out["decisions"].([]any)
	if code != http.StatusOK || len(ds) != 3 {
		t.Fatalf("preauthorize = %d %v", code, out)
	}
	for i, want := range []string{"", "NOT_IN_BOUQUET", ""} {
		if d := ds[i].(map[string]any); errorCode(d) != want || d["resource"] != float64([]int64{pe.live, pe.other, pe.movie}[i]) {
			t.Errorf("preauthorize decision %d = %v, want code %q", i, d, want)
		}
	}
}

// TestPartner_Allowlist: a partner calling from outside its allowed networks gets no access
// token, and a token it holds is refused (403) from there; a narrowed allowlist reaches the
// other instance too.
func TestPartner_Allowlist(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	if code, out := pe.tokenRequest(t, pe.base, outsideHop); code != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("token from outside the allowlist = %d %v, want 401 invalid_client", code, out)
	}
	body := map[string]any{"line": line.ID, "resource": pe.live}
	if code, out := pe.call(t, pe.base, tok, "decisions/authorize", outsideHop, viewerDE, body, nil); code != http.StatusForbidden {
		t.Fatalf("authorize from outside the allowlist = %d %v, want 403", code, out)
	}
	if code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil); code != http.StatusOK || out["authorized"] != true {
		t.Fatalf("authorize from the allowlist = %d %v, want a permit", code, out)
	}
	narrowed := []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	_, err := pe.svc.Update(context.Background(), audit.CLI, pe.creds.Partner.ID, partner.Patch{AllowedIPs: &narrowed})
	must(t, err)
	for _, base := range []string{pe.base, pe.peerBase} {
		eventually(t, "the narrowed allowlist at "+base, func() bool {
			code, _ := pe.call(t, base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil)
			return code == http.StatusForbidden
		})
	}
}

// TestPartner_ViewerAddressWithZone: a viewer named with a zone ("fe80::1%eth0") is no viewer:
// 400 on X-Forwarded-For, as the tokens call refuses it in its body. Before, it was decided
// (and a denial's refused-request row was lost: PostgreSQL's inet refuses a zone), and a
// player behind a trusted proxy whose X-Real-IP held one was checked under that address.
func TestPartner_ViewerAddressWithZone(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	for _, v := range []string{"fe80::1%eth0", "::ffff:203.0.113.5%x", "2001:db8::1%25"} {
		code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, v, map[string]any{"line": line.ID, "resource": pe.live}, nil)
		if code != http.StatusBadRequest || out["field"] != "X-Forwarded-For" {
			t.Errorf("authorize for viewer %q = %d %v, want 400 on X-Forwarded-For", v, code, out)
		}
		if code, out := pe.call(t, pe.base, tok, "tokens", partnerHop, "", map[string]any{"line": line.ID, "ip": v, "ttl": 60}, nil); code != http.StatusBadRequest {
			t.Errorf("tokens for ip %q = %d %v, want 400", v, code, out)
		}
		// A player behind the trusted proxy: a zoned X-Real-IP is garbled, so the refused
		// login is recorded under the proxy's own address.
		req, err := http.NewRequest(http.MethodGet, pe.base+"/player_api.php?username="+line.Username+"&password=wrong", nil)
		must(t, err)
		req.Header.Set("X-Real-IP", v)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
	}
	eventually(t, "the three refused logins recorded under the proxy's address", func() bool { // written in batches
		var n int
		err := pe.st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM client_log
			WHERE code = 'AUTH_FAILED' AND surface = 'player_api' AND client_ip = '127.0.0.1'`).Scan(&n)
		return err == nil && n == 3
	})
	if logs := pe.logs.String(); strings.Contains(logs, "writing client log") || strings.Contains(logs, "level=ERROR") {
		t.Errorf("a zoned address reached the log's write:\n%s", logs)
	}
}

// TestPartner_ScopedToBouquet: a partner of bouquet A gets no decision, media token or stream
// for a line outside it, whichever way it names the line.
func TestPartner_ScopedToBouquet(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	tok := pe.accessToken(t, pe.base)
	for _, ref := range []any{pe.outside.ID, pe.outside.Username} {
		code, out := pe.call(t, pe.base, tok, "decisions/preauthorize", partnerHop, viewerDE,
			map[string]any{"line": ref, "resources": []int64{pe.live, pe.movie}}, nil)
		ds, _ := out["decisions"].([]any)
		if code != http.StatusOK || len(ds) != 2 || errorCode(ds[0].(map[string]any)) != "AUTH_FAILED" ||
			errorCode(ds[1].(map[string]any)) != "AUTH_FAILED" {
			t.Errorf("preauthorize for %v = %d %v, want AUTH_FAILED for each", ref, code, out)
		}
		if code, out := pe.call(t, pe.base, tok, "tokens", partnerHop, viewerDE, map[string]any{"line": ref}, nil); code != http.StatusForbidden ||
			out["code"] != "AUTH_FAILED" {
			t.Errorf("media token for %v = %d %v, want 403 AUTH_FAILED", ref, code, out)
		}
	}
	// A media token the partner could not have been handed (signed for the line all the same)
	// does not open the line's streams either: the check asks whether the partner holds it.
	mt, err := pe.keys.Sign(token.Claims{Kind: token.KindMedia, LineID: pe.outside.ID, ExpiresUnix: time.Now().Add(time.Minute).Unix(),
		ClientIP: token.BindIP(netip.MustParseAddr(viewerDE)), SessionID: [16]byte{1},
		Credential: access.PartnerCredential(pe.creds.Partner.ID)})
	must(t, err)
	if r := (viewer{ip: viewerDE, ua: "Player/1"}).get(t, pe.url("/live/t/t/%d.ts?token=%s", pe.live, mt)); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a media token of a line outside the scope = %d, want 401", r.StatusCode)
	}
}

// TestPartner_MediaTokens: a media token from POST tokens plays the line's streams as ?token=
// in place of the path's credentials from the viewer's address, and is 401 from another.
func TestPartner_MediaTokens(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	code, out := pe.call(t, pe.base, tok, "tokens", partnerHop, "", map[string]any{"line": line.ID, "ip": viewerDE, "ttl": 60}, nil)
	mt, _ := out["media_token"].(string)
	if code != http.StatusCreated || mt == "" || out["line_id"] != float64(line.ID) || out["ip"] != viewerDE {
		t.Fatalf("tokens = %d %v", code, out)
	}
	me, other := viewer{ip: viewerDE, ua: "Player/1"}, viewer{ip: "198.51.100.8", ua: "Player/1"}
	for _, path := range []string{fmt.Sprintf("/live/media/token/%d.ts", pe.live), fmt.Sprintf("/movie/media/token/%d.mp4", pe.movie),
		fmt.Sprintf("/series/x/y/%d.mp4", pe.episode)} {
		u := pe.base + path + "?token=" + mt
		if r := me.get(t, u); r.StatusCode != http.StatusOK {
			t.Errorf("GET %s from the token's address = %d, want 200", path, r.StatusCode)
		}
		if r := other.get(t, u); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s from another address = %d, want 401", path, r.StatusCode)
		}
	}
	if r := me.get(t, pe.url("/live/media/token/%d.ts?token=%s", pe.other, mt)); r.StatusCode != http.StatusNotAcceptable {
		t.Errorf("a stream outside the line's bouquets = %d, want 406", r.StatusCode)
	}
}

// TestPartner_MediaTokenExpiryAndBan: a media token that expires while its stream plays does
// not end it, also when the line changes and its streams are decided again; a new open with it
// is refused; a ban still ends the stream.
func TestPartner_MediaTokenExpiryAndBan(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, pass := pe.newLine(nil)
	waitKnown(t, pe)
	// Signed as POST tokens signs, already expired but for the last seconds of the leeway: the
	// test waits out seconds, not a whole TTL.
	exp := time.Now().Add(3*time.Second - token.Leeway)
	mt, err := pe.keys.Sign(token.Claims{Kind: token.KindMedia, LineID: line.ID, ExpiresUnix: exp.Unix(),
		ClientIP: token.BindIP(netip.MustParseAddr(viewerDE)), SessionID: [16]byte{2},
		Credential: access.PartnerCredential(pe.creds.Partner.ID)})
	must(t, err)
	me := viewer{ip: viewerDE, ua: "Player/1"}
	u := pe.url("/live/media/token/%d.ts?token=%s", pe.live, mt)
	resp := me.get(t, u)
	if resp.StatusCode != http.StatusOK {
		t.Skipf("the open took too long for the token's last seconds (%d)", resp.StatusCode)
	}
	readN(t, resp.Body, 188*10)
	// A password stream of the line from another address: the line change below ends it, so
	// its end says the re-check of the line's streams has run.
	sentinel := (viewer{ip: "198.51.100.9", ua: "Other/1"}).get(t, pe.url("/live/%s/%s/%d.ts", line.Username, pass, pe.live))
	if sentinel.StatusCode != http.StatusOK {
		t.Fatalf("the sentinel stream = %d", sentinel.StatusCode)
	}
	readN(t, sentinel.Body, 188*10)
	sentinelEnd := watchBody(sentinel)
	eventually(t, "the token expired", func() bool {
		r := me.get(t, u)
		r.Body.Close()
		return r.StatusCode == http.StatusUnauthorized
	})
	testdb.MustExec(t, pe.st, `UPDATE lines SET allowed_ips = ARRAY[$2::cidr] WHERE id = $1`, line.ID, viewerDE+"/32")
	select {
	case <-sentinelEnd:
	case <-time.After(waitLimit):
		t.Fatal("the line change was not re-checked (the sentinel stream plays on)")
	}
	readN(t, resp.Body, 188*200) // the expired token's stream plays on
	end := watchBody(resp)
	must(t, pe.st.UpdateLineFlags(context.Background(), line.ID, true, false, nil))
	select {
	case <-end:
	case <-time.After(waitLimit):
		t.Fatal("the ban did not end the stream of an expired media token")
	}
}

// waitKnown waits until both instances know the partner client.
func waitKnown(t *testing.T, pe *partnerEnv) {
	t.Helper()
	pe.accessToken(t, pe.base)
	pe.accessToken(t, pe.peerBase)
}

// TestPartner_LogoutEverywhere: a logout revokes the media session and the access token of the
// call; the other instance refuses both within a second and ends the session's stream there.
func TestPartner_LogoutEverywhere(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	pe.accessToken(t, pe.peerBase)
	_, out := pe.call(t, pe.base, tok, "tokens", partnerHop, "", map[string]any{"line": line.ID, "ip": viewerDE}, nil)
	mt, _ := out["media_token"].(string)
	me := viewer{ip: viewerDE, ua: "Player/1"}
	resp := me.get(t, pe.peerBase+fmt.Sprintf("/live/media/token/%d.ts?token=%s", pe.live, mt))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the media token's stream on the peer = %d", resp.StatusCode)
	}
	readN(t, resp.Body, 188*10)
	end := watchBody(resp)
	start := time.Now()
	code, out := pe.call(t, pe.base, tok, "logout", partnerHop, "", map[string]any{"media_tokens": []string{mt}, "access_token": true}, nil)
	if rv, _ := out["revoked"].(map[string]any); code != http.StatusOK || out["actionType"] != "none" || rv["media_sessions"] != float64(1) ||
		rv["access_token"] != true {
		t.Fatalf("logout = %d %v", code, out)
	}
	// Refused on the peer within a second of the logout (seed 001 phase E, issue 15).
	body := map[string]any{"line": line.ID, "resource": pe.live}
	testdb.Eventually(t, time.Until(start.Add(time.Second)), "the access token refused on the peer", func() bool {
		code, _ := pe.call(t, pe.peerBase, tok, "decisions/authorize", partnerHop, viewerDE, body, nil)
		return code == http.StatusUnauthorized
	})
	testdb.Eventually(t, time.Until(start.Add(time.Second)), "the media token refused on the peer", func() bool {
		r := me.get(t, pe.peerBase+fmt.Sprintf("/live/media/token/%d.ts?token=%s", pe.live, mt))
		r.Body.Close()
		return r.StatusCode == http.StatusUnauthorized
	})
	t.Logf("both refused on the peer %v after the logout", time.Since(start))
	select {
	case <-end:
		t.Logf("the peer's stream ended %v after the logout", time.Since(start))
	case <-time.After(waitLimit):
		t.Fatal("the peer's stream of the revoked session still plays")
	}
}

// TestPartner_ForgedAccessTokens: the bearer check takes only HS256 tokens of a known key:
// alg=none, RS256 naming our key, an unknown kid and a token of a rotated-out secret are 401
// on the wire; after a key rotation the old kid's token stays valid.
func TestPartner_ForgedAccessTokens(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	parts := strings.Split(tok, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var header map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	must(t, json.Unmarshal(hb, &header))
	withHeader := func(alg, kid string, sig []byte) string {
		h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT", "kid": kid})
		return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	}
	kid, _ := header["kid"].(string)
	var mc jwt.MapClaims
	must(t, json.Unmarshal(claims, &mc))
	// A kid no key has, signed with the key it would derive (internal/partner's derivation):
	// only the kid is wrong.
	unknown := jwt.NewWithClaims(jwt.SigningMethodHS256, mc)
	unknown.Header["kid"] = "pk999"
	m := hmac.New(sha256.New, []byte(tokenSecret))
	m.Write([]byte("xtreamd partner access-token v1\x00pk999"))
	unknownSigned, err := unknown.SignedString(m.Sum(nil))
	must(t, err)
	body := map[string]any{"line": line.ID, "resource": pe.live}
	for name, forged := range map[string]string{
		"alg none":          withHeader("none", kid, nil),
		"RS256 of our kid":  withHeader("RS256", kid, []byte(parts[2])),
		"unknown kid":       unknownSigned,
		"signature changed": parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])),
	} {
		if code, out := pe.call(t, pe.base, forged, "decisions/authorize", partnerHop, viewerDE, body, nil); code != http.StatusUnauthorized {
			t.Errorf("%s: authorize = %d %v, want 401", name, code, out)
		}
	}
	_, err = pe.svc.RotateKey(context.Background(), audit.CLI)
	must(t, err)
	eventually(t, "a token of the new key", func() bool {
		code, out := pe.tokenRequest(t, pe.base, partnerHop)
		s, _ := out["access_token"].(string)
		return code == http.StatusOK && s != "" && !strings.HasPrefix(s, parts[0])
	})
	if code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil); code != http.StatusOK || out["authorized"] != true {
		t.Errorf("the retired kid's token = %d %v, want a permit until it expires", code, out)
	}
}

// TestPartner_PermitsAndDenials: a permit is cached (a repeat runs no check) and goes the
// moment its line changes; a denial is never cached (the line fixed, the next decision
// permits); a partner's denials beyond its bound are 429 with Retry-After before any check.
func TestPartner_PermitsAndDenials(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t, map[string]string{"partner_denials_per_second": "0.01", "partner_denials_burst": "3"})
	line, pass := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	body := map[string]any{"line": line.ID, "resource": pe.live}
	authorize := func() (int, string) {
		code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil)
		return code, errorCode(out)
	}
	checks := func() string { return pe.metric(`xtreamd_access_checks_total{code="OK"}`) }
	if code, c := authorize(); code != http.StatusOK || c != "" {
		t.Fatalf("authorize = %d %q, want a permit", code, c)
	}
	// A repeat is answered from the cache. (Once: something every decision depends on may
	// change while the server settles, such as the first catalog load, and a permit of an
	// older RulesVersion lapses.)
	eventually(t, "a repeat answered without a check", func() bool {
		before := checks()
		code, c := authorize()
		if code != http.StatusOK || c != "" {
			t.Fatalf("repeat = %d %q, want a permit", code, c)
		}
		return checks() == before
	})
	must(t, pe.st.UpdateLineFlags(context.Background(), line.ID, true, false, nil))
	eventually(t, "the ban decided (the permit dropped)", func() bool { code, c := authorize(); return code == http.StatusOK && c == "USER_BAN" })
	must(t, pe.st.UpdateLineFlags(context.Background(), line.ID, false, false, nil))
	// Waited for on the player API, which draws nothing from the partner's bound of denials.
	eventually(t, "the unban known", func() bool {
		_, _, b := do(t, http.MethodGet, pe.url("/player_api.php?username=%s&password=%s", line.Username, pass), nil)
		// A banned line logs in too (auth 1, status Banned): only Active says the unban is known.
		return bytes.Contains(b, []byte(`"status":"Active"`))
	})
	if code, c := authorize(); code != http.StatusOK || c != "" {
		t.Fatalf("authorize of the unbanned line = %d %q, want a permit (no denial cached)", code, c)
	}
	must(t, pe.st.UpdateLineFlags(context.Background(), line.ID, false, true, nil))
	for {
		code, c := authorize()
		if code == http.StatusTooManyRequests {
			break
		}
		if code != http.StatusOK || (c != "USER_DISABLED" && c != "") {
			t.Fatalf("authorize of the disabled line = %d %q", code, c)
		}
	}
	req, err := http.NewRequest(http.MethodPost, pe.base+"/api/v2/"+pe.creds.Partner.ClientID+"/decisions/preauthorize",
		strings.NewReader(fmt.Sprintf(`{"line":%d,"resources":[%d]}`, line.ID, pe.live)))
	must(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Forwarded-For", viewerDE+", "+partnerHop)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("preauthorize past the bound = %d (Retry-After %q), want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestPartner_DynamicRegistration: with the setting on, a partner holding an initial access
// token registers itself (RFC 7591) and gets its grant; the new client's credentials work at
// the token endpoint; a used-up or wrong token is 401; with the setting off, 403.
func TestPartner_DynamicRegistration(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t, map[string]string{"partner_registration": "true"})
	it, err := pe.svc.CreateRegistrationToken(context.Background(), audit.CLI, partner.NewRegistrationToken{Name: "Onboarding",
		Grant: partner.Grant{Scopes: []string{partner.ScopeDecisions}, BouquetIDs: []int64{pe.bouquet},
			AllowedIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, MaxUses: 1, ExpiresAt: time.Now().Add(time.Hour)})
	must(t, err)
	registerBody := func(initial, body string) (int, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, pe.base+"/o/client/register", strings.NewReader(body))
		must(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+initial)
		req.Header.Set("X-Forwarded-For", partnerHop)
		return sendJSON(t, req)
	}
	register := func(initial string) (int, map[string]any) {
		return registerBody(initial, `{"client_name":"Self","scope":"decisions","grant_types":["client_credentials"]}`)
	}
	if code, out := register("xr" + strings.Repeat("0", 40)); code != http.StatusUnauthorized || out["error"] != "invalid_token" {
		t.Fatalf("register with a wrong token = %d %v, want 401 invalid_token", code, out)
	}
	// A name Go's decoding would keep as U+FFFD is refused, and spends none of the token's one use.
	for _, body := range []string{`{"client_name":"Self\ud800","scope":"decisions"}`, `{"client_name":"Self","client_name":"Other","scope":"decisions"}`, "{\"client_name\":\"Self\xff\",\"scope\":\"decisions\"}"} {
		if code, out := registerBody(it.Token.Reveal(), body); code != http.StatusBadRequest || out["error"] != "invalid_client_metadata" {
			t.Fatalf("register with %q = %d %v, want 400 invalid_client_metadata", body, code, out)
		}
	}
	code, out := register(it.Token.Reveal())
	id, _ := out["client_id"].(string)
	secret, _ := out["client_secret"].(string)
	if code != http.StatusCreated || id == "" || secret == "" || out["scope"] != "decisions" {
		t.Fatalf("register = %d %v, want 201 with credentials", code, out)
	}
	self := &partnerEnv{env: pe.env, creds: partner.Credentials{Partner: partner.Partner{ClientID: id}, Secret: config.Secret(secret)}}
	if tok := self.accessToken(t, pe.base); tok == "" {
		t.Fatal("no access token for the registered client")
	}
	if code, out := register(it.Token.Reveal()); code != http.StatusUnauthorized {
		t.Fatalf("a second registration with a one-use token = %d %v, want 401", code, out)
	}
	testdb.MustExec(t, pe.st, `UPDATE settings SET value = 'false' WHERE key = 'partner_registration'`)
	eventually(t, "registration closed", func() bool {
		code, _ := register(it.Token.Reveal())
		return code == http.StatusForbidden
	})
}

// TestPartner_DeviceMemberIsStrict: the body's device member is decoded as strictly as the
// body: a member other than id, user_agent and model, or one of the wrong type, is a 400
// naming it; before, {"device":{"a":1}} was decided with the device left unnamed.
func TestPartner_DeviceMemberIsStrict(t *testing.T) {
	t.Parallel()
	pe := setupPartner(t)
	line, _ := pe.newLine(nil)
	tok := pe.accessToken(t, pe.base)
	for _, tt := range []struct {
		device any
		field  string
	}{
		{map[string]any{"a": 1}, "device"},
		{map[string]any{"id": "tv-1", "userAgent": "VLC"}, "device"},
		{map[string]any{"id": 5}, "device.id"},
		{map[string]any{"model": []string{"x"}}, "device.model"},
		{"tv-1", "device"},
		{[]any{}, "device"},
		{map[string]any{"model": json.RawMessage(`"Shield\ud800"`)}, ""}, // Go's decoding would keep U+FFFD
	} {
		body := map[string]any{"line": line.ID, "resource": pe.live, "device": tt.device}
		code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil)
		if field, _ := out["field"].(string); code != http.StatusBadRequest || field != tt.field {
			t.Errorf("authorize with device %v = %d %v, want 400 on %s", tt.device, code, out, tt.field)
		}
	}
	// A member given twice is refused, not taken as its last (I-JSON, RFC 7493).
	for body, member := range map[string]string{
		fmt.Sprintf(`{"line":%d,"line":"someone-else","resource":%d}`, line.ID, pe.live):        "line",
		fmt.Sprintf(`{"line":%d,"resource":%d,"device":{"id":"a","id":"b"}}`, line.ID, pe.live): "device.id",
	} {
		code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, json.RawMessage(body), nil)
		if field, _ := out["field"].(string); code != http.StatusBadRequest || field != member {
			t.Errorf("authorize with %s = %d %v, want 400 on %s, given twice", body, code, out, member)
		}
	}
	for _, device := range []any{nil, map[string]any{}, map[string]any{"id": "tv-1", "user_agent": "VLC/3.0", "model": "Shield"}} {
		body := map[string]any{"line": line.ID, "resource": pe.live, "device": device}
		if code, out := pe.call(t, pe.base, tok, "decisions/authorize", partnerHop, viewerDE, body, nil); code != http.StatusOK {
			t.Errorf("authorize with device %v = %d %v, want 200", device, code, out)
		}
	}
}
