package geo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/xtreamd/xtreamd/internal/testkit"

	"github.com/google/go-cmp/cmp"
	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// names mimics a real GeoLite2 record: the decoder has to skip these on the fast path.
func names(s string) mmdbtype.Map {
	m := mmdbtype.Map{}
	for _, l := range []string{"de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"} {
		m[mmdbtype.String(l)] = mmdbtype.String(s + " (" + l + ")")
	}
	return m
}

func countryRec(code string) mmdbtype.Map {
	c := mmdbtype.Map{"geoname_id": mmdbtype.Uint32(1), "iso_code": mmdbtype.String(code), "names": names(code)}
	return mmdbtype.Map{
		"continent":          mmdbtype.Map{"code": mmdbtype.String("XX"), "geoname_id": mmdbtype.Uint32(2), "names": names("continent")},
		"country":            c,
		"registered_country": c,
	}
}

func cityRec(code, city string) mmdbtype.Map {
	r := countryRec(code)
	r["city"] = mmdbtype.Map{"geoname_id": mmdbtype.Uint32(3), "names": names(city)}
	r["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(52.5), "longitude": mmdbtype.Float64(13.4)}
	return r
}

func registeredOnly(code string) mmdbtype.Map {
	return mmdbtype.Map{"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
}

func asnRec(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn),
		"autonomous_system_organization": mmdbtype.String(org)}
}

func ispRec(asn uint32, asOrg, isp, org string) mmdbtype.Map {
	r := asnRec(asn, asOrg)
	r["isp"] = mmdbtype.String(isp)
	r["organization"] = mmdbtype.String(org)
	return r
}

// recipe is one test database: its type and networks.
type recipe struct {
	dbType    string
	ipVersion int // 0: 6
	nets      map[string]mmdbtype.Map
}

// usDB is the default country database: loopback in the US, documentation IPv6 in Germany,
// TEST-NET-1 with only a registered country, 10/8 absent.
var usDB = recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{
	"127.0.0.0/8":   countryRec("US"),
	"2001:db8::/32": countryRec("DE"),
	"192.0.2.0/24":  registeredOnly("FR"),
}}

func build(t testing.TB, r recipe) []byte {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: r.dbType, RecordSize: 24, IPVersion: r.ipVersion,
		IncludeReservedNetworks: true, BuildEpoch: 1700000000})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range r.nets {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// replace writes b to path the way geoipupdate does: a temporary file renamed over the old one.
func replace(t testing.TB, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func writeDB(t testing.TB, r recipe) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(r.dbType, " ", "_")+".mmdb")
	replace(t, path, build(t, r))
	return path
}

// logBuf collects log lines; a reload may log from another goroutine.
type logBuf struct{ testkit.Buffer }

func (l *logBuf) lines() []string {
	return strings.Split(strings.TrimSpace(l.String()), "\n")
}

func (l *logBuf) count(substr string) int {
	n := 0
	for _, line := range l.lines() {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func newLog() (*slog.Logger, *logBuf) {
	var lb logBuf
	return slog.New(slog.NewTextHandler(&lb, nil)), &lb
}

func TestCountry(t *testing.T) {
	t.Parallel()
	dbs := map[string]recipe{
		"GeoLite2-Country":  usDB,
		"GeoIP2-Country":    {dbType: "GeoIP2-Country", nets: usDB.nets},
		"DBIP-Country-Lite": {dbType: "DBIP-Country-Lite", nets: usDB.nets},
		"GeoLite2-City": {dbType: "GeoLite2-City", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": cityRec("US", "Springfield"), "2001:db8::/32": cityRec("DE", "Berlin"),
			"192.0.2.0/24": registeredOnly("FR")}},
		"DBIP-City-Lite": {dbType: "DBIP-City-Lite", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": cityRec("US", "Springfield"), "2001:db8::/32": cityRec("DE", "Berlin"),
			"192.0.2.0/24": registeredOnly("FR")}},
	}
	for name, r := range dbs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			db := New(writeDB(t, r), "", nil)
			for _, tt := range []struct {
				ip   string
				want string
			}{
				{"127.0.0.1", "US"},
				{"127.255.255.254", "US"},
				{"::ffff:127.0.0.1", "US"}, // IPv4-mapped IPv6 is unmapped
				{"2001:db8::1", "DE"},
				{"192.0.2.10", "FR"}, // no country: the registered country
				{"10.0.0.1", ""},     // not in the database
				{"203.0.113.1", ""},  // not in the database
				{"2001:db9::1", ""},  // not in the database
			} {
				code, ok := db.Country(netip.MustParseAddr(tt.ip))
				if code != tt.want || !ok {
					t.Errorf("Country(%s) = %q, %v; want %q, true", tt.ip, code, ok, tt.want)
				}
			}
			if code, ok := db.Country(netip.Addr{}); code != "" || !ok {
				t.Errorf("Country(invalid) = %q, %v; want \"\", true", code, ok)
			}
			st := db.Status().Country
			if !st.Loaded || st.DatabaseType != r.dbType || st.Error != "" || !st.BuildTime.Equal(time.Unix(1700000000, 0)) {
				t.Errorf("Status().Country = %+v, want loaded %s built 1700000000", st, r.dbType)
			}
		})
	}
}

func TestCountry_CachedCodeStable(t *testing.T) {
	t.Parallel()
	db := New(writeDB(t, usDB), "", nil)
	// The second lookup of a record is answered from the offset cache; it must agree.
	for range 3 {
		if code, _ := db.Country(netip.MustParseAddr("127.0.0.9")); code != "US" {
			t.Fatalf("Country(127.0.0.9) = %q, want US", code)
		}
		if code, _ := db.Country(netip.MustParseAddr("2001:db8::9")); code != "DE" {
			t.Fatalf("Country(2001:db8::9) = %q, want DE", code)
		}
	}
}

func TestCountry_IPv4OnlyDatabase(t *testing.T) {
	t.Parallel()
	r := recipe{dbType: "GeoLite2-Country", ipVersion: 4, nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("US")}}
	db := New(writeDB(t, r), "", nil)
	if code, ok := db.Country(netip.MustParseAddr("127.0.0.1")); code != "US" || !ok {
		t.Errorf("Country(127.0.0.1) = %q, %v; want US, true", code, ok)
	}
	// An IPv6 address cannot be looked up in an IPv4 tree: answered as unknown, counted.
	if code, ok := db.Country(netip.MustParseAddr("2001:db8::1")); code != "" || !ok {
		t.Errorf("Country(2001:db8::1) = %q, %v; want \"\", true", code, ok)
	}
	if n := db.Status().Country.LookupErrors; n != 1 {
		t.Errorf("LookupErrors = %d, want 1", n)
	}
}

func TestISP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    recipe
		want ISP
	}{
		{"GeoIP2-ISP", recipe{dbType: "GeoIP2-ISP", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": ispRec(64512, "Loopback AS", "Loopback ISP", "Loopback Org")}},
			ISP{Name: "Loopback ISP", ASN: 64512, Organization: "Loopback Org"}},
		{"GeoIP2-ISP without isp and organization", recipe{dbType: "GeoIP2-ISP", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": asnRec(64512, "Loopback AS")}},
			ISP{Name: "Loopback AS", ASN: 64512, Organization: "Loopback AS"}},
		{"GeoLite2-ASN", recipe{dbType: "GeoLite2-ASN", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": asnRec(64513, "Loopback Hosting AS")}},
			ISP{Name: "Loopback Hosting AS", ASN: 64513, Organization: "Loopback Hosting AS"}},
		{"DBIP-ASN-Lite", recipe{dbType: "DBIP-ASN-Lite (compat=GeoLite2-ASN)", nets: map[string]mmdbtype.Map{
			"127.0.0.0/8": asnRec(64514, "DB-IP Loopback")}},
			ISP{Name: "DB-IP Loopback", ASN: 64514, Organization: "DB-IP Loopback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := New("", writeDB(t, tt.r), nil)
			for _, ip := range []string{"127.0.0.1", "::ffff:127.0.0.2"} {
				got, ok := db.ISP(netip.MustParseAddr(ip))
				if !ok {
					t.Fatalf("ISP(%s) ok = false", ip)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ISP(%s) mismatch (-want +got):\n%s", ip, diff)
				}
			}
			if got, ok := db.ISP(netip.MustParseAddr("10.0.0.1")); got != (ISP{}) || !ok {
				t.Errorf("ISP(10.0.0.1) = %+v, %v; want zero, true", got, ok)
			}
			if _, ok := db.Country(netip.MustParseAddr("127.0.0.1")); ok {
				t.Error("Country ok = true with only an ISP database configured")
			}
		})
	}
}

func TestNotLoaded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.mmdb")
	if err := os.WriteFile(corrupt, []byte("this is not a MaxMind database"), 0o644); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.mmdb")
	full := build(t, usDB)
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// Metadata intact, tree overwritten: only the probe lookups can tell.
	damaged := filepath.Join(dir, "damaged.mmdb")
	bad := bytes.Clone(full)
	for i := range len(bad) / 2 {
		bad[i] = 0xff
	}
	if err := os.WriteFile(damaged, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		country     string
		isp         string
		wantErrPart string // in Status().Country.Error or ISP.Error
	}{
		{"not configured", "", "", ""},
		{"missing file", filepath.Join(dir, "nope.mmdb"), filepath.Join(dir, "nope2.mmdb"), "no such file"},
		{"corrupt file", corrupt, corrupt, "invalid MaxMind DB file"},
		{"truncated file", truncated, truncated, "invalid MaxMind DB file"},
		{"damaged search tree", damaged, "", "probe"},
		{"ASN database in the country slot", writeDB(t, recipe{dbType: "GeoLite2-ASN",
			nets: map[string]mmdbtype.Map{"127.0.0.0/8": asnRec(1, "x")}}), "", "no country data"},
		{"country database in the ISP slot", "", writeDB(t, usDB), "neither ISP nor ASN"},
		{"unknown database type", writeDB(t, recipe{dbType: "Acme-Geo",
			nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("US")}}), "", "Acme-Geo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log, lb := newLog()
			db := New(tt.country, tt.isp, log)
			if code, ok := db.Country(netip.MustParseAddr("127.0.0.1")); code != "" || ok {
				t.Errorf("Country = %q, %v; want \"\", false", code, ok)
			}
			if isp, ok := db.ISP(netip.MustParseAddr("127.0.0.1")); isp != (ISP{}) || ok {
				t.Errorf("ISP = %+v, %v; want zero, false", isp, ok)
			}
			st := db.Status()
			if st.Country.Loaded || st.ISP.Loaded {
				t.Errorf("Status() = %+v, want nothing loaded", st)
			}
			if st.Country.Path != tt.country || st.ISP.Path != tt.isp {
				t.Errorf("Status() paths = %q, %q; want %q, %q", st.Country.Path, st.ISP.Path, tt.country, tt.isp)
			}
			if !strings.Contains(st.Country.Error+st.ISP.Error, tt.wantErrPart) {
				t.Errorf("Status() errors = %q / %q, want one containing %q", st.Country.Error, st.ISP.Error, tt.wantErrPart)
			}
			configured := 0
			for _, p := range []string{tt.country, tt.isp} {
				if p != "" {
					configured++
				}
			}
			// One line per slot that failed, and polling an unchanged file logs nothing more.
			db.Check()
			db.Check()
			if n := lb.count("geoip database not loaded"); n != configured {
				t.Errorf("log has %d 'not loaded' lines, want %d:\n%s", n, configured, strings.Join(lb.lines(), "\n"))
			}
			if db.Check() {
				t.Error("Check() = true on unchanged files, want false")
			}
		})
	}
}

func TestReload_FileReplaced(t *testing.T) {
	t.Parallel()
	path := writeDB(t, usDB)
	log, lb := newLog()
	db := New(path, "", log)
	ip := netip.MustParseAddr("127.0.0.1")
	if code, _ := db.Country(ip); code != "US" {
		t.Fatalf("Country(127.0.0.1) = %q, want US", code)
	}
	if db.Check() {
		t.Error("Check() = true before any change")
	}

	replace(t, path, build(t, recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("NL")}}))
	if !db.Check() {
		t.Fatal("Check() = false after the file was replaced")
	}
	if code, ok := db.Country(ip); code != "NL" || !ok {
		t.Errorf("after reload Country(127.0.0.1) = %q, %v; want NL, true", code, ok)
	}
	if n := lb.count("geoip database loaded"); n != 2 {
		t.Errorf("log has %d 'loaded' lines, want 2", n)
	}
}

func TestReload_BadFileKeepsPrevious(t *testing.T) {
	t.Parallel()
	path := writeDB(t, usDB)
	log, lb := newLog()
	db := New(path, "", log)
	ip := netip.MustParseAddr("127.0.0.1")

	replace(t, path, []byte("garbage, not an mmdb file"))
	if !db.Check() {
		t.Fatal("Check() = false after the file was replaced")
	}
	if code, ok := db.Country(ip); code != "US" || !ok {
		t.Errorf("Country after a corrupt replacement = %q, %v; want the previous US, true", code, ok)
	}
	st := db.Status().Country
	if !st.Loaded || st.Error == "" {
		t.Errorf("Status().Country = %+v, want loaded with an error", st)
	}
	// The same failure again (polled, or forced) is not logged again.
	db.Check()
	db.Reload()
	if n := lb.count("reload failed, keeping the previous one"); n != 1 {
		t.Errorf("log has %d 'reload failed' lines, want 1:\n%s", n, strings.Join(lb.lines(), "\n"))
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if !db.Check() {
		t.Fatal("Check() = false after the file vanished")
	}
	if code, ok := db.Country(ip); code != "US" || !ok {
		t.Errorf("Country after the file vanished = %q, %v; want the previous US, true", code, ok)
	}
	if n := lb.count("reload failed, keeping the previous one"); n != 2 {
		t.Errorf("log has %d 'reload failed' lines, want 2 (one per distinct failure)", n)
	}

	replace(t, path, build(t, recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("SE")}}))
	db.Check()
	if code, _ := db.Country(ip); code != "SE" {
		t.Errorf("Country after a good file came back = %q, want SE", code)
	}
	if st := db.Status().Country; st.Error != "" {
		t.Errorf("Status().Country.Error = %q after a good load, want \"\"", st.Error)
	}
}

func TestReload_FileAppearsLater(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "late.mmdb")
	isp := filepath.Join(t.TempDir(), "late-asn.mmdb")
	clock := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	db := New(path, isp, nil, WithClock(func() time.Time { return clock }))
	if _, ok := db.Country(netip.MustParseAddr("127.0.0.1")); ok {
		t.Fatal("Country ok = true before the file exists")
	}
	replace(t, path, build(t, usDB))
	replace(t, isp, build(t, recipe{dbType: "GeoLite2-ASN", nets: map[string]mmdbtype.Map{"127.0.0.0/8": asnRec(7, "Seven")}}))
	if !db.Check() {
		t.Fatal("Check() = false after the files appeared")
	}
	if code, ok := db.Country(netip.MustParseAddr("127.0.0.1")); code != "US" || !ok {
		t.Errorf("Country = %q, %v; want US, true", code, ok)
	}
	if got, ok := db.ISP(netip.MustParseAddr("127.0.0.1")); got.ASN != 7 || !ok {
		t.Errorf("ISP = %+v, %v; want ASN 7", got, ok)
	}
	want := SourceStatus{Path: isp, Loaded: true, DatabaseType: "GeoLite2-ASN",
		BuildTime: time.Unix(1700000000, 0).UTC(), LoadedAt: clock}
	if diff := cmp.Diff(want, db.Status().ISP); diff != "" {
		t.Errorf("Status().ISP mismatch (-want +got):\n%s", diff)
	}
}

func TestReload_ConcurrentLookups(t *testing.T) {
	t.Parallel()
	path := writeDB(t, usDB)
	db := New(path, "", nil)
	dbs := [][]byte{
		build(t, recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("NL")}}),
		build(t, usDB),
	}
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			ip := netip.AddrFrom4([4]byte{127, 0, 0, byte(g)})
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				code, ok := db.Country(ip)
				if !ok || (code != "US" && code != "NL") {
					errs <- fmt.Errorf("Country(%s) = %q, %v during reload", ip, code, ok)
					return
				}
				_ = db.Status()
			}
		})
	}
	for i := range 50 {
		replace(t, path, dbs[i%2])
		db.Reload()
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	path := writeDB(t, usDB)
	synctest.Test(t, func(t *testing.T) {
		db := New(path, "", nil, WithPollInterval(time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- db.Run(ctx) }()

		replace(t, path, build(t, recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{"127.0.0.0/8": countryRec("JP")}}))
		// Virtual time inside the bubble: this returns once every goroutine is blocked, after the
		// ticker has fired; no real waiting.
		<-time.After(time.Minute + time.Second)
		synctest.Wait()
		if code, _ := db.Country(netip.MustParseAddr("127.0.0.1")); code != "JP" {
			t.Errorf("Country after one poll = %q, want JP", code)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run() = %v, want nil", err)
		}
	})
}

func TestRun_NothingConfigured(t *testing.T) {
	t.Parallel()
	if err := New("", "", nil).Run(t.Context()); err != nil {
		t.Errorf("Run() = %v, want nil", err)
	}
}

func BenchmarkCountry(b *testing.B) {
	db := New(writeDB(b, usDB), "", nil)
	ip := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if code, ok := db.Country(ip); code != "US" || !ok {
			b.Fatalf("Country = %q, %v", code, ok)
		}
	}
}

func BenchmarkCountryIPv6(b *testing.B) {
	db := New(writeDB(b, usDB), "", nil)
	ip := netip.MustParseAddr("2001:db8::1")
	b.ReportAllocs()
	for b.Loop() {
		if code, ok := db.Country(ip); code != "DE" || !ok {
			b.Fatalf("Country = %q, %v", code, ok)
		}
	}
}

func BenchmarkISP(b *testing.B) {
	db := New("", writeDB(b, recipe{dbType: "GeoIP2-ISP", nets: map[string]mmdbtype.Map{
		"127.0.0.0/8": ispRec(64512, "Loopback AS", "Loopback ISP", "Loopback Org")}}), nil)
	ip := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	for b.Loop() {
		if isp, ok := db.ISP(ip); isp.ASN != 64512 || !ok {
			b.Fatalf("ISP = %+v, %v", isp, ok)
		}
	}
}

// BenchmarkCountryManyRecords uses 2,000 distinct records, so offsets are large and the tree
// deeper, closer to a real file.
func BenchmarkCountryManyRecords(b *testing.B) {
	r := recipe{dbType: "GeoLite2-Country", nets: map[string]mmdbtype.Map{}}
	for i := range 2000 {
		r.nets[fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)] = countryRec(fmt.Sprintf("%c%c", 'A'+i%26, 'A'+(i/26)%26))
	}
	db := New(writeDB(b, r), "", nil)
	ip := netip.MustParseAddr("10.7.200.1")
	want, _ := db.Country(ip)
	b.ReportAllocs()
	for b.Loop() {
		if code, ok := db.Country(ip); code != want || !ok {
			b.Fatalf("Country = %q, %v; want %q", code, ok, want)
		}
	}
}
