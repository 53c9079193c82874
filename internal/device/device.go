// Package device is second-screen activation (seed 001's authentication by code; RFC 8628, the
// OAuth 2.0 device authorization grant): a TV app or MAG box asks for a code, shows the short
// user code, and polls; the viewer opens the activation page on a phone, signs in with the
// line's credentials and approves; the next poll hands the device, exactly once, a credential
// bound to the line — an Xtream username and password of its own, which player apps use like a
// line's, or for a MAG box its MAC bound to the line. Device credentials share the line's
// max_connections and are revoked one device at a time (the admin API, the device's own logout,
// a partner's logout of the device); a revocation NOTIFYs line:<id>, so access on every
// instance refuses the credential and ends its streams within a notification's delay.
//
// Codes are stored only as HMAC-SHA256 under a key every instance shares (derived from the
// token secret): the device code has 256 random bits, the user code about 34, too few for a
// plain digest. A new code for a device (the same client id and device id, or MAC) supersedes
// its live one. Polls are recorded in the database, so slow_down holds across instances.
//
// The package decides; the HTTP surface (app/device) parses and renders. Signing in on the
// activation page is access.Check's (the flood limit and the ten steps apply); this package
// takes the line it admitted. Every approval, denial, credential and revocation is audited on
// its transaction (internal/audit); a code request is not (anyone may make one).
package device

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// Bounds of the flow.
const (
	// MaxCodeTTL is the longest a code may live (RFC 8628 leaves it open; seed 001's notAfter
	// example is 30 minutes).
	MaxCodeTTL = 30 * time.Minute
	// DefaultCodeTTL is how long a code lives unless Options say otherwise.
	DefaultCodeTTL = 15 * time.Minute
	// DefaultInterval is the polling interval a code starts with (RFC 8628 §3.2: 5 s).
	DefaultInterval = 5 * time.Second
	// MaxPerLine is how many device credentials a line may hold: a bound on rows an account
	// can make, far above a household's screens.
	MaxPerLine = 20
	// keepExpired is how long an expired code stays for a partner polling its outcome.
	keepExpired = 24 * time.Hour
	// sweepEvery is how often Run deletes codes past keepExpired.
	sweepEvery = 10 * time.Minute
)

// The kinds of device credential (Credential.Kind, PendingCode.Kind, store.DeviceCredential.Kind).
const (
	KindXtream = store.DeviceKindXtream // an Xtream username and password of its own
	KindMAG    = store.DeviceKindMAG    // a MAG box's MAC bound to the line
)

// The refusals of an activation, for the page to explain.
var (
	// ErrNoSuchCode: no pending code has this user code (never issued, expired, decided,
	// or superseded by a newer code for the device).
	ErrNoSuchCode = errors.New("device: no pending code")
	// ErrDeviceLimit: the line holds MaxPerLine device credentials already.
	ErrDeviceLimit = errors.New("device: the line has as many devices as it may")
	// ErrMACTaken: the MAG box's MAC is bound to another line.
	ErrMACTaken = errors.New("device: the MAC is bound to another line")
	// ErrLineHasBox: the line has another MAG box (a line has at most one).
	ErrLineHasBox = errors.New("device: the line has another MAG box")
)

// Options configure a Service. The zero value is usable.
type Options struct {
	// Key keys the code hashes; instances of one cluster must share it. nil: a random key,
	// good for this process alone.
	Key []byte
	// CodeTTL is a code's lifetime; 0 means DefaultCodeTTL, and it is capped at MaxCodeTTL.
	CodeTTL time.Duration
	// Params hash the passwords of new device credentials; zero means credential.DefaultParams.
	Params credential.Params
	Log    *slog.Logger
	// Rand is the source of codes and credentials; nil means crypto/rand.
	Rand io.Reader
}

// Service runs second-screen activation over the store. It is safe for concurrent use.
type Service struct {
	store    *store.Store
	accounts *accounts.Service // binds MAG boxes, and tells whose a line is
	key      []byte
	ttl      time.Duration
	params   credential.Params
	log      *slog.Logger
	rand     io.Reader
	// hashSlots bounds the new passwords hashed at once to the cores.
	hashSlots chan struct{}
}

// New returns a Service over st; acc binds MAG boxes to lines and checks an admin's reach.
func New(st *store.Store, acc *accounts.Service, o Options) *Service {
	if len(o.Key) == 0 {
		o.Key = make([]byte, 32)
		_, _ = rand.Read(o.Key) // crypto/rand.Read never fails (Go 1.24+)
	}
	if o.CodeTTL <= 0 {
		o.CodeTTL = DefaultCodeTTL
	}
	o.CodeTTL = min(o.CodeTTL, MaxCodeTTL)
	if o.Params == (credential.Params{}) {
		o.Params = credential.DefaultParams
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Service{store: st, accounts: acc, key: o.Key, ttl: o.CodeTTL, params: o.Params, log: o.Log, rand: o.Rand,
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// Run deletes codes that expired long ago, every few minutes, until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if _, err := s.store.SweepDeviceCodes(ctx, keepExpired); err != nil && ctx.Err() == nil {
				s.log.Warn("sweeping device codes", "err", err)
			}
		}
	}
}

// The labels of the keyed hashes: a device code and a user code never hash alike.
const (
	labelDeviceCode = "device_code"
	labelUserCode   = "user_code"
)

// hash is the stored form of a code: HMAC-SHA256(key, label | 0 | code).
func (s *Service) hash(label string, code []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(label))
	m.Write([]byte{0})
	m.Write(code)
	return m.Sum(nil)
}

// deviceCodeBytes is the randomness of a device code: 256 bits, 43 base64url characters.
const deviceCodeBytes = 32

// newDeviceCode draws a device code.
func (s *Service) newDeviceCode() (string, error) {
	b := make([]byte, deviceCodeBytes)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("device code: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormedDeviceCode reports whether s could be a device code we issued (the shape only), so
// that garbage is refused without a query.
func wellFormedDeviceCode(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(deviceCodeBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// Generated credentials: a username players show and a password nobody types (the device is
// handed both), from an alphabet that needs no escaping in a URL path.
const (
	credentialAlphabet = "abcdefghijkmnpqrstuvwxyz23456789"
	usernamePrefix     = "dev-"
	usernameLen        = 12 // after the prefix: 60 bits, so a collision with a line's name is a curiosity
	passwordLen        = 24 // 120 bits
	alphabetMask       = len(credentialAlphabet) - 1
)

// generate returns n characters of credentialAlphabet (32 characters: each byte's low five bits
// pick one uniformly).
func (s *Service) generate(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("generate credential: %w", err)
	}
	for i := range b {
		b[i] = credentialAlphabet[int(b[i])&alphabetMask]
	}
	return string(b), nil
}

// hashPassword hashes a new credential's password, a core's worth at a time.
func (s *Service) hashPassword(password string) (string, error) {
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	h, err := credential.Hash(password, s.params)
	if err != nil {
		return "", fmt.Errorf("hash device password: %w", err)
	}
	return h, nil
}

// cleanName makes a device's self-given name storable and printable on the activation page:
// control characters become spaces, and it is cut at 64 characters.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 64 {
		s = strings.TrimSpace(string(r[:64]))
	}
	return s
}
