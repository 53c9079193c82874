package store

import (
	"fmt"
)

// Catalog and EPG writes are idempotent and write only when something differs: their triggers
// are statement-level, so even a statement that changes no row would bump the version and make
// every instance rebuild its snapshot. A re-run that changes nothing therefore leaves the
// version alone, and each write reports its Outcome.

// Outcome says what an idempotent write did to one row.
type Outcome uint8

// Outcomes of an upsert or an import entry.
const (
	Unchanged Outcome = iota // the row already held these values; nothing was written
	Added                    // a new row was inserted
	Updated                  // an existing row was changed
	Duplicate                // the entry repeats an earlier entry's key in the same import; ignored
)

// String names the outcome ("added", "unchanged" ...), as import summaries print it.
func (o Outcome) String() string {
	switch o {
	case Unchanged:
		return "unchanged"
	case Added:
		return "added"
	case Updated:
		return "updated"
	case Duplicate:
		return "duplicate"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// samePtr compares two optional values: equal when both are nil or both hold equal values.
func samePtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
