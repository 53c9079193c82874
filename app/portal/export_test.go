package portal

import (
	"net/netip"
	"slices"
)

// What the black-box sweeps (hostile_test.go) read of the portal's own tables, so that they
// cover what the dispatch and the parse step really serve and read, not a list kept by hand
// beside them that a new action or parameter would silently escape.

// ActionNames is every "type/action" the portal answers, sorted: the action table's keys and
// stb/handshake, which api serves before the table.
func ActionNames() []string {
	names := []string{"stb/handshake"}
	for k := range actionTable() {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// APIPaths are the paths the API is mounted on (Routes).
var APIPaths = apiPaths

// ParamNames is every parameter name the parse step reads, sorted: parseRequest run with a get
// that records what it is asked for, once with every parameter absent and once with every one
// "1", so a name read only when another is set (or unset: category when genre is absent) is
// found either way.
func ParamNames() []string {
	seen := map[string]bool{}
	for _, v := range []string{"", "1"} {
		parseRequest(rawRequest{get: func(key string) string {
			seen[key] = true
			return v
		}, clientIP: netip.MustParseAddr("127.0.0.1")})
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
