package mag

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// MaxTokenLen is the longest session token a client may offer at handshake.
const MaxTokenLen = 128

// NewToken returns a new session token: 128 random bits as 32 upper-case hex digits, the shape
// Stalker portals hand out (spec §5.3).
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// ValidToken reports whether s can be a session token: 1 to MaxTokenLen visible ASCII
// characters, what fits a Bearer header unquoted.
func ValidToken(s string) bool {
	if len(s) == 0 || len(s) > MaxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// TokenSum is what the database keeps of a token. A fast hash is enough: a session token is
// random, or a session id a client chose and repeats on every call, and a handshake hands
// anyone who knows the MAC a new one anyway; a slow hash would cost every call and protect
// nothing more.
func TokenSum(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
