package testkit

import (
	"slices"
	"strings"
	"testing"
)

// TestVariants: each variant changes one part of the valid request — a path parameter, a
// header (through its derivation), a JSON member or element, nested ones included, or the
// whole body — and leaves the rest as it was.
func TestVariants(t *testing.T) {
	body := JObj(JM{"a", JRaw("1")}, JM{"b", JObj(JM{"c", JString("x")})}, JM{"d", JList(JRaw("2"))})
	r := HostileRequest{Method: "POST", Path: "/p/{id}/q", Params: map[string]string{"id": "7"},
		Header: [][2]string{{"X-H", "h"}}, JSON: &body}
	hv := HostileValues{Strings: []string{"\xff", "a/b"}, JSON: []string{"null"},
		Headers: map[string]func(string) []string{"X-H": func(v string) []string { return []string{v, "pre " + v} }},
		Bodies:  []string{"[]"}, MaxBody: 100}
	if got, want := r.Base().Body, `{"a":1,"b":{"c":"x"},"d":[2]}`; string(got) != want {
		t.Fatalf("Base().Body = %s, want %s", got, want)
	}
	vs := r.Variants(hv)
	// 2 path + (2×2 + absent + repeated) header + 5 slots × (2 strings + 1 JSON + absent) + 1 body + 2 sizes.
	if len(vs) != 2+6+20+3 {
		t.Fatalf("%d variants, want 31", len(vs))
	}
	bodies := map[string]bool{}
	for _, v := range vs {
		bodies[v.Where+" "+string(v.Body)] = true
		if v.Where == "path id" && v.Target != "/p/%FF/q" && v.Target != "/p/a%2Fb/q" {
			t.Errorf("path variant target = %q", v.Target)
		}
		if strings.HasPrefix(v.Where, "json") && v.Target != "/p/7/q" {
			t.Errorf("%s: target = %q, want the valid one", v.Where, v.Target)
		}
		if v.Where == "body" && strings.HasSuffix(v.Value, "bytes") && (len(v.Body) != 100 && len(v.Body) != 101 || v.Unparsable != (len(v.Body) > 100)) {
			t.Errorf("sized body: %d bytes, unparsable %v", len(v.Body), v.Unparsable)
		}
	}
	for _, want := range []string{
		`json b.c {"a":1,"b":{"c":"` + "\xff" + `"},"d":[2]}`, // invalid UTF-8 as its raw bytes
		`json d[0] {"a":1,"b":{"c":"x"},"d":[null]}`,
		`json d[0] {"a":1,"b":{"c":"x"},"d":[]}`, // absent
		`json b {"a":1,"d":[2]}`,
		`json a {"a":"a/b","b":{"c":"x"},"d":[2]}`,
		`body []`,
	} {
		if !bodies[want] {
			t.Errorf("no variant %s", want)
		}
	}
	var headers []string
	for _, v := range vs {
		if v.Where == "header X-H" {
			var hs []string
			for _, h := range v.Header {
				hs = append(hs, h[1])
			}
			headers = append(headers, strings.Join(hs, "|"))
		}
	}
	if want := []string{"\xff", "pre \xff", "a/b", "pre a/b", "", "h|h"}; !slices.Equal(headers, want) {
		t.Errorf("header variants = %q, want %q", headers, want)
	}
}
