// Package accounts holds the rules of the panel's accounts: lines (the subscriptions players
// log in with, and the MAG devices bound to them) and admins (the people who run the panel).
// It says how an account is created and changed, what a password must be (Policy), which roles
// exist, and how generated credentials look; cmd (`xtreamd admin`), the demo loader and the
// admin API all call it, so each rule lives here once and surfaces only parse and print.
//
// Passwords are stored only as argon2id hashes (internal/credential). A password the caller
// did not choose is generated here and handed back exactly once, in Credentials, to be shown
// to the operator; nothing can read it afterwards. Hashing happens before any transaction
// starts, so a slow hash never holds a lock.
//
// Errors: a refused input is a *FieldError naming the field, whose Kind is ErrInvalid (the
// value breaks a rule), ErrConflict (it collides with an existing account) or ErrNotFound (the
// account to change does not exist); errors.Is(err, ErrInvalid) and friends see through the
// wrapping. Anything else is the database's failure.
package accounts

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

// The kinds of refusal a FieldError carries.
var (
	ErrInvalid  = errors.New("accounts: invalid")
	ErrConflict = errors.New("accounts: conflict")
	ErrNotFound = errors.New("accounts: not found")
)

// FieldError is a refused input: which field, why (for people: "at least 8 characters"), and
// the kind of refusal (ErrInvalid, ErrConflict or ErrNotFound), so that a surface can answer
// 422, 409 or 404 and point at the field.
type FieldError struct {
	Field  string // the input's name for it: "username", "password", "role", "mac", "line", …
	Reason string
	Kind   error
}

// Error reads "username: taken".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the kind, for errors.Is.
func (e *FieldError) Unwrap() error { return e.Kind }

func invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrInvalid}
}
func conflict(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrConflict}
}
func notFound(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrNotFound}
}

// refusals say what the store's sentinels mean for one kind of write: which field a conflict
// is on, what an unresolved reference is, and what a value the schema refuses is.
type refusals struct{ conflict, notFound, invalid FieldError }

// of returns (a copy of) the refusal err stands for, or err itself when it is none: the
// database failed.
func (r refusals) of(err error) error {
	var fe FieldError
	switch {
	case errors.Is(err, store.ErrConflict):
		fe = r.conflict
	case errors.Is(err, store.ErrNotFound):
		fe = r.notFound
	case errors.Is(err, store.ErrInvalid):
		fe = r.invalid
	default:
		return err
	}
	return &fe
}

// Credentials are what a create or a password change hands back, once. Password is in clear
// only here (as given, or generated when Generated is set) and prints as [redacted], so it
// reaches the operator only through an explicit Reveal.
type Credentials struct {
	ID        int64 // the account's id (a line's or an admin's)
	Username  string
	Password  config.Secret
	Generated bool // the password was generated: show it, it is the only chance
}

// Options tune a Service; the zero value is production's.
type Options struct {
	Policy Policy            // zero: DefaultPolicy()
	Params credential.Params // argon2id cost of new hashes; zero: credential.DefaultParams
	Now    func() time.Time  // the clock of expiry dates; nil: time.Now
	Rand   io.Reader         // the source of generated credentials; nil: crypto/rand
	// Hasher checks line passwords given to the admin surfaces (api.php identifies a line by
	// its username and password) under the server's hashing limit; nil: without a limit.
	Hasher *credential.Limiter
}

// Service applies the account rules over the store. It is safe for concurrent use.
type Service struct {
	store  *store.Store
	policy Policy
	params credential.Params
	now    func() time.Time
	rand   io.Reader
	hasher *credential.Limiter
	// hashSlots bounds the new passwords hashed at once to the cores.
	hashSlots chan struct{}
	// revoked are the admin sessions known revoked here (Sessions reads them; account changes
	// that end logins add to them once committed).
	revoked *revocations
}

// New returns a Service over st.
func New(st *store.Store, opts Options) *Service {
	if opts.Policy == (Policy{}) {
		opts.Policy = DefaultPolicy()
	}
	if opts.Params == (credential.Params{}) {
		opts.Params = credential.DefaultParams
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Service{store: st, policy: opts.Policy, params: opts.Params, now: opts.Now, rand: opts.Rand, hasher: opts.Hasher,
		hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0)), revoked: newRevocations(opts.Now)}
}

// Policy is the policy the service enforces.
func (s *Service) Policy() Policy { return s.policy }

// newPassword returns the credentials and the hash of the password to set: the given one when
// it passes check, else — none given — a generated one of n characters.
func (s *Service) newPassword(given string, n int, check func(string) error) (Credentials, string, error) {
	pw, generated := given, given == ""
	if generated {
		var err error
		if pw, err = generate(s.rand, n); err != nil {
			return Credentials{}, "", err
		}
	} else if err := check(given); err != nil {
		return Credentials{}, "", err
	}
	hash, err := s.hash(pw)
	if err != nil {
		return Credentials{}, "", err
	}
	return Credentials{Password: config.Secret(pw), Generated: generated}, hash, nil
}

// hash hashes a password that passed the policy.
func (s *Service) hash(password string) (string, error) {
	// A hash takes tens of MiB for tens of ms: a burst of creations (a bulk, a billing system's
	// retries) hashes a core's worth at a time, not all at once.
	s.hashSlots <- struct{}{}
	defer func() { <-s.hashSlots }()
	h, err := credential.Hash(password, s.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// verify checks password against a stored hash, under the hashing limit when there is one.
func (s *Service) verify(ctx context.Context, hash, password string) (bool, error) {
	if s.hasher != nil {
		return s.hasher.Verify(ctx, hash, password)
	}
	return credential.Verify(hash, password)
}
