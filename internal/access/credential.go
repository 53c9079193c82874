package access

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/xtreamd/xtreamd/internal/token"
)

// Issuing credentials. A token issued on a request's behalf (a MAG create_link play token, the
// session link of a play-token HLS player) carries the fingerprint of the credential that
// request was admitted with, and is honoured only while that credential still holds: a
// password change, or a MAG device's new portal session or removal, ends its links.

// PasswordCredential is the credential a token issued under a line's password carries: a
// 32-bit fingerprint of the line's stored password hash (never of the password).
func PasswordCredential(passwordHash string) token.Credential {
	sum := sha256.Sum256([]byte("xtreamd issuing credential v1\x00" + passwordHash))
	return token.Credential{Kind: token.CredentialPassword, Sum: binary.BigEndian.Uint32(sum[:4])}
}

// deviceCredential is the credential of a device credential's login: a fingerprint of its
// stored hash, as PasswordCredential's of a line's.
func deviceCredential(passwordHash string) token.Credential {
	sum := sha256.Sum256([]byte("xtreamd issuing credential v1\x00device\x00" + passwordHash))
	return token.Credential{Kind: token.CredentialDevice, Sum: binary.BigEndian.Uint32(sum[:4])}
}

// portalCredential is the credential of a MAG portal session: its token's stored SHA-256.
func portalCredential(tokenSHA256 []byte) token.Credential {
	if len(tokenSHA256) != sha256.Size {
		return token.Credential{}
	}
	return token.Credential{Kind: token.CredentialPortal, Sum: binary.BigEndian.Uint32(tokenSHA256[:4])}
}

// IssuingCredential is what a token issued on this decision's behalf carries in
// token.Claims.Credential: the request's own play token's credential, its portal session's,
// or the line's password. Zero without a line.
func (d Decision) IssuingCredential() token.Credential {
	if d.cred != (token.Credential{}) {
		return d.cred
	}
	if d.Line != nil {
		return PasswordCredential(d.Line.PasswordHash)
	}
	return token.Credential{}
}

// credentialHolds reports whether cred is still a credential of line: the line's password
// hash has its fingerprint, one of the line's MAG devices has a portal session with it, one of
// its device credentials is it, or its partner may still act for the line.
func (c *Checker) credentialHolds(ctx context.Context, line *Line, cred token.Credential) (bool, error) {
	switch cred.Kind {
	case token.CredentialPassword:
		return PasswordCredential(line.PasswordHash) == cred, nil
	case token.CredentialDevice:
		hashes, err := c.d.Store.DevicePasswordHashes(ctx, line.ID)
		return slices.ContainsFunc(hashes, func(h string) bool { return deviceCredential(h) == cred }), err
	case token.CredentialPartner:
		return c.partnerHolds(line, cred), nil
	case token.CredentialPortal:
		sums, err := c.d.Store.MAGTokenSums(ctx, line.ID)
		return slices.ContainsFunc(sums, func(s []byte) bool { return portalCredential(s) == cred }), err
	}
	return false, nil
}
