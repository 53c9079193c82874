package admin

import (
	"encoding/json"
	"net/url"
	"testing"
)

// FuzzDecodeBody: the strict decoder never panics on any body, and what it accepts encodes to
// a body it accepts again.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{`{}`, `{"username":"a","max_connections":2}`, `{"exp_date":null}`, `{"bouquet_ids":[1,1]}`,
		`{"allowed_ips":["192.0.2.1"],"forced_country":"DE"}`, `[`, `{"max_connections":1e400}`, `{"x":{"y":[[[[1]]]]}}`,
		`{"username":"\u0000"}`, `{"exp_date":"2026-01-01T00:00:00Z","admin_notes":"é"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in LineCreate
		if bad := decodeBody(body, &in); bad != nil {
			return
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("accepted %q but cannot encode it: %v", body, err)
		}
		// Members left out decode as nil and encode as null: leave them out again.
		var members map[string]any
		_ = json.Unmarshal(again, &members)
		for k, v := range members {
			if v == nil {
				delete(members, k)
			}
		}
		again, _ = json.Marshal(members)
		var back LineCreate
		if bad := decodeBody(again, &back); bad != nil {
			t.Fatalf("accepted %q, refused its re-encoding %s: %v", body, again, bad)
		}
	})
}

// FuzzParseUserData: api.php's user_data parser never panics, whatever the query.
func FuzzParseUserData(f *testing.F) {
	for _, s := range []string{"user_data[bouquet]=[1,2]", "user_data[bouquet][]=1&user_data[bouquet][]=x",
		"user_data[exp_date]=99999999999999", "user_data[allowed_ips]=[\"::1\"]", "user_data[output_formats]=[4]",
		"user_data[max_connections]=-1&user_data[member_id]=0", "user_data[admin_enabled][]=1", "user_data[[]=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		req := xtreamRequest{userData: map[string]phpValue{}}
		for k, vs := range q {
			for _, v := range vs {
				req.set(k, v)
			}
		}
		if d, ok := parseUserData(req.userData); ok {
			_ = d.newLine()
			_ = d.patch()
		}
	})
}
