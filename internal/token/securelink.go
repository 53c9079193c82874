package token

import (
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// DefaultSecureLinkTemplate mirrors the nginx docs' example,
//
//	secure_link     $arg_md5,$arg_expires;
//	secure_link_md5 "$secure_link_expires$uri$remote_addr secret";
//
// with {expires} for $secure_link_expires, {uri} for $uri, {ip} for $remote_addr and {secret} for
// the secret.
const DefaultSecureLinkTemplate = "{expires}{uri}{ip} {secret}"

// SecureLink signs links for nginx's secure_link module: the base64url MD5 (no padding) of the
// secure_link_md5 expression. The expression is configured as a template whose placeholders are
// {expires}, {uri}, {ip} and {secret}; any other text is literal and "{" only ever opens a
// placeholder. It must contain {secret}. Write the same expression into nginx, e.g. the template
// "{secret}{uri}{expires}" matches secure_link_md5 "secret$uri$secure_link_expires".
//
// MD5 of secret-bearing text is not an HMAC and nginx does not compare in constant time: use a
// long random secret and short expiries. nginx hashes $uri, the decoded and normalised path, so
// sign exactly that path.
type SecureLink struct {
	parts []slPart
}

type slPart struct {
	lit   string
	field slField
}

type slField uint8

const (
	slLiteral slField = iota
	slExpires
	slURI
	slIP
	slSecret
)

// NewSecureLink parses template ("" means DefaultSecureLinkTemplate) with secret.
func NewSecureLink(secret, template string) (*SecureLink, error) {
	if secret == "" {
		return nil, errors.New("token: secure_link: empty secret")
	}
	if template == "" {
		template = DefaultSecureLinkTemplate
	}
	s := &SecureLink{}
	hasSecret := false
	rest := template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			s.parts = append(s.parts, slPart{lit: rest})
			break
		}
		if i > 0 {
			s.parts = append(s.parts, slPart{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return nil, fmt.Errorf("token: secure_link: template %q: unclosed {", template)
		}
		name := rest[i+1 : i+j]
		switch name {
		case "expires":
			s.parts = append(s.parts, slPart{field: slExpires})
		case "uri":
			s.parts = append(s.parts, slPart{field: slURI})
		case "ip":
			s.parts = append(s.parts, slPart{field: slIP})
		case "secret":
			s.parts = append(s.parts, slPart{lit: secret, field: slSecret})
			hasSecret = true
		default:
			return nil, fmt.Errorf("token: secure_link: template %q: unknown placeholder {%s}", template, name)
		}
		rest = rest[i+j+1:]
	}
	if !hasSecret {
		return nil, fmt.Errorf("token: secure_link: template %q has no {secret}: anyone could sign", template)
	}
	return s, nil
}

// Hash returns the 22-character value nginx compares, for a link to uri expiring at expires (the
// zero time: no expiry, {expires} is empty) from ip (the zero Addr: {ip} is empty; an
// IPv4-mapped address is written as plain IPv4, as nginx writes $remote_addr for an IPv4 client).
func (s *SecureLink) Hash(uri string, expires time.Time, ip netip.Addr) string {
	var b strings.Builder
	for _, p := range s.parts {
		switch p.field {
		case slLiteral, slSecret:
			b.WriteString(p.lit)
		case slExpires:
			if !expires.IsZero() {
				b.WriteString(strconv.FormatInt(expires.Unix(), 10))
			}
		case slURI:
			b.WriteString(uri)
		case slIP:
			if ip.IsValid() {
				b.WriteString(ip.Unmap().String())
			}
		}
	}
	sum := md5.Sum([]byte(b.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Query returns the query string for `secure_link $arg_md5,$arg_expires;`: "md5=…&expires=…"
// ("md5=…" alone when expires is zero).
func (s *SecureLink) Query(uri string, expires time.Time, ip netip.Addr) string {
	q := "md5=" + s.Hash(uri, expires, ip)
	if !expires.IsZero() {
		q += "&expires=" + strconv.FormatInt(expires.Unix(), 10)
	}
	return q
}
