package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// hostileMembers are what a hostile or broken client puts in a body member, as JSON text:
// NUL alone and inside, a lone surrogate (valid JSON, no valid Unicode), 2,000 and 100,000
// characters (the second past the 64 KiB a body may have), a zoned address, an injection, a
// year past 9999; numbers out of every range (past float64, past int64, negative, zero, a
// fraction, int64's minimum); each wrong type; a list nested 1,000 deep (the whole bodies
// nest 10,000 deep).
var hostileMembers = []string{`"\u0000"`, `"a\u0000b"`, `"\ud800"`, `"` + strings.Repeat("a", 2000) + `"`,
	`"` + strings.Repeat("a", 100_000) + `"`, `"fe80::1%eth0"`, `"' OR 1=1 --"`, `"99999-01-01T00:00:00Z"`,
	`1e400`, `-1`, `0`, `99999999999999999999999`, `1.5`, `-9223372036854775808`,
	`true`, `[]`, `{}`, `null`, `"1"`, strings.Repeat("[", 1000) + strings.Repeat("]", 1000)}

// TestEveryWriteBody_HostileValues sends every POST, PUT and PATCH operation of the document a
// valid body generated from its request schema (real ids in the path, so the write reaches the
// store), then that body with each member in turn — nested objects and list items too — set to
// each of hostileMembers, then whole bodies that are broken (empty, not JSON, invalid UTF-8,
// 2 MB, nested 10,000 deep, duplicate members, trailing garbage). Every answer must be one the
// document allows for the operation, never a 5xx; a refusal is a problem, a 400 naming the
// member; a refused write changes nothing (the audit log, the affected resource and every table
// are as before); an accepted hostile value reads back exactly as sent.
func TestEveryWriteBody_HostileValues(t *testing.T) {
	t.Parallel()
	start := time.Now()
	// Failed logins are what the login's sweep makes by the hundred: no flood block.
	e := newEnv(t, envOpts{settings: map[string]string{"flood_auth_failures": "0"}})
	w := &bodySweep{e: e, t: t, ids: map[string]int64{}}
	w.adminAcc, w.admin = e.as(t, accounts.RoleAdmin)
	w.loginAcc = e.admin(t, accounts.RoleViewer)
	w.refresh = e.login(t, e.admin(t, accounts.RoleViewer)).RefreshToken
	w.fingerprintQuery(t)

	ops := w.writeOps(t)
	// The resources every other operation names are made first, by their own create operation
	// and its generated body: the sweep's path ids are rows that exist.
	for _, path := range fixtureOrder {
		o := w.op(t, ops, http.MethodPost, path)
		r, _ := w.send(t, o, w.admin, w.concrete(t, o.path), w.encode(t, w.base(t, o)))
		if r.status != http.StatusCreated {
			t.Fatalf("fixture POST %s = %d %s", path, r.status, r.body)
		}
		var out struct {
			ID int64 `json:"id"`
		}
		r.json(t, &out)
		w.ids[path] = out.ID
	}
	for _, o := range ops {
		w.sweep(t, o)
	}
	// 53 write operations and 355 members today, twenty values each: a sweep that makes a few
	// hundred calls did not find the document's bodies.
	if w.calls < 5000 || w.members < 200 {
		t.Fatalf("only %d calls over %d members: the document's write bodies were not found", w.calls, w.members)
	}
	t.Logf("%d calls over %d operations, %d members; %d hostile values accepted and read back, %d accepted and not readable; %s",
		w.calls, len(ops), w.members, w.readBack, w.unreadable, time.Since(start).Round(time.Millisecond))
}

// fixtureOrder are the collections whose rows the sweep's paths and ids name, in the order
// they can be made (an episode needs its series).
var fixtureOrder = []string{"/bouquets", "/categories", "/packages", "/admins", "/lines", "/devices", "/live-streams",
	"/vod", "/series", "/series/{id}/episodes", "/epg-sources", "/servers", "/partners"}

// bodySweep is the state of one sweep: the env, the caller, the rows made, the counts.
type bodySweep struct {
	e        *env
	t        *testing.T
	admin    auth
	adminAcc account
	loginAcc account // the account login's bodies name
	refresh  string  // the newest refresh token of its own session
	ids      map[string]int64
	fpSQL    string
	n        int // makes each generated name, address, MAC … unique
	calls    int
	members  int
	readBack int
	// unreadable are accepted hostile values no answer shows (a password, a count).
	unreadable int
}

// writeOp is one operation of the document that changes something.
type writeOp struct {
	method, path, id string
	op               *openapi3.Operation
	schema           *openapi3.Schema // the JSON body's; nil for none or an upload
	upload           bool
}

func (w *bodySweep) writeOps(t *testing.T) []writeOp {
	var out []writeOp
	for path, item := range w.e.spec.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if method != http.MethodPost && method != http.MethodPut && method != http.MethodPatch {
				continue
			}
			o := writeOp{method: method, path: path, id: op.OperationID, op: op}
			if op.RequestBody != nil {
				content := op.RequestBody.Value.Content
				switch {
				case content.Get("application/json") != nil:
					o.schema = content.Get("application/json").Schema.Value
				case content.Get("application/octet-stream") != nil:
					o.upload = true
				default:
					t.Fatalf("%s: a request body of no media type this sweep knows", o.id)
				}
			}
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b writeOp) int { return strings.Compare(a.path+a.method, b.path+b.method) })
	return out
}

func (w *bodySweep) op(t *testing.T, ops []writeOp, method, path string) writeOp {
	for _, o := range ops {
		if o.method == method && o.path == path {
			return o
		}
	}
	t.Fatalf("the document has no %s %s", method, path)
	return writeOp{}
}

// aliases are the collections whose rows are made under another path.
var aliases = map[string]string{"/episodes": "/series/{id}/episodes"}

// concrete puts the ids of real rows into an operation's path: {id} after /things is the
// fixture made by POST /things; a season's {number} is 1.
func (w *bodySweep) concrete(t *testing.T, path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case s == "{number}":
			segs[i] = "1"
		case strings.HasPrefix(s, "{"):
			coll := strings.Join(segs[:i], "/")
			if a, ok := aliases[coll]; ok {
				coll = a
			}
			// The collection is named by its template path: undo the ids already put in.
			coll = w.template(coll)
			id, ok := w.ids[coll]
			if !ok {
				t.Fatalf("%s: no fixture for %s: add it to fixtureOrder", path, coll)
			}
			segs[i] = strconv.FormatInt(id, 10)
		}
	}
	if path == "/imports/upload" { // its required query parameters
		return strings.Join(segs, "/") + "?kind=m3u&bouquet=uploaded"
	}
	return strings.Join(segs, "/")
}

// template turns /series/12/episodes back into /series/{id}/episodes.
func (w *bodySweep) template(p string) string { return idSegment.ReplaceAllString(p, "/{id}$1") }

var idSegment = regexp.MustCompile(`/[0-9]+(/|$)`)

// base is the valid body of o: its required members with plausible values (what a login or
// a refresh needs, the fixture's credentials).
func (w *bodySweep) base(t *testing.T, o writeOp) map[string]any {
	switch o.id {
	case "login":
		return map[string]any{"username": w.loginAcc.username, "password": w.loginAcc.password}
	case "refreshToken":
		return map[string]any{"refresh_token": w.refresh}
	}
	if o.schema == nil {
		return nil
	}
	body := w.gen(t, "", o.schema).(map[string]any)
	// What the rules ask for beyond the schema's required members: an M3U import's bouquet,
	// an extension's days, a blocked ISP's name (or ASN).
	switch o.id {
	case "startImport":
		body["bouquet"] = fmt.Sprintf("imported-%d", w.n)
	case "extendLine":
		body["days"] = 1
	case "blockISP":
		body["isp_name"] = fmt.Sprintf("isp-%d", w.n)
	}
	return body
}

// gen is a plausible value of a member named name with schema s: unique where the store
// wants it unique, a real row's id where it names one.
func (w *bodySweep) gen(t *testing.T, name string, s *openapi3.Schema) any {
	w.n++
	n := w.n
	switch {
	case name == "role":
		return "reseller" // the admin fixture: credits are a reseller's
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Permits("object") && len(s.Properties) > 0:
		m := map[string]any{}
		for _, k := range s.Required {
			m[k] = w.gen(t, k, s.Properties[k].Value)
		}
		return m
	case s.Type.Permits("object"):
		return map[string]any{}
	case s.Type.Permits("array"):
		return []any{w.gen(t, name, s.Items.Value)}
	case s.Type.Permits("boolean"):
		return false
	case s.Type.Permits("integer"), s.Type.Permits("number"):
		return w.genNumber(name, s, n)
	case s.Type.Permits("string"):
		return w.genString(t, name, s, n)
	}
	t.Fatalf("member %s: no value for schema %v", name, s.Type)
	return nil
}

func (w *bodySweep) genNumber(name string, s *openapi3.Schema, n int) any {
	switch name {
	case "ids", "line_ids", "line_id":
		return w.ids["/lines"]
	case "bouquet_ids":
		return w.ids["/bouquets"]
	case "category_id":
		return w.ids["/categories"]
	case "package_id":
		return w.ids["/packages"]
	case "owner_id", "parent_id":
		return w.ids["/admins"]
	case "admin_id":
		return w.adminAcc.id
	case "stream_ids":
		return w.ids["/live-streams"]
	case "series_ids":
		return w.ids["/series"]
	case "asn":
		return 64512 + n
	case "episode_number":
		return n % 100_000
	}
	v := 1.0
	if s.Min != nil && v < *s.Min {
		v = *s.Min
	}
	if s.Max != nil && v > *s.Max {
		v = *s.Max
	}
	return v
}

// patterns are the values that match each pattern the document's request members have.
var patterns = map[string]func(n int) string{
	`^[A-Za-z0-9._@-]{1,64}$`:                  func(n int) string { return fmt.Sprintf("user_%d", n) },
	`^(\*|[a-z][a-z0-9_]{0,31}:(read|write))$`: func(int) string { return "lines:read" },
	`^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$`: func(n int) string {
		return fmt.Sprintf("00:1A:79:%02X:%02X:%02X", n>>16&255, n>>8&255, n&255)
	},
	`^[A-Z]{2}$`:          func(int) string { return "DE" },
	`^[a-z0-9]{1,8}$`:     func(int) string { return "mp4" },
	`^([A-Za-z]{2}|ALL)$`: func(int) string { return "US" },
	`^\d{4}-\d{2}-\d{2}$`: func(int) string { return "2020-01-02" },
}

func (w *bodySweep) genString(t *testing.T, name string, s *openapi3.Schema, n int) string {
	if s.Pattern != "" {
		f, ok := patterns[s.Pattern]
		if !ok {
			t.Fatalf("member %s: no value for the pattern %s: add one to patterns", name, s.Pattern)
		}
		return f(n)
	}
	if s.Format == "date-time" {
		return "2031-01-02T03:04:05Z"
	}
	switch name {
	case "url":
		return fmt.Sprintf("http://127.0.0.1:9/list-%d.m3u", n)
	case "network":
		return fmt.Sprintf("10.%d.%d.%d/32", n>>16&255, n>>8&255, n&255)
	case "allowed_ips", "api_ips":
		return "198.51.100.7"
	case "public_host":
		return fmt.Sprintf("tv%d.example.com", n)
	case "password":
		return fmt.Sprintf("password-%d", n)
	}
	return fmt.Sprintf("%s-%d", strings.ReplaceAll(name, "_", "-"), n)
}

// seg is one step of a member's path: a member name or a list index.
type seg struct {
	name  string
	index int // for a list item, name == ""
}

type memberPath []seg

func (p memberPath) String() string {
	var b strings.Builder
	for _, s := range p {
		switch {
		case s.name == "":
			fmt.Fprintf(&b, "[%d]", s.index)
		case b.Len() > 0:
			b.WriteString("." + s.name)
		default:
			b.WriteString(s.name)
		}
	}
	return b.String()
}

func (p memberPath) with(s seg) memberPath { return append(slices.Clone(p), s) }

// freeMember is the member the sweep adds to a free-form object (a movie's info).
const freeMember = "hostile"

// memberPaths lists every member of schema s under prefix: each property, the first item of
// each list, the members of nested objects, a new member of a free-form object.
func memberPaths(s *openapi3.Schema, prefix memberPath) []memberPath {
	var out []memberPath
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		p := prefix.with(seg{name: k})
		out = append(out, p)
		out = append(out, inside(s.Properties[k].Value, p)...)
	}
	return out
}

func inside(s *openapi3.Schema, p memberPath) []memberPath {
	switch {
	case s.Type.Permits("object") && len(s.Properties) > 0:
		return memberPaths(s, p)
	case s.Type.Permits("object"):
		return []memberPath{p.with(seg{name: freeMember})}
	case s.Type.Permits("array"):
		item := p.with(seg{index: 0})
		return append([]memberPath{item}, inside(s.Items.Value, item)...)
	}
	return nil
}

// set returns a copy of tree (of schema s) with the member at p set to v, the members on
// the way made with plausible values when the tree has none.
func (w *bodySweep) set(t *testing.T, tree any, s *openapi3.Schema, p memberPath, v json.RawMessage) any {
	if len(p) == 0 {
		return v
	}
	step := p[0]
	if step.name == "" {
		list := slices.Clone(tree.([]any))
		list[step.index] = w.set(t, list[step.index], s.Items.Value, p[1:], v)
		return list
	}
	m := map[string]any{}
	if tree != nil {
		for k, x := range tree.(map[string]any) {
			m[k] = x
		}
	}
	var child *openapi3.Schema
	if ref := s.Properties[step.name]; ref != nil {
		child = ref.Value
	}
	cur, ok := m[step.name]
	if !ok && len(p) > 1 {
		cur = w.gen(t, step.name, child)
	}
	m[step.name] = w.set(t, cur, child, p[1:], v)
	return m
}

func (w *bodySweep) encode(t *testing.T, body map[string]any) []byte {
	if body == nil {
		return nil
	}
	raw, err := json.Marshal(body)
	must(t, err)
	return raw
}

// state is what a refused write must leave as it was.
type state struct {
	audit    int64
	resource string // the affected resource's GET answer
	tables   map[string]string
}

// fingerprintQuery builds the query of every table's content: a refused write must leave each
// as it was. The tables a request writes by design are left out: a failed login's counter,
// the refreshed session of a refresh.
func (w *bodySweep) fingerprintQuery(t *testing.T) {
	rows, err := w.e.pool.Query(context.Background(),
		`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	must(t, err)
	var parts []string
	for rows.Next() {
		var name string
		must(t, rows.Scan(&name))
		if slices.Contains(writtenByDesign, name) {
			continue
		}
		parts = append(parts, fmt.Sprintf(`SELECT '%s', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %q x`, name, name))
	}
	must(t, rows.Err())
	if len(parts) < 20 {
		t.Fatalf("only %d tables to compare", len(parts))
	}
	w.fpSQL = strings.Join(parts, " UNION ALL ")
}

// writtenByDesign are the tables a refused request may write: the failed-login counters, the
// sessions a login or refresh makes or uses.
// The connection sampler writes its samples on its own clock, and a statement trigger bumps
// change_versions for background work too (an EPG refresh, an import): the tables it counts
// changes of are compared themselves.
var writtenByDesign = []string{"auth_failures", "admin_sessions", "admin_refresh_tokens", "schema_migrations",
	"connection_samples", "change_versions"}

// affected is the GET that shows what o changes: the resource itself, its parent for an action
// on it, the collection a create adds to.
func (w *bodySweep) affected(o writeOp) string {
	doc := w.e.spec.doc.Paths
	for p := o.path; p != "" && p != "/"; p = p[:strings.LastIndex(p, "/")] {
		if item := doc.Value(p); item != nil && item.Get != nil && !strings.Contains(p, "/auth/") {
			return p
		}
	}
	return ""
}

func (w *bodySweep) snapshot(t *testing.T, o writeOp) state {
	if strings.HasPrefix(o.path, "/imports") {
		w.settleImports(t)
	}
	var s state
	must(t, w.e.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log`).Scan(&s.audit))
	if p := w.affected(o); p != "" {
		r := w.e.call(t, http.MethodGet, w.concrete(t, p), w.admin, nil)
		s.resource = fmt.Sprintf("%d %s", r.status, r.body)
	}
	rows, err := w.e.pool.Query(context.Background(), w.fpSQL)
	must(t, err)
	s.tables = map[string]string{}
	for rows.Next() {
		var name, sum string
		must(t, rows.Scan(&name, &sum))
		s.tables[name] = sum
	}
	must(t, rows.Err())
	return s
}

// settle waits until what o's valid call started in the background (a guide's refresh, an
// import) is done: two looks 100 ms apart see the same state.
func (w *bodySweep) settle(t *testing.T, o writeOp) {
	deadline := time.Now().Add(waitLimit)
	prev := w.snapshot(t, o)
	for {
		time.Sleep(100 * time.Millisecond)
		cur := w.snapshot(t, o)
		if len(prev.changed(cur)) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still changing after %s: %v", o.id, waitLimit, prev.changed(cur))
		}
		prev = cur
	}
}

// settleImports waits for the import jobs an accepted call started to fail (their URL refuses
// connections): a job's progress is the runner's write, not the call's.
func (w *bodySweep) settleImports(t *testing.T) {
	deadline := time.Now().Add(waitLimit)
	for {
		var n int
		must(t, w.e.pool.QueryRow(context.Background(),
			`SELECT count(*) FROM import_jobs WHERE state IN ('queued', 'running')`).Scan(&n))
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d import jobs still unfinished after %s", n, waitLimit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// changed names what differs between two states.
func (a state) changed(b state) []string {
	var out []string
	if a.audit != b.audit {
		out = append(out, fmt.Sprintf("audit log %d → %d entries", a.audit, b.audit))
	}
	if a.resource != b.resource {
		out = append(out, fmt.Sprintf("resource\n  before %s\n  after  %s", a.resource, b.resource))
	}
	for k, v := range a.tables {
		if b.tables[k] != v {
			out = append(out, "table "+k)
		}
	}
	slices.Sort(out)
	return out
}

// caller is who sends o: the admin, or for a logout (which ends the session) a fresh session
// of the login account.
func (w *bodySweep) caller(t *testing.T, o writeOp) auth {
	if o.id == "logout" {
		return bearer(w.e.login(t, w.loginAcc).AccessToken)
	}
	return w.admin
}

// send sends body to o at path as a and checks the answer against the document; ok is false
// (the test already failed) when the answer breaks it.
func (w *bodySweep) send(t *testing.T, o writeOp, a auth, path string, body []byte) (reply, bool) {
	w.calls++
	req, err := http.NewRequest(o.method, w.e.srv.base+"/api/v1"+path, bytes.NewReader(body))
	must(t, err)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	if o.upload {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("Authorization", "Bearer "+a.bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil && len(body) > serverBodyLimit {
		// The HTTP server answers 413 and closes without reading a body past its limit: the
		// client, still writing, may see the reset before the answer (status 0: none read).
		return reply{}, true
	}
	if err != nil {
		t.Errorf("%s %s (%d bytes): %v", o.method, path, len(body), err)
		return reply{}, false
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	must(t, err)
	r := reply{status: resp.StatusCode, header: resp.Header, body: raw}
	if r.status >= 500 {
		t.Errorf("%s %s %s: %d %s", o.method, path, clipped(body), r.status, raw)
		return r, false
	}
	if err := w.e.spec.check(req, r); err != nil {
		t.Errorf("%s %s %s: answer %d breaks the OpenAPI document: %v\n%s", o.method, path, clipped(body), r.status, err, raw)
		return r, false
	}
	if o.id == "refreshToken" && r.status == http.StatusOK {
		var tok tokens
		r.json(t, &tok)
		w.refresh = tok.RefreshToken
	}
	return r, true
}

// serverBodyLimit is the HTTP server's limit on a request body (app/server).
const serverBodyLimit = 1 << 20

func clipped(b []byte) string {
	if len(b) > 200 {
		return fmt.Sprintf("%q… (%d bytes)", b[:200], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// sweep sends o its valid body, then each member hostile, then each broken whole body.
func (w *bodySweep) sweep(t *testing.T, o writeOp) {
	path := w.concrete(t, o.path)
	if o.id == "extendLine" {
		// Only a line that expires can be extended: the line's own sweep may have cleared it.
		line := w.concrete(t, "/lines/{id}")
		if r := w.e.call(t, http.MethodPatch, line, w.admin, map[string]any{"exp_date": "2031-01-02T03:04:05Z"}); r.status != http.StatusOK {
			t.Fatalf("PATCH %s = %d %s", line, r.status, r.body)
		}
	}
	base := w.base(t, o)
	var valid []byte
	switch {
	case o.upload:
		valid = []byte("#EXTM3U\n#EXTINF:-1,Hostile sweep\nhttp://127.0.0.1:9/a.ts\n")
	case o.schema != nil:
		valid = w.encode(t, base)
	case o.op.RequestBody != nil:
		t.Fatalf("%s: a request body the sweep makes none for", o.id)
	}
	if r, ok := w.send(t, o, w.caller(t, o), path, valid); ok && r.status >= 300 {
		t.Errorf("%s %s with its valid body %s = %d %s", o.method, path, clipped(valid), r.status, r.body)
	}
	w.settle(t, o)
	if o.schema != nil {
		for _, p := range memberPaths(o.schema, nil) {
			w.members++
			for _, v := range hostileMembers {
				if v == "null" && p[len(p)-1].name == freeMember {
					// A null in a free-form object is stored and read back, but kin-openapi's
					// 3.0 fallback validator takes the schema {} as not nullable (3.1's is).
					continue
				}
				b := w.base(t, o)
				if o.id == "blockISP" && p[0].name == "asn" {
					delete(b, "isp_name") // one of the two
				}
				body := w.set(t, b, o.schema, p, json.RawMessage(v)).(map[string]any)
				w.try(t, o, p, json.RawMessage(v), w.encode(t, body))
			}
		}
	}
	for _, c := range w.brokenBodies(t, o) {
		w.try(t, o, nil, nil, c)
	}
}

// brokenBodies are whole bodies no operation may take: none (where one is needed), not JSON,
// invalid UTF-8, 2 MB, nested 10,000 deep, trailing garbage; and a body whose first member is
// given twice, once NUL.
func (w *bodySweep) brokenBodies(t *testing.T, o writeOp) [][]byte {
	valid := w.encode(t, w.base(t, o))
	if o.schema == nil {
		valid = []byte(`{}`)
	}
	deep := strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000)
	out := [][]byte{[]byte("not json"), []byte("\xff\xfe"), []byte(`{"x":"` + "\xff\xfe" + `"}`),
		append(slices.Clone(valid), " x"...), append(slices.Clone(valid), "{}"...), append(slices.Clone(valid), 0),
		[]byte(`{"x":` + deep + `}`), []byte(deep), []byte(`{"x":"` + strings.Repeat("a", 2<<20) + `"}`)}
	if o.schema != nil || o.upload {
		out = append(out, nil)
	}
	if o.schema != nil {
		name := firstMember(o.schema)
		others := w.base(t, o)
		delete(others, name)
		rest := bytes.TrimPrefix(w.encode(t, others), []byte("{"))
		dup := func(first, last string) []byte {
			tail := rest
			if !bytes.Equal(rest, []byte("}")) {
				tail = append([]byte(","), rest...)
			}
			return []byte(fmt.Sprintf(`{%q:%s,%q:%s`, name, first, name, last) + string(tail))
		}
		out = append(out, dup(`"\u0000"`, `"\u0000"`), dup(`"x"`, `"\u0000"`))
	}
	return out
}

// firstMember is a member of s to give twice: a required one, or the first by name.
func firstMember(s *openapi3.Schema) string {
	if len(s.Required) > 0 {
		return slices.Min(s.Required)
	}
	names := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		names = append(names, k)
	}
	return slices.Min(names)
}

// try sends one hostile body (the member at p set to v; p nil for a broken whole body) and
// checks its answer: refused, it names the member and changed nothing; accepted, the value
// reads back as sent.
func (w *bodySweep) try(t *testing.T, o writeOp, p memberPath, v json.RawMessage, body []byte) {
	path := w.concrete(t, o.path)
	a := w.caller(t, o)
	before := w.snapshot(t, o)
	r, ok := w.send(t, o, a, path, body)
	if !ok {
		return
	}
	what := fmt.Sprintf("%s %s %s", o.method, path, clipped(body))
	if p != nil {
		what = fmt.Sprintf("%s %s, %s = %s", o.method, path, p, clipped(v))
	}
	if r.status == 0 { // cut off past the server's limit: nothing may have changed
		if diff := before.changed(w.snapshot(t, o)); len(diff) > 0 {
			t.Errorf("%s: cut off, and yet it changed: %s", what, strings.Join(diff, "; "))
		}
		return
	}
	if r.status < 300 {
		if p == nil {
			if !o.upload { // an upload takes any bytes as its file
				t.Errorf("%s: accepted %d %s", what, r.status, r.body)
			}
			return
		}
		w.accepted(t, o, p, v, r, what)
		return
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("%s = %d, Content-Type %q: not a problem", what, r.status, r.header.Get("Content-Type"))
		return
	}
	var prob problemBody
	if err := json.Unmarshal(r.body, &prob); err != nil || prob.Status != r.status {
		t.Errorf("%s = %d, not its problem: %s", what, r.status, r.body)
	}
	if r.status == http.StatusBadRequest && p != nil && !names(prob.Field, p.String()) {
		t.Errorf("%s = 400 naming %q, not the member: %s", what, prob.Field, r.body)
	}
	if diff := before.changed(w.snapshot(t, o)); len(diff) > 0 {
		t.Errorf("%s = %d %s, and yet it changed: %s", what, r.status, r.body, strings.Join(diff, "; "))
	}
}

// names reports whether a problem's field names the member at path: the member itself, the
// member it is in ("sources" for "sources[0].url"), or one inside the value sent
// ("sources[0].url", required, for sources[0] = {}).
func names(field, path string) bool {
	within := func(inner, outer string) bool {
		return strings.HasPrefix(inner, outer+".") || strings.HasPrefix(inner, outer+"[")
	}
	return field != "" && (field == path || within(path, field) || within(field, path))
}

// accepted checks that an accepted hostile value reads back as sent: in the answer and in a
// GET of what was written, wherever they show the member.
func (w *bodySweep) accepted(t *testing.T, o writeOp, p memberPath, v json.RawMessage, r reply, what string) {
	answers := []reply{r}
	if get := w.readPath(o, r); get != "" {
		answers = append(answers, w.e.call(t, http.MethodGet, get, w.admin, nil))
	}
	want := decodeAny(t, v)
	if str, ok := want.(string); ok && !bytes.Equal(mustJSON(t, str), v) {
		// Go decoded the string as other than what was sent (a lone surrogate becomes U+FFFD):
		// nothing can read back as what was sent.
		want = unreadable{}
	}
	shown := false
	for _, a := range answers {
		if a.status != http.StatusOK && a.status != http.StatusCreated && a.status != http.StatusAccepted {
			continue
		}
		got, ok := lookup(decodeAny(t, a.body), p)
		if !ok {
			continue
		}
		shown = true
		// null clears a member, or where its description says so, resets it to its default.
		cleared := want == nil && (isEmpty(got) || resets(schemaAt(o.schema, p)))
		if !sameJSON(got, want) && !cleared {
			t.Errorf("%s: accepted (%d), and it reads back as %s", what, r.status, clipped(mustJSON(t, got)))
		}
	}
	if shown {
		w.readBack++
	} else {
		w.unreadable++
	}
}

// readPath is the GET that reads back what o wrote: the resource o changed, or the one it made.
func (w *bodySweep) readPath(o writeOp, r reply) string {
	doc := w.e.spec.doc.Paths
	if o.method != http.MethodPost {
		if item := doc.Value(o.path); item != nil && item.Get != nil {
			return w.concrete(w.t, o.path)
		}
		return ""
	}
	var out struct {
		ID int64 `json:"id"`
	}
	if json.Unmarshal(r.body, &out) != nil || out.ID == 0 {
		return ""
	}
	item := o.path + "/{id}"
	for alias, coll := range aliases {
		if coll == o.path {
			item = alias + "/{id}"
		}
	}
	if it := doc.Value(item); it != nil && it.Get != nil {
		return w.concrete(w.t, strings.TrimSuffix(item, "/{id}")) + "/" + strconv.FormatInt(out.ID, 10)
	}
	return ""
}

func decodeAny(t *testing.T, raw []byte) any {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, clipped(raw))
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	must(t, err)
	return b
}

// unreadable stands for a value sent that a Go string cannot hold.
type unreadable struct{}

// sameJSON compares decoded JSON values, numbers by value (1.50 is 1.5, 1e+23 is not
// 99999999999999999999999).
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		p, ok1 := new(big.Rat).SetString(x.String())
		q, ok2 := new(big.Rat).SetString(y.String())
		return ok1 && ok2 && p.Cmp(q) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

func resets(s *openapi3.Schema) bool {
	return s != nil && strings.Contains(s.Description, "null: back to the default")
}

// schemaAt is the schema of the member at p.
func schemaAt(s *openapi3.Schema, p memberPath) *openapi3.Schema {
	for _, step := range p {
		switch {
		case s == nil:
			return nil
		case step.name == "" && s.Items != nil:
			s = s.Items.Value
		case step.name != "" && s.Properties[step.name] != nil:
			s = s.Properties[step.name].Value
		default:
			return nil
		}
	}
	return s
}

// lookup finds the member at p in a decoded answer.
func lookup(v any, p memberPath) (any, bool) {
	for _, s := range p {
		switch x := v.(type) {
		case map[string]any:
			if s.name == "" {
				return nil, false
			}
			var ok bool
			if v, ok = x[s.name]; !ok {
				return nil, false
			}
		case []any:
			if s.name != "" || s.index >= len(x) {
				return nil, false
			}
			v = x[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// TestHostileBodies_Regressions are the faults TestEveryWriteBody_HostileValues found, one
// request each.
func TestHostileBodies_Regressions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	movie := map[string]any{"name": "Movie", "container_extension": "mp4", "sources": []map[string]string{{"url": "http://192.0.2.1/m.mp4"}}}
	with := func(info string) map[string]any {
		m := maps.Clone(movie)
		m["info"] = json.RawMessage(info)
		return m
	}

	// A free-form info with NUL in a value or a key was a 500 (PostgreSQL's jsonb refuses it);
	// a number past float64 was a 400 naming no member, whose detail named Go's types; one
	// with more digits than float64 keeps was stored rounded (1e+23).
	e.wantProblems(t, admin, []problemCase{
		{"NUL in an info value", http.MethodPost, "/vod", with(`{"plot":"a\u0000b"}`), 400, "info.plot"},
		{"NUL in an info key", http.MethodPost, "/vod", with(`{"a\u0000":1}`), 400, "info.a\x00"},
		{"NUL deep in info", http.MethodPost, "/vod", with(`{"cast":[{"name":"\u0000"}]}`), 400, "info.cast[0].name"},
		{"a number past float64", http.MethodPost, "/vod", with(`{"rating":1e400}`), 400, "info.rating"},
		{"a number float64 rounds", http.MethodPost, "/vod", with(`{"tmdb":99999999999999999999999}`), 400, "info.tmdb"},
		{"int64's minimum, which reads back rounded", http.MethodPost, "/vod", with(`{"n":-9223372036854775808}`), 400, "info.n"},
		{"a lone surrogate in info", http.MethodPost, "/vod", with(`{"plot":"\ud800"}`), 400, "info.plot"},
		{"a lone surrogate in an info key", http.MethodPost, "/vod", with(`{"a\ud800":1}`), 400, "info"},
		// A member given twice was taken as its last: a proxy or a reader of the audit may take the first.
		{"a member given twice", http.MethodPost, "/vod", `{"name":"A","name":"B","container_extension":"mp4","sources":[{"url":"http://192.0.2.1/m.mp4"}]}`, 400, "name"},
		{"an info member given twice", http.MethodPost, "/vod", with(`{"cast":[{"n":1,"n":2}]}`), 400, "info.cast[0].n"},
		{"a lone surrogate in a nested info key", http.MethodPost, "/vod", with(`{"cast":[{"\udc00":1}]}`), 400, "info.cast[0]"},
		{"info nested past the limit", http.MethodPost, "/vod", with(`{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`), 400, ""},
	})
	// What info may hold is stored and read back as sent.
	r := e.call(t, http.MethodPost, "/vod", admin, with(`{"rating":7.5,"year":2024,"plot":"ok 😀","cast":["a"]}`))
	wantStatus(t, "POST /vod with a plain info", r, http.StatusCreated)
	var got struct {
		Info map[string]any `json:"info"`
	}
	r.json(t, &got)
	if want := map[string]any{"rating": 7.5, "year": 2024.0, "plot": "ok 😀", "cast": []any{"a"}}; !reflect.DeepEqual(got.Info, want) {
		t.Fatalf("info = %v, want %v", got.Info, want)
	}

	// A lone surrogate ("\ud800", valid JSON but no Unicode) was accepted in every string
	// member and stored as U+FFFD; a pair is a character, an escaped backslash before "ud800"
	// is text.
	cat := e.created(t, admin, "/categories", map[string]any{"kind": "live", "name": "News"})
	path := fmt.Sprintf("/categories/%d", cat)
	e.wantProblems(t, admin, []problemCase{
		{"a lone high surrogate", http.MethodPatch, path, `{"name":"a\ud800b"}`, 400, "name"},
		{"a lone low surrogate", http.MethodPatch, path, `{"name":"\udc00"}`, 400, "name"},
		{"two high surrogates", http.MethodPatch, path, `{"name":"\ud800\ud800"}`, 400, "name"},
	})
	for body, want := range map[string]string{`{"name":"\ud83d\ude00"}`: "😀", `{"name":"\\ud800"}`: `\ud800`} {
		r := e.call(t, http.MethodPatch, path, admin, body)
		wantStatus(t, "PATCH "+body, r, http.StatusOK)
		var c struct {
			Name string `json:"name"`
		}
		r.json(t, &c)
		if c.Name != want {
			t.Fatalf("PATCH %s: name %q, want %q", body, c.Name, want)
		}
	}
}

// TestNoBodyOperations_Document400And413: an operation without a body refuses one (400) and
// one past its limit (413); the document said neither for such operations (e.call checks each
// answer against it).
func TestNoBodyOperations_Document400And413(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, admin := e.as(t, accounts.RoleAdmin)
	wantProblem(t, "a body for rotatePartnerKey", e.call(t, http.MethodPost, "/partner-keys/rotate", admin, `{"x":1}`), 400, "")
	wantProblem(t, "100 KB for rotatePartnerKey", e.call(t, http.MethodPost, "/partner-keys/rotate", admin,
		`{"x":"`+strings.Repeat("a", 100_000)+`"}`), 413, "")
	line := e.created(t, admin, "/lines", map[string]any{})
	wantProblem(t, "100 KB for killLineConnections", e.call(t, http.MethodPost, fmt.Sprintf("/lines/%d/kill", line), admin,
		`{"x":"`+strings.Repeat("a", 100_000)+`"}`), 413, "")
}
