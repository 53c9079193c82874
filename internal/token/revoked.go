package token

import (
	"sync"
	"time"
)

// Revoked is a set of revoked token ids (a session id, a JWT's jti), each kept until the
// tokens it names have expired; a token that expired is refused anyway, so the set stays as
// small as the revocations of the last token lifetime. Safe for concurrent use.
type Revoked struct {
	mu  sync.RWMutex
	ids map[[16]byte]time.Time // → kept until
}

// NewRevoked returns an empty set.
func NewRevoked() *Revoked { return &Revoked{ids: map[[16]byte]time.Time{}} }

// Has reports whether id is revoked.
func (r *Revoked) Has(id [16]byte) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.ids[id]
	return ok
}

// Add keeps id until until at least (the later of two keeps wins), and forgets the ids whose
// keep passed before now.
func (r *Revoked) Add(now time.Time, id [16]byte, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, u := range r.ids {
		if now.After(u) {
			delete(r.ids, k)
		}
	}
	if until.After(r.ids[id]) {
		r.ids[id] = until
	}
}

// Len is the number of ids kept.
func (r *Revoked) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.ids)
}
