package input

import "errors"

// The kinds of refusal a FieldError carries: a surface maps them to its answer (the REST API:
// 400, 409, 404) without knowing which domain package refused.
var (
	ErrInvalid   = errors.New("invalid")
	ErrConflict  = errors.New("conflict")
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("forbidden")
)

// FieldError is an input a domain package refused: which field (the input's own name for it,
// "sources[2].url"), why, for people ("at most 512 characters"), and the kind of refusal.
// errors.Is(err, ErrInvalid) and friends see through any wrapping.
type FieldError struct {
	Field  string
	Reason string
	Kind   error // ErrInvalid, ErrConflict, ErrNotFound or ErrForbidden
}

// Error reads "name: at most 512 characters".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap returns the kind, for errors.Is.
func (e *FieldError) Unwrap() error { return e.Kind }

// Invalid is the refusal of a value that breaks a rule.
func Invalid(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrInvalid}
}

// Conflict is the refusal of a value that collides with an existing one.
func Conflict(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrConflict}
}

// Forbidden is the refusal of a target that exists but is not the caller's to act on (a
// reseller reaching for another reseller's line).
func Forbidden(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrForbidden}
}

// NotFound is the refusal of a reference to something that does not exist (the target of an
// update, or an id inside the input).
func NotFound(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrNotFound}
}

// Refusals say what a store's refusals of one kind of write mean for its input: the field a
// conflict is on (the table's unique key), the field an unresolved reference is, and the field
// of a value the schema refuses. A nil entry passes that refusal through unchanged.
type Refusals struct {
	Conflict, NotFound, Invalid *FieldError
}

// Of returns (a copy of) the refusal err stands for, judged by errors.Is against the store's
// sentinels conflict, notFound and invalid; err itself when it is none of them (the database
// failed).
func (r Refusals) Of(err, conflict, notFound, invalid error) error {
	var fe *FieldError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, conflict):
		fe = r.Conflict
	case errors.Is(err, notFound):
		fe = r.NotFound
	case errors.Is(err, invalid):
		fe = r.Invalid
	}
	if fe == nil {
		return err
	}
	c := *fe
	return &c
}
