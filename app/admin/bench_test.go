package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/credential"
)

// The admin API's benchmarks run over real HTTP on loopback against a real database, as an
// operator's script would call it; each reports the p50 latency of one call (p50_ms) beside
// ns/op, and the baseline is /healthz on the same server.

// bigEnv is a server over a database holding 100,000 lines: a fifth owned by one reseller, a
// tenth banned, a tenth expired, a third trials.
func bigEnv(b *testing.B) (*env, auth, auth) {
	b.Helper()
	e := newEnv(b)
	_, admin := e.as(b, accounts.RoleAdmin)
	res, reseller := e.as(b, accounts.RoleReseller)
	hash, err := credential.Hash("bench", credential.Params{MemoryKiB: 64, Time: 1, Threads: 1})
	must(b, err)
	bq := e.bouquet(b, "Main")
	_, err = e.pool.Exec(b.Context(), `INSERT INTO lines (username, password_hash, exp_date, banned, is_trial, max_connections, owner_admin_id, created_at)
		SELECT 'user' || lpad(i::text, 6, '0'), $1,
			CASE WHEN i % 10 = 0 THEN now() - interval '1 day' WHEN i % 3 = 0 THEN NULL ELSE now() + (i % 365) * interval '1 day' END,
			i % 10 = 5, i % 3 = 1, 1 + i % 4, CASE WHEN i % 5 = 1 THEN $2::bigint END, now() - i * interval '1 minute'
		FROM generate_series(1, 100000) AS i`, hash, res.id)
	must(b, err)
	_, err = e.pool.Exec(b.Context(), `INSERT INTO line_bouquets (line_id, bouquet_id) SELECT id, $1 FROM lines WHERE id % 2 = 0`, bq)
	must(b, err)
	_, err = e.pool.Exec(b.Context(), `ANALYZE lines; ANALYZE line_bouquets`)
	must(b, err)
	return e, admin, reseller
}

// latency runs call in b.Loop and reports its p50 in milliseconds.
func latency(b *testing.B, call func()) {
	b.Helper()
	var durs []time.Duration
	for b.Loop() {
		start := time.Now()
		call()
		durs = append(durs, time.Since(start))
	}
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds())/1000, "p50_ms")
}

// get calls path with a and fails unless it answers 200.
func get(b *testing.B, url string, a auth) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if a.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+a.bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("GET %s = %d %s", url, resp.StatusCode, body)
	}
}

func BenchmarkListLines100k(b *testing.B) {
	e, admin, reseller := bigEnv(b)
	base := e.srv.base + "/api/v1/lines?limit=50"
	deep := ""
	{ // a cursor 50,000 lines down the created_at order
		var cur string
		for range 2 {
			r := e.call(b, http.MethodGet, "/lines?limit=1000&sort=-created_at"+cur, admin, nil)
			var p linePage
			r.json(b, &p)
			cur = "&cursor=" + *p.NextCursor
		}
		deep = cur
	}
	for _, c := range []struct {
		name, query string
		a           auth
	}{
		{"first_page", "", admin},
		{"active", "&status=active", admin},
		{"expired_by_expiry", "&status=expired&sort=exp_date", admin},
		{"username_prefix", "&username=user0123", admin},
		{"trials_newest_first", "&is_trial=true&sort=-created_at", admin},
		{"bouquet", "&bouquet_id=1&status=active", admin},
		{"deep_cursor", "&sort=-created_at" + deep, admin},
		{"reseller_active", "&status=active", reseller},
		{"reseller_none_match", "&status=banned", reseller}, // the worst case: all its 20,000 lines read
		{"admin_none_match", "&status=banned&is_trial=true&username=user9", admin},
	} {
		b.Run(c.name, func(b *testing.B) { latency(b, func() { get(b, base+c.query, c.a) }) })
	}
	b.Run("baseline_healthz", func(b *testing.B) { latency(b, func() { get(b, e.srv.base+"/healthz", anonymous) }) })
}

// BenchmarkCreateLine creates lines with generated credentials (the default argon2id cost),
// beside the hash alone: argon2's share of a creation is hash_p50 / create p50.
func BenchmarkCreateLine(b *testing.B) {
	e := newEnv(b)
	_, admin := e.as(b, accounts.RoleAdmin)
	b.Run("create", func(b *testing.B) {
		latency(b, func() {
			req, _ := http.NewRequest(http.MethodPost, e.srv.base+"/api/v1/lines", strings.NewReader(`{"max_connections":1}`))
			req.Header.Set("Authorization", "Bearer "+admin.bearer)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 201 {
				b.Fatalf("create = %d", resp.StatusCode)
			}
		})
	})
	b.Run("argon2id_hash_alone", func(b *testing.B) {
		latency(b, func() {
			if _, err := credential.Hash(fmt.Sprint(b.N), credential.DefaultParams); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("baseline_healthz", func(b *testing.B) { latency(b, func() { get(b, e.srv.base+"/healthz", anonymous) }) })
}
