package device

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
)

// UserCodeAlphabet is what user codes are made of: RFC 8628 §6.1's twenty consonants. No
// vowels (no words are spelled by accident), no digits, and none of the letters people mistake
// for one another or for digits (I, O, U, Y).
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCodeLen is the number of characters of a user code: 20^8 ≈ 2.6·10^10 codes, of which a
// few are pending at a time, behind the flood limit of every failed guess.
const UserCodeLen = 8

// UserCode is a parsed user code: UserCodeLen characters of UserCodeAlphabet.
type UserCode [UserCodeLen]byte

// ErrBadUserCode means the text is not a user code.
var ErrBadUserCode = errors.New("device: malformed user code")

// maxUserCodeText bounds what ParseUserCode looks at: the code with a separator after every
// character, and some room for spaces around it.
const maxUserCodeText = 2*UserCodeLen + 8

// ParseUserCode accepts a user code as people type it: letters in either case, with any '-'
// and spaces between them (ABCD-EFGH, abcdefgh, "bcdf ghjk"). Anything else, a character
// outside the alphabet or another length, is an error.
func ParseUserCode(s string) (UserCode, error) {
	var c UserCode
	if len(s) > maxUserCodeText {
		return c, ErrBadUserCode
	}
	n := 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b == '-' || b == ' ' {
			continue
		}
		if b >= 'a' && b <= 'z' {
			b -= 'a' - 'A'
		}
		if n == UserCodeLen || !inAlphabet(b) {
			return UserCode{}, ErrBadUserCode
		}
		c[n] = b
		n++
	}
	if n != UserCodeLen {
		return UserCode{}, ErrBadUserCode
	}
	return c, nil
}

func inAlphabet(b byte) bool {
	for i := 0; i < len(UserCodeAlphabet); i++ {
		if UserCodeAlphabet[i] == b {
			return true
		}
	}
	return false
}

// String is the code as a screen shows it: XXXX-XXXX.
func (c UserCode) String() string {
	return string(c[:UserCodeLen/2]) + "-" + string(c[UserCodeLen/2:])
}

// LogValue keeps most of the code out of log lines: a pending code and a password together
// would let anyone who reads the log approve a device for that line.
func (c UserCode) LogValue() slog.Value {
	return slog.StringValue(string(c[:2]) + "**-****")
}

// newUserCode draws a code, each character uniformly from the alphabet.
func newUserCode(r io.Reader) (UserCode, error) {
	const limit = 256 - 256%len(UserCodeAlphabet) // bytes at or above it are drawn again
	var c UserCode
	buf := make([]byte, 2*UserCodeLen)
	for n := 0; n < UserCodeLen; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return UserCode{}, fmt.Errorf("user code: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && n < UserCodeLen {
				c[n] = UserCodeAlphabet[int(b)%len(UserCodeAlphabet)]
				n++
			}
		}
	}
	return c, nil
}
