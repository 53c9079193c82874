// Package token signs and verifies the panel's play and segment tokens, and signs links for edge
// servers that check them without calling back: Akamai EdgeAuth v2 tokens and nginx secure_link
// hashes.
//
// A play token is stateless: any instance holding the keyring verifies it. It binds a line, a
// stream, an expiry, a purpose (Kind), optionally the client IP or its network, a session id and
// the fingerprint of the credential that issued it (so a password change invalidates the links
// handed out under the old one), and carries a key id so the secret can be rotated without
// breaking links in flight.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Errors returned by Verify. They say nothing about the line; a surface answers every one of them
// the same way (spec: 401/403, empty body).
var (
	// ErrMalformed means the string is not a token of this format (bad encoding, bad length,
	// unknown version, non-canonical field).
	ErrMalformed = errors.New("token: malformed")
	// ErrUnknownKey means the token names a key id the keyring does not accept (retired or never
	// configured).
	ErrUnknownKey = errors.New("token: unknown key id")
	// ErrBadSignature means the MAC does not match: forged, tampered, or signed with another secret.
	ErrBadSignature = errors.New("token: bad signature")
	// ErrExpired means the token's expiry (plus Leeway) has passed.
	ErrExpired = errors.New("token: expired")
	// ErrWrongIP means the token is bound to an address or network the client is not in.
	ErrWrongIP = errors.New("token: used from another IP")
	// ErrInvalidClaims means Sign was given claims it cannot encode.
	ErrInvalidClaims = errors.New("token: invalid claims")
)

// Leeway is how long after its expiry a token is still accepted, to absorb clock skew between the
// instance that signed it and the one verifying it (Kaltura's Akamai validator allows the same
// 10 s). Run NTP; this is not a grace period for slow players.
const Leeway = 10 * time.Second

// MinSecretLen is the shortest master secret NewKeyring accepts (config asks for the same).
const MinSecretLen = 32

// MaxLen is the longest token Sign produces (64-bit ids, an IPv6 prefix, a session id and a
// credential); a typical one (IPv4-bound, with a session) is about 70 characters.
const MaxLen = (maxRaw*8 + 5) / 6

const (
	version = 1
	// macLen is HMAC-SHA256 truncated to 128 bits, the minimum RFC 2104 §5 recommends (half the
	// hash output); a forgery still needs 2^128 tries, and the token stays short in a URL.
	macLen    = 16
	hdrLen    = 4 // version, key id, kind, flags
	expLen    = 4 // uint32 unix seconds: good until 2106
	maxBody   = hdrLen + 2*maxVarint + expLen + 16 + 1 + sessionLen + credLen
	maxVarint = 9 // uvarint of a value < 2^63
	maxRaw    = maxBody + macLen
	minRaw    = hdrLen + 1 + 1 + expLen + macLen
	minLen    = (minRaw*8 + 5) / 6
	flagIPv4  = 1 << 0
	flagIPv6  = 1 << 1
	flagSess  = 1 << 2
	flagCred  = 1 << 3 // followed by the credential: its kind, then its 4-byte sum
	flagMask  = flagIPv4 | flagIPv6 | flagSess | flagCred
	credLen   = 1 + 4

	sessionLen = 16
	keyContext = "xtreamd play token v1"
)

// Kind says what a token opens; a surface refuses a token of another kind.
type Kind uint8

// The kinds of token.
const (
	KindLive      Kind = iota + 1 // a live stream (/live/…, the MAG play_token)
	KindVOD                       // a movie
	KindSeries                    // a series episode
	KindTimeshift                 // a catch-up recording
	KindSegment                   // HLS segments of one stream for one session
	// KindSession is the long-lived playlist link of a play-token HLS session
	// (/hls/{token}/index.m3u8). Every poll of it runs the whole check; it is never a segment
	// token, nor a segment token one of it.
	KindSession
	// KindMedia is a partner's media token (seed 000): a line's, bound to the viewer's
	// address, for any stream the line may open (StreamID 0) on the live, movie, series and
	// catch-up routes. It carries a session id, by which a partner's logout revokes it.
	KindMedia
)

var kindNames = [...]string{"", "live", "vod", "series", "timeshift", "segment", "session", "media"}

// String returns the kind's lowercase name.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindLive && k <= KindMedia }

// CredentialKind says what kind of credential issued a token.
type CredentialKind uint8

// The kinds of issuing credential.
const (
	// CredentialPassword: the line's username and password; Sum fingerprints its stored hash.
	CredentialPassword CredentialKind = iota + 1
	// CredentialPortal: a MAG portal session; Sum fingerprints the device's session token.
	CredentialPortal
	// CredentialPartner: a partner client acting for the line; Sum is the partner's id
	// itself (ids stay below 2^32), so a token names exactly one partner.
	CredentialPartner
	// CredentialDevice: a device credential (second-screen activation) of the line; Sum
	// fingerprints its stored hash.
	CredentialDevice
)

// Credential fingerprints the credential a token was issued under. The issuer (package access)
// derives Sum from what it stored for that credential; a token is honoured only while the
// credential still has that fingerprint. The zero Credential means none.
type Credential struct {
	Kind CredentialKind
	Sum  uint32
}

// Claims is what a token says. The zero ClientIP leaves the token unbound; the zero SessionID
// means no session.
type Claims struct {
	Kind     Kind
	LineID   int64 // >= 0
	StreamID int64 // >= 0
	// ExpiresUnix is the expiry in Unix seconds, 1 … 2^32-1.
	ExpiresUnix int64
	// ClientIP, when valid, binds the token to an address (a /32 or /128, see BindIP) or a network
	// (BindNet). Sign unmaps and masks it; Verify returns the normalised prefix. A dual-stack
	// player may fetch the API over IPv4 and the stream over IPv6 (or the reverse): bind only
	// where the issuing request and the stream request surely share an address family.
	ClientIP netip.Prefix
	// SessionID ties segment tokens to one viewing session (a lease id, a UUID fits).
	SessionID [sessionLen]byte
	// Credential is the issuing credential (zero: none; a valid CredentialKind otherwise).
	Credential Credential
}

// BindIP returns the prefix that binds a token to exactly ip (unmapped), or the zero prefix for
// an invalid ip.
func BindIP(ip netip.Addr) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen())
}

// BindNet returns the network of ip that a token is bound to: v4Bits for IPv4 (e.g. 24), v6Bits
// for IPv6 (e.g. 64). Binding to a network rather than an address survives a mobile client or a
// carrier-grade NAT changing the address inside it. Out-of-range bits are clamped.
func BindNet(ip netip.Addr, v4Bits, v6Bits int) netip.Prefix {
	if !ip.IsValid() {
		return netip.Prefix{}
	}
	ip = ip.Unmap()
	bits := v6Bits
	if ip.Is4() {
		bits = v4Bits
	}
	bits = max(0, min(bits, ip.BitLen()))
	p, _ := ip.Prefix(bits) // bits is in range: cannot fail
	return p
}

// Keyring signs with its current key and verifies with any accepted one. Keys are derived from
// one master secret, so operators configure a single secret and rotate by changing the key id:
// first deploy everywhere accepting the new id, then make it current, then drop the old one.
type Keyring struct {
	enc     *base64.Encoding
	current *key
	keys    []*key // current first
}

type key struct {
	id   uint8
	pool sync.Pool // *scratch; one pool per key so the HMAC state is never re-keyed
}

// scratch is a pooled HMAC with room to decode and encode one token, so neither Sign nor Verify
// allocates beyond the returned string.
type scratch struct {
	mac hash.Hash
	raw [maxRaw]byte
	sum [sha256.Size]byte
	b64 [MaxLen]byte
}

// NewKeyring derives one key per key id from secret (HMAC-SHA256(secret, "xtreamd play token v1"
// || id)); it signs with current and also accepts the accepted ids.
func NewKeyring(secret []byte, current uint8, accepted ...uint8) (*Keyring, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token: new keyring: secret shorter than %d bytes", MinSecretLen)
	}
	kr := &Keyring{enc: base64.RawURLEncoding.Strict()}
	ids := append([]uint8{current}, accepted...)
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			continue
		}
		derive := hmac.New(sha256.New, secret)
		derive.Write([]byte(keyContext))
		derive.Write([]byte{id})
		kb := derive.Sum(nil)
		k := &key{id: id}
		k.pool.New = func() any { return &scratch{mac: hmac.New(sha256.New, kb)} }
		kr.keys = append(kr.keys, k)
	}
	kr.current = kr.keys[0]
	return kr, nil
}

// CurrentKeyID is the key id new tokens are signed with.
func (kr *Keyring) CurrentKeyID() uint8 { return kr.current.id }

func (kr *Keyring) key(id uint8) *key {
	for _, k := range kr.keys {
		if k.id == id {
			return k
		}
	}
	return nil
}

// Sign returns the URL-safe token for c, signed with the current key.
func (kr *Keyring) Sign(c Claims) (string, error) {
	c, err := normalize(c)
	if err != nil {
		return "", err
	}
	k := kr.current
	s := k.pool.Get().(*scratch)
	defer k.pool.Put(s)
	body := appendBody(s.raw[:0], k.id, c)
	s.mac.Reset()
	s.mac.Write(body)
	raw := append(body, s.mac.Sum(s.sum[:0])[:macLen]...)
	n := kr.enc.EncodedLen(len(raw))
	kr.enc.Encode(s.b64[:n], raw)
	return string(s.b64[:n]), nil
}

// Verify checks tok at time now for a request from clientIP and returns its claims. The checks
// run in this order, and the first failure is returned: ErrMalformed (encoding, length, version),
// ErrUnknownKey, ErrBadSignature, then, for a genuine token only, ErrExpired and ErrWrongIP. The caller still
// checks that Kind and StreamID are the ones the route expects.
func (kr *Keyring) Verify(tok string, now time.Time, clientIP netip.Addr) (Claims, error) {
	c, err := kr.Open(tok)
	if err != nil {
		return Claims{}, err
	}
	if now.Unix() > c.ExpiresUnix+int64(Leeway/time.Second) {
		return Claims{}, ErrExpired
	}
	if c.ClientIP.IsValid() && !c.ClientIP.Contains(clientIP.Unmap()) {
		return Claims{}, ErrWrongIP
	}
	return c, nil
}

// Open checks tok's encoding and signature only and returns its claims, whatever its expiry and
// the address it is bound to: for revoking a token (a logout ends the streams a token opened,
// even after it expired), never for admitting one — that is Verify. Its errors are Verify's
// first three: ErrMalformed, ErrUnknownKey, ErrBadSignature.
func (kr *Keyring) Open(tok string) (Claims, error) {
	if len(tok) < minLen || len(tok) > MaxLen {
		return Claims{}, ErrMalformed
	}
	// The second byte is the key id; decode the first 3 bytes (4 characters) to find the key, so
	// the full decode happens in that key's pooled scratch.
	var hdr [3]byte
	if _, err := kr.enc.Decode(hdr[:], []byte(tok[:4])); err != nil {
		return Claims{}, ErrMalformed
	}
	if hdr[0] != version {
		return Claims{}, ErrMalformed
	}
	k := kr.key(hdr[1])
	if k == nil {
		return Claims{}, ErrUnknownKey
	}
	s := k.pool.Get().(*scratch)
	defer k.pool.Put(s)
	n := copy(s.b64[:], tok)
	m, err := kr.enc.Decode(s.raw[:], s.b64[:n])
	// The decoder skips \r and \n; the length check refuses them, so a token has one spelling.
	if err != nil || m < minRaw || kr.enc.EncodedLen(m) != len(tok) {
		return Claims{}, ErrMalformed
	}
	raw := s.raw[:m]
	body, mac := raw[:m-macLen], raw[m-macLen:]
	// MAC first: the parser only ever sees bytes this keyring signed.
	s.mac.Reset()
	s.mac.Write(body)
	if !hmac.Equal(s.mac.Sum(s.sum[:0])[:macLen], mac) {
		return Claims{}, ErrBadSignature
	}
	return parseBody(body)
}

// normalize validates c and puts ClientIP in its canonical form (unmapped, masked).
func normalize(c Claims) (Claims, error) {
	switch {
	case !c.Kind.valid():
		return c, fmt.Errorf("%w: kind %d", ErrInvalidClaims, c.Kind)
	case c.LineID < 0 || c.StreamID < 0:
		return c, fmt.Errorf("%w: negative id", ErrInvalidClaims)
	case c.ExpiresUnix < 1 || c.ExpiresUnix > math.MaxUint32:
		return c, fmt.Errorf("%w: expiry %d out of range", ErrInvalidClaims, c.ExpiresUnix)
	case c.Credential != Credential{} && !c.Credential.Kind.valid():
		return c, fmt.Errorf("%w: credential kind %d", ErrInvalidClaims, c.Credential.Kind)
	}
	if p := c.ClientIP; p.IsValid() {
		addr, bits := p.Addr(), p.Bits()
		if addr.Is4In6() {
			addr, bits = addr.Unmap(), max(0, bits-96)
		}
		c.ClientIP = netip.PrefixFrom(addr, bits).Masked()
	} else {
		c.ClientIP = netip.Prefix{}
	}
	return c, nil
}

// appendBody writes the canonical encoding: version, key id, kind, flags, uvarint line id,
// uvarint stream id, uint32 big-endian expiry, [address bytes, prefix bits], [session id],
// [credential kind, uint32 big-endian credential sum]. Every
// field has a fixed size or a self-delimiting minimal encoding, so two claims never share bytes.
func appendBody(b []byte, kid uint8, c Claims) []byte {
	var flags byte
	if c.ClientIP.IsValid() {
		if c.ClientIP.Addr().Is4() {
			flags |= flagIPv4
		} else {
			flags |= flagIPv6
		}
	}
	if c.SessionID != [sessionLen]byte{} {
		flags |= flagSess
	}
	if c.Credential != (Credential{}) {
		flags |= flagCred
	}
	b = append(b, version, kid, byte(c.Kind), flags)
	b = binary.AppendUvarint(b, uint64(c.LineID))
	b = binary.AppendUvarint(b, uint64(c.StreamID))
	b = binary.BigEndian.AppendUint32(b, uint32(c.ExpiresUnix))
	if flags&(flagIPv4|flagIPv6) != 0 {
		if a := c.ClientIP.Addr(); a.Is4() {
			a4 := a.As4()
			b = append(b, a4[:]...)
		} else {
			a16 := a.As16()
			b = append(b, a16[:]...)
		}
		b = append(b, byte(c.ClientIP.Bits()))
	}
	if flags&flagSess != 0 {
		b = append(b, c.SessionID[:]...)
	}
	if flags&flagCred != 0 {
		b = append(b, byte(c.Credential.Kind))
		b = binary.BigEndian.AppendUint32(b, c.Credential.Sum)
	}
	return b
}

// parseBody is appendBody's inverse; it accepts only what appendBody produces (the key id is
// not returned: the caller has already used it to pick the key).
func parseBody(b []byte) (Claims, error) {
	if len(b) < hdrLen || b[0] != version {
		return Claims{}, ErrMalformed
	}
	c := Claims{Kind: Kind(b[2])}
	flags := b[3]
	if !c.Kind.valid() || flags&^flagMask != 0 || flags&(flagIPv4|flagIPv6) == flagIPv4|flagIPv6 {
		return Claims{}, ErrMalformed
	}
	b = b[hdrLen:]
	var ok bool
	if c.LineID, b, ok = uvarint63(b); !ok {
		return Claims{}, ErrMalformed
	}
	if c.StreamID, b, ok = uvarint63(b); !ok {
		return Claims{}, ErrMalformed
	}
	if len(b) < expLen {
		return Claims{}, ErrMalformed
	}
	c.ExpiresUnix, b = int64(binary.BigEndian.Uint32(b)), b[expLen:]
	if c.ExpiresUnix == 0 {
		return Claims{}, ErrMalformed
	}
	if flags&(flagIPv4|flagIPv6) != 0 {
		n := 4
		if flags&flagIPv6 != 0 {
			n = 16
		}
		if len(b) < n+1 {
			return Claims{}, ErrMalformed
		}
		addr, _ := netip.AddrFromSlice(b[:n]) // n is 4 or 16: cannot fail
		bits := int(b[n])
		b = b[n+1:]
		if n == 16 && addr.Is4In6() { // must have been written as IPv4
			return Claims{}, ErrMalformed
		}
		p, err := addr.Prefix(bits)
		if err != nil || p.Addr() != addr { // bits out of range, or host bits set
			return Claims{}, ErrMalformed
		}
		c.ClientIP = p
	}
	if flags&flagSess != 0 {
		if len(b) < sessionLen {
			return Claims{}, ErrMalformed
		}
		copy(c.SessionID[:], b)
		b = b[sessionLen:]
		if c.SessionID == [sessionLen]byte{} {
			return Claims{}, ErrMalformed
		}
	}
	if flags&flagCred != 0 {
		if len(b) < credLen {
			return Claims{}, ErrMalformed
		}
		c.Credential = Credential{Kind: CredentialKind(b[0]), Sum: binary.BigEndian.Uint32(b[1:])}
		b = b[credLen:]
		if !c.Credential.Kind.valid() {
			return Claims{}, ErrMalformed
		}
	}
	if len(b) != 0 {
		return Claims{}, ErrMalformed
	}
	return c, nil
}

// uvarint63 reads a minimal uvarint that fits an int64.
func uvarint63(b []byte) (int64, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v > math.MaxInt64 || (n > 1 && b[n-1] == 0) {
		return 0, nil, false
	}
	return int64(v), b[n:], true
}

func (k CredentialKind) valid() bool { return k >= CredentialPassword && k <= CredentialDevice }
