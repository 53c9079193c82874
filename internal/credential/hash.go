// Package credential hashes and verifies passwords with argon2id and keeps the fast path fast:
// a verified-credential cache and a limit on concurrent hashing.
package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultParams are OWASP's second argon2id option (19 MiB, t=2, p=1): about 24 ms a hash on a
// small 2-core machine.
var DefaultParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
	// MaxPasswordLen bounds the work an attacker can make us do per guess.
	MaxPasswordLen = 1024
)

// ErrMalformedHash means a stored hash is not an argon2id PHC string we can read.
var ErrMalformedHash = errors.New("credential: malformed argon2id hash")

// Hash returns the PHC string $argon2id$v=19$m=…,t=…,p=…$salt$hash of password.
func Hash(password string, p Params) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", fmt.Errorf("credential: password longer than %d bytes", MaxPasswordLen)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("credential: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the PHC string encoded, comparing in constant time.
func Verify(encoded, password string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with other parameters than p.
func NeedsRehash(encoded string, p Params) bool {
	got, _, _, err := decode(encoded)
	return err != nil || got != p
}

func decode(encoded string) (Params, []byte, []byte, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return Params{}, nil, nil, ErrMalformedHash
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return Params{}, nil, nil, ErrMalformedHash
	}
	// Refuse absurd costs from a tampered row instead of allocating gigabytes.
	if p.MemoryKiB < 8 || p.MemoryKiB > 1<<20 || p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 16 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return Params{}, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
