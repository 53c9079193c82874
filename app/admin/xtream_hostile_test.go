package admin_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/testdb"
	"github.com/xtreamd/xtreamd/internal/testkit"
)

// TestXtreamAPI_HostileValues sends every call api.php serves (user and stb create, edit and
// info, reg_user list and credits), each parameter the parse step reads — the plain ones and
// every user_data column, as a value and as a PHP list — set in turn to each hostile value and
// to numbers at int64's edges (an expiry, a credit amount). Every answer must be api.php's own:
// 200 JSON, or the empty 200 of an unknown call; never a 5xx. A refusal ("result":false with
// an error) changes no line, device, admin or credit row; a change that is accepted reads back through
// info (a new password of the line being edited opens it).
func TestXtreamAPI_HostileValues(t *testing.T) {
	t.Parallel()
	e := xtreamEnv(t, nil)
	_, admin := e.as(t, accounts.RoleAdmin)
	e.register(t, admin)
	reseller := e.admin(t, accounts.RoleReseller)
	user, pass := "dave", "dave-pw"
	const mac = "00:1A:79:00:00:01"
	for _, v := range []url.Values{
		vals("action", "user", "sub", "create", "user_data[username]", user, "user_data[password]", pass),
		vals("action", "stb", "sub", "create", "user_data[mac]", mac),
	} {
		if got := e.xtreamAnswer(t, v); got.result != "true" {
			t.Fatalf("%v = %s, want a result", v, got.body)
		}
	}

	values := slices.Concat(testkit.HostileText, []string{"-9223372036854775808", "9223372036854775807",
		"99999999999", "[1,", `["fe80::1%eth0"]`, "[99999999999999999999]", "1e3"})
	columns := []string{"username", "password", "exp_date", "max_connections", "bouquet", "allowed_ips", "allowed_ua",
		"output_formats", "member_id", "forced_country", "admin_notes", "reseller_notes", "is_trial", "is_restreamer",
		"is_isplock", "bypass_ua", "admin_enabled", "enabled", "mac", "colour"}
	params := []string{"action", "sub", "api_pass", "username", "password", "mac", "id", "amount"}
	for _, c := range columns {
		params = append(params, "user_data["+c+"]", "user_data["+c+"][]")
	}
	calls := []struct {
		name string
		base func() url.Values
	}{
		{"user/create", func() url.Values { return vals("action", "user", "sub", "create") }},
		{"user/edit", func() url.Values {
			return vals("action", "user", "sub", "edit", "username", user, "password", pass, "user_data[admin_notes]", "x")
		}},
		{"user/info", func() url.Values { return vals("action", "user", "sub", "info", "username", user, "password", pass) }},
		{"stb/create", func() url.Values {
			return vals("action", "stb", "sub", "create", "user_data[mac]", "00:1A:79:00:00:02")
		}},
		{"stb/edit", func() url.Values {
			return vals("action", "stb", "sub", "edit", "mac", mac, "user_data[max_connections]", "2")
		}},
		{"stb/info", func() url.Values { return vals("action", "stb", "sub", "info", "mac", mac) }},
		{"reg_user/list", func() url.Values { return vals("action", "reg_user", "sub", "list") }},
		{"reg_user/credits", func() url.Values {
			return vals("action", "reg_user", "sub", "credits", "id", strconv.FormatInt(reseller.id, 10), "amount", "1")
		}},
	}
	tables := []string{"lines", "line_bouquets", "mag_devices", "admins", "credit_ledger"}
	sent := 0
	for _, c := range calls {
		for _, p := range params {
			for _, v := range values {
				q := c.base()
				q.Set(p, v)
				before := testdb.Digest(t, e.st, tables...)
				a := e.xtreamAnswer(t, q)
				sent++
				what := fmt.Sprintf("%s with %s=%.40q", c.name, p, v)
				switch {
				case a.status >= 500:
					t.Fatalf("%s = %d %s", what, a.status, a.body)
				case a.result == "false" && strings.Contains(a.body, `"error":`):
					// A refusal; stb/edit's bare {"result":false} is the original's "no row
					// changed".
					if after := testdb.Digest(t, e.st, tables...); after != before {
						t.Errorf("%s was refused (%s) but changed a row", what, a.body)
					}
				case c.name == "user/edit" && a.result == "true":
					// What an accepted edit stored is what the line now opens with.
					switch p {
					case "user_data[username]":
						user = v
					case "user_data[password]":
						if v != "" { // an empty one is none given
							pass = v
						}
					}
					if got := e.xtreamAnswer(t, vals("action", "user", "sub", "info", "username", user, "password", pass)); got.result != "true" {
						t.Fatalf("after %s, info with the line's credentials = %s", what, got.body)
					}
				}
			}
		}
	}
	if want := len(calls) * len(params) * len(values); sent != want {
		t.Fatalf("%d calls, want %d", sent, want)
	}
	if logs := e.logs(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("the sweep logged an error:\n%s", logs)
	}
	t.Logf("%d calls: %d calls × %d parameters × %d values", sent, len(calls), len(params), len(values))
}

// xtreamAnswer is one api.php answer: its status and body, and "result" as JSON text ("true",
// "false"; "" for an answer without one: a list, or the empty answer of an unknown call). A
// value past the server's 4 KB request head goes as a form body.
type xtreamAnswer struct {
	status int
	body   string
	result string
}

func (e *env) xtreamAnswer(t *testing.T, v url.Values) xtreamAnswer {
	t.Helper()
	status, contentType, b := e.xtreamSend(t, serverIP, v, len(v.Encode()) > 3000)
	a := xtreamAnswer{status: status, body: string(b)}
	if status == 200 && len(b) > 0 && contentType != "application/json" {
		t.Fatalf("api.php %v = %q %s, want JSON", v, contentType, b)
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if len(b) > 0 && b[0] == '{' {
		if json.Unmarshal(b, &r) != nil {
			t.Fatalf("api.php %v = %s: not JSON", v, b)
		}
		a.result = string(r.Result)
	}
	return a
}
