package admin_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/config"
)

// serverIP is the address the tests' api.php calls come from (behind the trusted loopback
// proxy), outside loopback.
const serverIP = "203.0.113.5"

func xtreamEnv(t *testing.T, settings map[string]string) *env {
	t.Helper()
	return newEnv(t, envOpts{settings: settings, cfg: func(c *config.Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}})
}

// xtream calls api.php from ip (a GET, or a form POST) and returns the status and body.
func (e *env) xtream(t *testing.T, ip string, v url.Values, post bool) (int, string) {
	t.Helper()
	status, contentType, b := e.xtreamSend(t, ip, v, post)
	if status != 200 || (len(b) > 0 && contentType != "application/json") {
		t.Fatalf("api.php %s = %d %q %s, want 200 JSON", v.Get("action"), status, contentType, b)
	}
	return status, string(b)
}

// xtreamSend calls api.php from ip (a GET, or a form POST) and returns the answer as it came.
func (e *env) xtreamSend(t *testing.T, ip string, v url.Values, post bool) (status int, contentType string, body []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if post {
		req, err = http.NewRequest(http.MethodPost, e.srv.base+"/api.php", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req, err = http.NewRequest(http.MethodGet, e.srv.base+"/api.php?"+v.Encode(), nil)
	}
	must(t, err)
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// register registers a server whose api_ips hold serverIP.
func (e *env) register(t *testing.T, admin auth) {
	t.Helper()
	wantStatus(t, "register server", e.call(t, http.MethodPost, "/servers", admin,
		map[string]any{"name": "billing", "api_ips": []string{"203.0.113.0/24"}}), 201)
}

func vals(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func TestXtreamAPI_RegisteredServersOnly(t *testing.T) {
	t.Parallel()
	e := xtreamEnv(t, nil)
	_, admin := e.as(t, accounts.RoleAdmin)
	create := vals("action", "user", "sub", "create", "user_data[username]", "bill1", "user_data[password]", "pw-bill-1")
	if _, body := e.xtream(t, serverIP, create, false); body != `{"result":false,"0":"IP FORBIDDEN"}` {
		t.Fatalf("unregistered address: %s", body)
	}
	if n, _ := e.st.LineByUsername(t.Context(), "bill1"); n.ID != 0 {
		t.Fatal("a refused call created a line")
	}
	e.register(t, admin)
	_, body := e.xtream(t, serverIP, create, false)
	var created struct {
		Result    bool   `json:"result"`
		CreatedID int64  `json:"created_id"`
		Username  string `json:"username"`
		Password  string `json:"password"`
	}
	must(t, json.Unmarshal([]byte(body), &created))
	if !strings.HasPrefix(body, `{"result":true,"created_id":`) || created.Username != "bill1" || created.Password != "pw-bill-1" {
		t.Fatalf("registered address: %s", body)
	}
	if _, body := e.xtream(t, "198.51.100.9", create, true); body != `{"result":false,"0":"IP FORBIDDEN"}` {
		t.Fatalf("another address: %s", body)
	}
	if _, body := e.xtream(t, "127.0.0.1", vals("action", "nope"), false); body != "" {
		t.Fatalf("unknown action from loopback = %q, want nothing", body)
	}
}

func TestXtreamAPI_User(t *testing.T) {
	t.Parallel()
	e := xtreamEnv(t, nil)
	_, admin := e.as(t, accounts.RoleAdmin)
	e.register(t, admin)
	b1, b2 := e.bouquet(t, "One"), e.bouquet(t, "Two")
	exp := time.Now().Add(72 * time.Hour).Unix()
	create := vals("action", "user", "sub", "create", "user_data[username]", "carol", "user_data[password]", "carol-pw",
		"user_data[max_connections]", "2", "user_data[exp_date]", strconv.FormatInt(exp, 10),
		"user_data[bouquet]", fmt.Sprintf("[%d,%d]", b2, b1), "user_data[allowed_ips]", `["192.0.2.1"]`,
		"user_data[is_trial]", "1", "user_data[output_formats]", "[1,2]", "user_data[admin_notes]", "from billing")
	_, body := e.xtream(t, serverIP, create, true)
	if !strings.Contains(body, `"username":"carol","password":"carol-pw"`) {
		t.Fatalf("create = %s", body)
	}
	l, err := e.st.LineByUsername(t.Context(), "carol")
	must(t, err)
	if l.MaxConnections != 2 || l.ExpDate.Unix() != exp || len(l.BouquetIDs) != 2 || l.BouquetIDs[0] != b2 || !l.IsTrial ||
		len(l.AllowedIPs) != 1 || len(l.AllowedOutputFormats) != 2 || l.AdminNotes != "from billing" {
		t.Fatalf("created line = %+v", l)
	}
	for name, c := range map[string]struct {
		v    url.Values
		want string
	}{
		"same username":   {create, `{"result":false,"error":"EXISTS"}`},
		"unknown column":  {vals("action", "user", "sub", "create", "user_data[colour]", "red"), `{"result":false,"error":"PARAMETER ERROR"}`},
		"bad number":      {vals("action", "user", "sub", "create", "user_data[max_connections]", "two"), `{"result":false,"error":"PARAMETER ERROR"}`},
		"bad bouquet":     {vals("action", "user", "sub", "create", "user_data[bouquet]", "[1,"), `{"result":false,"error":"PARAMETER ERROR"}`},
		"info no pass":    {vals("action", "user", "sub", "info", "username", "carol"), `{"result":false,"error":"PARAMETER ERROR (user/pass)"}`},
		"info wrong pass": {vals("action", "user", "sub", "info", "username", "carol", "password", "nope"), `{"result":false,"error":"NOT EXISTS"}`},
		"edit unknown":    {vals("action", "user", "sub", "edit", "username", "nobody", "password", "x"), `{"result":false,"error":"NOT EXISTS"}`},
		"NUL":             {vals("action", "user", "sub", "create", "user_data[username]", "a\x00b"), `{"result":false,"error":"PARAMETER ERROR"}`},
	} {
		if _, got := e.xtream(t, serverIP, c.v, false); got != c.want {
			t.Errorf("%s = %s, want %s", name, got, c.want)
		}
	}
	// PHP bracket lists work as JSON-array strings do.
	_, body = e.xtream(t, serverIP, vals("action", "user", "sub", "create", "user_data[bouquet][]", strconv.FormatInt(b1, 10),
		"user_data[bouquet][]", strconv.FormatInt(b2, 10)), false)
	var made struct {
		Username string `json:"username"`
	}
	must(t, json.Unmarshal([]byte(body), &made))
	if got, _ := e.st.LineByUsername(t.Context(), made.Username); len(got.BouquetIDs) != 2 || got.BouquetIDs[0] != b1 || len(made.Username) != 10 {
		t.Fatalf("PHP list bouquets = %v (%s)", got.BouquetIDs, body)
	}

	_, info := e.xtream(t, serverIP, vals("action", "user", "sub", "info", "username", "carol", "password", "carol-pw"), false)
	var ui struct {
		Result   bool                       `json:"result"`
		UserInfo map[string]json.RawMessage `json:"user_info"`
	}
	must(t, json.Unmarshal([]byte(info), &ui))
	for k, want := range map[string]string{"username": `"carol"`, "admin_enabled": `"1"`, "max_connections": `"2"`,
		"exp_date": strconv.Quote(strconv.FormatInt(exp, 10)), "active_cons": `"0"`, "is_trial": `"1"`,
		"bouquet": fmt.Sprintf("[%d,%d]", b2, b1), "allowed_ips": `["192.0.2.1"]`, "pair_id": "null"} {
		if got := string(ui.UserInfo[k]); got != want {
			t.Errorf("user_info.%s = %s, want %s", k, got, want)
		}
	}
	if _, ok := ui.UserInfo["password"]; ok || strings.Contains(info, "carol-pw") || !strings.Contains(string(ui.UserInfo["output_formats"]), `"m3u8":{`) {
		t.Fatalf("info shows the password, or output_formats is off: %s", info)
	}

	edit := vals("action", "user", "sub", "edit", "username", "carol", "password", "carol-pw",
		"user_data[admin_enabled]", "0", "user_data[password]", "carol-new", "user_data[exp_date]", "")
	if _, got := e.xtream(t, serverIP, edit, true); got != `{"result":true}` {
		t.Fatalf("edit = %s", got)
	}
	if l, _ := e.st.LineByUsername(t.Context(), "carol"); !l.Banned || l.ExpDate != nil {
		t.Fatalf("edited line = banned %v, exp %v; want banned, never expiring", l.Banned, l.ExpDate)
	}
	if _, got := e.xtream(t, serverIP, vals("action", "user", "sub", "info", "username", "carol", "password", "carol-new"), false); !strings.HasPrefix(got, `{"result":true,"user_info":{`) || strings.Contains(got, "carol-new") {
		t.Fatalf("info with the new password = %s", got)
	}
	// A password the policy refuses refuses the whole edit: the notes beside it were written
	// before; an empty one is none given: it made up a password no answer showed.
	long := vals("action", "user", "sub", "edit", "username", "carol", "password", "carol-new",
		"user_data[admin_notes]", "changed", "user_data[password]", strings.Repeat("p", 2000))
	if _, got := e.xtream(t, serverIP, long, true); got != `{"result":false,"error":"PARAMETER ERROR"}` {
		t.Fatalf("edit with a 2,000-character password = %s", got)
	}
	empty := vals("action", "user", "sub", "edit", "username", "carol", "password", "carol-new", "user_data[password]", "")
	if _, got := e.xtream(t, serverIP, empty, true); got != `{"result":true}` {
		t.Fatalf("edit with an empty password = %s", got)
	}
	if l, _ := e.st.LineByUsername(t.Context(), "carol"); l.AdminNotes != "from billing" {
		t.Fatalf("admin notes = %q after a refused edit, want them as they were", l.AdminNotes)
	}
	if _, got := e.xtream(t, serverIP, vals("action", "user", "sub", "info", "username", "carol", "password", "carol-new"), false); !strings.HasPrefix(got, `{"result":true,`) {
		t.Fatalf("after an edit with an empty password, info with the password = %s", got)
	}
	if strings.Contains(e.logs(), "carol-pw") || strings.Contains(e.logs(), "carol-new") {
		t.Fatal("a line password reached the log")
	}
}

func TestXtreamAPI_STB(t *testing.T) {
	t.Parallel()
	e := xtreamEnv(t, nil)
	_, admin := e.as(t, accounts.RoleAdmin)
	e.register(t, admin)
	create := vals("action", "stb", "sub", "create", "user_data[mac]", "00:1a:79:ab:cd:ef", "user_data[max_connections]", "1")
	if _, got := e.xtream(t, serverIP, create, true); got != `{"result":true}` {
		t.Fatalf("stb create = %s", got)
	}
	for name, c := range map[string]struct {
		v    url.Values
		want string
	}{
		"same MAC":        {vals("action", "stb", "sub", "create", "user_data[mac]", "00-1A-79-AB-CD-EF"), `{"result":false,"error":"EXISTS"}`},
		"no MAC":          {vals("action", "stb", "sub", "create"), `{"result":false,"error":"PARAMETER ERROR (mac)"}`},
		"bad MAC":         {vals("action", "stb", "sub", "create", "user_data[mac]", "00:1a:79"), `{"result":false,"error":"PARAMETER ERROR (mac)"}`},
		"info no MAC":     {vals("action", "stb", "sub", "info"), `{"result":false,"error":"PARAMETER ERROR (mac)"}`},
		"info unknown":    {vals("action", "stb", "sub", "info", "mac", "00:1A:79:00:00:09"), `{"result":false,"error":"NOT EXISTS"}`},
		"edit no MAC":     {vals("action", "stb", "sub", "edit"), `{"result":false,"error":"PARAMETER ERROR (user/pass)"}`},
		"edit unknown":    {vals("action", "stb", "sub", "edit", "mac", "00:1A:79:00:00:09", "user_data[max_connections]", "2"), `{"result":false}`},
		"edit first":      {vals("action", "stb", "sub", "edit", "mac", "00:1A:79:AB:CD:EF", "user_data[max_connections]", "3"), `{"result":true}`},
		"edit no change":  {vals("action", "stb", "sub", "edit", "mac", "00:1A:79:AB:CD:EF", "user_data[max_connections]", "3"), `{"result":false}`},
		"edit bad column": {vals("action", "stb", "sub", "edit", "mac", "00:1A:79:AB:CD:EF", "user_data[nope]", "3"), `{"result":false,"error":"PARAMETER ERROR"}`},
	} {
		if name == "edit no change" {
			continue // after "edit first", below
		}
		if _, got := e.xtream(t, serverIP, c.v, false); got != c.want {
			t.Errorf("%s = %s, want %s", name, got, c.want)
		}
	}
	if _, got := e.xtream(t, serverIP, vals("action", "stb", "sub", "edit", "mac", "00:1A:79:AB:CD:EF", "user_data[max_connections]", "3"), false); got != `{"result":false}` {
		t.Errorf("edit without a change = %s, want {\"result\":false}", got)
	}
	_, info := e.xtream(t, serverIP, vals("action", "stb", "sub", "info", "mac", "00:1a:79:ab:cd:ef"), false)
	var si struct {
		Result    bool              `json:"result"`
		MagDevice map[string]any    `json:"mag_device"`
		UserInfo  map[string]any    `json:"user_info"`
		Pair      []json.RawMessage `json:"pair_line_info"`
	}
	must(t, json.Unmarshal([]byte(info), &si))
	if !strings.HasPrefix(info, `{"result":true,"mag_device":{`) || si.MagDevice["mac"] != "00:1A:79:AB:CD:EF" ||
		si.UserInfo["is_mag"] != "1" || si.UserInfo["max_connections"] != "3" || si.Pair == nil {
		t.Fatalf("stb info = %s", info)
	}
	if strings.Contains(e.logs(), "AB:CD:EF") || strings.Contains(e.logs(), "ab:cd:ef") || strings.Contains(e.logs(), "ab%3Acd%3Aef") {
		t.Fatal("a full MAC reached the log")
	}
}

func TestXtreamAPI_KeyAndResellers(t *testing.T) {
	t.Parallel()
	e := xtreamEnv(t, map[string]string{"xtream_api_require_key": "true"})
	adminAcc, admin := e.as(t, accounts.RoleAdmin)
	e.register(t, admin)
	list := vals("action", "reg_user", "sub", "list")
	if _, got := e.xtream(t, serverIP, list, false); got != `{"result":false,"0":"KEY WRONG"}` {
		t.Fatalf("no key = %s", got)
	}
	good := e.key(t, admin, adminAcc.id, "xtream_api:write")
	weak := e.key(t, admin, adminAcc.id, "lines:read")
	list.Set("api_pass", weak)
	if _, got := e.xtream(t, serverIP, list, false); got != `{"result":false,"0":"KEY WRONG"}` {
		t.Fatalf("a key without the scope = %s", got)
	}
	res := e.admin(t, accounts.RoleReseller)
	list.Set("api_pass", good)
	_, got := e.xtream(t, serverIP, list, false)
	if !strings.HasPrefix(got, `[{"id":"`+strconv.FormatInt(res.id, 10)+`","username":"`+res.username+`","credits":"0"`) {
		t.Fatalf("reg_user list = %s", got)
	}
	credits := vals("action", "reg_user", "sub", "credits", "api_pass", good, "id", strconv.FormatInt(res.id, 10), "amount", "5")
	if _, got := e.xtream(t, serverIP, credits, true); got != `{"result":true}` {
		t.Fatalf("credits +5 = %s", got)
	}
	credits.Set("amount", "-6")
	if _, got := e.xtream(t, serverIP, credits, true); got != `{"result":true,"error":"NOT ENOUGH CREDITS"}` {
		t.Fatalf("credits -6 = %s", got)
	}
	byName := vals("action", "reg_user", "sub", "credits", "api_pass", good, "username", res.username, "amount", "-5")
	if _, got := e.xtream(t, serverIP, byName, true); got != `{"result":true}` {
		t.Fatalf("credits -5 by username = %s", got)
	}
	for _, v := range []url.Values{
		vals("action", "reg_user", "sub", "credits", "api_pass", good, "amount", "5"),
		vals("action", "reg_user", "sub", "credits", "api_pass", good, "id", "1", "amount", "1.5"),
	} {
		if _, got := e.xtream(t, serverIP, v, false); got != `{"result":false,"error":"PARAMETER ERROR (amount & id||username)"}` {
			t.Errorf("credits %v = %s", v, got)
		}
	}
	if strings.Contains(e.logs(), good) {
		t.Fatal("the API key reached the log")
	}
}

// key makes an API key of account id with scopes, through the API as a.
func (e *env) key(t *testing.T, a auth, adminID int64, scopes ...string) string {
	t.Helper()
	r := e.call(t, http.MethodPost, "/api-keys", a, map[string]any{"name": "k", "scopes": scopes, "admin_id": adminID})
	wantStatus(t, "create api key", r, 201)
	var k struct {
		Key string `json:"key"`
	}
	r.json(t, &k)
	return k.Key
}
