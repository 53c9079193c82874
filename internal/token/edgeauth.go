package token

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EdgeAuthOptions configure an Akamai EdgeAuth v2 signer: the key and conventions shared with the
// edge that validates the tokens.
type EdgeAuthOptions struct {
	// KeyHex is the shared key as an even-length hex string (the edge's "key_hex").
	KeyHex string
	// Algorithm is "sha256" (default), "sha1" or "md5".
	Algorithm string
	// TokenName is the query parameter name; default "hdnts" (Akamai AMD).
	TokenName string
	// FieldDelimiter separates fields; default "~".
	FieldDelimiter string
	// ACLDelimiter separates ACL entries; default "!".
	ACLDelimiter string
	// Salt is signed but never written into the token.
	Salt string
	// EscapeEarly URL-encodes ip, id, data and url before signing (lowercase %xx, space as "+").
	// The SDKs disagree on what it escapes, so leave it off and issue URLs whose paths need no
	// escaping.
	EscapeEarly bool
	// LegacyEscape is the older AuthToken convention: escape early with uppercase %XX, and escape
	// the joined ACL too. Only for edges configured that way.
	LegacyEscape bool
}

// EdgeAuthClaims are the fields of one EdgeAuth token. Exactly one of ACL and URL is set.
type EdgeAuthClaims struct {
	// IP binds the token to the client address; Akamai advises against it (dual stack, NAT).
	IP netip.Addr
	// Start, when not zero, is written as st=.
	Start time.Time
	// Expires is written as exp= and must be after Start.
	Expires time.Time
	// ACL lists path patterns the token opens ("/live/alice/*"); written into the token.
	ACL []string
	// URL is the one path the token opens; signed but not written (the edge appends the request
	// path when it verifies).
	URL string
	// SessionID is written as id=; Akamai wants printable ASCII of at most 36 bytes.
	SessionID string
	// Data is an opaque payload written as data=.
	Data string
}

// EdgeAuth signs Akamai EdgeAuth v2 tokens: ip=…~st=…~exp=…~acl=…~id=…~data=…~hmac=<hex>. It is
// safe for concurrent use.
type EdgeAuth struct {
	opts    EdgeAuthOptions
	key     []byte
	newHash func() hash.Hash
}

// NewEdgeAuth checks opts and fills in the defaults.
func NewEdgeAuth(opts EdgeAuthOptions) (*EdgeAuth, error) {
	key, err := hex.DecodeString(opts.KeyHex)
	if err != nil || len(key) == 0 {
		return nil, errors.New("token: edgeauth: key must be a non-empty, even-length hex string")
	}
	e := &EdgeAuth{opts: opts, key: key}
	switch strings.ToLower(opts.Algorithm) {
	case "", "sha256":
		e.newHash = sha256.New
	case "sha1":
		e.newHash = sha1.New
	case "md5":
		e.newHash = md5.New
	default:
		return nil, fmt.Errorf("token: edgeauth: unknown algorithm %q (want sha256, sha1 or md5)", opts.Algorithm)
	}
	if e.opts.TokenName == "" {
		e.opts.TokenName = "hdnts"
	}
	if e.opts.FieldDelimiter == "" {
		e.opts.FieldDelimiter = "~"
	}
	if e.opts.ACLDelimiter == "" {
		e.opts.ACLDelimiter = "!"
	}
	if e.opts.FieldDelimiter == e.opts.ACLDelimiter {
		return nil, errors.New("token: edgeauth: field and ACL delimiters must differ")
	}
	return e, nil
}

// TokenName is the query parameter the token travels in.
func (e *EdgeAuth) TokenName() string { return e.opts.TokenName }

// Token returns the token body (without "name="). Field values that would contain the field
// delimiter, and ACL entries containing the ACL delimiter, are refused rather than producing a
// token the edge would split differently.
func (e *EdgeAuth) Token(c EdgeAuthClaims) (string, error) {
	if c.Expires.IsZero() {
		return "", errors.New("token: edgeauth: no expiry")
	}
	if !c.Start.IsZero() && !c.Expires.After(c.Start) {
		return "", errors.New("token: edgeauth: expiry not after start")
	}
	if (len(c.ACL) == 0) == (c.URL == "") {
		return "", errors.New("token: edgeauth: exactly one of ACL and URL must be set")
	}
	d := e.opts.FieldDelimiter
	var b strings.Builder
	field := func(name, value string) error {
		if strings.Contains(value, d) {
			return fmt.Errorf("token: edgeauth: %s contains the field delimiter %q", name, d)
		}
		if b.Len() > 0 {
			b.WriteString(d)
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
		return nil
	}
	var err error
	if c.IP.IsValid() {
		err = errors.Join(err, field("ip", e.escape(c.IP.Unmap().String())))
	}
	if !c.Start.IsZero() {
		err = errors.Join(err, field("st", strconv.FormatInt(c.Start.Unix(), 10)))
	}
	err = errors.Join(err, field("exp", strconv.FormatInt(c.Expires.Unix(), 10)))
	if len(c.ACL) > 0 {
		for _, a := range c.ACL {
			if a == "" || strings.Contains(a, e.opts.ACLDelimiter) {
				return "", fmt.Errorf("token: edgeauth: ACL entry %q empty or contains the ACL delimiter", a)
			}
		}
		acl := strings.Join(c.ACL, e.opts.ACLDelimiter)
		if e.opts.LegacyEscape {
			acl = e.escape(acl)
		}
		err = errors.Join(err, field("acl", acl))
	}
	if c.SessionID != "" {
		err = errors.Join(err, field("id", e.escape(c.SessionID)))
	}
	if c.Data != "" {
		err = errors.Join(err, field("data", e.escape(c.Data)))
	}
	if err != nil {
		return "", err
	}
	body := b.String()

	mac := hmac.New(e.newHash, e.key)
	mac.Write([]byte(body))
	if c.URL != "" {
		mac.Write([]byte(d + "url=" + e.escape(c.URL)))
	}
	if e.opts.Salt != "" {
		mac.Write([]byte(d + "salt=" + e.opts.Salt))
	}
	return body + d + "hmac=" + hex.EncodeToString(mac.Sum(nil)), nil
}

// Param returns "name=token", ready to append to a URL's query.
func (e *EdgeAuth) Param(tok string) string { return e.opts.TokenName + "=" + tok }

// escape is the SDKs' escape_early: query-escape (space as "+", "~" kept), then force the case of
// the %XX hex digits.
func (e *EdgeAuth) escape(s string) string {
	if !e.opts.EscapeEarly && !e.opts.LegacyEscape {
		return s
	}
	q := url.QueryEscape(s)
	if e.opts.LegacyEscape { // url.QueryEscape already writes uppercase hex
		return q
	}
	if !strings.Contains(q, "%") {
		return q
	}
	b := []byte(q)
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && i+2 < len(b) {
			b[i+1], b[i+2] = lowerHex(b[i+1]), lowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}
