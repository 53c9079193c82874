package access_test

import (
	"crypto/sha256"
	"net/netip"
	"testing"

	"github.com/xtreamd/xtreamd/internal/access"
)

func sha256Sum(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func TestParseNetworkList(t *testing.T) {
	t.Parallel()
	got, err := access.ParseNetworkList("10.0.0.1, 192.168.0.0/16\n2001:db8::/32;::ffff:1.2.3.4")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32", "1.2.3.4/32"}
	if len(got) != len(want) {
		t.Fatalf("ParseNetworkList = %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %v, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.256", "10.0.0.0/40", "host.example", "fe80::1%eth0", "1.2.3.4/8/1"} {
		if _, err := access.ParseNetworkList("10.0.0.1," + bad); err == nil {
			t.Errorf("ParseNetworkList(%q) accepted", bad)
		}
	}
}

func TestParseUserAgentRule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, match string
		ok             bool
	}{
		{"VLC", "substring", true},
		{"Lavf/58.76.100", "exact", true},
		{"", "exact", false},
		{"x", "regex", false},
		{"bad\x00ua", "exact", false},
	} {
		_, _, err := access.ParseUserAgentRule(tt.pattern, tt.match)
		if (err == nil) != tt.ok {
			t.Errorf("ParseUserAgentRule(%q, %q) = %v, want ok=%v", tt.pattern, tt.match, err, tt.ok)
		}
	}
}

func FuzzParseNetwork(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.0/8", "::ffff:10.0.0.1/104", "2001:db8::1/64", "", "/", "1.2.3.4/33", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := access.ParseNetwork(s)
		if err != nil {
			return
		}
		back, err := access.ParseNetwork(p.String())
		if err != nil || back != p {
			t.Fatalf("ParseNetwork(%q) = %v does not round-trip: %v, %v", s, p, back, err)
		}
		if p != p.Masked() || p.Addr().Is4In6() {
			t.Fatalf("ParseNetwork(%q) = %v is not canonical", s, p)
		}
		if !p.Contains(p.Addr()) {
			t.Fatalf("ParseNetwork(%q) = %v does not contain its own address", s, p)
		}
	})
}

func FuzzParseNetworkList(f *testing.F) {
	f.Add("10.0.0.1, 10.0.0.0/8\n::1")
	f.Add(",,;; \t")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := access.ParseNetworkList(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if !p.IsValid() {
				t.Fatalf("ParseNetworkList(%q) returned an invalid prefix", s)
			}
		}
	})
}

func FuzzParseUserAgentRule(f *testing.F) {
	f.Add("VLC", "substring")
	f.Add("", "exact")
	f.Fuzz(func(t *testing.T, pattern, match string) {
		p, m, err := access.ParseUserAgentRule(pattern, match)
		if err != nil {
			return
		}
		if p != pattern || (m != "exact" && m != "substring") || len(p) == 0 || len(p) > 512 {
			t.Fatalf("ParseUserAgentRule(%q, %q) = %q, %q", pattern, match, p, m)
		}
	})
}

var _ = netip.Addr{}
