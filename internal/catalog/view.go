package catalog

import "sync"

// A View is a value a surface derives from a whole snapshot and keeps for as long as the
// snapshot lives: app/player's pre-rendered Xtream list entries, the portal's Stalker ones. It
// is built at most once per snapshot, so once per catalog version, and dropped with the
// snapshot. Attach a view to the Catalog (Catalog.Attach) and each refresh builds it before
// the new snapshot is served, so no request waits for it; a snapshot that did not (Build in a
// test, Empty) builds it on the first Of.
//
// A View holds only its build function: the values live in the snapshots, which is why one
// View may serve any number of catalogs.
type View[T any] struct {
	build func(*Snapshot) T
}

// NewView returns a view built by build, which must treat the snapshot as read-only and may
// run concurrently for different snapshots.
func NewView[T any](build func(*Snapshot) T) *View[T] { return &View[T]{build: build} }

type viewSlot[T any] struct {
	once sync.Once
	val  T
}

// Of returns the view of s, building it on the first call for s; concurrent first calls wait
// for the one build. Later calls cost one sync.Map lookup.
func (v *View[T]) Of(s *Snapshot) T {
	x, ok := s.views.Load(v)
	if !ok {
		x, _ = s.views.LoadOrStore(v, new(viewSlot[T]))
	}
	slot := x.(*viewSlot[T])
	slot.once.Do(func() { slot.val = v.build(s) })
	return slot.val
}

func (v *View[T]) warm(s *Snapshot) { v.Of(s) }

// Warmer is what Catalog.Attach takes: a *View of any type.
type Warmer interface{ warm(*Snapshot) }

// Attach has every later refresh build v for its new snapshot before swapping it in, and
// builds it for the current snapshot now, so the requests of a surface never pay for its
// rendering (a 10,000-channel list is milliseconds of encoding).
func (c *Catalog) Attach(v Warmer) {
	c.refreshMu.Lock() // Refresh reads the list under the same lock
	c.views = append(c.views, v)
	c.refreshMu.Unlock()
	v.warm(c.Current())
}
