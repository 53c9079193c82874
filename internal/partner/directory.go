package partner

import (
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// client is an active partner client as every check reads it: its scope as sets.
type client struct {
	id         int64
	clientID   string
	name       string
	sum        []byte // the secret's SHA-256
	generation int
	scopes     []string
	bouquets   map[int64]struct{}
	lines      map[int64]struct{}
	networks   []netip.Prefix
	updatedAt  time.Time
}

func clientOf(p store.Partner) *client {
	c := &client{id: p.ID, clientID: p.ClientID, name: p.Name, sum: p.SecretSHA256, generation: p.SecretGeneration,
		scopes: p.Scopes, networks: p.AllowedIPs, updatedAt: p.UpdatedAt,
		bouquets: make(map[int64]struct{}, len(p.BouquetIDs)), lines: make(map[int64]struct{}, len(p.LineIDs))}
	for _, id := range p.BouquetIDs {
		c.bouquets[id] = struct{}{}
	}
	for _, id := range p.LineIDs {
		c.lines[id] = struct{}{}
	}
	return c
}

// holds reports whether the client may act for line: the line is listed, or it holds one of
// the listed bouquets.
func (c *client) holds(line *store.Line) bool {
	if _, ok := c.lines[line.ID]; ok {
		return true
	}
	if len(c.bouquets) == 0 {
		return false
	}
	for _, b := range line.BouquetIDs {
		if _, ok := c.bouquets[b]; ok {
			return true
		}
	}
	return false
}

// allows reports whether the client may call from ip.
func (c *client) allows(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, n := range c.networks {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

func (c *client) hasScope(s string) bool { return slices.Contains(c.scopes, s) }

// directory is the active clients of this instance, by id and by client id.
type directory struct {
	mu         sync.RWMutex
	byID       map[int64]*client
	byClientID map[string]*client
	pending    map[int64]struct{} // changed: to read again
	everything bool               // read every client again
	onChange   []func(partnerID int64)
}

func newDirectory() *directory {
	return &directory{byID: map[int64]*client{}, byClientID: map[string]*client{}, pending: map[int64]struct{}{}}
}

func (d *directory) get(id int64) *client {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.byID[id]
}

func (d *directory) byClient(clientID string) *client {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.byClientID[clientID]
}

// replace installs the active clients ps and reports whether they differ from the ones it
// had (a client added, gone or updated).
func (d *directory) replace(ps []store.Partner) bool {
	byID, byClientID := make(map[int64]*client, len(ps)), make(map[string]*client, len(ps))
	for _, p := range ps {
		c := clientOf(p)
		byID[c.id], byClientID[c.clientID] = c, c
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := len(byID) != len(d.byID)
	for id, c := range byID {
		if old := d.byID[id]; old == nil || !old.updatedAt.Equal(c.updatedAt) {
			changed = true
		}
	}
	d.byID, d.byClientID, d.everything = byID, byClientID, false
	return changed
}

// put installs client id as just read (active false: revoked or gone) and tells the
// subscribers.
func (d *directory) put(id int64, p store.Partner, active bool) {
	d.mu.Lock()
	if old := d.byID[id]; old != nil {
		delete(d.byClientID, old.clientID)
		delete(d.byID, id)
	}
	if active {
		c := clientOf(p)
		d.byID[id], d.byClientID[c.clientID] = c, c
	}
	fns := d.onChange
	d.mu.Unlock()
	for _, fn := range fns {
		fn(id)
	}
}

// changedAll tells the subscribers that any client may have changed (partner id 0), after a
// full read found a difference.
func (d *directory) changedAll() {
	d.mu.RLock()
	fns := d.onChange
	d.mu.RUnlock()
	for _, fn := range fns {
		fn(0)
	}
}

func (d *directory) stale(id int64) {
	d.mu.Lock()
	d.pending[id] = struct{}{}
	d.mu.Unlock()
}

func (d *directory) staleAll() {
	d.mu.Lock()
	d.everything = true
	d.mu.Unlock()
}

func (d *directory) allStale() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.everything {
		clear(d.pending)
	}
	return d.everything
}

func (d *directory) takeStale() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]int64, 0, len(d.pending))
	for id := range d.pending {
		ids = append(ids, id)
	}
	clear(d.pending)
	return ids
}

// Holds reports whether partner client partnerID is active and may act for line: the check's
// Deps.Partners (step 1 of a PartnerLine, and the credential of a partner's tokens).
func (s *Service) Holds(partnerID int64, line *store.Line) bool {
	c := s.dir.get(partnerID)
	return c != nil && c.holds(line)
}
