package testdb

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// GeoDBs writes small MaxMind country and ISP databases into a temporary directory and returns
// their paths. They know three networks (everything else is unknown to both):
//
//	198.51.100.0/24  DE  "Alpha Net"    AS64500
//	203.0.113.0/24   GB  "Beta Telecom" AS64501
//	100.64.0.0/24    FR  "Gamma Cable"  AS64502
func GeoDBs(t testing.TB) (country, isp string) {
	t.Helper()
	dir := t.TempDir()
	country, isp = filepath.Join(dir, "country.mmdb"), filepath.Join(dir, "isp.mmdb")
	cc := func(code string) mmdbtype.Map {
		return mmdbtype.Map{"country": mmdbtype.Map{"iso_code": mmdbtype.String(code)}}
	}
	WriteMMDB(t, country, "GeoLite2-Country", map[string]mmdbtype.Map{
		"198.51.100.0/24": cc("DE"), "203.0.113.0/24": cc("GB"), "100.64.0.0/24": cc("FR"),
	})
	rec := func(name string, asn uint32) mmdbtype.Map {
		return mmdbtype.Map{"isp": mmdbtype.String(name), "organization": mmdbtype.String(name),
			"autonomous_system_number": mmdbtype.Uint32(asn), "autonomous_system_organization": mmdbtype.String(name + " AS")}
	}
	WriteMMDB(t, isp, "GeoIP2-ISP", map[string]mmdbtype.Map{
		"198.51.100.0/24": rec("Alpha Net", 64500), "203.0.113.0/24": rec("Beta Telecom", 64501),
		"100.64.0.0/24": rec("Gamma Cable", 64502),
	})
	return country, isp
}

// WriteMMDB writes a small MaxMind database of dbType mapping each CIDR to its record
// (reserved networks included, so test addresses can be mapped).
func WriteMMDB(t testing.TB, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := w.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}
