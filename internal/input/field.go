package input

import "errors"

// The kinds of refusal a FieldError carries: a surface maps them to its answer (the REST API:
// 400, 409, 404) without knowing which domain package refused.
var (
	ErrInvalid  = errors.New("invalid")
	ErrConflict = errors.New("conflict")
	ErrNotFound = errors.New("not found")
)

// FieldError is an input a domain package refused: which field (the input's own name for it,
// "sources[2].url"), why, for people ("at most 512 characters"), and the kind of refusal.
// errors.Is(err, ErrInvalid) and friends see through any wrapping.
type FieldError struct {
	Field  string
	Reason string
	Kind   error // ErrInvalid, ErrConflict or ErrNotFound
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

// NotFound is the refusal of a reference to something that does not exist (the target of an
// update, or an id inside the input).
func NotFound(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, Kind: ErrNotFound}
}
