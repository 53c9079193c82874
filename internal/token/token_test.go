package token

import (
	"encoding/base64"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-only")

func newKeyring(t testing.TB, current uint8, accepted ...uint8) *Keyring {
	t.Helper()
	kr, err := NewKeyring(testSecret, current, accepted...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

var (
	now     = time.Unix(1700000000, 0)
	session = [16]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	client  = netip.MustParseAddr("203.0.113.7")
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	kr := newKeyring(t, 1)
	exp := now.Unix() + 60
	tests := []struct {
		name    string
		c       Claims
		from    netip.Addr
		want    Claims // after normalisation
		wantErr error
	}{
		{"unbound live", Claims{Kind: KindLive, LineID: 42, StreamID: 101, ExpiresUnix: exp}, client,
			Claims{Kind: KindLive, LineID: 42, StreamID: 101, ExpiresUnix: exp}, nil},
		{"unbound, any client, even none", Claims{Kind: KindVOD, LineID: 1, StreamID: 2, ExpiresUnix: exp}, netip.Addr{},
			Claims{Kind: KindVOD, LineID: 1, StreamID: 2, ExpiresUnix: exp}, nil},
		{"bound to the address", Claims{Kind: KindSegment, LineID: 42, StreamID: 101, ExpiresUnix: exp,
			ClientIP: BindIP(client), SessionID: session}, client,
			Claims{Kind: KindSegment, LineID: 42, StreamID: 101, ExpiresUnix: exp,
				ClientIP: netip.MustParsePrefix("203.0.113.7/32"), SessionID: session}, nil},
		{"session with its issuing credential", Claims{Kind: KindSession, LineID: 42, StreamID: 101, ExpiresUnix: exp,
			SessionID: session, Credential: Credential{Kind: CredentialPassword, Sum: 0x01020304}}, client,
			Claims{Kind: KindSession, LineID: 42, StreamID: 101, ExpiresUnix: exp,
				SessionID: session, Credential: Credential{Kind: CredentialPassword, Sum: 0x01020304}}, nil},
		{"media token of a partner", Claims{Kind: KindMedia, LineID: 42, ExpiresUnix: exp, ClientIP: BindIP(client),
			SessionID: session, Credential: Credential{Kind: CredentialPartner, Sum: 7}}, client,
			Claims{Kind: KindMedia, LineID: 42, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.7/32"),
				SessionID: session, Credential: Credential{Kind: CredentialPartner, Sum: 7}}, nil},
		{"bound, from the IPv4-mapped form", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: BindIP(client)},
			netip.MustParseAddr("::ffff:203.0.113.7"),
			Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.7/32")}, nil},
		{"mapped prefix is unmapped", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp,
			ClientIP: netip.MustParsePrefix("::ffff:203.0.113.7/120")}, netip.MustParseAddr("203.0.113.200"),
			Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.0/24")}, nil},
		{"bound to the /24", Claims{Kind: KindTimeshift, LineID: 42, ExpiresUnix: exp, ClientIP: BindNet(client, 24, 64)},
			netip.MustParseAddr("203.0.113.99"),
			Claims{Kind: KindTimeshift, LineID: 42, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.0/24")}, nil},
		{"bound to the /64", Claims{Kind: KindSeries, LineID: 42, ExpiresUnix: exp,
			ClientIP: BindNet(netip.MustParseAddr("2001:db8:1:2:3:4:5:6"), 24, 64)}, netip.MustParseAddr("2001:db8:1:2::99"),
			Claims{Kind: KindSeries, LineID: 42, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("2001:db8:1:2::/64")}, nil},
		{"host bits are masked", Claims{Kind: KindLive, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.7/24")},
			client, Claims{Kind: KindLive, ExpiresUnix: exp, ClientIP: netip.MustParsePrefix("203.0.113.0/24")}, nil},
		{"largest ids", Claims{Kind: KindLive, LineID: math.MaxInt64, StreamID: math.MaxInt64, ExpiresUnix: math.MaxUint32,
			ClientIP: BindIP(netip.MustParseAddr("2001:db8::1")), SessionID: session}, netip.MustParseAddr("2001:db8::1"),
			Claims{Kind: KindLive, LineID: math.MaxInt64, StreamID: math.MaxInt64, ExpiresUnix: math.MaxUint32,
				ClientIP: netip.MustParsePrefix("2001:db8::1/128"), SessionID: session}, nil},
		{"other address", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: BindIP(client)},
			netip.MustParseAddr("203.0.113.8"), Claims{}, ErrWrongIP},
		{"other family", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: BindIP(client)},
			netip.MustParseAddr("2001:db8::1"), Claims{}, ErrWrongIP},
		{"bound, no client address", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: BindIP(client)},
			netip.Addr{}, Claims{}, ErrWrongIP},
		{"outside the /24", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: exp, ClientIP: BindNet(client, 24, 64)},
			netip.MustParseAddr("203.0.114.7"), Claims{}, ErrWrongIP},
		{"expired beyond leeway", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: now.Unix() - 11}, client, Claims{}, ErrExpired},
		{"expired and wrong IP → expired", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: now.Unix() - 11,
			ClientIP: BindIP(client)}, netip.MustParseAddr("198.51.100.1"), Claims{}, ErrExpired},
		{"expired within leeway", Claims{Kind: KindLive, LineID: 42, ExpiresUnix: now.Unix() - 10}, client,
			Claims{Kind: KindLive, LineID: 42, ExpiresUnix: now.Unix() - 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := kr.Sign(tt.c)
			if err != nil {
				t.Fatalf("Sign(%+v) err = %v", tt.c, err)
			}
			if len(tok) > 100 || strings.ContainsAny(tok, "+/=") {
				t.Errorf("Sign() = %q (%d chars), want a short base64url string", tok, len(tok))
			}
			got, err := kr.Verify(tok, now, tt.from)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Verify() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSign_Length(t *testing.T) {
	t.Parallel()
	kr := newKeyring(t, 1)
	typical, _ := kr.Sign(Claims{Kind: KindSegment, LineID: 123456, StreamID: 98765, ExpiresUnix: now.Unix(),
		ClientIP: BindIP(client), SessionID: session})
	longest, _ := kr.Sign(Claims{Kind: KindSegment, LineID: math.MaxInt64, StreamID: math.MaxInt64, ExpiresUnix: math.MaxUint32,
		ClientIP: BindIP(netip.MustParseAddr("2001:db8::1")), SessionID: session,
		Credential: Credential{Kind: CredentialPortal, Sum: math.MaxUint32}})
	shortest, _ := kr.Sign(Claims{Kind: KindLive, ExpiresUnix: 1})
	t.Logf("typical %d chars %s, longest %d, shortest %d", len(typical), typical, len(longest), len(shortest))
	if len(typical) > 72 || len(longest) != MaxLen || len(shortest) != minLen {
		t.Errorf("lengths typical %d, longest %d (MaxLen %d), shortest %d (minLen %d)",
			len(typical), len(longest), MaxLen, len(shortest), minLen)
	}
	// 107 with every field (the credential fingerprint added 7 characters): still short in a URL.
	if MaxLen > 110 {
		t.Errorf("MaxLen = %d, want a URL-friendly bound", MaxLen)
	}
}

// TestOpen_SignatureOnly: Open returns an expired token's claims, whatever the address, but
// refuses what Verify refuses before the expiry: a forged or foreign token.
func TestOpen_SignatureOnly(t *testing.T) {
	t.Parallel()
	kr := newKeyring(t, 1)
	c := Claims{Kind: KindMedia, LineID: 9, ExpiresUnix: now.Unix() - 3600, ClientIP: BindIP(client), SessionID: session,
		Credential: Credential{Kind: CredentialPartner, Sum: 3}}
	tok, err := kr.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Verify(tok, now, client); !errors.Is(err, ErrExpired) {
		t.Fatalf("Verify(expired) = %v, want ErrExpired", err)
	}
	got, err := kr.Open(tok)
	if err != nil || got.SessionID != session || got.LineID != 9 {
		t.Fatalf("Open(expired) = %+v, %v; want its claims", got, err)
	}
	other, err := NewKeyring([]byte("another-secret-0123456789abcdef-xyz"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(tok); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Open(signed by another secret) = %v, want ErrBadSignature", err)
	}
	if _, err := kr.Open(tok[:len(tok)-2]); err == nil {
		t.Fatal("Open(truncated) accepted")
	}
}

func TestSign_InvalidClaims(t *testing.T) {
	t.Parallel()
	kr := newKeyring(t, 1)
	for _, c := range []Claims{
		{Kind: 0, ExpiresUnix: 1},
		{Kind: KindMedia + 1, ExpiresUnix: 1},
		{Kind: KindLive, ExpiresUnix: 1, Credential: Credential{Kind: CredentialDevice + 1, Sum: 1}},
		{Kind: KindLive, ExpiresUnix: 1, Credential: Credential{Sum: 1}},
		{Kind: KindLive, LineID: -1, ExpiresUnix: 1},
		{Kind: KindLive, StreamID: -1, ExpiresUnix: 1},
		{Kind: KindLive, ExpiresUnix: 0},
		{Kind: KindLive, ExpiresUnix: math.MaxUint32 + 1},
	} {
		if tok, err := kr.Sign(c); !errors.Is(err, ErrInvalidClaims) {
			t.Errorf("Sign(%+v) = %q, %v; want ErrInvalidClaims", c, tok, err)
		}
	}
}

func TestVerify_Rotation(t *testing.T) {
	t.Parallel()
	old := newKeyring(t, 1)
	rotating := newKeyring(t, 2, 1) // signs with 2, still accepts 1
	done := newKeyring(t, 2)        // 1 retired
	c := Claims{Kind: KindLive, LineID: 7, StreamID: 8, ExpiresUnix: now.Unix() + 30}

	tok1, _ := old.Sign(c)
	tok2, _ := rotating.Sign(c)
	if got, err := rotating.Verify(tok1, now, client); err != nil || got != c {
		t.Errorf("rotating.Verify(old token) = %+v, %v; want the claims", got, err)
	}
	if got, err := done.Verify(tok2, now, client); err != nil || got != c {
		t.Errorf("done.Verify(new token) = %+v, %v; want the claims", got, err)
	}
	if _, err := done.Verify(tok1, now, client); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("done.Verify(old token) err = %v, want ErrUnknownKey", err)
	}
	if _, err := old.Verify(tok2, now, client); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old.Verify(new token) err = %v, want ErrUnknownKey", err)
	}
	if rotating.CurrentKeyID() != 2 {
		t.Errorf("CurrentKeyID() = %d, want 2", rotating.CurrentKeyID())
	}
}

func TestVerify_Rejects(t *testing.T) {
	t.Parallel()
	kr := newKeyring(t, 1)
	other, err := NewKeyring([]byte(strings.Repeat("x", 32)), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{Kind: KindSegment, LineID: 42, StreamID: 101, ExpiresUnix: now.Unix() + 60, ClientIP: BindIP(client), SessionID: session}
	good, _ := kr.Sign(c)
	foreign, _ := other.Sign(c)
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	reencode := func(f func(b []byte) []byte) string {
		b := f(append([]byte(nil), raw...))
		return base64.RawURLEncoding.EncodeToString(b)
	}
	flip := func(i int) string { return reencode(func(b []byte) []byte { b[i] ^= 1; return b }) }

	tests := []struct {
		name string
		tok  string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"too short", good[:20], ErrMalformed},
		{"too long", good + strings.Repeat("A", MaxLen), ErrMalformed},
		{"not base64url", strings.Replace(good, good[10:11], "+", 1), ErrMalformed},
		{"padding", good + "=", ErrMalformed},
		{"newline inside (the decoder would skip it)", good[:10] + "\n" + good[10:], ErrMalformed},
		{"carriage return inside", good[:20] + "\r" + good[20:], ErrMalformed},
		{"truncated by one char", good[:len(good)-1], ErrMalformed},
		{"one byte short", reencode(func(b []byte) []byte { return b[:len(b)-1] }), ErrBadSignature},
		{"other version", reencode(func(b []byte) []byte { b[0] = 2; return b }), ErrMalformed},
		{"unknown key id", reencode(func(b []byte) []byte { b[1] = 9; return b }), ErrUnknownKey},
		{"other secret", foreign, ErrBadSignature},
		{"tampered line id", flip(4), ErrBadSignature},
		{"tampered expiry", flip(9), ErrBadSignature},
		{"tampered MAC", flip(len(raw) - 1), ErrBadSignature},
		{"invalid kind", reencode(func(b []byte) []byte { b[2] = 0; return b }), ErrBadSignature},
		{"unknown flag", reencode(func(b []byte) []byte { b[3] |= 0x80; return b }), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := kr.Verify(tt.tok, now, client); !errors.Is(err, tt.want) || got != (Claims{}) {
				t.Errorf("Verify(%q) = %+v, %v; want %v", tt.tok, got, err, tt.want)
			}
		})
	}
}

func TestParseBody_Canonical(t *testing.T) {
	t.Parallel()
	body := appendBody(nil, 1, Claims{Kind: KindLive, LineID: 5, StreamID: 6, ExpiresUnix: 7})
	tests := []struct {
		name string
		b    []byte
	}{
		{"non-minimal varint", append(append([]byte{1, 1, 1, 0}, 0x85, 0x00), body[5:]...)},
		{"trailing byte", append(append([]byte(nil), body...), 0)},
		{"both address flags", func() []byte { b := append([]byte(nil), body...); b[3] = flagIPv4 | flagIPv6; return b }()},
		{"zero expiry", appendBodyRaw(Claims{Kind: KindLive}, nil)},
		{"host bits set", appendBodyRaw(Claims{Kind: KindLive, ExpiresUnix: 1}, []byte{203, 0, 113, 7, 24})},
		{"prefix too long", appendBodyRaw(Claims{Kind: KindLive, ExpiresUnix: 1}, []byte{203, 0, 113, 7, 33})},
		{"IPv4-mapped written as IPv6", func() []byte {
			b := appendBody(nil, 1, Claims{Kind: KindLive, ExpiresUnix: 1})
			b[3] = flagIPv6
			a := netip.MustParseAddr("::ffff:1.2.3.4").As16()
			return append(append(b, a[:]...), 128)
		}()},
		{"zero session", func() []byte {
			b := appendBody(nil, 1, Claims{Kind: KindLive, ExpiresUnix: 1})
			b[3] = flagSess
			return append(b, make([]byte, 16)...)
		}()},
		{"short session", func() []byte {
			b := appendBody(nil, 1, Claims{Kind: KindLive, ExpiresUnix: 1})
			b[3] = flagSess
			return append(b, 1, 2, 3)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c, err := parseBody(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("parseBody(%x) = %+v, %v; want ErrMalformed", tt.b, c, err)
			}
		})
	}
}

// appendBodyRaw writes a body with an IPv4 flag and the given address bytes, bypassing Sign's
// normalisation.
func appendBodyRaw(c Claims, ip []byte) []byte {
	b := appendBody(nil, 1, c)
	if ip != nil {
		b[3] = flagIPv4
		b = append(b, ip...)
	}
	return b
}

func TestNewKeyring_ShortSecret(t *testing.T) {
	t.Parallel()
	if _, err := NewKeyring([]byte("too short"), 1); err == nil {
		t.Error("NewKeyring(short secret) err = nil, want an error")
	}
}

func TestKind_String(t *testing.T) {
	t.Parallel()
	for k, want := range map[Kind]string{KindLive: "live", KindVOD: "vod", KindSeries: "series",
		KindTimeshift: "timeshift", KindSegment: "segment", KindSession: "session", KindMedia: "media", 0: "kind(0)", 99: "kind(99)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

func TestBind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  netip.Prefix
		want string
	}{
		{"BindIP v4", BindIP(client), "203.0.113.7/32"},
		{"BindIP mapped", BindIP(netip.MustParseAddr("::ffff:203.0.113.7")), "203.0.113.7/32"},
		{"BindIP v6", BindIP(netip.MustParseAddr("2001:db8::5")), "2001:db8::5/128"},
		{"BindNet v4", BindNet(client, 24, 64), "203.0.113.0/24"},
		{"BindNet v6", BindNet(netip.MustParseAddr("2001:db8:a:b:c::1"), 24, 64), "2001:db8:a:b::/64"},
		{"BindNet clamps", BindNet(client, 99, 64), "203.0.113.7/32"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if BindIP(netip.Addr{}).IsValid() || BindNet(netip.Addr{}, 24, 64).IsValid() {
		t.Error("binding the zero Addr gives a valid prefix, want the zero prefix (unbound)")
	}
}

func FuzzVerify(f *testing.F) {
	kr := newKeyring(f, 1, 2)
	for _, c := range []Claims{
		{Kind: KindLive, LineID: 42, StreamID: 101, ExpiresUnix: now.Unix() + 60},
		{Kind: KindSegment, LineID: 1 << 40, StreamID: 3, ExpiresUnix: now.Unix(), ClientIP: BindIP(client), SessionID: session},
		{Kind: KindVOD, ExpiresUnix: 1, ClientIP: BindNet(netip.MustParseAddr("2001:db8::1"), 24, 64)},
	} {
		tok, err := kr.Sign(c)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add("")
	f.Add("AQEBAAAAAAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := kr.Verify(tok, now, client)
		if err != nil {
			if c != (Claims{}) {
				t.Fatalf("Verify(%q) = %+v with error %v, want zero claims", tok, c, err)
			}
			return
		}
		// Only one encoding verifies: re-signing the claims gives the same token.
		again, err := kr.Sign(c)
		if err != nil || again != tok {
			t.Fatalf("Verify(%q) = %+v, re-signed as %q, %v", tok, c, again, err)
		}
	})
}

// FuzzParseBody reaches past the MAC: any body the parser accepts encodes back to itself.
func FuzzParseBody(f *testing.F) {
	f.Add(appendBody(nil, 1, Claims{Kind: KindLive, LineID: 42, StreamID: 101, ExpiresUnix: 1700000060}))
	f.Add(appendBody(nil, 7, Claims{Kind: KindSegment, LineID: 300, StreamID: 1 << 35, ExpiresUnix: 99,
		ClientIP: netip.MustParsePrefix("2001:db8::/64"), SessionID: session}))
	f.Add(appendBody(nil, 1, Claims{Kind: KindVOD, ExpiresUnix: 1, ClientIP: netip.MustParsePrefix("203.0.113.0/24")}))
	f.Add(appendBody(nil, 1, Claims{Kind: KindSession, ExpiresUnix: 1, SessionID: session,
		Credential: Credential{Kind: CredentialPassword, Sum: 0xdeadbeef}}))
	f.Add([]byte{1, 1, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseBody(b)
		if err != nil {
			return
		}
		if n, err := normalize(c); err != nil || n != c {
			t.Fatalf("parseBody(%x) = %+v, not normal (%+v, %v)", b, c, n, err)
		}
		if back := appendBody(nil, b[1], c); string(back) != string(b) {
			t.Fatalf("parseBody(%x) = %+v encodes back as %x", b, c, back)
		}
	})
}

// FuzzSignVerify: every valid claim set survives Sign → Verify, from an address inside its binding.
func FuzzSignVerify(f *testing.F) {
	kr := newKeyring(f, 3)
	f.Add(uint8(1), int64(42), int64(101), int64(1700000060), []byte{203, 0, 113, 7}, 32, session[:])
	f.Add(uint8(5), int64(0), int64(0), int64(1), []byte(nil), 0, []byte(nil))
	f.Add(uint8(2), int64(math.MaxInt64), int64(7), int64(math.MaxUint32), netip.MustParseAddr("2001:db8::1").AsSlice(), 64, []byte{1})
	f.Fuzz(func(t *testing.T, kind uint8, line, stream, exp int64, ip []byte, bits int, sess []byte) {
		c := Claims{Kind: Kind(kind), LineID: line, StreamID: stream, ExpiresUnix: exp}
		if a, ok := netip.AddrFromSlice(ip); ok {
			if p, err := a.Prefix(max(0, min(bits, a.BitLen()))); err == nil {
				c.ClientIP = p
			}
		}
		copy(c.SessionID[:], sess)
		tok, err := kr.Sign(c)
		if err != nil {
			if !errors.Is(err, ErrInvalidClaims) {
				t.Fatalf("Sign(%+v) err = %v, want nil or ErrInvalidClaims", c, err)
			}
			return
		}
		want, _ := normalize(c)
		from := client
		if want.ClientIP.IsValid() {
			from = want.ClientIP.Addr()
		}
		got, err := kr.Verify(tok, time.Unix(want.ExpiresUnix, 0), from)
		if err != nil || got != want {
			t.Fatalf("Verify(Sign(%+v)) = %+v, %v; want %+v", c, got, err, want)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	kr := newKeyring(b, 1)
	c := Claims{Kind: KindSegment, LineID: 123456, StreamID: 98765, ExpiresUnix: now.Unix() + 60,
		ClientIP: BindIP(client), SessionID: session}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	kr := newKeyring(b, 1)
	tok, err := kr.Sign(Claims{Kind: KindSegment, LineID: 123456, StreamID: 98765, ExpiresUnix: now.Unix() + 60,
		ClientIP: BindIP(client), SessionID: session})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(tok, now, client); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyBadSignature(b *testing.B) {
	kr := newKeyring(b, 1)
	other, _ := NewKeyring([]byte(strings.Repeat("y", 32)), 1)
	tok, _ := other.Sign(Claims{Kind: KindLive, LineID: 1, StreamID: 2, ExpiresUnix: now.Unix() + 60})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Verify(tok, now, client); !errors.Is(err, ErrBadSignature) {
			b.Fatal(err)
		}
	}
}
